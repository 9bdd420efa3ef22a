/**
 * The fuzz loop shared by the test (fuzz.test.ts, teeth.test.ts) and the command line
 * (scripts/fuzz.ts): draw programs with a seed, check them in batches, shrink each failure.
 *
 * Replay: program k of a run with seed S is `fc.sample(programArb(), { seed: S, numRuns: k + 1 })[k]`,
 * which is also run k of `fc.assert(..., { seed: S })`, so `{ seed: S, path: "k" }` replays it
 * and lets fast-check shrink from there. A shrunk failure's path ("k:3:0:...") replays the
 * shrunk program directly.
 *
 * Shrinking keeps the failure's signature (kind and category, see `signature`), so a wrong
 * gradient does not shrink into an unrelated diagnostic on the way down; after fast-check, the
 * cleanup pass of reduce.ts removes what fast-check's shrinkers cannot.
 */
import fc from "fast-check";
import { codeSize, programArb, render, type GenOptions, type Program } from "./generator.js";
import { ProgramChecker, type CheckOptions, type Failure, type ProgramReport } from "./properties.js";
import { reduce } from "./reduce.js";

/** TypeScript codes that are one problem: "Cannot find name" with or without a suggestion. */
const SAME_TS: Record<string, string> = { "2552": "2304" };

/** Every signature a failure has (a type-check failure has one per TypeScript error code). */
export function signatures(f: Failure): string[] {
  if (f.kind !== "typecheck") return [signature(f)];
  const codes = [...f.message.matchAll(/TS(\d+)/g)].map((m) => SAME_TS[m[1]] ?? m[1]);
  return [...new Set(codes)].map((c) => `typecheck:TS${c}`);
}

/** What a failure is, without names and numbers: stable while the program shrinks. */
export function signature(f: Failure): string {
  const first = f.message.split("\n").find((l) => /TS\d+|ADC\d+|:/.test(l)) ?? f.message;
  switch (f.kind) {
    case "typecheck":
      return signatures(f)[0] ?? "typecheck:?";
    case "diagnostic":
    case "generator": {
      const d = f.message.split("\n").find((l) => /error ADC\d+|TS\d+/.test(l)) ?? first;
      const m = /(ADC\d+|TS\d+): ?([^-\n]*)/.exec(d);
      return `${f.kind}:${m ? `${m[1]}:${m[2].replace(/'[^']*'/g, "'_'").replace(/\d+/g, "N").trim()}` : d}`;
    }
    case "numeric": {
      const m = /: (valueAndGrad value|reverse d\/d|grad\(f, |jvp value|jvp tangent|<ct, jvp\(t\)>|vjp value|vjp cotangent)/.exec(f.message);
      return `numeric:${m ? m[1] : "?"}`;
    }
    case "runtime": {
      const m = /threw: (\w+): (.*)/.exec(f.message);
      return `runtime:${m ? `${m[1]}:${m[2].replace(/'[^']*'|\b[A-Za-z_]\w*_(bar|dot)\b|\b_t\d+\b/g, "_").replace(/\d+/g, "N")}` : "?"}`;
    }
    case "tape":
      return "tape";
    case "hang":
      return "hang";
    case "nondeterministic":
    case "emit":
    case "crash": {
      const m = /threw: (\w+): ([^\n]*)/.exec(f.message);
      return `${f.kind}:${m ? `${m[1]}:${m[2].replace(/'[^']*'/g, "'_'").replace(/\d+/g, "N").slice(0, 80)}` : ""}`;
    }
  }
}

export interface FoundFailure {
  /** Index of the program in the run (its replay path before shrinking). */
  readonly index: number;
  readonly source: string;
  readonly failures: readonly Failure[];
}

export interface RunOptions extends CheckOptions {
  readonly seed: number;
  readonly runs: number;
  /** Programs per batch (one build, one bundle). */
  readonly batch?: number;
  /** Index of the first program (to resume a run). */
  readonly from?: number;
  readonly gen?: GenOptions;
  readonly onBatch?: (done: number, failed: number) => void;
  /** Stop after this many failing programs (default: never). */
  readonly maxFailures?: number;
}

export interface RunResult {
  readonly ran: number;
  readonly refused: number;
  /** Programs whose functions were finite at their first sample point. */
  readonly finite: number;
  readonly failures: FoundFailure[];
  /** Count of failing programs per signature. */
  readonly signatures: Map<string, number>;
}

/** The programs of a run: program k is the one fast-check's run k would check. */
export function programs(seed: number, runs: number, gen?: GenOptions, from = 0): Program[] {
  return fc.sample(programArb(gen), { seed, numRuns: from + runs }).slice(from);
}

/** The program at a replay path of the run with `seed`: "k", or a shrunk "k:3:0:...". */
export function programAt(seed: number, path: string, gen?: GenOptions): Program | undefined {
  let program: Program | undefined;
  fc.check(
    fc.property(programArb(gen), (p) => {
      program = p;
      return false;
    }),
    { seed, path, numRuns: 1, endOnFailure: true },
  );
  return program;
}

/** Runs the properties over `runs` programs drawn with `seed`, in batches. */
export async function run(opts: RunOptions): Promise<RunResult> {
  const batch = opts.batch ?? 25;
  const from = opts.from ?? 0;
  const progs = programs(opts.seed, opts.runs, opts.gen, from);
  const checker = new ProgramChecker();
  const failures: FoundFailure[] = [];
  const bySignature = new Map<string, number>();
  let refused = 0;
  let finite = 0;
  let ran = 0;
  try {
    for (let b = 0; b < progs.length; b += batch) {
      const sources = progs.slice(b, b + batch).map(render);
      const reports: ProgramReport[] = await checker.check(sources, opts);
      reports.forEach((r, i) => {
        if (r.refused) refused++;
        if (r.finite) finite++;
        if (!r.failures.length) return;
        failures.push({ index: from + b + i, source: sources[i], failures: r.failures });
        for (const s of new Set(r.failures.flatMap(signatures))) bySignature.set(s, (bySignature.get(s) ?? 0) + 1);
      });
      ran += sources.length;
      opts.onBatch?.(ran, failures.length);
      if (opts.maxFailures !== undefined && failures.length >= opts.maxFailures) break;
    }
  } finally {
    checker.dispose();
  }
  return { ran, refused, finite, failures, signatures: bySignature };
}

export interface Shrunk {
  readonly source: string;
  readonly failures: readonly Failure[];
  /** fast-check's path of the shrunk program (replay with the same seed), before `reduced` edits. */
  readonly path: string;
  readonly size: number;
  readonly shrinks: number;
  /** Edits the cleanup pass (reduce.ts) made after fast-check's shrinking. */
  readonly reduced: number;
}

export interface ShrinkOptions extends CheckOptions {
  readonly seed: number;
  readonly index: number;
  /** Where to start: a replay path (default: the index), e.g. to shrink further a shrunk program. */
  readonly path?: string;
  /** The signature to keep while shrinking (default: the first failure's). */
  readonly signature?: string;
  readonly gen?: GenOptions;
  /** Give up shrinking further after this long (default 60 s); the best program so far is kept. */
  readonly timeLimitMs?: number;
}

/**
 * Shrinks the failing program `index` of the run with `seed`: fast-check replays it and keeps
 * the smallest program that still fails with the same signature.
 */
export async function shrink(opts: ShrinkOptions): Promise<Shrunk | undefined> {
  const checker = new ProgramChecker();
  // While shrinking, run only the property the failure is about.
  const kind = opts.signature?.split(":")[0];
  const only: CheckOptions = kind
    ? { determinism: kind === "nondeterministic", typecheck: kind === "typecheck" || kind === "generator", numeric: kind === "numeric" || kind === "runtime" || kind === "emit" || kind === "tape" }
    : {};
  const check = async (p: Program): Promise<{ source: string; failures: readonly Failure[] }> => {
    const source = render(p);
    const [r] = await checker.check([source], { ...opts, ...only });
    return { source, failures: r.failures };
  };
  try {
    const path = opts.path ?? String(opts.index);
    let target = opts.signature;
    if (!target) {
      const p = programAt(opts.seed, path, opts.gen);
      if (!p) return undefined;
      const first = await check(p);
      if (!first.failures.length) return undefined;
      target = signature(first.failures[0]);
    }
    const keep = target;
    const started = Date.now();
    const limit = opts.timeLimitMs ?? 60_000;
    let best: { source: string; failures: readonly Failure[]; program: Program } | undefined;
    const fails = async (p: Program): Promise<boolean> => {
      const r = await check(p);
      if (!r.failures.some((f) => signatures(f).includes(keep))) return false;
      best = { ...r, program: p };
      return true;
    };
    const prop = fc.asyncProperty(programArb(opts.gen), async (p) => !(await fails(p)));
    const details = await fc.check(prop, {
      seed: opts.seed,
      path,
      numRuns: 1,
      endOnFailure: false,
      plugins: [fc.interruptAfterTimeLimit(limit)],
    } as fc.Parameters<[Program]>);
    const shrunk = details.failed && details.counterexample ? details.counterexample[0] : best?.program;
    if (!shrunk) return undefined;
    // Then the cleanup pass, in the time left (at least 20 s).
    const reduced = await reduce(shrunk, fails, Math.max(20_000, limit - (Date.now() - started)));
    const source = render(reduced.program);
    const final = best && best.source === source ? best : await check(reduced.program);
    return {
      source,
      failures: final.failures,
      path: details.counterexamplePath ?? path,
      size: codeSize(source),
      shrinks: details.numShrinks,
      reduced: reduced.steps,
    };
  } finally {
    checker.dispose();
  }
}

/**
 * A failure as a fixture to paste into fixtures/fuzz/<name>/input.ts: the program with a header
 * that says what fails and how to replay it.
 */
export function asFixture(source: string, failures: readonly Failure[], replay: string): string {
  const what = [...new Set(failures.map((f) => `${f.kind}: ${f.message.split("\n")[0]}`))].slice(0, 6);
  const header = [`// Found by the fuzzer (${replay}).`, ...what.map((w) => `// ${w.length > 150 ? w.slice(0, 147) + "..." : w}`)];
  return [...header, ...source.split("\n")].join("\n");
}
