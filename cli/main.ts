#!/usr/bin/env node
/**
 * The `adc` command line. `adc build` compiles files and folders, writing JavaScript (or the
 * transformed TypeScript) to --outdir. It exits 0 on success, 1 when the program has
 * diagnostics (printed like tsc's, nothing written), 2 on a usage or file-system error, 3 on an
 * internal error (a bug in adc). It never writes over an
 * input file. The compiler is loaded only for `build`, so --help and --version stay fast.
 */
import { readFileSync } from "node:fs";
import { parseArgs, styleText } from "node:util";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const USAGE = `Usage: adc build <files|dirs...> --outdir DIR [options]
       adc build -p tsconfig.json [--outdir DIR] [options]
       adc check <files|dirs...> [-p tsconfig.json]
       adc check -p tsconfig.json

Compiles TypeScript that calls adc's grad, valueAndGrad, vjp or jvp: each call is replaced
by generated derivative code, ahead of time.

Options:
  --outdir DIR     where to write the output (also --outDir; default: the tsconfig's outDir)
  -p, --project P  the tsconfig (a file, or a folder holding tsconfig.json): its paths and
                   baseUrl resolve imports, its outDir and rootDir place the output, and with
                   no inputs named its files are built. Without -p, the nearest tsconfig.json
                   above the first input is used when it includes the inputs.
  --rootDir DIR    the folder the output layout is relative to (default: the tsconfig's
                   rootDir, else the common folder of the inputs)
  --emit js|ts     write JavaScript (default) or the transformed TypeScript, to read
  --bundle         write one self-contained file per input, runtime included
  --sourcemap      write source maps that point back to the input files
  --pretty         diagnostics with the source line underlined (the default in a terminal)
  -w, --watch      build, then rebuild whenever an input or a module it imports changes
  --dump STAGE     print every function's IR after a pass: lower, inline, anf, forward,
                   reverse or cleanup (compiler/pipeline.ts lists the passes)
  -h, --help       show this help
  -v, --version    print adc's version

adc check runs checkGrads (finite differences against forward and reverse mode) on every
exported function marked /** @checkGrads [args] */ and prints a table; exit 1 if one fails
or the module's own top-level code throws. Its imports resolve through the tsconfig as for
build (-p, or the nearest one that includes the inputs).

Exit status: 0 built, 1 the program has diagnostics (nothing written), 2 usage or file-system
error (nothing more written), 3 internal error (a bug in adc).`;

function version(): string {
  const pkg = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "package.json");
  try {
    return (JSON.parse(readFileSync(pkg, "utf8")) as { version: string }).version;
  } catch {
    return JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), "..", "package.json"), "utf8")).version;
  }
}

/**
 * The compiler's tools (ts-morph, esbuild, chokidar) are optional peer dependencies, so an app
 * that only runs compiled code installs adc's runtime alone. Building needs them.
 */
async function tool<T>(load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    const missing = ["ts-morph", "esbuild", "chokidar"].find((p) => (e as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" && (e as Error).message.includes(`'${p}'`));
    if (!missing) throw e;
    process.stderr.write(`adc: building needs ${missing}, which is not installed. adc's build tools are optional so that\nan app that only runs compiled code stays small; install them as dev dependencies:\n\n  npm install --save-dev ts-morph esbuild chokidar\n`);
    process.exit(2);
  }
}

function usageError(msg: string): never {
  process.stderr.write(`adc: ${msg}\n\n${USAGE}\n`);
  process.exit(2);
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        outdir: { type: "string" },
        outDir: { type: "string" },
        rootDir: { type: "string" },
        project: { type: "string", short: "p" },
        emit: { type: "string", default: "js" },
        bundle: { type: "boolean", default: false },
        sourcemap: { type: "boolean", default: false },
        dump: { type: "string" },
        watch: { type: "boolean", short: "w", default: false },
        pretty: { type: "boolean" },
        help: { type: "boolean", short: "h", default: false },
        version: { type: "boolean", short: "v", default: false },
      },
    });
  } catch (e) {
    usageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  if (values.version) {
    process.stdout.write(version() + "\n");
    return 0;
  }
  const [command, ...inputs] = positionals;
  if (!command) usageError("no command given");
  const color = process.stdout.isTTY ? (s: string, c: Parameters<typeof styleText>[0]) => styleText(c, s) : (s: string) => s;
  if (command === "check") {
    if (inputs.length === 0 && values.project === undefined) usageError("check needs at least one file or folder, or -p tsconfig.json");
    const { runCheck } = await tool(() => import("./check.js"));
    return runCheck(inputs, color, values.project);
  }
  if (command !== "build") usageError(`unknown command '${command}'`);
  if (inputs.length === 0 && values.project === undefined) usageError("build needs at least one file or folder, or -p tsconfig.json");
  if (values.outdir !== undefined && values.outDir !== undefined && values.outdir !== values.outDir) usageError("--outdir and --outDir disagree; give one");
  if (values.emit !== "js" && values.emit !== "ts") usageError(`--emit must be js or ts, not '${values.emit}'`);
  if (values.bundle && values.emit === "ts") usageError("--bundle writes JavaScript; it cannot be combined with --emit ts");
  const stages = ["lower", "inline", "anf", "forward", "reverse", "cleanup"];
  if (values.dump !== undefined && !stages.includes(values.dump)) usageError(`--dump must be one of ${stages.join(", ")}, not '${values.dump}'`);
  const options = { inputs, outdir: values.outdir ?? values.outDir, rootDir: values.rootDir, project: values.project, emit: values.emit as "js" | "ts", bundle: values.bundle!, sourcemap: values.sourcemap!, dump: values.dump as never, pretty: values.pretty ?? !!process.stderr.isTTY };
  if (values.watch) {
    const { watchBuild } = await tool(() => import("./watch.js"));
    return watchBuild(options, color);
  }
  const { runBuild } = await tool(() => import("./build.js"));
  return runBuild(options, color);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    // Only a bug in adc gets here: input problems are diagnostics (1), usage and I/O errors 2.
    process.stderr.write(`adc: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.stderr.write("This is a bug in adc; please report it with the input that caused it.\n");
    process.exit(3);
  },
);
