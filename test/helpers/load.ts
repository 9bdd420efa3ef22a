/**
 * Runs generated code in tests: bundles a compiled module with esbuild (the runtime and user API
 * resolved to this checkout's sources) and imports the bundle from memory. Each load gets its
 * own copy of the runtime, so tests cannot disturb each other's tapes.
 */
import { build } from "esbuild";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const ALIASES = {
  adc: resolve(root, "runtime/api.ts"),
  "adc/runtime": resolve(root, "runtime/index.ts"),
};

/**
 * Bundles TypeScript text (as if it lived at `fileName`) and returns the JavaScript.
 * `overrides` gives the compiled text of other modules the bundle imports (by absolute path).
 */
export async function bundle(code: string, fileName: string, overrides: ReadonlyMap<string, string> = new Map()): Promise<string> {
  const res = await build({
    plugins: overrides.size
      ? [{
          name: "compiled-modules",
          setup(b) {
            b.onLoad({ filter: /\.[cm]?tsx?$/ }, (args) => {
              const text = overrides.get(args.path);
              return text === undefined ? undefined : { contents: text, loader: "ts" };
            });
          },
        }]
      : [],
    stdin: { contents: code, loader: "ts", resolveDir: dirname(resolve(fileName)), sourcefile: fileName },
    bundle: true,
    format: "esm",
    platform: "node",
    write: false,
    alias: ALIASES,
    logLevel: "silent",
  });
  return res.outputFiles[0].text;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loaded = Record<string, any>;

const bundles = resolve(root, ".vitest-tmp", "bundles");

/**
 * Bundles and imports a module given as TypeScript text. The bundle is written to a file named by
 * its content hash (so stack traces stay short and the same code loads once).
 */
export async function load(code: string, fileName = "module.ts", overrides: ReadonlyMap<string, string> = new Map()): Promise<Loaded> {
  const js = await bundle(code, fileName, overrides);
  mkdirSync(bundles, { recursive: true });
  const file = resolve(bundles, createHash("sha256").update(js).digest("hex").slice(0, 24) + ".mjs");
  if (!existsSync(file)) writeFileSync(file, js);
  return import(pathToFileURL(file).href);
}
