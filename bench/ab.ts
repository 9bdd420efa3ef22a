/**
 * A/B of two compilers: the ADBench LSTM (l2 c1024) and GMM (d10 K25) gradients as compiled by
 * two checkouts of adc (worktrees), loaded into one process and timed in interleaved rounds, so a
 * shared machine's drift falls on both alike. Each gradient runs on this checkout's runtime.
 *
 *   git worktree add /tmp/adc-before <commit>
 *   npx tsx bench/ab.ts . /tmp/adc-before
 */
import { resolve } from "node:path";
import { load } from "../test/helpers/load.js";
import { GMM_SIZES, LSTM_SIZES, makeGmmCase, makeLstmCase } from "./adbench/baseline.js";
import { fmtNs, interleavedMedians, machine, table, type Task } from "./lib/harness.js";

const trees = process.argv.slice(2);
if (trees.length < 2) throw new Error("usage: npx tsx bench/ab.ts <checkout A> <checkout B> [...]");
type Gradients = { lstmGradient: (...a: unknown[]) => unknown; gmmGradient: (...a: unknown[]) => unknown };
const mods: Gradients[] = [];
for (const t of trees) {
  const { compileFiles } = (await import(resolve(t, "compiler/index.ts"))) as typeof import("../compiler/index.js");
  const entry = resolve(t, "bench/adbench/adc-src.ts");
  const r = compileFiles([entry]);
  if (r.diagnostics.length) throw new Error(`${t}: ${r.diagnostics.length} diagnostics`);
  const compiled = new Map([...r.outputs].map(([f, o]) => [f, o.code]));
  mods.push((await load(compiled.get(entry)!, entry, compiled)) as unknown as Gradients);
}
const lstm = await makeLstmCase(LSTM_SIZES[0], { tfjs: false });
const l = lstm.data;
const gmmSize = GMM_SIZES[1];
const gmm = await makeGmmCase(gmmSize, { tfjs: false });
const g = gmm.data;
const tasks: Task[] = [
  ...mods.map((m, i) => ({ name: `${LSTM_SIZES[0].name} | ${trees[i]}`, fn: () => m.lstmGradient(l.mainParams, l.extraParams, l.state, l.sequence, l.l, l.c, l.b) })),
  ...mods.map((m, i) => ({ name: `${gmmSize.name} | ${trees[i]}`, fn: () => m.gmmGradient(g.alphas, g.means, g.icf, g.x, g.gamma, g.m, g.d, g.k, g.n) })),
];
const t = await interleavedMedians(tasks, { rounds: Number(process.env.ROUNDS ?? 6), timeMs: 600, warmupMs: 1500 });
console.log(`# A/B of compiled gradients (${machine()})\n`);
const rows = [["gradient | checkout", "median", "ratio to the first checkout"]];
for (const task of tasks) {
  const first = t.get(task.name.replace(/\| .*$/, `| ${trees[0]}`))!;
  rows.push([task.name, fmtNs(t.get(task.name)!), (t.get(task.name)! / first).toFixed(2)]);
}
console.log(table(rows));
lstm.dispose();
gmm.dispose();
