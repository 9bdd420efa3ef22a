/**
 * The shapes around functions (issue 11): generated function bodies (generator.ts, ndgen.ts)
 * wrapped the way users wrap them, as fast-check arbitraries. `shapeArb()` draws a `Shape`;
 * `renderShape(shape)` (shape-render.ts) gives the module a user would write and a `ShapeCase`
 * saying what the checker (shape-properties.ts, shape-checks.ts) must find in it:
 *
 * - "nested": a wrapper whose parameter is a nested object or a list (`{ l1: { l2: { s0: number } },
 *   rows: number[][] }`, `Item[]`, `NDArray[]`) whose parts, read by path, through a local, by
 *   (array) destructuring, in a loop or in a helper given `p.l1`, are the arguments of the
 *   generated function or the parameters of its inlined body; also vjp/jvp of `p => p.l1`;
 * - "twice": one array given to two array parameters of a generated function, in a caller that is
 *   differentiated (`h(v) = f(v, v)`, also as `p.v`) or at an entry point (`grad(f, [0, 1])(v, v)`);
 * - "scope": closures around the generated function in module-level blocks, ifs, loops, labelled
 *   blocks, namespaces and functions, reading block locals (numbers, arrays, an object, a local
 *   helper) that shadow module constants and functions of the same name;
 * - "pullback": vjp, then edits of the arrays, then the pullback called several times, another
 *   pullback alive in between;
 * - "record": a record block (or GradientTape) reading arrays with gradients attached through
 *   objects and lists, in loops, chained blocks, training loops, "add" gradients;
 * - "argnums": `grad(f, [i])` and `valueAndGrad(f, [i])` against `grad(f, i)`.
 *
 * The callee is the last number function of a generated program, or an NDArray function
 * (shape-common.ts). Sub-shapes that show a known, open adc bug are listed in KNOWN_FINDINGS and
 * left out unless asked for.
 */
import fc from "fast-check";
import { programArb, type FnSpec, type ParamTy, type Program, type Stmt } from "./generator.js";
import { ndFnArb, type NdFnSpec } from "./ndgen.js";

export type ShapeKind = "nested" | "twice" | "scope" | "pullback" | "record" | "argnums";
export const SHAPE_KINDS: readonly ShapeKind[] = ["nested", "twice", "scope", "pullback", "record", "argnums"];

/** A value's structure; the checker fills in the numbers (shape-checks.ts `instantiate`). */
export type Tmpl =
  | { readonly k: "num" }
  /** A number held fixed (a count parameter): not differentiated. */
  | { readonly k: "const"; readonly v: number }
  | { readonly k: "f64" | "arr"; readonly len: number }
  | { readonly k: "nd"; readonly shape: readonly number[] }
  | { readonly k: "str"; readonly v: string }
  | { readonly k: "obj"; readonly fields: readonly (readonly [string, Tmpl])[] }
  | { readonly k: "list"; readonly items: readonly Tmpl[] };

/** A function the checker differentiates: module paths of it and of its derivatives. */
export interface Target {
  readonly name: string;
  /** Paths into the module: "w", or "__found.1.h". */
  readonly f: string;
  readonly g?: string;
  /** The gradient is a tuple (argnums written as a list). */
  readonly gTuple: boolean;
  readonly vg?: string;
  readonly vjp?: string;
  readonly jvp?: string;
  readonly params: readonly Tmpl[];
  /** The parameters `g` differentiates, in order. */
  readonly diff: readonly number[];
  readonly domain: readonly [number, number];
  /** An object the closure captured (a module path), changed between vjp and the pullback; with `fields`, its number fields too. */
  readonly captured?: { readonly path: string; readonly fields: boolean };
  /** `grad(f, [i])`, argnums a list of one: its path and i. */
  readonly one?: { readonly g: string; readonly i: number };
  /** The gradient the module computed itself (`grad(h)(...)` in a block) at a point: its path and the point. */
  readonly at?: { readonly g: string; readonly values: readonly number[] };
}

/** A refusal that is a right answer for this shape (code and message pattern). */
export interface Accept {
  readonly code: string;
  readonly message: string;
  readonly why: string;
}

export interface ShapeCase {
  readonly kind: ShapeKind;
  /** A one-line description of the shape, for failure messages. */
  readonly what: string;
  readonly source: string;
  readonly accept: readonly Accept[];
  /** Functions checked against finite differences, vjp and jvp (shape-checks.ts `checkTarget`). */
  readonly targets: readonly Target[];
  /** scope: how many entries the blocks push onto `__found`. */
  readonly found?: number;
  readonly twice?: { readonly f: string; readonly g?: string; readonly vg?: string; readonly vjp: string; readonly jvp: string; readonly params: readonly Tmpl[]; readonly shared: readonly [number, number]; readonly writes: boolean; readonly domain: readonly [number, number] };
  readonly pullback?: { readonly f: string; readonly g?: string; readonly vg?: string; readonly vjp: string; readonly jvp: string; readonly params: readonly Tmpl[]; readonly ret: "num" | "arr"; readonly edits: readonly number[]; readonly domain: readonly [number, number] };
  readonly record?: {
    /** Module path of the plain function of the containers, and the containers' names and values. */
    readonly plain: string;
    readonly inputs: readonly { readonly name: string; readonly tmpl: Tmpl; readonly values: readonly number[] }[];
    /** Where the containers are after the block ran: "" (module exports), a module path, or "name()": a function returning them. */
    readonly run: string;
    /** Paths (container, then keys) of the arrays and whether each has a gradient attached. */
    readonly arrays: readonly { readonly path: readonly (string | number)[]; readonly attached: boolean }[];
    /** GradientTape: the module path of `tape.gradient(y, arrays)`. */
    readonly tapeGrads?: string;
    /** How many backward passes added into `.grad` (attachGrad("add"): two per run of the block; "write" keeps the last). */
    readonly passes: number;
  };
  /** nested: vjp and jvp of `p => p.l1` (a result that is a part of the parameter). */
  readonly part?: { readonly vjp: string; readonly jvp: string; readonly param: Tmpl; readonly field: string; readonly domain: readonly [number, number] };
  readonly argnums?: { readonly f: string; readonly params: readonly Tmpl[]; readonly items: readonly { readonly i: number; readonly t: string; readonly b: string; readonly vt: string; readonly vb: string; readonly d: string }[]; readonly domain: readonly [number, number] };
}

// ---- known findings ---------------------------------------------------------------------------

/**
 * Sub-shapes that show a known adc bug (see the findings list), left out of the shapes
 * unless asked for (`renderShape(shape, [])`, `npm run fuzz:shapes -- --with-known`), so the
 * seeded run stays green while the bug is open. Each names the finding.
 */
/**
 * Sub-shapes that once showed an open adc bug carry the finding's id; none is open now (both were
 * fixed: closures read every scope up to module level, and a pullback works on copies of the
 * plain objects its segment saved). A new finding goes here, with what it is and which shapes.
 */
export type FindingId = "outer-captures" | "captured-fields";
export const KNOWN_FINDINGS: readonly { readonly id: FindingId; readonly what: string; readonly shapes: string }[] = [];
export const KNOWN: readonly FindingId[] = KNOWN_FINDINGS.map((f) => f.id);

// ---- the shapes -------------------------------------------------------------------------------

export interface NestedShape {
  readonly kind: "nested";
  readonly inner: Program;
  /** An NDArray callee instead of the number one. */
  readonly nd: NdFnSpec | null;
  /** The parts feed the callee's arguments (tree, loop over a list), or its inlined body's parameters. */
  readonly layout: "tree" | "loop" | "inline";
  /** Per parameter of the callee: object depth (groups l1/l2), whether it sits in a list, how it is read (shape-render.ts `reader`). */
  readonly routes: readonly { readonly groups: readonly number[]; readonly list: boolean; readonly access: number; readonly perItem: boolean }[];
  readonly items: number;
  readonly bare: boolean;
  readonly indexLoop: boolean;
  readonly extras: boolean;
  /** Pass copies of the arrays the callee writes (else adc must refuse: they are parts of the parameter). */
  readonly copy: boolean;
  /** A second, number parameter. */
  readonly second: boolean;
  /** The part `p.l1` is passed to a helper function, which reads the parts below it. */
  readonly helper: boolean;
  /** The callee is called twice on the same parts. */
  readonly callTwice: boolean;
}

export interface TwiceShape {
  readonly kind: "twice";
  readonly inner: Program;
  readonly arrKind: "f64" | "arr";
  readonly at: readonly [number, number];
  readonly entry: boolean;
  /** In h, the array is a part of a parameter object (`const v = p.v; f(v, v)`). */
  readonly inObject: boolean;
}

export interface ScopeBlock {
  /** Where the closure is declared: a module-level statement, or (`function`) a function called at module level. */
  readonly head: "block" | "if" | "else" | "for" | "label" | "namespace" | "function";
  readonly k: number;
  /** An inner `{ }` or `if (k > 0) { }` around the closure, with a second local. */
  readonly nested: boolean;
  /** Array parameters of the callee filled with a block-local array `c` (shadowing the module's). */
  readonly captureArr: boolean;
  /** A number parameter filled with `k`. */
  readonly captureNum: boolean;
  /** The closure also reads a block-local object (`m.s`, `m.w[1]`), which the checker changes between vjp and the pullback. */
  readonly captureObj: boolean;
  /** The closure calls a local helper that reads `k` (its name also names a module-level function). */
  readonly helper: boolean;
  /** The block changes its captured array after declaring the closure (closures read it when called). */
  readonly mutate: boolean;
  readonly fnDecl: boolean;
  /** The derivatives get the closure written out as an inline arrow (`grad((x) => k * f(x))`). */
  readonly inline: boolean;
  /** The closure is declared in a function declared inside the block (`{ const k = 2; function run() { const h = ... } }`). */
  readonly deep: boolean;
  /** The block also calls `grad(h)(...)` itself, at `at`. */
  readonly at: readonly number[];
}

export interface ScopeShape {
  readonly kind: "scope";
  readonly inner: Program;
  readonly blocks: readonly ScopeBlock[];
}

export interface PullbackShape {
  readonly kind: "pullback";
  readonly inner: Program;
  readonly arrKind: "f64" | "arr";
  /** What the caller does between and after pullback calls (shape-checks.ts `checkPullback`). */
  readonly edits: readonly number[];
}

export interface RecordShape {
  readonly kind: "record";
  readonly nd: NdFnSpec;
  /** Per parameter: where the array lives (0 model.wI, 1 model.l1.wI, 2 params[j], 3 a plain xI, 4 model.layers[j].w), attached or not. */
  readonly homes: readonly { readonly home: number; readonly attach: boolean }[];
  readonly call: boolean;
  readonly inFunction: boolean;
  /** (Not in a function) the block runs inside a module-level block. */
  readonly inBlock: boolean;
  /** Record and backward run twice in a loop on the same arrays (a training loop). */
  readonly repeat: boolean;
  readonly tape: boolean;
  /** The first array goes through an earlier block first (`__h = np.mul(np.tanh(X), 1.5)`). */
  readonly chain: boolean;
  /** Gradients attached with "add" and two backward passes (the first with retainGraph). */
  readonly add: boolean;
  /** A loop in the block over `params` or `model.layers` (0: none). */
  readonly loop: number;
  readonly values: readonly number[];
}

export interface ArgnumsShape {
  readonly kind: "argnums";
  readonly inner: Program;
}

export type Shape = NestedShape | TwiceShape | ScopeShape | PullbackShape | RecordShape | ArgnumsShape;

/**
 * Small generated programs without NDArray functions or API uses (the shape adds its own). Half
 * the time the callee starts by writing into one of its array parameters (`a[0] += Math.sin(x)`):
 * generated bodies write their parameters rarely, and the shapes are about exactly that.
 */
function innerArb(): fc.Arbitrary<Program> {
  const write = fc.option(fc.nat({ max: 2 }), { freq: 2 });
  return fc.tuple(programArb({ maxFunctions: 2, maxStatements: 3 }), write).map(([p, w]) => {
    const q: Program = { ...p, nd: [], uses: [] };
    if (w === null) return q;
    const stmt: Stmt = { k: "write", arr: w, idx: { k: "lit", v: 0 }, op: "+=", e: { k: "math", fn: "Math.sin", args: [{ k: "var", pick: 0 }] } };
    return withLast(q, (f) => ({ ...f, body: [stmt, ...f.body] }));
  });
}

/** The program with its last function changed by `f`. */
export function withLast(p: Program, f: (fn: FnSpec) => FnSpec): Program {
  return { ...p, fns: [...p.fns.slice(0, -1), f(p.fns[p.fns.length - 1])] };
}

const arrKind = fc.constantFrom<"f64" | "arr">("arr", "f64");

function nestedArb(): fc.Arbitrary<NestedShape> {
  const route = fc.record({ groups: fc.array(fc.nat({ max: 1 }), { maxLength: 2 }), list: fc.boolean(), access: fc.nat({ max: 3 }), perItem: fc.boolean() });
  return fc.record({
    kind: fc.constant("nested" as const),
    inner: innerArb(),
    nd: fc.oneof({ arbitrary: fc.constant(null), weight: 3 }, { arbitrary: ndFnArb(), weight: 1 }),
    layout: fc.constantFrom("tree" as const, "loop" as const, "inline" as const),
    routes: fc.array(route, { minLength: 4, maxLength: 4 }),
    items: fc.integer({ min: 2, max: 3 }),
    bare: fc.boolean(),
    indexLoop: fc.boolean(),
    extras: fc.boolean(),
    copy: fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, { arbitrary: fc.constant(false), weight: 1 }),
    second: fc.boolean(),
    helper: fc.boolean(),
    callTwice: fc.boolean(),
  });
}

function twiceArb(): fc.Arbitrary<TwiceShape> {
  return fc
    .record({ inner: innerArb(), arrKind, a: fc.nat({ max: 2 }), b: fc.nat({ max: 2 }), entry: fc.boolean(), inObject: fc.boolean() })
    .map(({ inner, arrKind, a, b, entry, inObject }) => {
      const at: [number, number] = a === b ? [Math.min(a, 1), Math.min(a, 1) + 1] : [Math.min(a, b), Math.max(a, b)];
      const program = withLast(inner, (f) => {
        const params: ParamTy[] = [...f.params];
        while (params.length <= at[1]) params.push("num");
        params[at[0]] = params[at[1]] = arrKind;
        return { ...f, params };
      });
      return { kind: "twice" as const, inner: program, arrKind, at, entry, inObject };
    });
}

function scopeArb(): fc.Arbitrary<ScopeShape> {
  const block: fc.Arbitrary<ScopeBlock> = fc.record({
    head: fc.constantFrom("block" as const, "if" as const, "else" as const, "for" as const, "label" as const, "namespace" as const, "function" as const),
    k: fc.constantFrom(2, 3, 0.5, 1.5),
    nested: fc.boolean(),
    captureArr: fc.boolean(),
    captureNum: fc.boolean(),
    captureObj: fc.boolean(),
    helper: fc.boolean(),
    mutate: fc.boolean(),
    fnDecl: fc.boolean(),
    inline: fc.boolean(),
    deep: fc.boolean(),
    at: fc.array(fc.noBias(fc.integer({ min: 0, max: 1000 })), { minLength: 16, maxLength: 16 }),
  });
  return fc.record({ kind: fc.constant("scope" as const), inner: innerArb(), blocks: fc.array(block, { minLength: 1, maxLength: 2 }) });
}

function pullbackArb(): fc.Arbitrary<PullbackShape> {
  return fc.record({ inner: innerArb(), arrKind, edits: fc.array(fc.nat({ max: 255 }), { minLength: 4, maxLength: 4 }) }).map(({ inner, arrKind, edits }) => ({
    kind: "pullback" as const,
    // At least one array parameter: the shape is about arrays.
    inner: withLast(inner, (f) => (f.params.some((t) => t === "f64" || t === "arr") ? f : { ...f, params: [arrKind, ...f.params.slice(0, 2)] })),
    arrKind,
    edits,
  }));
}

function recordArb(): fc.Arbitrary<RecordShape> {
  return fc.record({
    kind: fc.constant("record" as const),
    nd: ndFnArb(),
    homes: fc.array(fc.record({ home: fc.nat({ max: 4 }), attach: fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, { arbitrary: fc.constant(false), weight: 1 }) }), { minLength: 3, maxLength: 3 }),
    call: fc.boolean(),
    inFunction: fc.boolean(),
    inBlock: fc.boolean(),
    repeat: fc.boolean(),
    tape: fc.oneof({ arbitrary: fc.constant(false), weight: 3 }, { arbitrary: fc.constant(true), weight: 1 }),
    chain: fc.boolean(),
    add: fc.boolean(),
    loop: fc.nat({ max: 3 }),
    values: fc.array(fc.noBias(fc.integer({ min: 0, max: 1000 })), { minLength: 40, maxLength: 40 }),
  });
}

function argnumsArb(): fc.Arbitrary<ArgnumsShape> {
  return fc.record({ kind: fc.constant("argnums" as const), inner: innerArb().map((p) => withLast(p, (f) => ({ ...f, ret: "num" as const }))) });
}

const ARBS: Record<ShapeKind, () => fc.Arbitrary<Shape>> = { nested: nestedArb, twice: twiceArb, scope: scopeArb, pullback: pullbackArb, record: recordArb, argnums: argnumsArb };

/** A shape of one of `kinds` (default: all, equally often). */
export function shapeArb(kinds: readonly ShapeKind[] = SHAPE_KINDS): fc.Arbitrary<Shape> {
  return fc.oneof(...kinds.map((k) => ARBS[k]()));
}

/** The shapes of a run: shape k of seed S is `fc.sample(shapeArb(kinds), { seed: S, numRuns: k + 1 })[k]`. */
export function shapes(seed: number, runs: number, kinds?: readonly ShapeKind[], from = 0): Shape[] {
  return fc.sample(shapeArb(kinds), { seed, numRuns: from + runs }).slice(from);
}

/** A value in [lo, hi] from an integer 0..1000, rounded to 3 digits (for literals in the source). */
export function valueAt(n: number, [lo, hi]: readonly [number, number]): number {
  return Math.round((lo + ((hi - lo) * n) / 1000) * 1000) / 1000;
}
