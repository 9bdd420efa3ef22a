/**
 * Turns compiled TypeScript into JavaScript with esbuild. Per file (the default), every import
 * stays an import, with relative ones pointing at the emitted `.js` files; with --bundle, the
 * build's modules and adc's runtime are bundled into one file that runs anywhere.
 * Source maps chain through esbuild back to the user's files.
 */
import { build, type Plugin } from "esbuild";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

interface Compiled {
  readonly code: string;
  readonly map: { toString(): string; toUrl?(): string } | null;
}

const here = dirname(fileURLToPath(import.meta.url));

/** adc's own runtime files, for bundling: sources in a checkout, compiled files when installed. */
function runtimeEntry(name: string): string {
  for (const ext of [".js", ".ts"]) {
    const p = resolve(here, "..", "runtime", name + ext);
    if (existsSync(p)) return p;
  }
  throw new Error(`adc: cannot find runtime/${name}`);
}

function withInlineMap(c: Compiled): string {
  if (!c.map) return c.code;
  const b64 = Buffer.from(c.map.toString()).toString("base64");
  return `${c.code}\n//# sourceMappingURL=data:application/json;base64,${b64}\n`;
}

/** Serves the compiled text of every module of the build instead of its source on disk. */
function compiledModules(sources: ReadonlyMap<string, Compiled>): Plugin {
  return {
    name: "adc-compiled",
    setup(b) {
      b.onLoad({ filter: /\.[cm]?tsx?$/ }, (args) => {
        const c = sources.get(args.path);
        return c ? { contents: withInlineMap(c), loader: "ts" } : undefined;
      });
    },
  };
}

/** Keeps every import external; relative ones are renamed to the emitted `.js` file. */
const externalImports: Plugin = {
  name: "adc-external",
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === "entry-point") return undefined;
      if (args.path.startsWith(".")) return { path: args.path.replace(/\.[cm]?tsx?$/, "").replace(/\.js$/, "") + ".js", external: true };
      return { path: args.path, external: true };
    });
  },
};

export async function toJavaScript(
  file: string,
  sources: ReadonlyMap<string, Compiled>,
  opts: { bundle: boolean; sourcemap: boolean; outFile: string },
): Promise<Map<string, string>> {
  const res = await build({
    entryPoints: [file],
    outfile: opts.outFile,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    write: false,
    sourcemap: opts.sourcemap ? "linked" : false,
    logLevel: "silent",
    alias: opts.bundle ? { adc: runtimeEntry("api"), "adc/runtime": runtimeEntry("index") } : {},
    plugins: opts.bundle ? [compiledModules(sources)] : [compiledModules(sources), externalImports],
  });
  const out = new Map<string, string>();
  for (const f of res.outputFiles ?? []) out.set(f.path, f.text);
  return out;
}
