/**
 * `adc check <files...>`: runs checkGrads on every exported function that a `@checkGrads` JSDoc
 * tag marks, and prints a table. The tag's text is the rest of the call: the arguments as a
 * list, then options if any, e.g.
 *
 *   /** @checkGrads [0.5, [1, 2, 3]] *\/
 *   /** @checkGrads [x0], { modes: ["rev"], rtol: 1e-4 } *\/
 *
 * A function may carry several tags (several points). adc appends the checkGrads calls to the
 * module, compiles it, bundles it with the runtime and runs it (the module's own top-level code
 * runs first).
 * A tag that does not parse as the rest of a call, or that the compiler refuses, is a failed
 * check reported at its place in the file (cli/check-tags.ts); the other tags still run.
 * Exit status 0 when every check passes, 1 when one fails, the program has diagnostics or the
 * module throws while loading (its own exception, reported with its frames, is not adc's).
 */
import { build } from "esbuild";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { inspect } from "node:util";
import { compileFiles, findConfig, formatDiagnostic, governs, readConfig, type Diagnostic, type UserConfig } from "../compiler/index.js";
import { collect } from "./build.js";
import { tagError, targetsOf, type Target } from "./check-tags.js";
import { compiledModules, isTsSource, runtimeEntry } from "./emit.js";

type Color = (s: string, c: "red" | "green" | "cyan" | "gray" | "bold") => string;

type Row = { target: Target; report?: { checks: { mode: string; error: number; tolerance: number }[] }; error?: string };

/**
 * `project` is `-p`'s tsconfig; without it the nearest tsconfig above the first input, when it
 * includes the inputs, as for `adc build`: its `paths` and `baseUrl` resolve imports, and with no
 * inputs named its files are checked.
 */
export async function runCheck(inputs: readonly string[], color: Color, project?: string): Promise<number> {
  const configPath = findConfig(project, inputs);
  const read = configPath ? readConfig(configPath) : { errors: [] as string[], config: undefined };
  if (read.errors.length && (project !== undefined || !read.config)) {
    for (const e of read.errors) process.stderr.write(color(e, "red") + "\n");
    return 2;
  }
  // Files and folders, gathered as `adc build` gathers them.
  const found: string[] = [];
  let targets: Target[];
  try {
    for (const input of inputs.length ? inputs : (read.config?.fileNames ?? []).filter(isTsSource)) {
      if (!existsSync(input)) {
        process.stderr.write(`adc: no such file or folder: ${input}\n`);
        return 2;
      }
      collect(input, found, "");
    }
    targets = [...new Set(found)].flatMap(targetsOf);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (typeof err?.code !== "string") throw e;
    process.stderr.write(`adc: cannot read ${relative(process.cwd(), err.path ?? "") || err.path || ""}: ${err.code}${err.syscall ? ` (${err.syscall})` : ""}\n`);
    return 2;
  }
  const files = [...new Set(found)];
  const config = read.config && governs(read.config, files, project !== undefined) ? read.config : undefined;
  if (read.errors.length && config) {
    for (const e of read.errors) process.stderr.write(color(e, "red") + "\n");
    return 2;
  }
  if (targets.length === 0) {
    process.stderr.write("adc: no exported function has a @checkGrads tag\n");
    return 2;
  }
  // A tag that cannot be run is a failed check, reported at its place; the others still run.
  const rows: Row[] = [];
  let failed = false;
  for (const file of files) {
    const mine = targets.filter((t) => t.file === file);
    if (!mine.length) continue;
    const found = await checkFile(file, mine, color, config);
    if (!found) failed = true;
    else rows.push(...found);
  }
  return rows.length ? Math.max(report(rows, color), failed ? 1 : 0) : 1;
}

/** A tag's error, as tsc prints a diagnostic, at its place in the file; its row in the table. */
function tagFailure(t: Target, offset: number, code: string, message: string, color: Color): Row {
  const { line, column } = t.at(offset);
  process.stderr.write(color(formatDiagnostic({ code, message, file: relative(process.cwd(), t.file) || t.file, line, column, start: 0, length: 0 }) + " (in a @checkGrads tag)", "red") + "\n");
  return { target: t, error: `${code}: ${message}` };
}

/**
 * The checks run at the end of the module itself, so a tag's arguments may use whatever the
 * module can (its imports, its constants). The module's own top-level code runs first.
 */
async function checkFile(file: string, all: readonly Target[], color: Color, config: UserConfig | undefined): Promise<Row[] | undefined> {
  const failures = new Map<Target, Row>();
  for (const t of all) {
    const e = tagError(t);
    if (e) failures.set(t, tagFailure(t, e.offset, e.code, e.message, color));
  }
  const source = readFileSync(file, "utf8");
  let targets = all.filter((t) => !failures.has(t));
  let result: ReturnType<typeof compileFiles> | undefined;
  // Compiled again without a tag the compiler refuses (a diagnostic in the appended calls).
  while (targets.length) {
    const lines = ["", 'import { checkGrads as __adc_checkGrads } from "adc";', "export const __adc_check_rows: { k: number; report?: unknown; error?: string }[] = [];"];
    /** Per target: where its line and its tag's text start in `text`. */
    const spans: { line: number; call: number }[] = [];
    let at = source.length + lines.join("\n").length + 1;
    targets.forEach((t, k) => {
      const head = `try { __adc_check_rows.push({ k: ${k}, report: __adc_checkGrads(${t.name}, `;
      spans.push({ line: at, call: at + head.length });
      const line = `${head}${t.call}) }); } catch (e) { __adc_check_rows.push({ k: ${k}, error: (e as Error).message }); }`;
      lines.push(line);
      at += line.length + 1;
    });
    const text = source + lines.join("\n") + "\n";
    result = compileFiles([file], new Map([[file, text]]), { resolution: config?.resolution });
    const refused = new Set<Target>();
    const others = [];
    for (const d of result.diagnostics) {
      let k = -1;
      if (d.file === file) for (let j = 0; j < spans.length && spans[j].line <= d.start; j++) k = j;
      if (k < 0) {
        others.push(d);
        continue;
      }
      const t = targets[k];
      const offset = d.start - spans[k].call;
      if (!failures.has(t)) failures.set(t, tagFailure(t, offset >= 0 && offset <= t.call.length ? offset : 0, d.code, d.hint ? `${d.message} - ${d.hint}` : d.message, color));
      refused.add(t);
    }
    if (others.length) {
      // Reported elsewhere (where a function a tag checks calls something the check needs and
      // cannot have): each tag alone finds which, unless the file itself does not compile.
      const blamed = others.length && !refused.size ? blame(file, source, targets, config) : undefined;
      if (!blamed?.size) {
        for (const d of others) process.stderr.write(color(formatDiagnostic({ ...d, file: relative(process.cwd(), d.file) || d.file }), "red") + "\n");
        return undefined;
      }
      for (const [t, d] of blamed) {
        const where = `${relative(process.cwd(), d.file) || d.file}(${d.line},${d.column})`;
        const hint = /no forward-mode derivative/.test(d.message) ? ` - check reverse mode only: add { modes: ["rev"] } to the tag` : d.hint ? ` - ${d.hint}` : "";
        failures.set(t, tagFailure(t, 0, d.code, `${d.message} (at ${where})${hint}`, color));
        refused.add(t);
      }
    }
    if (!refused.size) break;
    targets = targets.filter((t) => !refused.has(t));
    result = undefined;
  }
  const ran = result ? await run(file, result, color, config) : [];
  if (!ran) return undefined;
  for (const r of ran) failures.set(targets[r.k], { target: targets[r.k], report: r.report, error: r.error });
  return all.filter((t) => failures.has(t)).map((t) => failures.get(t)!);
}

/** The tags whose check alone does not compile, each with its first diagnostic; empty when the file alone does not. */
function blame(file: string, source: string, targets: readonly Target[], config: UserConfig | undefined): Map<Target, Diagnostic> {
  const out = new Map<Target, Diagnostic>();
  const compileWith = (calls: readonly Target[]) => {
    const lines = ["", 'import { checkGrads as __adc_checkGrads } from "adc";', ...calls.map((t) => `__adc_checkGrads(${t.name}, ${t.call});`)];
    return compileFiles([file], new Map([[file, source + lines.join("\n") + "\n"]]), { resolution: config?.resolution }).diagnostics;
  };
  if (compileWith([]).length) return out;
  for (const t of targets) {
    const [d] = compileWith([t]);
    if (d) out.set(t, d);
  }
  return out;
}

/** Bundles the compiled module with the runtime and runs it: its checks' rows, by index. */
async function run(file: string, result: ReturnType<typeof compileFiles>, color: Color, config: UserConfig | undefined): Promise<{ k: number; report?: Row["report"]; error?: string }[] | undefined> {
  const sources = new Map(result.outputs);
  const bundled = await build({
    entryPoints: [file],
    bundle: true,
    format: "esm",
    platform: "node",
    write: false,
    outdir: dirname(file),
    logLevel: "silent",
    ...(config ? { tsconfig: config.path } : {}),
    // For the module's own exceptions: their frames then name the user's files and lines.
    sourcemap: "inline",
    sourcesContent: false,
    sourceRoot: pathToFileURL(dirname(file)).href + "/",
    alias: { adc: runtimeEntry("api"), "adc/runtime": runtimeEntry("index") },
    plugins: [compiledModules(sources)],
  });
  const dir = mkdtempSync(join(tmpdir(), "adc-check-"));
  try {
    const out = join(dir, "check.mjs");
    writeFileSync(out, bundled.outputFiles[0].text);
    process.setSourceMapsEnabled(true);
    try {
      return (await import(pathToFileURL(out).href)).__adc_check_rows;
    } catch (e) {
      // The appended checks catch their own failures, so this came from the module's code.
      process.stderr.write(color(thrownByModule(file, out, e), "red") + "\n");
      return undefined;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** adc's own folders (runtime and CLI, built or not), whose stack frames the user need not read. */
function adcDirs(): string[] {
  let root = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(root, "package.json")) && dirname(root) !== root) root = dirname(root);
  return ["runtime", "cli", "dist"].map((d) => join(root, d) + sep);
}

/**
 * What the module threw while loading, with the frames of the user's code only: not Node's
 * module loader, adc's CLI and runtime, or the temporary bundle. A checkGrads call of the module's
 * own that fails is a failed gradient check (its errors all start "checkGrads: ").
 */
function thrownByModule(file: string, bundle: string, e: unknown): string {
  const where = relative(process.cwd(), file) || file;
  if (!(e instanceof Error)) return `adc: ${where}: the module threw while loading: ${inspect(e)}`;
  const own = adcDirs();
  const adcFrame = (line: string): boolean => {
    const loc = /^\s+at (?:.*\()?(.+?):\d+:\d+\)?$/.exec(line)?.[1];
    if (loc === undefined) return false;
    if (loc.startsWith("node:")) return true;
    const path = resolve(loc.startsWith("file:///") ? fileURLToPath(loc) : loc);
    return path === bundle || own.some((d) => path.startsWith(d));
  };
  const lines = (e.stack ?? `${e.name}: ${e.message}`).split("\n");
  const firstFrame = lines.findIndex((l) => /^\s+at /.test(l));
  const head = firstFrame < 0 ? lines : lines.slice(0, firstFrame);
  const frames = firstFrame < 0 ? [] : lines.slice(firstFrame).filter((l) => !adcFrame(l));
  if (e.message.startsWith("checkGrads: "))
    return [`adc: ${where}: a gradient check in the module's top-level code failed: ${e.message}`, ...frames].join("\n");
  return [`adc: ${where}: the module threw while loading: ${head.join("\n")}`, ...frames].join("\n");
}

function report(rows: readonly Row[], color: Color): number {
  let failed = 0;
  const table: string[][] = [["function", "arguments", "mode", "max error", "tolerance", "result"]];
  for (const r of rows) {
    const call = r.target.call.replace(/\s*\n\s*/g, " ");
    const args = call.length > 40 ? call.slice(0, 37) + "..." : call;
    if (r.error !== undefined) {
      failed++;
      table.push([r.target.name, args, "", "", "", "FAIL"]);
      continue;
    }
    for (const c of r.report!.checks) if (c.mode !== "value") table.push([r.target.name, args, c.mode, c.error.toExponential(2), c.tolerance.toExponential(2), "ok"]);
  }
  const widths = table[0].map((_, j) => Math.max(...table.map((row) => row[j].length)));
  for (const row of table) {
    const line = row.map((cell, j) => cell.padEnd(widths[j])).join("  ").trimEnd();
    process.stdout.write((row[5] === "FAIL" ? color(line, "red") : line) + "\n");
  }
  for (const r of rows)
    if (r.error !== undefined) {
      const { line, column } = r.target.at(0);
      process.stdout.write(color(`\n${relative(process.cwd(), r.target.file) || r.target.file}(${line},${column}): ${r.target.name}: ${r.error}`, "red") + "\n");
    }
  process.stdout.write(`\n${rows.length - failed} passed, ${failed} failed\n`);
  return failed ? 1 : 0;
}
