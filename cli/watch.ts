/**
 * `adc build --watch`: builds, then rebuilds whenever a file the build read changes (an input, a
 * module it imports, a JSON file, the tsconfig) or a TypeScript file appears in an input folder.
 * Like `tsc -w`, each rebuild clears the terminal (when it is one) and ends with a status line.
 * Files are watched with chokidar; changes arriving together cause one rebuild.
 */
import { watch } from "chokidar";
import { existsSync, statSync } from "node:fs";
import { resolve, sep } from "node:path";
import { runBuild, type BuildOptions } from "./build.js";
import { isTsSource } from "./emit.js";

type Color = Parameters<typeof runBuild>[1];

const stamp = (): string => new Date().toTimeString().slice(0, 8);

export async function watchBuild(opts: BuildOptions, color: Color): Promise<never> {
  const folders = opts.inputs.filter((p) => existsSync(p) && statSync(p).isDirectory()).map((p) => resolve(p));
  const outdir = opts.outdir === undefined ? undefined : resolve(opts.outdir);
  const watcher = watch([...opts.inputs].map((p) => resolve(p)), {
    ignoreInitial: true,
    // The output folder is never an input (the build skips it too), nor are packages or dot files.
    ignored: (path) => (outdir !== undefined && (path === outdir || path.startsWith(outdir + sep))) || path.split(sep).includes("node_modules"),
  });
  let watched = new Set<string>();
  let running = false;
  let again = false;
  let timer: NodeJS.Timeout | undefined;

  const once = async (first: boolean): Promise<void> => {
    running = true;
    if (!first && process.stdout.isTTY) process.stdout.write("\x1bc");
    process.stdout.write(`[${stamp()}] ${first ? "Starting compilation in watch mode..." : "File change detected. Starting incremental compilation..."}\n`);
    const read = new Set<string>();
    const code = await runBuild(opts, color, read);
    // Keep watching what the last build read; drop what it no longer imports.
    const next = new Set([...read].filter((f) => !folders.some((d) => f.startsWith(d + sep))));
    watcher.add([...next].filter((f) => !watched.has(f)));
    watcher.unwatch([...watched].filter((f) => !next.has(f) && !opts.inputs.map((p) => resolve(p)).includes(f)));
    watched = next;
    process.stdout.write(`[${stamp()}] ${code === 0 ? "Build succeeded" : "Build failed"}. Watching for file changes.\n`);
    running = false;
    if (again) {
      again = false;
      await once(false);
    }
  };

  watcher.on("all", (event, path) => {
    // In an input folder only TypeScript sources matter; a file the build read always does.
    if (event === "addDir" || event === "unlinkDir") return;
    if (!watched.has(path) && !isTsSource(path)) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (running) again = true;
      else void once(false);
    }, 50);
  });
  await new Promise<void>((ready) => watcher.on("ready", ready));
  await once(true);
  return new Promise<never>(() => {});
}
