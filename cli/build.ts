/**
 * `adc build`: gathers the inputs, compiles them as one build, turns the results into files in
 * memory, checks that none would overwrite a source file, and only then writes them.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { performance } from "node:perf_hooks";
import { compileFiles, findConfig, formatDiagnostic, formatPretty, governs, javascriptApiUses, readConfig, type Diagnostic } from "../compiler/index.js";
import { bundlerDiagnostics, isTsSource, jsExtension, localGraph, toJavaScript, TS_SOURCE } from "./emit.js";

export interface BuildOptions {
  readonly inputs: readonly string[];
  /** Where output goes; undefined means the tsconfig's outDir. */
  readonly outdir: string | undefined;
  readonly rootDir?: string;
  /** `-p`: the tsconfig, a file or a folder holding one. */
  readonly project?: string;
  readonly emit: "js" | "ts";
  readonly bundle: boolean;
  readonly sourcemap: boolean;
  /** Diagnostics with the source line and the span underlined, as tsc --pretty. */
  readonly pretty?: boolean;
  /** Print the IR after this pass (compiler/pipeline.ts). */
  readonly dump?: "lower" | "inline" | "anf" | "forward" | "reverse" | "cleanup";
}

type Color = (s: string, c: "red" | "green" | "cyan" | "gray" | "bold") => string;

/** The TypeScript files of a file or folder (its subfolders too, but not node_modules, hidden folders or outdir). */
export function collect(path: string, out: string[], outdir: string): void {
  const st = statSync(path);
  if (st.isFile()) {
    out.push(resolve(path));
    return;
  }
  for (const name of readdirSync(path).sort()) {
    const p = join(path, name);
    if (name === "node_modules" || name.startsWith(".") || resolve(p) === outdir) continue;
    if (statSync(p).isDirectory()) collect(p, out, outdir);
    else if (isTsSource(name)) out.push(resolve(p));
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

/** A file-system failure (a node error with a path): reported with the path, exit 2. */
class IoFailure extends Error {}

function io<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (typeof err?.code === "string") throw new IoFailure(`cannot ${what} ${relative(process.cwd(), err.path ?? "") || err.path || ""}: ${err.code}${err.syscall ? ` (${err.syscall})` : ""}`);
    throw e;
  }
}

/**
 * Builds once. `read`, when given, receives every file the build depends on (inputs, the
 * modules they import, the tsconfig), so a watcher knows what to watch; `out` receives the
 * output folder (the tsconfig's outDir when no --outdir is given), which it must not watch.
 */
export async function runBuild(opts: BuildOptions, color: Color, read?: Set<string>, out?: { outdir?: string }): Promise<number> {
  try {
    return await buildOnce(opts, color, read ?? new Set(), out ?? {});
  } catch (e) {
    if (e instanceof IoFailure) {
      process.stderr.write(`adc: ${e.message}; nothing more written\n`);
      return 2;
    }
    throw e;
  }
}

/** Diagnostics already formatted (esbuild's, mapped back); nothing is written: exit 1. */
function reportLines(lines: readonly string[], color: Color): number {
  for (const line of lines) process.stderr.write(color(line, "red") + "\n");
  process.stderr.write(`\n${lines.length} error${lines.length === 1 ? "" : "s"}; nothing written.\n`);
  return 1;
}

async function buildOnce(opts: BuildOptions, color: Color, depends: Set<string>, out: { outdir?: string }): Promise<number> {
  const t0 = performance.now();
  const configPath = findConfig(opts.project, opts.inputs);
  if (configPath) depends.add(configPath);
  const read = configPath ? readConfig(configPath) : { errors: [] as string[], config: undefined };
  if (read.errors.length && (opts.project !== undefined || !read.config)) {
    for (const e of read.errors) process.stderr.write(color(e, "red") + "\n");
    return 2;
  }
  const inputs = opts.inputs.length ? opts.inputs : (read.config?.fileNames ?? []).filter(isTsSource);
  const outdirOption = opts.outdir;
  // The files are gathered first: a tsconfig found by searching applies only if it includes them.
  const files: string[] = [];
  for (const input of inputs) {
    if (!existsSync(input)) {
      process.stderr.write(`adc: no such file or folder: ${input}\n`);
      return 2;
    }
    io("read", () => collect(input, files, outdirOption === undefined ? "" : resolve(outdirOption)));
  }
  const config = read.config && governs(read.config, files, opts.project !== undefined) ? read.config : undefined;
  if (read.errors.length && config) {
    for (const e of read.errors) process.stderr.write(color(e, "red") + "\n");
    return 2;
  }
  const outdirGiven = outdirOption ?? config?.outDir;
  if (outdirGiven === undefined) {
    process.stderr.write(`adc: build needs --outdir${config ? ` (${relative(process.cwd(), config.path)} has no outDir)` : ""}\n`);
    return 2;
  }
  const outdir = resolve(outdirGiven);
  out.outdir = outdir;
  if (files.length === 0) {
    process.stderr.write("adc: no TypeScript files to build\n");
    return 2;
  }
  for (const f of files) depends.add(f);
  const result = compileFiles(files, new Map(), { dump: opts.dump, resolution: config?.resolution });
  for (const f of result.modules) depends.add(f);
  if (opts.dump) process.stdout.write(result.dump + "\n");
  if (result.diagnostics.length) return report(result.diagnostics, opts, color);
  const sources = new Map([...result.outputs].map(([f, o]) => [f, o]));
  // Per file, every local module the inputs reach is written too (a helper adc did not change,
  // a JSON file), or the output would import files that are not there.
  const tsconfig = config?.path;
  let graph: string[];
  try {
    graph = await localGraph(files, sources, tsconfig);
  } catch (e) {
    const found = bundlerDiagnostics(e, sources, "/");
    if (!found) throw e;
    return reportLines(found, color);
  }
  for (const f of graph) depends.add(f);
  const targets = opts.bundle ? files : [...new Set([...files, ...graph.filter(isTsSource)])].sort();
  const copies = opts.bundle ? [] : graph.filter((f) => !isTsSource(f) && !files.includes(f));
  const jsUses = graph.filter((f) => /\.[cm]?jsx?$/.test(f)).flatMap((f) => javascriptApiUses(f, io("read", () => readFileSync(f, "utf8"))));
  if (jsUses.length) return report(jsUses, opts, color);
  const rootDir = opts.rootDir ?? config?.rootDir;
  const root = rootDir !== undefined ? resolve(rootDir) : commonRoot(inputs, [...targets, ...copies]);
  const outside = [...targets, ...copies].find((f) => relative(root, f).startsWith(".."));
  if (outside) {
    process.stderr.write(`adc: ${relative(process.cwd(), outside)} is not under the rootDir ${relative(process.cwd(), root) || "."}; all inputs and the modules they import must be\n`);
    return 2;
  }
  const outPath = (file: string): string => {
    const rel = relative(root, file);
    if (opts.emit === "ts" || !isTsSource(file)) return join(outdir, rel);
    return join(outdir, rel.replace(TS_SOURCE, "") + jsExtension(file));
  };
  const outputOf = new Map(targets.map((f) => [f, outPath(f)]));
  const written = new Map<string, string | Buffer>();
  /** Which input each output comes from: two inputs may not share one output (x.ts and x.mts). */
  const from = new Map<string, string>();
  const claim = (path: string, file: string): boolean => {
    const other = from.get(path);
    if (other !== undefined && other !== file) {
      process.stderr.write(`adc: ${relative(process.cwd(), other)} and ${relative(process.cwd(), file)} would both be written to ${relative(process.cwd(), path)}; rename one of them\n`);
      return false;
    }
    from.set(path, file);
    return true;
  };
  for (const file of targets) {
    if (opts.emit === "ts") {
      const out = sources.get(file);
      const path = outPath(file);
      if (!claim(path, file)) return 2;
      written.set(path, out ? out.code : io("read", () => readFileSync(file, "utf8")));
      if (opts.sourcemap && out?.map) written.set(path + ".map", out.map.toString());
      continue;
    }
    let js: Map<string, string>;
    try {
      js = await toJavaScript(file, sources, { bundle: opts.bundle, sourcemap: opts.sourcemap, outFile: outPath(file), outputOf, tsconfig });
    } catch (e) {
      const found = bundlerDiagnostics(e, sources, dirname(file));
      if (!found) throw e;
      return reportLines(found, color);
    }
    for (const [path, text] of js) {
      if (!claim(path, file)) return 2;
      written.set(path, text);
    }
  }
  for (const file of copies) {
    const path = outPath(file);
    if (!claim(path, file)) return 2;
    written.set(path, io("read", () => readFileSync(file)));
  }
  // Nothing is written unless every output can be: none is an input (in any spelling, symlinks
  // resolved), no folder stands where an output goes, and nothing that is not a folder stands
  // where a folder is needed.
  const sourcesRead = new Set([...files, ...targets, ...copies, ...result.outputs.keys()].map(realPath));
  for (const path of written.keys()) {
    if (sourcesRead.has(realPath(path))) {
      process.stderr.write(`adc: refusing to write ${relative(process.cwd(), path)}: it is an input file; choose another --outdir\n`);
      return 2;
    }
    if (existsSync(path) && statSync(path).isDirectory()) {
      process.stderr.write(`adc: cannot write ${relative(process.cwd(), path)}: a folder is there\n`);
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
  for (const [path, text] of written)
    io("write", () => {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
    });
  const ms = performance.now() - t0;
  const n = targets.length + copies.length;
  process.stdout.write(color(`adc: built ${n} file${n === 1 ? "" : "s"} into ${relative(process.cwd(), outdir) || "."} in ${ms.toFixed(0)} ms`, "green") + "\n");
  return 0;
}

/** Prints diagnostics (tsc's layout, or --pretty's); the build then writes nothing: exit 1. */
function report(diagnostics: readonly Diagnostic[], opts: BuildOptions, color: Color): number {
  for (const d of diagnostics) {
    const rel = relative(process.cwd(), d.file) || d.file;
    if (opts.pretty) process.stderr.write(formatPretty({ ...d, file: rel }, sourceText(d.file), color) + "\n");
    else process.stderr.write(color(formatDiagnostic({ ...d, file: rel }), "red") + "\n");
  }
  const n = diagnostics.length;
  process.stderr.write(`\n${n} error${n === 1 ? "" : "s"}; nothing written.\n`);
  return 1;
}

function sourceText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
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
