/**
 * adc/compiler: the programmatic API.
 *
 *   compile(source, { fileName })  ->  { code, map, diagnostics }
 *   compileFiles(paths)            ->  every changed file of a build that may span modules
 *
 * `code` is empty when there are diagnostics: adc never returns derivative code it refused.
 */
import { readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { isStackOverflow, tooDeepDiagnostics } from "./depth.js";
import { build } from "./build.js";
import type { Diagnostic } from "./diagnostics.js";
import { applyResolution, forgetSharedProject, sharedProject, type UserResolution } from "./program.js";
import type { SpliceResult } from "./emit/splice.js";
import { withDump, type Stage } from "./pipeline.js";

export { PIPELINE, DUMP_STAGES, type Stage } from "./pipeline.js";
export type { UserResolution } from "./program.js";
export { findConfig, readConfig, governs, resolutionFor, type UserConfig } from "./config.js";

export { formatDiagnostic, formatPretty, CODES } from "./diagnostics.js";
export { javascriptApiUses } from "./javascript.js";
export type { Diagnostic } from "./diagnostics.js";

export interface CompileOptions {
  /** Used for diagnostics, source maps and resolving relative imports. Default "input.ts". */
  readonly fileName?: string;
  /** Collect the IR of every function after this pass (compiler/pipeline.ts) into `dump`. */
  readonly dump?: Stage;
}

export interface CompileResult {
  readonly code: string;
  readonly map: SpliceResult["map"] | null;
  readonly diagnostics: readonly Diagnostic[];
  /** With `dump`: the IR after that pass, as text. */
  readonly dump?: string;
}

/**
 * Local modules earlier builds read from disk. The shared Project keeps every file it has read;
 * one that a root imports is not a root itself, so it is re-read here, before each build, or a
 * long-lived process (a watcher, esbuild's rebuild) would differentiate its old text.
 */
const readBefore = new Set<string>();

/** Whether the last build could not find a module (see forgetSharedProject). */
let missedModule = false;

/** The Project for the next build: the shared one, unless the last build missed a module. */
function projectForBuild(): ReturnType<typeof sharedProject> {
  if (missedModule) forgetSharedProject();
  missedModule = false;
  return sharedProject();
}

function noteMissed(diagnostics: readonly Diagnostic[]): void {
  missedModule = diagnostics.some((d) => d.code === "TS2307");
}

function refreshFromDisk(project: ReturnType<typeof sharedProject>): void {
  for (const file of readBefore) project.getSourceFile(file)?.refreshFromFileSystemSync();
  for (const sf of project.getSourceFiles()) if (!sf.isDeclarationFile() && !sf.isInNodeModules()) sf.refreshFromFileSystemSync();
}

function remember(modules: readonly string[], roots: ReadonlySet<string>): void {
  for (const m of modules) if (!roots.has(m)) readBefore.add(m);
}

/** Compiles one module given as text. Imports of other modules are read from disk. */
export function compile(source: string, options: CompileOptions = {}): CompileResult {
  try {
    return compileText(source, options);
  } catch (err) {
    if (!isStackOverflow(err)) throw err;
    const diagnostics = tooDeepDiagnostics([{ path: options.fileName ?? "input.ts", text: source }]);
    return { code: "", map: null, diagnostics };
  }
}

function compileText(source: string, options: CompileOptions): CompileResult {
  const project = projectForBuild();
  applyResolution(project);
  refreshFromDisk(project);
  const path = resolve(options.fileName ?? "input.ts");
  const sf = project.createSourceFile(path, source, { overwrite: true });
  const { result, dump } = withDump(options.dump, () => build(project, [sf]));
  remember(result.modules, new Set([sf.getFilePath() as string]));
  noteMissed(result.diagnostics);
  const extra = options.dump ? { dump } : {};
  if (result.diagnostics.length) return { code: "", map: null, diagnostics: result.diagnostics.map((d) => ({ ...d, file: options.fileName ?? d.file })), ...extra };
  const out = result.outputs.get(sf.getFilePath()) ?? result.outputs.get(path);
  // Derivatives of an imported module's functions are generated into that module, which compile()
  // does not return: the code would import names its neighbour never defines.
  const elsewhere = [...result.outputs.keys()].filter((k) => k !== sf.getFilePath() && k !== path);
  if (elsewhere.length) {
    const message = `compile() returns one module, and this program's derivatives are also generated into ${elsewhere.map((k) => relative(dirname(path), k)).join(", ")}, which it does not return`;
    return { code: "", map: null, diagnostics: [{ code: "ADC1008", message, hint: "compile the program with compileFiles([paths]), which returns every module it changes", file: options.fileName ?? path, line: 1, column: 1, start: 0, length: 0 }], ...extra };
  }
  return { code: out?.code ?? source, map: out?.map ?? null, diagnostics: [], ...extra };
}

export interface FilesResult {
  /** Output text of every root (unchanged ones included) and of each other module the build changed, keyed by absolute path. */
  readonly outputs: ReadonlyMap<string, SpliceResult | { code: string; map: null }>;
  readonly diagnostics: readonly Diagnostic[];
  /** Every local module the build read: the roots and what they import, transitively. */
  readonly modules: readonly string[];
  /** With a `dump` stage: the IR after that pass, as text. */
  readonly dump?: string;
}

/**
 * Compiles a set of files (and whatever local modules they import) as one build, so a function
 * differentiated in one module may call functions of another. `overrides` gives file texts that
 * are not (yet) on disk.
 */
export function compileFiles(paths: readonly string[], overrides: ReadonlyMap<string, string> = new Map(), options: { dump?: Stage; resolution?: UserResolution } = {}): FilesResult {
  try {
    return compileSet(paths, overrides, options);
  } catch (err) {
    // A file so deeply nested that TypeScript's parser overflowed while reading it.
    if (!isStackOverflow(err)) throw err;
    const texts = paths.map((p) => resolve(p)).map((path) => ({ path, text: overrides.get(path) ?? readFileSync(path, "utf8") }));
    return { outputs: new Map(), diagnostics: tooDeepDiagnostics(texts), modules: texts.map((t) => t.path) };
  }
}

function compileSet(paths: readonly string[], overrides: ReadonlyMap<string, string>, options: { dump?: Stage; resolution?: UserResolution }): FilesResult {
  const project = projectForBuild();
  applyResolution(project, options.resolution);
  // Files read from disk may have changed since the last build (watch mode, a rebuild).
  refreshFromDisk(project);
  // Overridden modules the roots import (not only the roots) are read from their given text.
  const rootPaths = new Set(paths.map((p) => resolve(p)));
  for (const [p, text] of overrides) if (!rootPaths.has(resolve(p))) project.createSourceFile(resolve(p), text, { overwrite: true });
  const roots = paths.map((p) => {
    const abs = resolve(p);
    const text = overrides.get(abs);
    if (text !== undefined) return project.createSourceFile(abs, text, { overwrite: true });
    const existing = project.getSourceFile(abs);
    if (existing) {
      existing.refreshFromFileSystemSync();
      return existing;
    }
    return project.addSourceFileAtPath(abs);
  });
  const { result, dump } = withDump(options.dump, () => build(project, roots));
  remember(result.modules, new Set(roots.map((r) => r.getFilePath() as string)));
  noteMissed(result.diagnostics);
  const outputs = new Map<string, SpliceResult | { code: string; map: null }>();
  if (!result.diagnostics.length) {
    for (const r of roots) outputs.set(r.getFilePath(), result.outputs.get(r.getFilePath()) ?? { code: r.getFullText(), map: null });
    for (const [f, o] of result.outputs) outputs.set(f, o);
  }
  return { outputs, diagnostics: result.diagnostics, modules: result.modules, ...(options.dump ? { dump } : {}) };
}
