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
 * Exit status 0 when every check passes, 1 when one fails, the program has diagnostics or the
 * module throws while loading (its own exception, reported with its frames, is not adc's).
 */
import { build } from "esbuild";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { inspect } from "node:util";
import { ts } from "ts-morph";
import { compileFiles, findConfig, formatDiagnostic, governs, readConfig, type UserConfig } from "../compiler/index.js";
import { collect } from "./build.js";
import { compiledModules, isTsSource, runtimeEntry } from "./emit.js";

type Color = (s: string, c: "red" | "green" | "cyan" | "gray" | "bold") => string;

interface Target {
  readonly file: string;
  readonly name: string;
  /** The call's text after the function: `[0.5, [1, 2]]` or `[x], { modes: ["rev"] }`. */
  readonly call: string;
}

/** Exported functions (declarations and `const` arrows) with their `@checkGrads` tags. */
function targetsOf(file: string): Target[] {
  const sf = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const out: Target[] = [];
  const exported = (n: ts.Node): boolean => !!ts.getCombinedModifierFlags(n as ts.Declaration) && (ts.getCombinedModifierFlags(n as ts.Declaration) & ts.ModifierFlags.Export) !== 0;
  // Not ts.getJSDocTags: it reads only the block nearest the declaration, so one tag per block
  // would check the last point alone. `jsDoc` holds every block, as ts-morph's getJsDocs reads it.
  const tags = (...hosts: (ts.Node | undefined)[]): string[] =>
    hosts
      .flatMap((n) => (n as { jsDoc?: ts.JSDoc[] } | undefined)?.jsDoc ?? [])
      .flatMap((doc) => doc.tags ?? [])
      .filter((t) => t.tagName.text === "checkGrads")
      .map((t) => (typeof t.comment === "string" ? t.comment : ts.getTextOfJSDocComment(t.comment) ?? "").trim());
  for (const st of sf.statements) {
    if (ts.isFunctionDeclaration(st) && st.name && exported(st)) for (const call of tags(st)) out.push({ file, name: st.name.text, call });
    if (ts.isVariableStatement(st) && exported(st)) {
      // The statement's blocks go to its first declaration, as getJSDocTags gives them.
      const first = st.declarationList.declarations[0];
      for (const d of st.declarationList.declarations)
        if (ts.isIdentifier(d.name)) for (const call of tags(d === first ? st : undefined, d, d.initializer)) out.push({ file, name: d.name.text, call });
    }
  }
  return out;
}

type Row = { name: string; report?: { checks: { mode: string; error: number; tolerance: number }[] }; error?: string };

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
  const empty = targets.find((t) => t.call === "");
  if (empty) {
    process.stderr.write(`adc: ${relative(process.cwd(), empty.file)}: the @checkGrads tag of ${empty.name} needs the arguments, e.g. @checkGrads [0.5, [1, 2]]\n`);
    return 2;
  }
  if (targets.length === 0) {
    process.stderr.write("adc: no exported function has a @checkGrads tag\n");
    return 2;
  }
  const rows: Row[] = [];
  for (const file of files) {
    const mine = targets.filter((t) => t.file === file);
    if (!mine.length) continue;
    const found = await checkFile(file, mine, color, config);
    if (!found) return 1;
    rows.push(...found);
  }
  return report(rows, targets, color);
}

/**
 * The checks run at the end of the module itself, so a tag's arguments may use whatever the
 * module can (its imports, its constants). The module's own top-level code runs first.
 */
async function checkFile(file: string, targets: readonly Target[], color: Color, config: UserConfig | undefined): Promise<Row[] | undefined> {
  const lines = ["", 'import { checkGrads as __adc_checkGrads } from "adc";', "export const __adc_check_rows: { name: string; report?: unknown; error?: string }[] = [];"];
  for (const t of targets)
    lines.push(`try { __adc_check_rows.push({ name: ${JSON.stringify(t.name)}, report: __adc_checkGrads(${t.name}, ${t.call}) }); } catch (e) { __adc_check_rows.push({ name: ${JSON.stringify(t.name)}, error: (e as Error).message }); }`);
  const text = readFileSync(file, "utf8") + lines.join("\n") + "\n";
  const result = compileFiles([file], new Map([[file, text]]), { resolution: config?.resolution });
  if (result.diagnostics.length) {
    const own = text.split("\n").length - lines.length;
    for (const d of result.diagnostics) {
      const where = d.file === file && d.line > own ? " (in a @checkGrads tag)" : "";
      process.stderr.write(color(formatDiagnostic({ ...d, file: relative(process.cwd(), d.file) || d.file }) + where, "red") + "\n");
    }
    return undefined;
  }
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
      return (await import(pathToFileURL(out).href)).__adc_check_rows as Row[];
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

function report(rows: readonly Row[], targets: readonly Target[], color: Color): number {
  let failed = 0;
  const table: string[][] = [["function", "arguments", "mode", "max error", "tolerance", "result"]];
  rows.forEach((r, k) => {
    const args = targets[k].call.length > 40 ? targets[k].call.slice(0, 37) + "..." : targets[k].call;
    if (r.error !== undefined) {
      failed++;
      table.push([r.name, args, "", "", "", "FAIL"]);
      return;
    }
    for (const c of r.report!.checks) if (c.mode !== "value") table.push([r.name, args, c.mode, c.error.toExponential(2), c.tolerance.toExponential(2), "ok"]);
  });
  const widths = table[0].map((_, j) => Math.max(...table.map((row) => row[j].length)));
  for (const row of table) {
    const line = row.map((cell, j) => cell.padEnd(widths[j])).join("  ").trimEnd();
    process.stdout.write((row[5] === "FAIL" ? color(line, "red") : line) + "\n");
  }
  for (const r of rows) if (r.error !== undefined) process.stdout.write(color(`\n${r.name}: ${r.error}`, "red") + "\n");
  process.stdout.write(`\n${rows.length - failed} passed, ${failed} failed\n`);
  return failed ? 1 : 0;
}
