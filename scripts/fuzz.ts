/**
 * npm run fuzz -- --runs N --seed S [--batch B] [--from K] [--chunk C] [--chunk-seconds T]
 *                 [--shrink-seconds T] [--no-shrink] [--max-failures M] [--avoid F,G]
 *                 [--replay PATH [--shrink] [--signature SIG]]
 *
 * Draws N random programs in adc's language (test/fuzz/generator.ts) with seed S, checks each
 * (test/fuzz/properties.ts: no crash, no diagnostic, deterministic output, generated code that
 * type-checks, derivatives that agree with finite differences and with each other), prints
 * progress, and for each kind of failure shrinks the first program that shows it and prints it
 * as a ready-to-paste fixture (fixtures/fuzz/<name>/input.ts), with the seed and path that
 * replay it. Ends with one summary line: the number of programs run.
 *
 * Programs run in child processes, --chunk at a time (default 400); a chunk that takes longer than
 * --chunk-seconds (default 900) or dies is split until the program to blame is found, and that
 * program is reported as a "hang".
 * --avoid leaves constructs out of the programs (see Feature in test/fuzz/generator.ts), to look
 * past a known bug; pass the same --avoid to --replay.
 * --replay PATH re-checks one program (path "k" or a shrunk "k:2:0:...") of the run with --seed
 * and prints it with its failures; with --shrink, shrinks it further first, keeping the failure
 * whose signature starts with --signature (default: the first). Exit status: 0 no failure, 1 failures, 2 usage.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { asFixture, programAt, programs, run, shrink, signatures, type RunResult } from "../test/fuzz/driver.js";
import { FEATURES, render, type Feature } from "../test/fuzz/generator.js";
import { ProgramChecker } from "../test/fuzz/properties.js";

function usage(msg: string): never {
  process.stderr.write(`${msg}\nusage: npm run fuzz -- --runs N --seed S [--batch B] [--from K] [--chunk C] [--chunk-seconds T] [--shrink-seconds T] [--no-shrink] [--max-failures M] [--avoid F,G] [--order 2] [--replay PATH [--shrink] [--signature SIG]]\n`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      runs: { type: "string", default: "1000" },
      seed: { type: "string" },
      batch: { type: "string", default: "25" },
      from: { type: "string", default: "0" },
      "shrink-seconds": { type: "string", default: "90" },
      "no-shrink": { type: "boolean", default: false },
      "max-failures": { type: "string" },
      replay: { type: "string" },
      avoid: { type: "string" },
      shrink: { type: "boolean", default: false },
      signature: { type: "string" },
      chunk: { type: "string", default: "400" },
      "chunk-seconds": { type: "string", default: "900" },
      worker: { type: "boolean", default: false },
      of: { type: "string" },
      order: { type: "string", default: "1" },
    },
    strict: true,
  }).values;
} catch (e) {
  usage((e as Error).message);
}

const int = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) usage(`--${name} must be a non-negative integer, got ${v}`);
  return n;
};

const seed = int("seed", args.seed) ?? Date.now() % 2 ** 31;
const runs = int("runs", args.runs)!;
const batch = Math.max(1, int("batch", args.batch)!);
const from = int("from", args.from)!;
const shrinkMs = int("shrink-seconds", args["shrink-seconds"])! * 1000;
const maxFailures = int("max-failures", args["max-failures"]);
const avoid = (args.avoid ?? "").split(",").filter(Boolean) as Feature[];
for (const a of avoid) if (!FEATURES.includes(a)) usage(`--avoid takes a comma-separated list of ${FEATURES.join(", ")}; got ${a}`);
const gen = { avoid };
/** Derivative order checked: 2 adds the second-order check (hessian, grad of grad, jvp/vjp of grad). */
const order = int("order", args.order)!;
/** The flags that replay a program of this run. */
const replayCmd = (path: string): string => `npm run fuzz -- --seed ${seed}${avoid.length ? ` --avoid ${avoid.join(",")}` : ""} --replay ${path}`;

if (args.replay !== undefined) {
  // One program by its path: the first segment is the run index, the rest fast-check's shrink path.
  const program = programAt(seed, args.replay, gen);
  if (!program) usage(`no program at path ${args.replay}`);
  let source = render(program);
  const checker = new ProgramChecker();
  let [{ failures }] = await checker.check([source], { order });
  checker.dispose();
  let path = args.replay;
  if (args.shrink && failures.length) {
    // Shrink further from this program, keeping the signature asked for (default: the first failure's).
    const index = Number(path.split(":")[0]);
    const sigs = failures.flatMap(signatures);
    const keep = args.signature === undefined ? sigs[0] : sigs.find((g) => g.startsWith(args.signature!));
    if (!keep) usage(`no failure of this program has a signature starting with ${args.signature}; it has: ${sigs.join(", ")}`);
    const s = await shrink({ seed, index, path, signature: keep, timeLimitMs: shrinkMs, gen, order });
    if (s) {
      ({ source, failures, path } = { source: s.source, failures: [...s.failures], path: s.path });
      process.stdout.write(`shrunk in ${s.shrinks} step(s) and ${s.reduced} cleanup edit(s) to ${s.size} lines\n`);
    }
  }
  process.stdout.write(asFixture(source, failures, replayCmd(path)) + "\n");
  for (const f of failures) process.stdout.write(`\n[${f.kind}] ${f.message}\n`);
  process.stdout.write(`\n${failures.length ? `${failures.length} failure(s)` : "no failure"}\n`);
  process.exit(failures.length ? 1 : 0);
}

const started = Date.now();

if (args.worker) {
  // A chunk, in a child process of the run below: programs [from, from + runs), result as JSON.
  const of = int("of", args.of) ?? from + runs;
  const r = await run({
    seed,
    runs,
    batch,
    from,
    maxFailures,
    gen,
    order,
    onBatch: (done, failed) => process.stderr.write(`  ${String(from + done).padStart(String(of).length)}/${of}  (${failed} failing in this chunk)\n`),
  });
  // Exit once the result is flushed: stdout is a pipe, and exiting early would cut it short.
  process.stdout.write(JSON.stringify({ ...r, signatures: [...r.signatures] }), () => process.exit(0));
  await new Promise(() => {});
}

/**
 * Runs programs [start, start + count) in a child process (this script with --worker), so that
 * memory is given back after each chunk and a program whose derivatives never return (an
 * infinite loop in generated code) cannot stall the run: a chunk that times out or dies is split
 * in two and run again, down to the one program to blame, reported as a "hang".
 */
async function runChunk(start: number, count: number, timeoutMs: number): Promise<RunResult> {
  const argv = [...process.execArgv, fileURLToPath(import.meta.url), "--worker", "--seed", String(seed), "--from", String(start), "--runs", String(count), "--of", String(from + runs), "--batch", String(batch)];
  if (avoid.length) argv.push("--avoid", avoid.join(","));
  if (order !== 1) argv.push("--order", String(order));
  const child = spawn(process.execPath, argv, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, timeoutMs);
  const code = await new Promise<number | null>((res) => child.on("close", res));
  clearTimeout(timer);
  if (code === 0 && !timedOut) {
    const r = JSON.parse(out) as Omit<RunResult, "signatures"> & { signatures: [string, number][] };
    return { ...r, signatures: new Map(r.signatures) };
  }
  const why = timedOut ? `did not finish in ${(timeoutMs / 1000).toFixed(0)} s` : `the checking process died (exit ${code})`;
  if (count === 1) {
    const [p] = programs(seed, 1, gen, start);
    const failure = { kind: "hang" as const, message: `checking this program ${why}` };
    return { ran: 1, refused: 0, finite: 0, failures: [{ index: start, source: render(p), failures: [failure] }], signatures: new Map([["hang", 1]]) };
  }
  process.stderr.write(`  programs ${start}..${start + count - 1}: ${why}; splitting\n`);
  const half = Math.ceil(count / 2);
  // A half gets time in proportion to its size (and at least a minute).
  const t = Math.max(60_000, timeoutMs / 2);
  return merge(await runChunk(start, half, t), await runChunk(start + half, count - half, t));
}

function merge(a: RunResult, b: RunResult): RunResult {
  const signatures = new Map(a.signatures);
  for (const [k, n] of b.signatures) signatures.set(k, (signatures.get(k) ?? 0) + n);
  return { ran: a.ran + b.ran, refused: a.refused + b.refused, finite: a.finite + b.finite, failures: [...a.failures, ...b.failures], signatures };
}

const chunk = Math.max(1, int("chunk", args.chunk)!);
const chunkMs = int("chunk-seconds", args["chunk-seconds"])! * 1000;
process.stderr.write(`adc fuzz: ${runs} programs, seed ${seed}${from ? `, from ${from}` : ""}, batches of ${batch}, ${chunk} per process\n`);
let result: RunResult = { ran: 0, refused: 0, finite: 0, failures: [], signatures: new Map() };
for (let k = from; k < from + runs; k += chunk) {
  result = merge(result, await runChunk(k, Math.min(chunk, from + runs - k), chunkMs));
  const s = (Date.now() - started) / 1000;
  process.stderr.write(`adc fuzz: ${result.ran}/${runs} programs, ${result.failures.length} failing, ${(result.ran / s).toFixed(1)} programs/s\n`);
  if (maxFailures !== undefined && result.failures.length >= maxFailures) break;
}

// One shrunk fixture per kind of failure (the first program that showed it).
const firstBySignature = new Map<string, (typeof result.failures)[number]>();
for (const f of result.failures) for (const sig of f.failures.flatMap(signatures)) if (!firstBySignature.has(sig)) firstBySignature.set(sig, f);

for (const [sig, found] of firstBySignature) {
  process.stdout.write(`\n=== ${sig}: ${result.signatures.get(sig)} program(s); first is program ${found.index} (${replayCmd(String(found.index))})\n`);
  let source = found.source;
  let failures = found.failures.filter((f) => signatures(f).includes(sig));
  let replay = replayCmd(String(found.index));
  if (!args["no-shrink"] && sig !== "hang") {
    const s = await shrink({ seed, index: found.index, signature: sig, timeLimitMs: shrinkMs, gen, order });
    if (s) {
      source = s.source;
      failures = s.failures.filter((f) => signatures(f).includes(sig));
      replay = replayCmd(s.path);
      process.stdout.write(`shrunk in ${s.shrinks} step(s) and ${s.reduced} cleanup edit(s) to ${s.size} lines; ${replay} replays the program before the cleanup\n`);
    }
  }
  process.stdout.write(`--- fixtures/fuzz/<name>/input.ts\n${asFixture(source, failures, replay)}\n`);
  for (const f of failures.slice(0, 3)) process.stdout.write(`[${f.kind}] ${f.message.split("\n").slice(0, 8).join("\n")}\n`);
}

const secs = ((Date.now() - started) / 1000).toFixed(0);
const failing = result.failures.length;
const pct = result.ran ? ((100 * result.finite) / result.ran).toFixed(0) : "0";
process.stdout.write(
  `\nadc fuzz: ran ${result.ran} programs (seed ${seed}, from ${from}) in ${secs} s: ${failing} failing, ${result.refused} refused on purpose, ${pct}% finite at the first point; ${firstBySignature.size} kind(s) of failure\n`,
);
for (const [sig, n] of [...result.signatures].sort((a, b) => b[1] - a[1])) process.stdout.write(`  ${String(n).padStart(5)}  ${sig}\n`);
process.exit(failing ? 1 : 0);
