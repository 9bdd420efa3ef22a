/**
 * The shapes fuzz loop shared by the test (shapes-fuzz.test.ts) and the command line
 * (scripts/fuzz-shapes.ts): draw shapes with a seed, check them in batches, shrink a failure.
 *
 * Replay: shape k of a run with seed S (and shape kinds K) is
 * `fc.sample(shapeArb(K), { seed: S, numRuns: k + 1 })[k]`, which is also run k of
 * `fc.assert(..., { seed: S })`, so `{ seed: S, path: "k" }` replays it and lets fast-check
 * shrink from there; a shrunk failure's path ("k:3:0:...") replays the shrunk shape.
 */
import fc from "fast-check";
import { renderShape } from "./shape-render.js";
import { ShapeChecker, shapeSignature, type ShapeCheckOptions, type ShapeFailure, type ShapeReport } from "./shape-properties.js";
import { KNOWN, shapeArb, shapes, type FindingId, type Shape, type ShapeCase, type ShapeKind } from "./shapes.js";

export interface FoundShape {
  readonly index: number;
  readonly c: ShapeCase;
  readonly report: ShapeReport;
}

export interface ShapeRunOptions extends ShapeCheckOptions {
  readonly seed: number;
  readonly runs: number;
  readonly kinds?: readonly ShapeKind[];
  /** Known findings whose sub-shapes are left out (default: all, shapes.ts KNOWN_FINDINGS). */
  readonly avoid?: readonly FindingId[];
  readonly batch?: number;
  readonly from?: number;
  readonly maxFailures?: number;
  readonly onBatch?: (done: number, failed: number) => void;
}

export interface ShapeRunResult {
  readonly ran: number;
  readonly refused: number;
  readonly reports: readonly ShapeReport[];
  readonly failures: FoundShape[];
  /** Failing shapes per signature (shape:kind:property). */
  readonly signatures: Map<string, number>;
}

export async function runShapes(opts: ShapeRunOptions): Promise<ShapeRunResult> {
  const batch = opts.batch ?? 20;
  const from = opts.from ?? 0;
  const cases = shapes(opts.seed, opts.runs, opts.kinds, from).map((s) => renderShape(s, opts.avoid ?? KNOWN));
  const checker = new ShapeChecker();
  const reports: ShapeReport[] = [];
  const failures: FoundShape[] = [];
  const signatures = new Map<string, number>();
  try {
    for (let b = 0; b < cases.length; b += batch) {
      const rs = await checker.check(cases.slice(b, b + batch), opts);
      rs.forEach((r, i) => {
        reports.push(r);
        if (!r.failures.length) return;
        failures.push({ index: from + b + i, c: cases[b + i], report: r });
        for (const sig of new Set(r.failures.map((f) => shapeSignature(r.kind, f)))) signatures.set(sig, (signatures.get(sig) ?? 0) + 1);
      });
      opts.onBatch?.(reports.length, failures.length);
      if (opts.maxFailures !== undefined && failures.length >= opts.maxFailures) break;
    }
  } finally {
    checker.dispose();
  }
  return { ran: reports.length, refused: reports.filter((r) => r.refused).length, reports, failures, signatures };
}

/** The shape at a replay path ("k", or a shrunk "k:3:0:...") of the run with `seed`. */
export function shapeAt(seed: number, path: string, kinds?: readonly ShapeKind[]): Shape | undefined {
  let shape: Shape | undefined;
  fc.check(
    fc.property(shapeArb(kinds), (s) => {
      shape = s;
      return false;
    }),
    { seed, path, numRuns: 1, endOnFailure: true },
  );
  return shape;
}

export interface ShrunkShape {
  readonly c: ShapeCase;
  readonly failures: readonly ShapeFailure[];
  readonly path: string;
  readonly shrinks: number;
}

/**
 * Shrinks a failing shape with fast-check, keeping a failure of the same signature; gives up
 * after `timeLimitMs` (default 60 s) with the smallest shape found so far.
 */
export async function shrinkShape(opts: { seed: number; path: string; signature: string; kinds?: readonly ShapeKind[]; avoid?: readonly FindingId[]; timeLimitMs?: number } & ShapeCheckOptions): Promise<ShrunkShape | undefined> {
  const checker = new ShapeChecker();
  let best: { c: ShapeCase; failures: readonly ShapeFailure[] } | undefined;
  try {
    const fails = async (s: Shape): Promise<boolean> => {
      const c = renderShape(s, opts.avoid ?? KNOWN);
      const [r] = await checker.check([c], opts);
      if (!r.failures.some((f) => shapeSignature(r.kind, f) === opts.signature)) return false;
      best = { c, failures: r.failures };
      return true;
    };
    const details = await fc.check(fc.asyncProperty(shapeArb(opts.kinds), async (s) => !(await fails(s))), {
      seed: opts.seed,
      path: opts.path,
      numRuns: 1,
      endOnFailure: false,
      plugins: [fc.interruptAfterTimeLimit(opts.timeLimitMs ?? 60_000)],
    } as fc.Parameters<[Shape]>);
    if (!best) return undefined;
    return { ...best, path: details.counterexamplePath ?? opts.path, shrinks: details.numShrinks };
  } finally {
    checker.dispose();
  }
}

/**
 * A failure, ready to paste: a header saying what fails and how to replay it, the module, and a
 * vitest case that checks the same shape (its `ShapeCase` written out, so it does not depend on
 * the generator staying the same).
 */
export function asSnippet(c: ShapeCase, failures: readonly ShapeFailure[], replay: string): string {
  const what = [...new Set(failures.map((f) => `${shapeSignature(c.kind, f)}: ${f.message.split("\n")[0]}`))].slice(0, 6);
  const clip = (w: string): string => (w.length > 200 ? w.slice(0, 197) + "..." : w);
  return [
    `// Found by the shapes fuzzer (${replay}): ${c.kind}, ${c.what}`,
    ...what.map((w) => `// ${clip(w)}`),
    ...(c.accept.length ? [`// Accepted refusals: ${c.accept.map((a) => `${a.code} "${a.message}"`).join(", ")}`] : []),
    "// ---- the module ----",
    c.source.trimEnd(),
    "// ---- a vitest case (in test/fuzz/, importing ShapeChecker from ./shape-properties.js and the type ShapeCase from ./shapes.js) ----",
    `it(${JSON.stringify(`shape: ${c.what}`)}, async () => {`,
    `  const shape = ${JSON.stringify(c)} as unknown as ShapeCase;`,
    "  const checker = new ShapeChecker();",
    "  try {",
    "    const [r] = await checker.check([shape]);",
    "    expect(r.failures).toEqual([]);",
    "  } finally {",
    "    checker.dispose();",
    "  }",
    "});",
  ].join("\n");
}
