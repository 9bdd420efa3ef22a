/**
 * The shapes fuzzer has teeth: for each shape, the behaviour it guards is broken on purpose (a
 * planted bug, undone afterwards), and a small seeded run of that shape (16 shapes, 30 for nested) finds it, with the
 * property that guards it, while the unbroken adc passes every program of the same run.
 *
 * The planted bugs, one per shape:
 * - nested: `addTree` (runtime/pytree.ts) skips nested objects, so the adjoint of a part read
 *   through a local (`const { a } = p; a.b.s0`) loses what reached its own parts;
 * - twice: `checkDistinct` (runtime/arrays.ts) checks nothing, so an entry point given one array
 *   twice runs instead of refusing;
 * - scope: the compiler takes a closure in a module-level block for a module-level function (its
 *   captures, read by `closureCaptures` in compiler/record.ts, come back empty), so its derivative
 *   reads the module's constants instead of the block's;
 * - pullback: `Tape.prototype.cut` and `paste` keep the caller's own arrays and objects in the
 *   segment instead of copies, so the pullback's reverse sweep rolls the caller's arrays back;
 * - record: the routing of a record block's input cotangents (`forEachArray` in
 *   runtime/autograd.ts) skips objects, so `model.w.grad` stays zero;
 * - argnums: the generated `grad(f, [i])` and `valueAndGrad(f, [i])` return the bare gradient.
 *
 * Runtime bugs are planted as edited copies of the runtime file in the bundle (each bundle has its
 * own runtime) or as a patch of the loaded bundle's prototype; the compiler bug through vi.mock of
 * compiler/record.js, switched on only while the planted run compiles.
 */
import { describe, expect, it, vi } from "vitest";
import type { ts } from "ts-morph";
import { renderShape } from "./shape-render.js";
import { ShapeChecker, type Plant, type ShapeReport } from "./shape-properties.js";
import { shapes, type ShapeKind } from "./shapes.js";

const planted = vi.hoisted(() => ({ scope: false }));

vi.mock("../../compiler/record.js", async (original) => {
  const real = await original<typeof import("../../compiler/record.js")>();
  const { ts: tsm } = await import("ts-morph");
  return {
    ...real,
    closureCaptures: (...a: Parameters<typeof real.closureCaptures>) =>
      // The planted bug: a closure whose enclosing scope is a module-level statement (a block,
      // if, loop, namespace) captures nothing, as if it were declared at module level.
      planted.scope && !tsm.isFunctionLike(a[1] as ts.Node) ? [] : real.closureCaptures(...a),
  };
});

const SEED = 11;
const RUNS = 16;

const PLANTS: Record<ShapeKind, { plant: Plant; property: RegExp; runs?: number }> = {
  nested: {
    // About one nested shape in six reads a part holding objects through a local.
    runs: 30,
    plant: { runtime: { "runtime/pytree.ts": (t) => t.replace("else addTree(a, b);", "else if (Array.isArray(b) || ArrayBuffer.isView(b)) addTree(a, b);") } },
    property: /^(gradient vs finite differences|part result)$/,
  },
  twice: {
    plant: { runtime: { "runtime/arrays.ts": (t) => t.replace(/(export function checkDistinct\([^)]*\): void \{)/, "$1\n  return;") } },
    property: /^aliased entry point$/,
  },
  scope: { plant: {}, property: /^(gradient vs finite differences|threw|load)$/ },
  pullback: {
    plant: {
      prepare: (bundle) => {
        const proto = bundle.__rt.Tape.prototype;
        const [cut, paste] = [proto.cut, proto.paste];
        type Mark = { f: number; i: number; b: number; o: number };
        type Seg = { f: Float64Array; i: Int32Array; b: Uint8Array; o: unknown[] };
        // The planted bug: the segment keeps the caller's own arrays and objects, not copies, so
        // the pullback's reverse sweep rolls back the caller's arrays.
        proto.cut = function (this: typeof proto & { f: Float64Array; i: Int32Array; b: Uint8Array; o: unknown[]; fTop: number; iTop: number; bTop: number; oTop: number; reset(m: Mark): void }, m: Mark): Seg {
          const seg = { f: this.f.slice(m.f, this.fTop), i: this.i.slice(m.i, this.iTop), b: this.b.slice(m.b, this.bTop), o: this.o.slice(m.o, this.oTop) };
          this.reset(m);
          return seg;
        };
        proto.paste = function (this: typeof proto, seg: Seg): void {
          for (const x of seg.f) this.pushF(x);
          for (const x of seg.i) this.pushI(x);
          for (const x of seg.b) this.pushB(x === 1);
          for (const x of seg.o) this.pushO(x);
        };
        return () => void Object.assign(proto, { cut, paste });
      },
    },
    property: /^pullback changed an array$/,
  },
  record: {
    plant: { runtime: { "runtime/autograd.ts": (t) => t.replace("else if (typeof x === \"object\" && x !== null && !ArrayBuffer.isView(x))\n    for (const [k, v] of Object.entries(x)) forEachArray", "else if (false)\n    for (const [k, v] of Object.entries(x as object)) forEachArray") } },
    property: /^record gradient$/,
  },
  argnums: {
    plant: {
      // In the generated functions for a list of one, `return [g];` becomes `return g;`.
      output: (code) => code.split(/(?=\nexport function )/).map((f) => (/^\nexport function \w+_tuple/.test(f) ? f.replace(/return \[(_value, )?\[?([^\]\n]*)\]\]?;/g, (_, v, g) => `return ${v ? `[${v}${g}]` : g};`) : f)).join(""),
    },
    property: /^argnums list of one$/,
  },
};

function failing(reports: readonly ShapeReport[], property: RegExp): number[] {
  return reports.map((r, i) => [r, i] as const).filter(([r]) => r.failures.some((f) => property.test(f.property))).map(([, i]) => i);
}

describe("the shapes fuzzer finds a planted bug in each shape", () => {
  for (const kind of Object.keys(PLANTS) as ShapeKind[]) {
    it(kind, async () => {
      const { plant, property, runs = RUNS } = PLANTS[kind];
      const cases = shapes(SEED, runs, [kind]).map((s) => renderShape(s));
      const checker = new ShapeChecker();
      try {
        planted.scope = kind === "scope";
        let broken: ShapeReport[];
        try {
          broken = await checker.check(cases, { plant });
        } finally {
          planted.scope = false;
        }
        const right = await checker.check(cases);
        expect(right.flatMap((r, i) => r.failures.map((f) => `${i}: ${f.message}`)), "the unbroken adc passes every program of the run").toEqual([]);
        const found = failing(broken, property);
        expect(found.length, `the planted bug breaks some of ${runs} ${kind} shapes`).toBeGreaterThan(0);
        const first = broken[found[0]].failures.find((f) => property.test(f.property))!;
        console.log(`teeth (${kind}): ${found.length} of ${runs} shapes of seed ${SEED} fail; the first, ${found[0]} (${broken[found[0]].what}):\n  ${first.message.split("\n")[0]}`);
      } finally {
        checker.dispose();
      }
    }, 120_000);
  }
});
