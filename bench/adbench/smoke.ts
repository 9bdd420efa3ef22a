/**
 * Quick timing of the ADBench baselines: for each case of baseline.ts, the median time of the
 * objective, the hand-written gradient and the tfjs gradient (tinybench, a few runs each), and
 * the ratios hand/objective and tfjs/hand. Meant to be short (about a minute in all, ba16 being most of it) on a
 * shared 2-core machine, not a careful benchmark.
 *
 *   npx tsx bench/adbench/smoke.ts            # everything
 *   npx tsx bench/adbench/smoke.ts gmm lstm   # only some problems
 *
 * tfjs is timed on BA only for the smallest file (it needs ~30 us per observation; ba4 would
 * take ~6 s per call). Columns "tfjs err" give the largest |tfjs - hand| / max(1, |hand|).
 */
import { Bench } from "tinybench";
import {
  BA_SIZES, GMM_SIZES, LSTM_SIZES, makeBaCase, makeGmmCase, makeLstmCase, type BenchCase,
} from "./baseline.js";
import type { CsrMatrix } from "./ba-hand.js";

const TFJS_BA_MAX_OBSERVATIONS = 50_000;

interface Row { name: string; obj: number; hand: number; tfjs?: number; tfjsErr?: number }

/** Median latency in ms of each task, run a few times after one warm-up run. */
async function medians(tasks: Record<string, () => unknown>): Promise<Record<string, number>> {
  const bench = new Bench({ time: 200, iterations: 3, warmupTime: 0, warmupIterations: 1, throws: true });
  for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn);
  await bench.run();
  const out: Record<string, number> = {};
  for (const task of bench.tasks) {
    const r = task.result;
    if (r.state !== "completed") throw new Error(`${task.name}: ${r.state}`);
    out[task.name] = r.latency.p50;
  }
  return out;
}

function values(g: Float64Array | CsrMatrix): Float64Array {
  return g instanceof Float64Array ? g : g.vals;
}

function maxRelErr(a: Float64Array, b: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(a[i]!)));
  return worst;
}

async function timeCase(c: BenchCase, withTfjs: boolean): Promise<Row> {
  const tasks: Record<string, () => unknown> = { obj: () => c.objective(), hand: () => c.handGradient() };
  if (withTfjs) tasks.tfjs = () => c.tfjsGradient();
  const t = await medians(tasks);
  const row: Row = { name: c.size.name, obj: t.obj!, hand: t.hand! };
  if (withTfjs) {
    row.tfjs = t.tfjs;
    row.tfjsErr = maxRelErr(values(c.handGradient()), values(c.tfjsGradient()));
  }
  c.dispose();
  return row;
}

const fmt = (ms: number | undefined): string => (ms === undefined ? "-" : ms < 1 ? ms.toFixed(4) : ms < 100 ? ms.toFixed(2) : ms.toFixed(0));

function printTable(rows: Row[]): void {
  const header = ["case", "objective ms", "hand ms", "tfjs ms", "hand/obj", "tfjs/hand", "tfjs err"];
  const body = rows.map((r) => [
    r.name, fmt(r.obj), fmt(r.hand), fmt(r.tfjs),
    (r.hand / r.obj).toFixed(2),
    r.tfjs === undefined ? "-" : (r.tfjs / r.hand).toFixed(1),
    r.tfjsErr === undefined ? "-" : r.tfjsErr.toExponential(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((s, i) => (i === 0 ? s.padEnd(widths[i]!) : s.padStart(widths[i]!))).join("  ");
  console.log(line(header));
  for (const b of body) console.log(line(b));
}

async function main(): Promise<void> {
  const wanted = new Set(process.argv.slice(2));
  const want = (p: string): boolean => wanted.size === 0 || wanted.has(p);
  const rows: Row[] = [];
  if (want("gmm")) for (const s of GMM_SIZES) rows.push(await timeCase(await makeGmmCase(s), true));
  if (want("ba")) for (const s of BA_SIZES) rows.push(await timeCase(await makeBaCase(s), s.p <= TFJS_BA_MAX_OBSERVATIONS));
  if (want("lstm")) for (const s of LSTM_SIZES) rows.push(await timeCase(await makeLstmCase(s), true));
  printTable(rows);
}

await main();
