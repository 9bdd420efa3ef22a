/**
 * npm run fuzz:shapes -- --runs N --seed S [--kinds nested,twice,...] [--batch B] [--from K]
 *                        [--points P] [--shrink-seconds T] [--no-shrink] [--max-failures M]
 *                        [--replay PATH [--shrink] [--signature SIG]]
 *
 * Draws N shapes around generated functions (test/fuzz/shapes.ts: nested parameter objects and
 * lists, one array passed twice, closures in module-level blocks, pullbacks after edits, record
 * blocks reading attached arrays through objects, argnums lists of one) with seed S, checks each
 * (test/fuzz/shape-properties.ts), and for each kind of failure shrinks the first shape that
 * shows it and prints it ready to paste: the module and a vitest case, with the command that
 * replays it. --kinds draws only those shapes (pass the same --kinds to --replay). --with-known
 * also draws the sub-shapes of known, open adc bugs (KNOWN_FINDINGS in test/fuzz/shapes.ts),
 * which are left out by default. The last line is the summary. Exit status: 0 no failure,
 * 1 failures, 2 usage.
 */
import { parseArgs } from "node:util";
import { asSnippet, runShapes, shapeAt, shrinkShape } from "../test/fuzz/shape-driver.js";
import { renderShape } from "../test/fuzz/shape-render.js";
import { ShapeChecker, shapeSignature } from "../test/fuzz/shape-properties.js";
import { KNOWN, SHAPE_KINDS, type FindingId, type ShapeKind } from "../test/fuzz/shapes.js";

const USAGE =
  "usage: npm run fuzz:shapes -- --runs N --seed S [--kinds K,..] [--with-known] [--batch B] [--from K] [--points P] [--shrink-seconds T] [--no-shrink] [--max-failures M] [--replay PATH [--shrink] [--signature SIG]]";

function usage(msg: string): never {
  process.stderr.write(`${msg}\n${USAGE}\n`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      runs: { type: "string", default: "300" },
      seed: { type: "string" },
      kinds: { type: "string" },
      "with-known": { type: "boolean", default: false },
      batch: { type: "string", default: "20" },
      from: { type: "string", default: "0" },
      points: { type: "string", default: "2" },
      "shrink-seconds": { type: "string", default: "60" },
      "no-shrink": { type: "boolean", default: false },
      "max-failures": { type: "string" },
      replay: { type: "string" },
      shrink: { type: "boolean", default: false },
      signature: { type: "string" },
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
const kinds = args.kinds === undefined ? undefined : (args.kinds.split(",").filter(Boolean) as ShapeKind[]);
for (const k of kinds ?? []) if (!SHAPE_KINDS.includes(k)) usage(`--kinds takes a comma-separated list of ${SHAPE_KINDS.join(", ")}; got ${k}`);
const points = int("points", args.points)!;
const avoid: readonly FindingId[] = args["with-known"] ? [] : KNOWN;
const shrinkMs = int("shrink-seconds", args["shrink-seconds"])! * 1000;
const replayCmd = (path: string): string => `npm run fuzz:shapes -- --seed ${seed}${kinds ? ` --kinds ${kinds.join(",")}` : ""}${avoid.length ? "" : " --with-known"} --replay ${path}`;

if (args.replay !== undefined) {
  const shape = shapeAt(seed, args.replay, kinds);
  if (!shape) usage(`no shape at path ${args.replay}`);
  let c = renderShape(shape, avoid);
  const checker = new ShapeChecker();
  let [{ failures }] = await checker.check([c], { points });
  checker.dispose();
  let path = args.replay;
  if (args.shrink && failures.length) {
    const sigs = failures.map((f) => shapeSignature(c.kind, f));
    const keep = args.signature === undefined ? sigs[0] : sigs.find((g) => g.startsWith(args.signature!));
    if (!keep) usage(`no failure of this shape has a signature starting with ${args.signature}; it has: ${sigs.join(", ")}`);
    const s = await shrinkShape({ seed, path, signature: keep, kinds, avoid, points, timeLimitMs: shrinkMs });
    if (s) {
      ({ c, failures, path } = { c: s.c, failures: [...s.failures], path: s.path });
      process.stdout.write(`shrunk in ${s.shrinks} step(s)\n`);
    }
  }
  process.stdout.write(asSnippet(c, failures, replayCmd(path)) + "\n");
  for (const f of failures) process.stdout.write(`\n[${shapeSignature(c.kind, f)}] ${f.message}\n`);
  process.stdout.write(`\n${failures.length ? `${failures.length} failure(s)` : "no failure"}\n`);
  process.exit(failures.length ? 1 : 0);
}

const runs = int("runs", args.runs)!;
const from = int("from", args.from)!;
const started = Date.now();
const r = await runShapes({
  seed,
  runs,
  kinds,
  avoid,
  from,
  points,
  batch: Math.max(1, int("batch", args.batch)!),
  maxFailures: int("max-failures", args["max-failures"]),
  onBatch: (done, failed) => process.stderr.write(`  ${from + done}/${from + runs}  (${failed} failing)\n`),
});
// One shrunk snippet per first failing shape (a shape often fails several properties at once).
const shown = new Set<number>();
for (const [sig, n] of [...r.signatures].sort((a, b) => b[1] - a[1])) {
  const first = r.failures.find((f) => f.report.failures.some((x) => shapeSignature(f.c.kind, x) === sig))!;
  process.stdout.write(`\n=== ${sig}: ${n} shape(s); the first is ${first.index}${shown.has(first.index) ? " (shown above)" : ""}\n`);
  if (shown.has(first.index)) continue;
  shown.add(first.index);
  let c = first.c;
  let failures = first.report.failures;
  let path = String(first.index);
  if (!args["no-shrink"]) {
    const s = await shrinkShape({ seed, path, signature: sig, kinds, avoid, points, timeLimitMs: shrinkMs });
    if (s) ({ c, failures, path } = { c: s.c, failures: [...s.failures], path: s.path });
  }
  process.stdout.write(asSnippet(c, failures, replayCmd(path)) + "\n");
}
const secs = ((Date.now() - started) / 1000).toFixed(0);
const bySig = [...r.signatures].map(([s, n]) => `${s} ${n}`).join(", ");
process.stdout.write(`\n${r.ran} shapes (seed ${seed}${kinds ? `, kinds ${kinds.join(",")}` : ""}), ${r.failures.length} failing${bySig ? ` (${bySig})` : ""}, ${r.refused} refused as accepted, in ${secs} s\n`);
process.exit(r.failures.length ? 1 : 0);
