/**
 * Benchmark plumbing: compile a module with adc and load it (bundled with this checkout's
 * runtime), and time functions with tinybench. Fast calls are timed in batches, so a sample
 * measures work rather than the timer. Results are medians; ratios are taken between tasks of
 * the same run, never against numbers from another run.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Bench } from "tinybench";
import { compileFiles, formatDiagnostic } from "../../compiler/index.js";
import { load, type Loaded } from "../../test/helpers/load.js";

export async function compileAndLoad(path: string): Promise<Loaded> {
  const abs = resolve(path);
  const r = compileFiles([abs]);
  if (r.diagnostics.length) throw new Error(r.diagnostics.map(formatDiagnostic).join("\n"));
  const compiled = new Map([...r.outputs].map(([f, o]) => [f, o.code]));
  return load(compiled.get(abs) ?? readFileSync(abs, "utf8"), abs, compiled);
}

export interface Task {
  readonly name: string;
  readonly fn: () => unknown;
  /** Calls per sample (for calls that take nanoseconds). */
  readonly batch?: number;
}

/** Median time per call, in nanoseconds, for each task (one tinybench run). */
export async function medians(tasks: readonly Task[], timeMs = 400): Promise<Map<string, number>> {
  // At least 5 samples, else as many as fit in timeMs (tinybench's default minimum of 64 samples would
  // make a 0.5 s task take half a minute).
  // A second of warm-up: a large generated gradient runs 4-9x slower on its first call and up to
  // 1.6x on the next few while V8 optimizes it (`npm run bench:warmup`).
  const bench = new Bench({ time: timeMs, iterations: 5, warmup: true, warmupTime: 1000, warmupIterations: 10 });
  let sink = 0;
  for (const t of tasks) {
    const n = t.batch ?? 1;
    bench.add(t.name, () => {
      for (let i = 0; i < n; i++) if (t.fn() === undefined) sink++;
    });
  }
  await bench.run();
  const out = new Map<string, number>();
  for (const task of bench.tasks) {
    const r = task.result;
    if (r.state !== "completed") throw new Error(`benchmark ${task.name} did not complete: ${r.state} ${"error" in r ? String(r.error) : ""}`);
    const t = tasks.find((x) => x.name === task.name)!;
    out.set(task.name, (r.latency.p50 * 1e6) / (t.batch ?? 1));
  }
  if (sink < 0) console.log(sink);
  return out;
}

export interface InterleavedOptions {
  /** Rounds; each runs every task once, in turn (the order rotates between rounds). */
  readonly rounds: number;
  /** Time budget of one task in one round, in milliseconds. */
  readonly timeMs: number;
  /** Warm-up of each task before the first round, in milliseconds (tinybench's warmupTime). */
  readonly warmupMs: number;
}

/**
 * Median time per call, in nanoseconds, for each task, over the samples of several tinybench
 * rounds that take the tasks in turn: a slow drift of the machine (another process, thermal
 * state) then falls on every task alike rather than on whichever ran last. Each task is warmed
 * up for warmupMs first (large generated functions take a while to be optimized).
 */
export async function interleavedMedians(tasks: readonly Task[], o: InterleavedOptions): Promise<Map<string, number>> {
  let sink = 0;
  const samples = new Map<string, number[]>(tasks.map((t) => [t.name, []]));
  const fnOf = (t: Task) => () => {
    const n = t.batch ?? 1;
    for (let i = 0; i < n; i++) if (t.fn() === undefined) sink++;
  };
  const warm = new Bench({ time: 0, iterations: 1, warmup: true, warmupTime: o.warmupMs, warmupIterations: 1 });
  for (const t of tasks) warm.add(t.name, fnOf(t));
  await warm.run();
  for (let r = 0; r < o.rounds; r++) {
    const bench = new Bench({ time: o.timeMs, iterations: 3, warmup: false, retainSamples: true });
    for (let i = 0; i < tasks.length; i++) {
      const t = tasks[(i + r) % tasks.length];
      bench.add(t.name, fnOf(t));
    }
    await bench.run();
    for (const task of bench.tasks) {
      const res = task.result;
      if (res.state !== "completed") throw new Error(`benchmark ${task.name} did not complete: ${res.state} ${"error" in res ? String(res.error) : ""}`);
      const batch = tasks.find((x) => x.name === task.name)!.batch ?? 1;
      for (const s of res.latency.samples ?? []) samples.get(task.name)!.push((s * 1e6) / batch);
    }
  }
  if (sink < 0) console.log(sink);
  const out = new Map<string, number>();
  for (const [name, s] of samples) {
    s.sort((a, b) => a - b);
    const h = s.length >> 1;
    out.set(name, s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2);
  }
  return out;
}

export function fmtNs(ns: number): string {
  if (ns < 0) return `-${fmtNs(-ns)}`;
  if (ns < 1e3) return `${ns.toFixed(1)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(2)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(2)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}

export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: readonly string[]) => `| ${r.map((x, c) => x.padEnd(widths[c])).join(" | ")} |`;
  return [line(rows[0]), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.slice(1).map(line)].join("\n");
}

export function machine(): string {
  return `Node ${process.version}, ${process.platform}/${process.arch}, ${new Date().toISOString().slice(0, 10)}`;
}
