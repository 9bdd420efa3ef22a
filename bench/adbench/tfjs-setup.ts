/**
 * Loads TensorFlow.js (tfjs-core + the pure-JS CPU backend, float32) for the baselines.
 *
 * Why not a plain `import "@tensorflow/tfjs-core"`: its Node entry (dist/tf-core.node.js)
 * does not register any gradient, so `tf.grads` fails ("gradient function not found"), and the
 * file that registers them (dist/register_all_gradients.js) is ES module source with
 * extensionless and directory imports that Node cannot load. The `@tensorflow/tfjs` umbrella
 * package solves this by shipping one bundle; we do the same with esbuild (already a
 * dependency): bundle the packages' ES module builds (core, its gradients and chained ops, the
 * CPU kernels) into one CommonJS module, in memory, and evaluate it once. There is therefore
 * exactly one copy of tfjs in the process, with everything `@tensorflow/tfjs` would register.
 *
 * The result is cached per process; every baseline receives this `tf` object.
 */
import { build } from "esbuild";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

export type Tf = typeof import("@tensorflow/tfjs-core");

const ENTRY = `
export * from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import "@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops";
import "@tensorflow/tfjs-backend-cpu";
`;

let loaded: Promise<Tf> | undefined;

async function load(): Promise<Tf> {
  const here = dirname(fileURLToPath(import.meta.url));
  const res = await build({
    stdin: { contents: ENTRY, loader: "js", resolveDir: here, sourcefile: "tfjs-entry.js" },
    bundle: true,
    write: false,
    platform: "node",
    format: "cjs",
    // The ES module builds ("module") rather than the gradient-less Node bundles ("main").
    mainFields: ["module", "main"],
    // Only required lazily, for tf.io over HTTP, which the baselines never use.
    external: ["node-fetch"],
    logLevel: "silent",
  });
  const code = res.outputFiles[0]!.text;
  const mod: { exports: unknown } = { exports: {} };
  // Evaluate as a CommonJS module whose `require` resolves from this folder (Node built-ins).
  new Function("module", "exports", "require", code)(mod, mod.exports, createRequire(import.meta.url));
  const tf = mod.exports as Tf;
  if (!(await tf.setBackend("cpu"))) throw new Error("tfjs: the cpu backend could not be initialized");
  await tf.ready();
  return tf;
}

/** tfjs with the CPU backend selected and ready (built on first call, then shared). */
export function loadTfjsCpu(): Promise<Tf> {
  loaded ??= load();
  return loaded;
}
