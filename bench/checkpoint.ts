/**
 * Checkpointing (issue 16, item 4): the gradient of a scalar recurrence of n = 10^7 steps (N sets
 * it), as written and as n / k checkpointed blocks of k ~ sqrt(n) steps, in one run: median time
 * of each gradient (interleaved rounds) and the tape each leaves allocated. The tape's number lane
 * grows by doubling and never shrinks, so its size is the peak use so far rounded up to a power of
 * two (at most 2x): the checkpointed gradient runs first and its size is read, then the other's.
 * Both gradients are checked against each other and against central differences first.
 */
import { compileAndLoad, fmtNs, interleavedMedians, machine, table } from "./lib/harness.js";

const n = Number(process.env.N ?? 10_000_000);
// k: the divisor of n nearest below sqrt(n) (3125 for 10^7, 3200 blocks).
let k = Math.floor(Math.sqrt(n));
while (n % k) k--;
const x = 0.3;

const tapeBytes = (m: Record<string, any>): number => m.tape.f.length * 8 + m.tape.i.length * 4 + m.tape.b.length + m.tape.o.length * 8;

// Peak tape of each: the checkpointed one first, from the runtime's initial lanes.
const m = await compileAndLoad("bench/checkpoint-src.ts");
const initial = tapeBytes(m);
const gBlocked = m.dBlocked(x, n, k);
const blockedBytes = tapeBytes(m);
const gPlain = m.dPlain(x, n);
const bytes = { plain: tapeBytes(m), blocked: blockedBytes };
const h = 1e-6;
const fd = (m.plain(x + h, n) - m.plain(x - h, n)) / (2 * h);
if (Math.abs(gPlain - gBlocked) > 1e-9 * Math.abs(gPlain) || Math.abs(gPlain - fd) > 1e-5 * Math.max(1, Math.abs(fd)))
  throw new Error(`gradients disagree: plain ${gPlain}, checkpointed ${gBlocked}, central differences ${fd}`);
const plainRun = m;
const blockedRun = m;

const t = await interleavedMedians(
  [
    { name: "primal", fn: () => plainRun.plain(x, n) },
    { name: "plain", fn: () => plainRun.dPlain(x, n) },
    { name: "blocked", fn: () => blockedRun.dBlocked(x, n, k) },
  ],
  { warmupMs: 1000, rounds: 3, timeMs: 3000 },
);
const [p, a, b] = [t.get("primal")!, t.get("plain")!, t.get("blocked")!];
console.log(`# checkpointing: grad of a ${n.toLocaleString("en")}-step recurrence (${machine()})\n`);
console.log(`gradient ${gPlain} (both); central differences ${fd}\n`);
console.log(
  table([
    ["gradient", "median time", "time / primal", "tape allocated", "tape bytes / step"],
    ["as written", fmtNs(a), (a / p).toFixed(2), `${(bytes.plain / 2 ** 20).toFixed(1)} MiB`, (bytes.plain / n).toFixed(2)],
    [`checkpoint, k = ${k}`, fmtNs(b), (b / p).toFixed(2), `${(bytes.blocked / 2 ** 10).toFixed(1)} KiB`, (bytes.blocked / n).toFixed(4)],
  ]),
);
console.log(`\ncheckpointed / as written: time ${(b / a).toFixed(2)}, tape ${(bytes.blocked / bytes.plain).toExponential(2)} (the runtime starts with ${(initial / 2 ** 10).toFixed(1)} KiB of lanes)`);
