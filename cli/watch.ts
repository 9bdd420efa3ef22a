/**
 * `adc build --watch`: builds, then rebuilds whenever a file the build read changes (an input, a
 * module it imports, a JSON file, the tsconfig) or a TypeScript file appears in an input folder.
 * Like `tsc -w`, each rebuild clears the terminal (when it is one) and ends with a status line.
 * Files are watched with chokidar; changes arriving together cause one rebuild.
 */
import { watch } from "chokidar";
import { existsSync, statSync } from "node:fs";
import { dirname, resolve, sep } from "node:path";
import { runBuild, type BuildOptions } from "./build.js";
import { isTsSource } from "./emit.js";

type Color = Parameters<typeof runBuild>[1];

const stamp = (): string => new Date().toTimeString().slice(0, 8);

export async function watchBuild(opts: BuildOptions, color: Color): Promise<never> {
  // `-p` with no files: the project's folder is watched as an input folder (a file added to it
  // may be one the tsconfig includes).
  const project = opts.inputs.length === 0 && opts.project !== undefined ? projectFolder(opts.project) : undefined;
  const roots = [...opts.inputs.map((p) => resolve(p)), ...(project ? [project] : [])];
  const folders = roots.filter((p) => existsSync(p) && statSync(p).isDirectory());
  // Known after the first build when it comes from the tsconfig.
  const built: { outdir?: string } = { outdir: opts.outdir === undefined ? undefined : resolve(opts.outdir) };
  const inOutdir = (path: string): boolean => built.outdir !== undefined && (path === built.outdir || path.startsWith(built.outdir + sep));
  const watcher = watch(roots, {
    ignoreInitial: true,
    // The output folder is never an input (the build skips it too), nor are packages or dot files.
    ignored: (path) => inOutdir(path) || path.split(sep).includes("node_modules") || (project !== undefined && path.slice(project.length).split(sep).some((part) => part.startsWith("."))),
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
    const code = await runBuild(opts, color, read, built);
    // Keep watching what the last build read; drop what it no longer imports. A failed build may
    // not have found a module it imports (deleted, to be written again): drop nothing then.
    const next = new Set([...read, ...(code === 0 ? [] : watched)].filter((f) => !folders.some((d) => f.startsWith(d + sep))));
    watcher.add([...next].filter((f) => !watched.has(f)));
    watcher.unwatch([...watched].filter((f) => !next.has(f) && !roots.includes(f)));
    watched = next;
    process.stdout.write(`[${stamp()}] ${code === 0 ? "Build succeeded" : "Build failed"}. Watching for file changes.\n`);
    running = false;
    if (again) {
      again = false;
      await once(false);
    }
  };

  const rebuild = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (running) again = true;
      else void once(false);
    }, 50);
  };
  // A deleted file is no longer watched; one the build read is looked for until it comes back
  // (written again, or moved back), then watched again.
  const missing = new Set<string>();
  setInterval(() => {
    for (const f of missing)
      if (existsSync(f)) {
        missing.delete(f);
        watcher.add(f);
        rebuild();
      }
  }, 200);
  watcher.on("all", (event, path) => {
    // In an input folder only TypeScript sources matter; a file the build read always does.
    if (event === "addDir" || event === "unlinkDir" || inOutdir(path)) return;
    if (!watched.has(path) && !isTsSource(path)) return;
    if (event === "unlink" && watched.has(path) && !folders.some((d) => path.startsWith(d + sep))) missing.add(path);
    rebuild();
  });
  await new Promise<void>((ready) => watcher.on("ready", ready));
  await once(true);
  return new Promise<never>(() => {});
}

/** The folder of `-p`'s tsconfig (or the folder given). */
function projectFolder(p: string): string {
  const abs = resolve(p);
  return existsSync(abs) && statSync(abs).isDirectory() ? abs : dirname(abs);
}
