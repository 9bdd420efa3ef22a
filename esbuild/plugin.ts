/**
 * adc/esbuild: an esbuild plugin that compiles adc's derivative calls as part of a bundle.
 *
 *   import adc from "adc/esbuild";
 *   await esbuild.build({ entryPoints: ["main.ts"], bundle: true, plugins: [adc()] });
 *
 * At the start of every build (and rebuild) it compiles the entry points and the local modules
 * they import as one adc build; `onLoad` then serves the compiled text of those modules with an
 * inline source map, which esbuild chains so bundle positions map back to the user's files.
 * Files outside the build pass through untouched; a build whose modules do not use adc
 * (compiler/reaches-adc.ts) does not load the compiler at all. adc's diagnostics become esbuild errors with
 * file, line and column.
 */
import type { Message, Plugin } from "esbuild";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { mayNeedAdc } from "../compiler/reaches-adc.js";

export interface AdcPluginOptions {
  /** Files to compile besides the entry points (default: none). */
  readonly include?: readonly string[];
}

function entryPaths(entries: unknown, cwd: string): string[] {
  const list: string[] = [];
  if (Array.isArray(entries)) for (const e of entries) list.push(typeof e === "string" ? e : (e as { in: string }).in);
  else if (entries && typeof entries === "object") list.push(...Object.values(entries as Record<string, string>));
  return list.filter((p) => /\.[cm]?tsx?$/.test(p)).map((p) => resolve(cwd, p));
}

export function adc(options: AdcPluginOptions = {}): Plugin {
  return {
    name: "adc",
    setup(b) {
      const cwd = b.initialOptions.absWorkingDir ?? process.cwd();
      let compiled = new Map<string, string>();
      b.onStart(async () => {
        compiled = new Map();
        const roots = [...entryPaths(b.initialOptions.entryPoints, cwd), ...(options.include ?? []).map((p) => resolve(cwd, p))];
        // A build that reaches no module using adc loads neither the compiler nor TypeScript.
        if (roots.length === 0 || !mayNeedAdc(roots)) return {};
        // The compiler (and ts-morph) load on first use, not when the plugin is created.
        const { compileFiles, resolutionFor } = await import("../compiler/index.js");
        // Imports resolve as esbuild resolves them: through the tsconfig it was given, or the
        // nearest one that includes the entries (its `paths` and `baseUrl`).
        const named = b.initialOptions.tsconfig === undefined ? undefined : resolve(cwd, b.initialOptions.tsconfig);
        const result = compileFiles(roots, new Map(), { resolution: resolutionFor(roots, named) });
        if (result.diagnostics.length) {
          const errors: Message[] = result.diagnostics.map(toMessage);
          return { errors };
        }
        for (const [file, out] of result.outputs) {
          const map = out.map ? `\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(out.map.toString()).toString("base64")}\n` : "";
          compiled.set(file, out.code + map);
        }
        return {};
      });
      // A JavaScript module of the program calling grad would be bundled uncompiled and fail when it runs.
      b.onLoad({ filter: /\.[cm]?jsx?$/ }, async (args) => {
        if (args.path.split(/[\\/]/).includes("node_modules")) return undefined;
        const text = safeRead(args.path);
        if (text === undefined || !/from\s*["']adc["']/.test(text)) return undefined;
        const { javascriptApiUses } = await import("../compiler/index.js");
        const found = javascriptApiUses(args.path, text);
        return found.length ? { errors: found.map((d) => toMessage(d)) } : undefined;
      });
      b.onLoad({ filter: /\.[cm]?tsx?$/ }, (args) => {
        const contents = compiled.get(args.path);
        return contents === undefined ? undefined : { contents, loader: args.path.endsWith("x") ? "tsx" : "ts" };
      });
    },
  };
}

function toMessage(d: { code: string; message: string; hint?: string; file: string; line: number; column: number; length: number }): Message {
  return {
    id: d.code,
    pluginName: "adc",
    text: `${d.code}: ${d.message}${d.hint ? ` - ${d.hint}` : ""}`,
    location: { file: d.file, namespace: "file", line: d.line, column: d.column - 1, length: d.length, lineText: safeLine(d.file, d.line), suggestion: "" },
    notes: [],
    detail: undefined,
  };
}

function safeRead(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

function safeLine(file: string, line: number): string {
  try {
    return readFileSync(file, "utf8").split("\n")[line - 1] ?? "";
  } catch {
    return "";
  }
}

export default adc;
