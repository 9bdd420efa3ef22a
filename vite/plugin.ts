/**
 * adc/vite: a Vite plugin that compiles adc's derivative calls as part of the build. It uses
 * only hooks Rollup and Rolldown share (buildStart, load): it is tested in Vite, in Rolldown
 * (which strips types itself) and in Rollup followed by a plugin that strips types. Exported
 * as adc/vite and adc/rollup.
 *
 *   import adc from "adc/vite";
 *   export default defineConfig({ plugins: [adc()] });
 *
 * At the start of a build it compiles the program as one adc build: the TypeScript entries of
 * the build's input (an HTML entry's module scripts included) and the local modules they
 * import. `load` then serves the compiled text of those modules with their source maps, which
 * the bundler chains, so positions map back to the user's files; the bundler strips the types
 * as for any TypeScript module. adc's diagnostics fail the build with file, line and column.
 * In the dev server, a change to a module of the program recompiles the program.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { mayNeedAdc } from "../compiler/reaches-adc.js";

export interface AdcVitePluginOptions {
  /** Files to compile besides the build's entries (default: none). */
  readonly include?: readonly string[];
}

interface Compiled {
  readonly code: string;
  readonly map: string | null;
}

/** What adc needs of Vite's and Rollup's plugin context. */
interface Context {
  error(e: { message: string; id?: string; loc?: { file: string; line: number; column: number } }): never;
  addWatchFile?(id: string): void;
}

const TS = /\.[cm]?tsx?$/;

/** The module scripts an HTML entry loads (`<script type="module" src="/src/main.ts">`). */
function htmlScripts(html: string, file: string, root: string): string[] {
  const out: string[] = [];
  for (const m of readFileSync(html, "utf8").matchAll(/<script\b[^>]*\bsrc\s*=\s*["']([^"']+)["'][^>]*>/gi)) {
    const src = m[1].split("?")[0];
    if (!TS.test(src) || /^[a-z]+:/i.test(src)) continue;
    out.push(src.startsWith("/") ? join(root, src) : resolve(dirname(file), src));
  }
  return out;
}

function inputsOf(input: unknown, root: string): string[] {
  const list = typeof input === "string" ? [input] : Array.isArray(input) ? input : input && typeof input === "object" ? Object.values(input as Record<string, string>) : [];
  return list.flatMap((p: string) => {
    const abs = isAbsolute(p) ? p : resolve(root, p);
    if (abs.endsWith(".html") && existsSync(abs)) return htmlScripts(abs, abs, root);
    return TS.test(abs) ? [abs] : [];
  });
}

export function adc(options: AdcVitePluginOptions = {}) {
  let root = process.cwd();
  let roots: string[] = [];
  let compiled = new Map<string, Compiled>();
  /** Every module of the program, compiled or read as it is (a helper inlined into its caller). */
  let modules = new Set<string>();

  async function compileProgram(ctx: Context): Promise<void> {
    compiled = new Map();
    modules = new Set();
    // A program that reaches no module using adc loads neither the compiler nor TypeScript.
    if (roots.length === 0 || !mayNeedAdc(roots)) return;
    // The compiler (and ts-morph) load on first use, not when the plugin is created.
    const { compileFiles, formatDiagnostic, resolutionFor } = await import("../compiler/index.js");
    const result = compileFiles(roots, new Map(), { resolution: resolutionFor(roots) });
    modules = new Set(result.modules);
    for (const m of result.modules) ctx.addWatchFile?.(m);
    if (result.diagnostics.length) {
      const [first] = result.diagnostics;
      ctx.error({
        message: `adc: ${result.diagnostics.length} error${result.diagnostics.length === 1 ? "" : "s"}\n${result.diagnostics.map((d) => formatDiagnostic(d)).join("\n")}`,
        id: first.file,
        loc: { file: first.file, line: first.line, column: first.column - 1 },
      });
    }
    for (const [file, out] of result.outputs) compiled.set(file, { code: out.code, map: out.map ? out.map.toString() : null });
  }

  return {
    name: "adc",
    enforce: "pre" as const,
    configResolved(config: { root: string }) {
      root = config.root;
    },
    async buildStart(this: Context, opts: { input?: unknown }) {
      const fromInput = inputsOf(opts.input, root);
      // The dev server starts with index.html as its input.
      const html = fromInput.length === 0 && existsSync(join(root, "index.html")) ? htmlScripts(join(root, "index.html"), join(root, "index.html"), root) : [];
      roots = [...new Set([...fromInput, ...html, ...(options.include ?? []).map((p) => resolve(root, p))])];
      await compileProgram(this);
    },
    load(id: string) {
      const c = compiled.get(id.split("?")[0]);
      return c ? { code: c.code, map: c.map } : null;
    },
    /** Dev server: a change to a module of the program recompiles it; every compiled module reloads. */
    async handleHotUpdate(this: Context, hmr: { file: string; server: { moduleGraph: { getModulesByFile(f: string): Set<unknown> | undefined; invalidateModule(m: unknown): void } } }) {
      if (!TS.test(hmr.file)) return;
      const before = new Set(compiled.keys());
      // (A module whose own text is served unchanged may still be read by another's derivatives.)
      if (!modules.has(hmr.file) && !before.has(hmr.file) && !roots.includes(hmr.file)) return;
      await compileProgram(this);
      const affected: unknown[] = [];
      for (const f of new Set([...before, ...compiled.keys()]))
        for (const m of hmr.server.moduleGraph.getModulesByFile(f) ?? []) {
          hmr.server.moduleGraph.invalidateModule(m);
          affected.push(m);
        }
      return affected;
    },
  };
}

export default adc;
