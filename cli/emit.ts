/**
 * Turns compiled TypeScript into JavaScript with esbuild. Per file (the default), every import
 * stays an import: a relative one that reaches a TypeScript module of the program points at that
 * module's emitted file, every other one (JSON, JavaScript, packages) is kept as written, import
 * attributes included. With --bundle, the build's modules and adc's runtime are bundled into one
 * file that runs anywhere. Source maps chain through esbuild back to the user's files.
 */
import { decode } from "@jridgewell/sourcemap-codec";
import { build, type Message, type OnResolveArgs, type Plugin, type PluginBuild } from "esbuild";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

interface Compiled {
  readonly code: string;
  readonly map: { toString(): string; toUrl?(): string } | null;
}

const here = dirname(fileURLToPath(import.meta.url));

/** TypeScript sources adc compiles (declaration files are not among them). */
export const TS_SOURCE = /\.(?:[cm]?ts|tsx)$/;
export function isTsSource(path: string): boolean {
  return TS_SOURCE.test(path) && !/\.d\.(?:[^./]+\.)?[cm]?ts$/.test(path);
}

/** The JavaScript extension of a TypeScript source, as tsc chooses it. */
export function jsExtension(path: string): string {
  return path.endsWith(".mts") ? ".mjs" : path.endsWith(".cts") ? ".cjs" : ".js";
}

/**
 * The module format Node gives a file written at `outFile`: `.mjs` is ESM, `.cjs` CommonJS, and a
 * `.js` file follows the "type" of the nearest package.json above it, as Node decides.
 */
export function moduleFormat(outFile: string): "esm" | "cjs" {
  if (outFile.endsWith(".mjs")) return "esm";
  if (outFile.endsWith(".cjs")) return "cjs";
  for (let d = dirname(outFile); ; d = dirname(d)) {
    const pkg = join(d, "package.json");
    if (existsSync(pkg)) {
      try {
        return (JSON.parse(readFileSync(pkg, "utf8")) as { type?: string }).type === "module" ? "esm" : "cjs";
      } catch {
        return "cjs";
      }
    }
    if (dirname(d) === d) return "cjs";
  }
}

/** adc's own runtime files, for bundling: sources in a checkout, compiled files when installed. */
export function runtimeEntry(name: string): string {
  for (const ext of [".js", ".ts"]) {
    const p = resolve(here, "..", "runtime", name + ext);
    if (existsSync(p)) return p;
  }
  throw new Error(`adc: cannot find runtime/${name}`);
}

export function withInlineMap(c: Compiled): string {
  if (!c.map) return c.code;
  const b64 = Buffer.from(c.map.toString()).toString("base64");
  return `${c.code}\n//# sourceMappingURL=data:application/json;base64,${b64}\n`;
}

function loaderOf(path: string): "ts" | "tsx" {
  return path.endsWith(".tsx") ? "tsx" : "ts";
}

/** Serves the compiled text of every module of the build instead of its source on disk. */
export function compiledModules(sources: ReadonlyMap<string, Compiled>): Plugin {
  return {
    name: "adc-compiled",
    setup(b) {
      b.onLoad({ filter: TS_SOURCE }, (args) => {
        const c = sources.get(args.path);
        return c ? { contents: withInlineMap(c), loader: loaderOf(args.path) } : undefined;
      });
    },
  };
}

/**
 * The program's modules as compiledModules serves them, plus a bare `import "m";` for each
 * module they import, so esbuild keeps the edge even where no import is used any more (TypeScript
 * drops those): an output keeping `import * as lib from "./lib"` (--emit ts) needs lib written.
 */
function everyImport(sources: ReadonlyMap<string, Compiled>): Plugin {
  return {
    name: "adc-every-import",
    setup(b) {
      b.onLoad({ filter: TS_SOURCE }, (args) => {
        const c = sources.get(args.path);
        const text = c ? withInlineMap(c) : readFileSync(args.path, "utf8");
        // (Code modules only: a JSON import keeps its own attributes.)
        const specs = [...text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^;'"]*?\bfrom\s+(["'])(\.[^"']+)\1/gm)].map((m) => m[2]).filter((s) => !/\.[a-z]+$/i.test(s) || /\.[cm]?[jt]sx?$/.test(s));
        return { contents: text + specs.map((s) => `\nimport ${JSON.stringify(s)};`).join(""), loader: loaderOf(args.path) };
      });
    },
  };
}

const isBare = (spec: string): boolean => !spec.startsWith(".") && !spec.startsWith("/");

/**
 * Where a bare module name resolves when it is one of the program's own TypeScript files (a
 * tsconfig `paths` mapping); undefined for packages, which stay imports.
 */
async function localByName(b: PluginBuild, args: OnResolveArgs): Promise<string | undefined> {
  const r = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: INNER, with: args.with });
  if (r.errors.length || r.external || !r.path || r.path.split(sep).includes("node_modules")) return undefined;
  return isTsSource(r.path) ? r.path : undefined;
}

const INNER = "adc-inner";

/** Packages stay imports; relative and absolute paths, and `paths`-mapped names, are followed. */
const packagesExternal: Plugin = {
  name: "adc-packages",
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.kind === "entry-point" || args.pluginData === INNER || !isBare(args.path)) return undefined;
      const local = await localByName(b, args);
      return local ? { path: local } : { path: args.path, external: true };
    });
  },
};

/**
 * Every local file the entries reach through imports (static, re-exports and dynamic imports of
 * a literal path), as esbuild resolves them, after adc's rewriting: TypeScript, JSON, JavaScript.
 */
export async function localGraph(entries: readonly string[], sources: ReadonlyMap<string, Compiled>, tsconfig?: string): Promise<string[]> {
  const res = await build({
    // Named entries: two inputs that differ only in extension would share an output name.
    entryPoints: entries.map((p, i) => ({ in: p, out: `entry${i}` })),
    outdir: "/adc-graph",
    bundle: true,
    format: "esm",
    platform: "node",
    write: false,
    metafile: true,
    logLevel: "silent",
    absWorkingDir: "/",
    ...(tsconfig ? { tsconfig } : {}),
    plugins: [everyImport(sources), packagesExternal],
  });
  return Object.keys(res.metafile.inputs)
    .map((p) => resolve("/", p))
    .filter((p) => !p.split(sep).includes("node_modules"))
    .sort();
}

/**
 * Keeps every import external. A relative import that resolves to a TypeScript module of the
 * program is renamed to that module's output file; anything else is left exactly as written.
 */
function externalImports(outFile: string, outputOf: ReadonlyMap<string, string>): Plugin {
  return {
    name: "adc-external",
    setup(b) {
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind === "entry-point" || args.pluginData === INNER) return undefined;
        let target: string | undefined;
        if (isBare(args.path)) {
          const local = await localByName(b, args);
          target = local && outputOf.get(local);
        } else {
          const r = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: INNER, with: args.with });
          target = r.errors.length ? undefined : outputOf.get(r.path);
        }
        if (target === undefined) return { path: args.path, external: true };
        let spec = relative(dirname(outFile), target).split(sep).join("/");
        if (!spec.startsWith(".")) spec = "./" + spec;
        return { path: spec, external: true };
      });
    },
  };
}

export async function toJavaScript(
  file: string,
  sources: ReadonlyMap<string, Compiled>,
  opts: { bundle: boolean; sourcemap: boolean; outFile: string; outputOf?: ReadonlyMap<string, string>; tsconfig?: string },
): Promise<Map<string, string>> {
  const res = await build({
    entryPoints: [file],
    outfile: opts.outFile,
    bundle: true,
    format: moduleFormat(opts.outFile),
    platform: "node",
    target: "node20.19", // the engines field; older targets drop import attributes
    write: false,
    sourcemap: opts.sourcemap ? "linked" : false,
    logLevel: "silent",
    // Paths in esbuild's comments are relative to this folder, so output does not depend on the cwd.
    absWorkingDir: dirname(file),
    ...(opts.tsconfig ? { tsconfig: opts.tsconfig } : {}),
    alias: opts.bundle ? { adc: runtimeEntry("api"), "adc/runtime": runtimeEntry("index") } : {},
    plugins: opts.bundle ? [compiledModules(sources)] : [compiledModules(sources), externalImports(opts.outFile, opts.outputOf ?? new Map())],
  });
  const out = new Map<string, string>();
  for (const f of res.outputFiles ?? []) out.set(f.path, f.text);
  return out;
}

/**
 * esbuild's errors about the user's files (an import of a file that is not there, a JSON file
 * that does not parse, a name declared twice) as diagnostics in tsc's format; undefined for
 * anything else. esbuild saw adc's output, so positions in a compiled module are mapped back to
 * the user's text through that module's source map.
 */
export function bundlerDiagnostics(e: unknown, sources: ReadonlyMap<string, Compiled> = new Map(), workDir = process.cwd()): string[] | undefined {
  const errors = (e as { errors?: Message[] })?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return undefined;
  return errors.map((m) => {
    if (!m.location) return `error: ${m.text}`;
    const file = resolve(workDir, m.location.file);
    const map = sources.get(file)?.map;
    const at = map ? original(map.toString(), m.location.line, m.location.column) : { line: m.location.line, column: m.location.column + 1 };
    return `${relative(process.cwd(), file)}(${at.line},${at.column}): error: ${m.text}`;
  });
}

/** The user's position (1-based) of a generated one (line 1-based, column 0-based). */
function original(mapText: string, line: number, column: number): { line: number; column: number } {
  const lines = decode((JSON.parse(mapText) as { mappings: string }).mappings);
  for (let l = line - 1; l >= 0; l--) {
    const segs = lines[l] ?? [];
    const seg = [...segs].reverse().find((s) => s.length >= 4 && (l < line - 1 || s[0] <= column)) ?? (l === line - 1 ? segs.find((s) => s.length >= 4) : undefined);
    if (seg && seg.length >= 4) return { line: seg[2]! + 1, column: seg[3]! + 1 };
  }
  return { line, column: column + 1 };
}
