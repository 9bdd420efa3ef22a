/**
 * `adc build`: gathers the inputs, compiles them as one build, turns the results into files in
 * memory, checks that none would overwrite a source file, and only then writes them.
 */
import { existsSync, mkdirSync, readdirSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { performance } from "node:perf_hooks";
import { compileFiles, formatDiagnostic } from "../compiler/index.js";
import { toJavaScript } from "./emit.js";

export interface BuildOptions {
  readonly inputs: readonly string[];
  readonly outdir: string;
  readonly emit: "js" | "ts";
  readonly bundle: boolean;
  readonly sourcemap: boolean;
  /** Print the IR after this pass (compiler/pipeline.ts). */
  readonly dump?: "lower" | "inline" | "anf" | "forward" | "reverse" | "cleanup";
}

type Color = (s: string, c: "red" | "green" | "cyan" | "gray" | "bold") => string;

function collect(path: string, out: string[], outdir: string): void {
  const st = statSync(path);
  if (st.isFile()) {
    out.push(resolve(path));
    return;
  }
  for (const name of readdirSync(path).sort()) {
    const p = join(path, name);
    if (name === "node_modules" || name.startsWith(".") || resolve(p) === outdir) continue;
    if (statSync(p).isDirectory()) collect(p, out, outdir);
    else if (/\.m?ts$/.test(name) && !name.endsWith(".d.ts")) out.push(resolve(p));
  }
}

/** The folder outputs are laid out relative to: the common parent of the inputs. */
function commonRoot(inputs: readonly string[], files: readonly string[]): string {
  const dirs = inputs.map((p) => (existsSync(p) && statSync(p).isDirectory() ? resolve(p) : dirname(resolve(p))));
  let root = dirs[0];
  const within = (f: string): boolean => f === root || f.startsWith(root + sep);
  for (const f of [...dirs, ...files]) while (!within(f)) root = dirname(root);
  return root;
}

export async function runBuild(opts: BuildOptions, color: Color): Promise<number> {
  const t0 = performance.now();
  const outdir = resolve(opts.outdir);
  const files: string[] = [];
  for (const input of opts.inputs) {
    if (!existsSync(input)) {
      process.stderr.write(`adc: no such file or folder: ${input}\n`);
      return 2;
    }
    collect(input, files, outdir);
  }
  if (files.length === 0) {
    process.stderr.write("adc: no TypeScript files to build\n");
    return 2;
  }
  const result = compileFiles(files, new Map(), { dump: opts.dump });
  if (opts.dump) process.stdout.write(result.dump + "\n");
  if (result.diagnostics.length) {
    for (const d of result.diagnostics) {
      const rel = relative(process.cwd(), d.file) || d.file;
      process.stderr.write(color(formatDiagnostic({ ...d, file: rel }), "red") + "\n");
    }
    const n = result.diagnostics.length;
    process.stderr.write(`\n${n} error${n === 1 ? "" : "s"}; nothing written.\n`);
    return 1;
  }
  const inBuild = [...result.outputs.keys()].sort();
  const root = commonRoot(opts.inputs, inBuild);
  const sources = new Map([...result.outputs].map(([f, o]) => [f, o]));
  const written = new Map<string, string>();
  /** Which input each output comes from: two inputs may not share one output (x.ts and x.mts). */
  const from = new Map<string, string>();
  const targets = opts.bundle ? files : inBuild;
  for (const file of targets) {
    const rel = relative(root, file).replace(/\.m?ts$/, "");
    if (opts.emit === "ts") {
      const out = sources.get(file)!;
      written.set(join(outdir, rel + ".ts"), out.code);
      if (opts.sourcemap && out.map) written.set(join(outdir, rel + ".ts.map"), out.map.toString());
      continue;
    }
    const js = await toJavaScript(file, sources, { bundle: opts.bundle, sourcemap: opts.sourcemap, outFile: join(outdir, rel + ".js") });
    for (const [path, text] of js) {
      const other = from.get(path);
      if (other !== undefined && other !== file) {
        process.stderr.write(`adc: ${relative(process.cwd(), other)} and ${relative(process.cwd(), file)} would both be written to ${relative(process.cwd(), path)}; rename one of them\n`);
        return 2;
      }
      from.set(path, file);
      written.set(path, text);
    }
  }
  // Nothing is written unless every output can be: none is an input (in any spelling, symlinks
  // resolved) and nothing that is not a folder stands where a folder is needed.
  const inputs = new Set([...files, ...inBuild].map(realPath));
  for (const path of written.keys()) {
    if (inputs.has(realPath(path))) {
      process.stderr.write(`adc: refusing to write ${relative(process.cwd(), path)}: it is an input file; choose another --outdir\n`);
      return 2;
    }
    for (let d = dirname(path); d !== dirname(d); d = dirname(d))
      if (existsSync(d)) {
        if (!statSync(d).isDirectory()) {
          process.stderr.write(`adc: cannot write ${relative(process.cwd(), path)}: ${relative(process.cwd(), d)} is not a folder\n`);
          return 2;
        }
        break;
      }
  }
  for (const [path, text] of written) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  const ms = performance.now() - t0;
  process.stdout.write(color(`adc: built ${targets.length} file${targets.length === 1 ? "" : "s"} into ${relative(process.cwd(), outdir) || "."} in ${ms.toFixed(0)} ms`, "green") + "\n");
  return 0;
}

/** The path with symlinks resolved, also for a file that does not exist yet (its folder's). */
function realPath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    const parent = dirname(p);
    return parent === p ? p : join(realPath(parent), basename(p));
  }
}
