/**
 * Random programs in adc's language, as fast-check arbitraries.
 *
 * `programArb()` gives a `Program`: a small tree (functions, statements, expressions) that
 * fast-check can shrink, and `render(program)` turns it into the TypeScript module a user would
 * write: `import { grad, valueAndGrad, vjp, jvp } from "adc";`, then several exported functions
 * (number, `Float64Array` and `number[]` parameters; a number or an array result) where later
 * functions may call earlier ones, each with the JSDoc tags the probe reads (`@domain`, `@length`,
 * `@fixed`).
 *
 * Invariants the renderer keeps, whatever the tree (so shrinking can never leave the language):
 * - Every name resolves: the tree refers to variables by `pick` numbers, which the renderer maps
 *   onto the variables in scope at that point (most recent first), with a fallback when none is.
 * - Every function is total and smooth away from kinks on all of R: each Math function with a
 *   restricted domain gets an argument that stays inside it (`Math.log(Math.hypot(e, 1))`,
 *   `Math.asin(Math.tanh(e) * 0.9)`, ...), and exponentials get arguments squashed by `Math.tanh`,
 *   so nothing overflows and no pole is ever reached.
 * - Every loop has a hard bound: counted loops run at most 5 times (or over an array's length),
 *   `while`/`do` loops count their trips in a counter incremented first thing in the body.
 * - Every array index is an integer in range: a counter over that array, or `k % a.length`.
 * - The module type-checks under `strict`; no code follows a `return`, `break` or `continue`.
 *
 * About one program in four also has NDArray functions (ndgen.ts).
 */
import fc from "fast-check";
import { NdRenderer, ndFnArb, type NdFnSpec } from "./ndgen.js";

// ---- the tree ---------------------------------------------------------------------------------

export type ArrKind = "f64" | "arr";
export type ParamTy = "num" | ArrKind | "int";
export type RetTy = "num" | ArrKind;
export type BinOp = "+" | "-" | "*";
export type AssignOp = "=" | "+=" | "-=" | "*=";

/** A number-valued expression. Guarded forms are built from these nodes by `guard`. */
export type Expr =
  | { k: "lit"; v: number }
  | { k: "mconst"; name: string }
  | { k: "var"; pick: number }
  | { k: "int"; pick: number }
  | { k: "len"; arr: number }
  | { k: "read"; arr: number; idx: Index }
  | { k: "neg"; e: Expr }
  | { k: "bin"; op: BinOp | "/" | "%" | "**"; a: Expr; b: Expr }
  | { k: "math"; fn: string; args: Expr[] }
  | { k: "cond"; c: Cond; a: Expr; b: Expr }
  | { k: "logic"; op: "&&" | "||"; a: Expr; b: Expr }
  | { k: "call"; fn: number; args: Expr[]; arrs: number[] }
  /** A positive value at least c, growing like e * e: `c + x * x` for a name x, else `Math.hypot(e, c)`. */
  | { k: "sq1"; e: Expr; c: number };

export type Index =
  | { k: "ctr"; pick: number; rev: boolean }
  | { k: "lit"; v: number }
  | { k: "data"; e: Expr };

export type Cond =
  | { k: "cmp"; op: "<" | ">" | "<=" | ">="; a: Expr; b: Expr }
  | { k: "ctr"; pick: number; form: "eq" | "odd" | "gt"; v: number }
  | { k: "and" | "or"; a: Cond; b: Cond }
  | { k: "not"; c: Cond };

export type Bound = { k: "lit"; n: number } | { k: "len"; arr: number } | { k: "param" };

export type ArrExpr =
  | { k: "zeros"; n: number; kind: ArrKind }
  | { k: "zerosLike"; arr: number; kind: ArrKind }
  | { k: "lit"; elems: Expr[]; kind: ArrKind }
  | { k: "copy"; arr: number; how: "slice" | "from" | "spread" | "new" }
  | { k: "map"; arr: number; body: Expr }
  | { k: "call"; fn: number; args: Expr[]; arrs: number[] }
  | { k: "ref"; arr: number };

export type Stmt =
  | { k: "let"; mut: boolean; shadow: boolean; e: Expr }
  | { k: "assign"; pick: number; op: AssignOp | "/=" | "%="; e: Expr }
  | { k: "step"; pick: number; op: "++" | "--" }
  | { k: "if"; c: Cond; then: Stmt[]; else: Stmt[] | null }
  | { k: "for"; bound: Bound; form: "up" | "from1" | "step2" | "down"; guard: Cond | null; body: Stmt[] }
  | { k: "while"; max: number; c: Cond; body: Stmt[]; doWhile: boolean }
  | { k: "forOf"; arr: number; body: Stmt[] }
  | { k: "forEach"; arr: number; body: Stmt[] }
  | { k: "switch"; on: Index; arms: Stmt[][]; dflt: Stmt[] }
  | { k: "jump"; kind: "break" | "continue"; target: number }
  | { k: "return"; e: Expr; arr: ArrExpr }
  | { k: "arrLet"; init: ArrExpr; mut: boolean }
  | { k: "arrAssign"; pick: number; init: ArrExpr }
  | { k: "write"; arr: number; idx: Index; op: AssignOp; e: Expr }
  | { k: "reduce"; arr: number; body: Expr; op: "+" | "*" }
  | { k: "callStmt"; fn: number; args: Expr[]; arrs: number[] };

export interface FnSpec {
  readonly params: readonly ParamTy[];
  readonly ret: RetTy;
  readonly body: readonly Stmt[];
  /** The final result: a number (`result`) or an array (`arrResult`), by `ret`. */
  readonly result: Expr;
  readonly arrResult: ArrExpr;
  readonly domain: readonly [number, number];
  readonly length: number;
  readonly exported: boolean;
  readonly arrow: boolean;
}

export interface ApiUse {
  readonly fn: number;
  readonly api: "grad" | "valueAndGrad" | "vjp" | "jvp";
  readonly argnums: readonly number[];
}

export interface Program {
  readonly fns: readonly FnSpec[];
  /** NDArray functions (ndgen.ts), rendered after the number functions. */
  readonly nd: readonly NdFnSpec[];
  readonly uses: readonly ApiUse[];
  readonly avoid: readonly Feature[];
}

// ---- arbitraries ------------------------------------------------------------------------------

/** Tuning knobs; the defaults give programs of 10 to 60 lines. */
export interface GenOptions {
  readonly maxFunctions?: number;
  readonly maxStatements?: number;
  /** Nesting of compound statements (if, loops, switch). */
  readonly maxDepth?: number;
  /** Nesting of expressions. */
  readonly maxExprDepth?: number;
  /** Constructs not to generate (while a known bug in them is open). */
  readonly avoid?: readonly Feature[];
}

/**
 * Constructs that can be left out of generated programs:
 * - "count-param": a parameter held fixed by the probe (`@fixed n 3`), used as a loop bound;
 * - "float64-from": `Float64Array.from(a)` (then `new Float64Array(a)` copies instead);
 * - "ndarray": NDArray functions;
 * - "self-assign": `v = v`;
 * - "param-write": assignments to number parameters (`x = ...`, `x += ...`, `x++`);
 * - "discarded-call": a call as a statement, its result unused.
 */
export type Feature = "count-param" | "float64-from" | "ndarray" | "self-assign" | "param-write" | "discarded-call";
export const FEATURES: readonly Feature[] = ["count-param", "float64-from", "ndarray", "self-assign", "param-write", "discarded-call"];

/** Constants, simplest first (shrinking moves towards the front). */
const LITS = [1, 2, 0.5, 3, 0.25, 1.5, 0.7, 1.3, 2.5, 0.1, 4];
const MCONSTS = ["PI", "E", "LN2", "SQRT2", "SQRT1_2", "LOG2E", "LN10", "LOG10E"];

/**
 * Guarded forms of one operand: each maps any real number into the function's domain and keeps
 * the result bounded where the function would grow fast. Simplest first.
 */
const UNARY: readonly ((e: Expr) => Expr)[] = [
  (e) => m("Math.sin", e),
  (e) => m("Math.cos", e),
  (e) => ({ k: "neg", e }),
  (e) => m("Math.tanh", e),
  (e) => m("Math.atan", e),
  (e) => m("Math.exp", m("Math.tanh", e)),
  (e) => m("Math.log", { k: "sq1", e, c: 1 }),
  (e) => m("Math.sqrt", { k: "sq1", e, c: 0.5 }),
  (e) => ({ k: "bin", op: "**", a: e, b: lit(2) }),
  (e) => m("Math.abs", e),
  (e) => m("Math.tan", m("Math.tanh", e)),
  (e) => m("Math.asin", mul(m("Math.tanh", e), lit(0.9))),
  (e) => m("Math.acos", mul(m("Math.sin", e), lit(0.9))),
  (e) => m("Math.sinh", m("Math.tanh", e)),
  (e) => m("Math.cosh", m("Math.tanh", e)),
  (e) => m("Math.asinh", e),
  (e) => m("Math.acosh", { k: "bin", op: "+", a: { k: "sq1", e, c: 1 }, b: lit(0.5) }),
  (e) => m("Math.atanh", mul(m("Math.tanh", e), lit(0.9))),
  (e) => m("Math.expm1", m("Math.sin", e)),
  (e) => m("Math.log1p", { k: "sq1", e, c: 0 }),
  (e) => m("Math.log2", { k: "sq1", e, c: 0.5 }),
  (e) => m("Math.log10", { k: "sq1", e, c: 1 }),
  (e) => m("Math.cbrt", { k: "sq1", e, c: 1 }),
  (e) => m("Math.exp", { k: "neg", e: { k: "sq1", e, c: 0 } }),
  (e) => ({ k: "bin", op: "**", a: e, b: lit(3) }),
  (e) => m("Math.pow", e, lit(2)),
  (e) => ({ k: "bin", op: "%", a: e, b: lit(1.5) }),
  (e) => m("Math.floor", e),
  (e) => m("Math.sign", e),
  (e) => m("Math.round", mul(e, lit(2))),
  (e) => m("Math.trunc", e),
  (e) => m("Math.ceil", e),
];

/** Guarded forms of two operands. */
const BINARY: readonly ((a: Expr, b: Expr) => Expr)[] = [
  (a, b) => ({ k: "bin", op: "+", a, b }),
  (a, b) => ({ k: "bin", op: "*", a, b }),
  (a, b) => ({ k: "bin", op: "-", a, b }),
  (a, b) => ({ k: "bin", op: "/", a, b: { k: "sq1", e: b, c: 1 } }),
  (a, b) => ({ k: "bin", op: "/", a, b: { k: "bin", op: "+", a: lit(2), b: m("Math.cos", b) } }),
  (a, b) => m("Math.max", a, b),
  (a, b) => m("Math.min", a, b),
  (a, b) => m("Math.atan2", a, b),
  (a, b) => m("Math.hypot", a, b),
  (a, b) => m("Math.pow", { k: "sq1", e: a, c: 0.5 }, m("Math.tanh", b)),
  (a, b) => ({ k: "bin", op: "**", a: { k: "sq1", e: a, c: 1 }, b: m("Math.sin", b) }),
  (a, b) => ({ k: "bin", op: "%", a, b: { k: "sq1", e: b, c: 1 } }),
  (a, b) => m("Math.max", a, b, lit(0.5)),
  (a, b) => m("Math.hypot", a, b, lit(1)),
];

function m(fn: string, ...args: Expr[]): Expr {
  return { k: "math", fn, args };
}
function lit(v: number): Expr {
  return { k: "lit", v };
}
function mul(a: Expr, b: Expr): Expr {
  return { k: "bin", op: "*", a, b };
}

const pick = fc.nat({ max: 7 });

export function programArb(opts: GenOptions = {}): fc.Arbitrary<Program> {
  const maxFunctions = opts.maxFunctions ?? 3;
  const maxStatements = opts.maxStatements ?? 4;
  const maxDepth = opts.maxDepth ?? 2;
  const maxExprDepth = opts.maxExprDepth ?? 3;

  const { expr, cond, index } = fc.letrec<{ expr: Expr; leaf: Expr; cond: Cond; index: Index }>((tie) => ({
    leaf: fc.oneof(
      { arbitrary: pick.map((p): Expr => ({ k: "var", pick: p })), weight: 6 },
      { arbitrary: fc.constantFrom(...LITS).map(lit), weight: 2 },
      { arbitrary: fc.record({ arr: pick, idx: tie("index") }).map((r): Expr => ({ k: "read", ...r })), weight: 3 },
      { arbitrary: pick.map((p): Expr => ({ k: "int", pick: p })), weight: 1 },
      { arbitrary: fc.constantFrom(...MCONSTS).map((name): Expr => ({ k: "mconst", name })), weight: 1 },
      { arbitrary: pick.map((p): Expr => ({ k: "len", arr: p })), weight: 1 },
    ),
    expr: fc.oneof(
      { maxDepth: maxExprDepth, depthSize: "small", withCrossShrink: true },
      { arbitrary: tie("leaf"), weight: 4 },
      { arbitrary: fc.tuple(fc.nat({ max: UNARY.length - 1 }), tie("expr")).map(([f, e]) => UNARY[f](e)), weight: 4 },
      { arbitrary: fc.tuple(fc.nat({ max: BINARY.length - 1 }), tie("expr"), tie("expr")).map(([f, a, b]) => BINARY[f](a, b)), weight: 5 },
      { arbitrary: fc.record({ c: tie("cond"), a: tie("expr"), b: tie("expr") }).map((r): Expr => ({ k: "cond", ...r })), weight: 1 },
      {
        arbitrary: fc.record({ fn: pick, args: fc.array(tie("expr"), { minLength: 1, maxLength: 3 }), arrs: fc.array(pick, { maxLength: 2 }) }).map((r): Expr => ({ k: "call", ...r })),
        weight: 2,
      },
      { arbitrary: fc.record({ op: fc.constantFrom("&&" as const, "||" as const), a: tie("expr"), b: tie("expr") }).map((r): Expr => ({ k: "logic", ...r })), weight: 1 },
    ),
    cond: fc.oneof(
      { maxDepth: 2, depthSize: "small" },
      { arbitrary: fc.record({ op: fc.constantFrom("<" as const, ">" as const, "<=" as const, ">=" as const), a: tie("expr"), b: tie("expr") }).map((r): Cond => ({ k: "cmp", ...r })), weight: 4 },
      { arbitrary: fc.record({ pick, form: fc.constantFrom("eq" as const, "odd" as const, "gt" as const), v: fc.nat({ max: 3 }) }).map((r): Cond => ({ k: "ctr", ...r })), weight: 2 },
      { arbitrary: fc.record({ op: fc.constantFrom("and" as const, "or" as const), a: tie("cond"), b: tie("cond") }).map((r): Cond => ({ k: r.op, a: r.a, b: r.b })), weight: 1 },
      { arbitrary: tie("cond").map((c): Cond => ({ k: "not", c })), weight: 1 },
    ),
    index: fc.oneof(
      { maxDepth: 1, depthSize: "small" },
      { arbitrary: fc.record({ pick, rev: fc.boolean() }).map((r): Index => ({ k: "ctr", ...r })), weight: 4 },
      { arbitrary: fc.nat({ max: 4 }).map((v): Index => ({ k: "lit", v })), weight: 2 },
      { arbitrary: tie("expr").map((e): Index => ({ k: "data", e })), weight: 1 },
    ),
  }));

  const arrKind = fc.constantFrom<ArrKind>("f64", "arr");
  const arrExpr: fc.Arbitrary<ArrExpr> = fc.oneof(
    { arbitrary: pick.map((arr): ArrExpr => ({ k: "ref", arr })), weight: 2 },
    { arbitrary: fc.record({ n: fc.integer({ min: 1, max: 5 }), kind: arrKind }).map((r): ArrExpr => ({ k: "zeros", ...r })), weight: 2 },
    { arbitrary: fc.record({ arr: pick, kind: arrKind }).map((r): ArrExpr => ({ k: "zerosLike", ...r })), weight: 2 },
    { arbitrary: fc.record({ arr: pick, how: fc.constantFrom("slice" as const, "from" as const, "spread" as const, "new" as const) }).map((r): ArrExpr => ({ k: "copy", ...r })), weight: 2 },
    { arbitrary: fc.record({ elems: fc.array(expr, { minLength: 1, maxLength: 4 }), kind: arrKind }).map((r): ArrExpr => ({ k: "lit", ...r })), weight: 2 },
    { arbitrary: fc.record({ arr: pick, body: expr }).map((r): ArrExpr => ({ k: "map", ...r })), weight: 1 },
    { arbitrary: fc.record({ fn: pick, args: fc.array(expr, { minLength: 1, maxLength: 3 }), arrs: fc.array(pick, { maxLength: 2 }) }).map((r): ArrExpr => ({ k: "call", ...r })), weight: 1 },
  );
  const assignOp = fc.constantFrom<AssignOp | "/=" | "%=">("=", "+=", "-=", "*=", "/=", "%=");
  const bound: fc.Arbitrary<Bound> = fc.oneof(
    fc.integer({ min: 1, max: 5 }).map((n): Bound => ({ k: "lit", n })),
    pick.map((arr): Bound => ({ k: "len", arr })),
    fc.constant<Bound>({ k: "param" }),
  );

  const { stmt } = fc.letrec<{ stmt: Stmt; simple: Stmt; block: Stmt[] }>((tie) => ({
    simple: fc.oneof(
      { arbitrary: fc.record({ mut: fc.boolean(), shadow: fc.constant(false), e: expr }).map((r): Stmt => ({ k: "let", ...r })), weight: 5 },
      { arbitrary: fc.record({ pick, op: assignOp, e: expr }).map((r): Stmt => ({ k: "assign", ...r })), weight: 5 },
      { arbitrary: fc.record({ arr: pick, idx: index, op: fc.constantFrom<AssignOp>("=", "+=", "-=", "*="), e: expr }).map((r): Stmt => ({ k: "write", ...r })), weight: 3 },
      { arbitrary: fc.record({ init: arrExpr, mut: fc.boolean() }).map((r): Stmt => ({ k: "arrLet", ...r })), weight: 2 },
      { arbitrary: fc.record({ pick, op: fc.constantFrom("++" as const, "--" as const) }).map((r): Stmt => ({ k: "step", ...r })), weight: 1 },
      { arbitrary: fc.record({ kind: fc.constantFrom("break" as const, "continue" as const), target: fc.nat({ max: 3 }) }).map((r): Stmt => ({ k: "jump", ...r })), weight: 1 },
      { arbitrary: fc.record({ e: expr, arr: arrExpr }).map((r): Stmt => ({ k: "return", ...r })), weight: 1 },
      { arbitrary: fc.record({ arr: pick, body: expr, op: fc.constantFrom("+" as const, "*" as const) }).map((r): Stmt => ({ k: "reduce", ...r })), weight: 1 },
      { arbitrary: fc.record({ pick, init: arrExpr }).map((r): Stmt => ({ k: "arrAssign", ...r })), weight: 1 },
      { arbitrary: fc.record({ mut: fc.boolean(), shadow: fc.constant(true), e: expr }).map((r): Stmt => ({ k: "let", ...r })), weight: 1 },
      { arbitrary: fc.record({ fn: pick, args: fc.array(expr, { minLength: 1, maxLength: 3 }), arrs: fc.array(pick, { maxLength: 2 }) }).map((r): Stmt => ({ k: "callStmt", ...r })), weight: 1 },
    ),
    stmt: fc.oneof(
      { maxDepth, depthSize: "small", withCrossShrink: true },
      { arbitrary: tie("simple"), weight: 8 },
      { arbitrary: fc.record({ c: cond, then: tie("block"), else: fc.option(tie("block"), { nil: null }) }).map((r): Stmt => ({ k: "if", ...r })), weight: 3 },
      {
        arbitrary: fc.record({ bound, form: fc.constantFrom("up" as const, "from1" as const, "step2" as const, "down" as const), guard: fc.option(cond, { nil: null, freq: 4 }), body: tie("block") }).map((r): Stmt => ({ k: "for", ...r })),
        weight: 3,
      },
      { arbitrary: fc.record({ max: fc.integer({ min: 1, max: 5 }), c: cond, body: tie("block"), doWhile: fc.boolean() }).map((r): Stmt => ({ k: "while", ...r })), weight: 1 },
      { arbitrary: fc.record({ arr: pick, body: tie("block") }).map((r): Stmt => ({ k: "forOf", ...r })), weight: 1 },
      { arbitrary: fc.record({ arr: pick, body: tie("block") }).map((r): Stmt => ({ k: "forEach", ...r })), weight: 1 },
      { arbitrary: fc.record({ on: index, arms: fc.array(tie("block"), { minLength: 1, maxLength: 3 }), dflt: tie("block") }).map((r): Stmt => ({ k: "switch", ...r })), weight: 1 },
    ),
    block: fc.array(tie("stmt"), { minLength: 1, maxLength: 3 }),
  }));

  const paramTy = fc.constantFrom<ParamTy>("num", "f64", "arr", "num", "int");
  const fnSpec: fc.Arbitrary<FnSpec> = fc.record({
    params: fc.array(paramTy, { minLength: 1, maxLength: 3 }),
    ret: fc.constantFrom<RetTy>("num", "num", "num", "f64", "arr"),
    body: fc.array(stmt, { maxLength: maxStatements }),
    result: expr,
    arrResult: arrExpr,
    domain: fc.constantFrom<readonly [number, number]>([0.5, 2], [-2, 2], [-1, 1], [0.2, 3]),
    length: fc.integer({ min: 1, max: 5 }).map((n) => (n === 1 ? 3 : n)),
    exported: fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, { arbitrary: fc.constant(false), weight: 1 }),
    arrow: fc.boolean(),
  });
  return fc
    .record({
      fns: fc.array(fnSpec, { minLength: 1, maxLength: maxFunctions }),
      // About one program in four has NDArray functions too.
      nd: opts.avoid?.includes("ndarray") ? fc.constant([]) : fc.oneof({ arbitrary: fc.constant([]), weight: 3 }, { arbitrary: fc.array(ndFnArb(), { minLength: 1, maxLength: 2 }), weight: 1 }),
      uses: fc.array(fc.record({ fn: pick, api: fc.constantFrom("grad" as const, "valueAndGrad" as const, "vjp" as const, "jvp" as const), argnums: fc.array(fc.nat({ max: 2 }), { maxLength: 2 }) }), { maxLength: 2 }),
    })
    .map((p) => ({ fns: p.fns.map((f, i) => normalizeFn(f, i === p.fns.length - 1, opts.avoid ?? [])), nd: p.nd, uses: p.uses, avoid: opts.avoid ?? [] }));
}

/**
 * A function needs a differentiable parameter (an `int` one is held fixed by the probe), and the
 * last function is exported (so something is checked).
 */
function normalizeFn(f: FnSpec, last: boolean, avoid: readonly Feature[]): FnSpec {
  // At most one count parameter `n` (the probe holds it fixed).
  const first = avoid.includes("count-param") ? -1 : f.params.indexOf("int");
  let params: readonly ParamTy[] = f.params.map((p, i) => (p === "int" && i !== first ? "num" : p));
  if (!params.some((p) => p !== "int")) params = ["num", ...params];
  return { ...f, params, exported: f.exported || last };
}

// ---- rendering --------------------------------------------------------------------------------

interface NumVar {
  readonly name: string;
  readonly mut: boolean;
  readonly depth: number;
}
interface ArrVar {
  readonly name: string;
  readonly kind: ArrKind;
  readonly param: boolean;
  readonly mut: boolean;
}
interface IntVar {
  readonly name: string;
  /** The array this counter indexes in range (it runs over `[0, arr.length)`). */
  readonly over?: string;
}
interface LoopCtx {
  readonly label: string;
  used: boolean;
  /** Inside a switch nested in this loop: an unlabelled break would leave the switch. */
  inSwitch: boolean;
}

interface Scope {
  nums: NumVar[];
  arrs: ArrVar[];
  ints: IntVar[];
  loops: LoopCtx[];
  depth: number;
  /** Inside a forEach callback: `return` and jumps to loops outside it are not possible. */
  callback: boolean;
  /** Number variables read so far in this block (a `let` may not shadow them: TDZ). */
  refs: Set<string>;
}

interface Sig {
  readonly name: string;
  readonly params: readonly ParamTy[];
  readonly ret: RetTy;
}

const PARAM_NAMES: Record<"num" | "arr", string[]> = { num: ["x", "y", "z"], arr: ["a", "b", "c"] };
const COUNTERS = ["i", "j", "k", "l"];

/** Renders a program as a module. */
export function render(p: Program): string {
  const nd = p.nd ?? [];
  const out: string[] = [`import { grad, valueAndGrad, vjp, jvp${nd.length ? ", np, NDArray" : ""} } from "adc";`, ""];
  const sigs: Sig[] = [];
  p.fns.forEach((f, i) => {
    const r = new FnRenderer(f, i, sigs, p.avoid);
    out.push(...r.render(), "");
    sigs.push(r.sig);
  });
  nd.forEach((f, i) => out.push(...new NdRenderer(f, `g${i}`).render(), ""));
  out.push(...renderUses(p.uses, sigs));
  while (out[out.length - 1] === "") out.pop();
  return out.join("\n") + "\n";
}

function renderUses(uses: readonly ApiUse[], sigs: readonly Sig[]): string[] {
  const out: string[] = [];
  uses.forEach((u, n) => {
    const k = u.fn % sigs.length;
    const s = sigs[k];
    const diff = s.params.map((t, i) => [t, i] as const).filter(([t]) => t !== "int").map(([, i]) => i);
    const argnums = [...new Set(u.argnums.map((a) => diff[a % diff.length]))];
    const names = paramNames(s.params);
    const sig = s.params.map((t, i) => `${names[i]}: ${tsType(t)}`).join(", ");
    const call = names.join(", ");
    if ((u.api === "grad" || u.api === "valueAndGrad") && s.ret === "num") {
      const an = argnums.length === 0 ? "" : argnums.length === 1 && n % 2 === 0 ? `, ${argnums[0]}` : `, [${argnums.join(", ")}]`;
      out.push(`export const ${u.api}${n}_${s.name} = ${u.api}(${s.name}${an});`);
    } else if (u.api === "jvp") {
      const tangents = s.params.map((t, i) => (t === "num" ? "1" : t === "int" ? "0" : names[i]));
      out.push(`export const jvp${n}_${s.name} = (${sig}) => jvp(${s.name}, [${call}], [${tangents.join(", ")}]);`);
    } else {
      out.push(`export const vjp${n}_${s.name} = (${sig}) => vjp(${s.name}, ${call});`);
    }
  });
  return out;
}

function tsType(t: ParamTy | RetTy): string {
  return t === "f64" ? "Float64Array" : t === "arr" ? "number[]" : "number";
}

function paramNames(params: readonly ParamTy[]): string[] {
  const used = { num: 0, arr: 0 };
  return params.map((t) => {
    if (t === "int") return "n";
    const cls = t === "num" ? "num" : "arr";
    const k = used[cls]++;
    return k < 3 ? PARAM_NAMES[cls][k] : `${PARAM_NAMES[cls][0]}${k}`;
  });
}

/** Binding strengths, as in the ECMAScript grammar. */
const PREC = { cond: 2, or: 3, and: 4, eq: 8, rel: 9, add: 11, mul: 12, exp: 13, unary: 14, call: 17 } as const;
interface R {
  readonly s: string;
  readonly p: number;
}
function wrap(r: R, min: number): string {
  return r.p >= min ? r.s : `(${r.s})`;
}

class FnRenderer {
  readonly sig: Sig;
  private readonly name: string;
  private readonly pnames: string[];
  private numCount = 0;
  private arrCount = 0;
  private whileCount = 0;
  private elemCount = 0;
  private labelCount = 0;
  private readonly hasInt: boolean;

  constructor(
    private readonly f: FnSpec,
    private readonly fnIndex: number,
    private readonly earlier: readonly Sig[],
    private readonly avoid: readonly Feature[],
  ) {
    this.name = `f${fnIndex}`;
    this.pnames = paramNames(f.params);
    this.sig = { name: this.name, params: f.params, ret: f.ret };
    this.hasInt = f.params.includes("int");
  }

  render(): string[] {
    const f = this.f;
    const tags = [`@domain ${f.domain[0]} ${f.domain[1]}`];
    if (f.params.some((t) => t === "f64" || t === "arr")) tags.push(`@length ${f.length}`);
    if (this.hasInt) tags.push(`@fixed n ${2 + (this.fnIndex % 3)}`);
    const scope: Scope = { nums: [], arrs: [], ints: [], loops: [], depth: 0, callback: false, refs: new Set() };
    f.params.forEach((t, i) => {
      const name = this.pnames[i];
      if (t === "num") scope.nums.unshift({ name, mut: true, depth: 0 });
      else if (t === "int") return;
      else scope.arrs.unshift({ name, kind: t, param: true, mut: false });
    });
    // The final return is rendered in the body's scope, so it can read the body's locals.
    const body = this.block([...f.body, { k: "return", e: f.result, arr: f.arrResult }], scope);
    const sig = f.params.map((t, i) => `${this.pnames[i]}: ${tsType(t)}`).join(", ");
    const exp = f.exported ? "export " : "";
    const head = f.arrow ? `${exp}const ${this.name} = (${sig}): ${tsType(f.ret)} => {` : `${exp}function ${this.name}(${sig}): ${tsType(f.ret)} {`;
    return [`/** ${tags.join(" ")} */`, head, ...body.map((l) => "  " + l), f.arrow ? "};" : "}"];
  }

  private retValue(e: Expr, a: ArrExpr, scope: Scope): string {
    if (this.f.ret === "num") return this.ex(e, scope).s;
    return this.arrValue(a, scope, this.f.ret, true);
  }

  // -- statements --

  /** A block's lines; stops after a statement that leaves it (return, break, continue). */
  private block(stmts: readonly Stmt[], outer: Scope): string[] {
    const scope: Scope = { ...outer, nums: [...outer.nums], arrs: [...outer.arrs], ints: [...outer.ints], depth: outer.depth + 1, refs: new Set() };
    const lines: string[] = [];
    for (const s of stmts) {
      const r = this.stmt(s, scope);
      lines.push(...r.lines);
      if (r.leaves) break;
    }
    for (const r of scope.refs) outer.refs.add(r);
    return lines;
  }

  private nested(stmts: readonly Stmt[], scope: Scope, extra?: (s: Scope) => void): string[] {
    const inner: Scope = { ...scope, nums: [...scope.nums], arrs: [...scope.arrs], ints: [...scope.ints] };
    extra?.(inner);
    return this.block(stmts, inner).map((l) => "  " + l);
  }

  private stmt(s: Stmt, scope: Scope): { lines: string[]; leaves?: boolean } {
    switch (s.k) {
      case "let": {
        const e = this.ex(s.e, scope).s;
        let name: string | undefined;
        if (s.shadow && scope.depth >= 2) {
          // Reuse the name of a variable from an enclosing block; it is hidden from here on.
          const outer = scope.nums.find((v) => v.depth < scope.depth && !scope.refs.has(v.name));
          if (outer) {
            name = outer.name;
            scope.nums = scope.nums.filter((v) => v !== outer);
          }
        }
        name ??= `v${++this.numCount}`;
        scope.nums.unshift({ name, mut: s.mut, depth: scope.depth });
        return { lines: [`${s.mut ? "let" : "const"} ${name} = ${e};`] };
      }
      case "assign": {
        const targets = this.targets(scope);
        if (!targets.length) return this.stmt({ k: "let", mut: true, shadow: false, e: s.e }, scope);
        const t = targets[s.pick % targets.length];
        scope.refs.add(t.name);
        if (s.op === "/=") return { lines: [`${t.name} /= ${this.ex({ k: "sq1", e: s.e, c: 1 }, scope).s};`] };
        if (s.op === "%=") return { lines: [`${t.name} %= ${this.ex({ k: "sq1", e: s.e, c: 1 }, scope).s};`] };
        const rhs = this.ex(s.e, scope).s;
        if (s.op === "=" && rhs === t.name && this.avoid.includes("self-assign")) return { lines: [] };
        return { lines: [`${t.name} ${s.op} ${rhs};`] };
      }
      case "step": {
        const targets = this.targets(scope);
        if (!targets.length) return { lines: [] };
        const t = targets[s.pick % targets.length];
        scope.refs.add(t.name);
        return { lines: [`${t.name}${s.op};`] };
      }
      case "if": {
        const c = this.cond(s.c, scope).s;
        const then = this.nested(s.then, scope);
        const lines = [`if (${c}) {`, ...then];
        if (s.else) lines.push("} else {", ...this.nested(s.else, scope));
        lines.push("}");
        return { lines };
      }
      case "for": {
        const depth = scope.loops.length;
        const i = depth < COUNTERS.length ? COUNTERS[depth] : `i${depth}`;
        let n: string;
        let over: string | undefined;
        if (s.bound.k === "len" && scope.arrs.length) {
          const a = scope.arrs[s.bound.arr % scope.arrs.length];
          n = `${a.name}.length`;
          // A counter indexes in range only an array whose length cannot change.
          if (!a.mut) over = a.name;
        } else if (s.bound.k === "param" && this.hasInt) n = "n";
        else n = String(s.bound.k === "lit" ? s.bound.n : 3);
        const guard = s.guard ? ` && ${this.cond(s.guard, { ...scope, ints: [{ name: i }, ...scope.ints] }, PREC.and + 1).s}` : "";
        let head: string;
        switch (s.form) {
          case "up":
            head = `for (let ${i} = 0; ${i} < ${n}${guard}; ${i}++)`;
            break;
          case "from1":
            head = `for (let ${i} = 1; ${i} < ${n}${guard}; ${i}++)`;
            break;
          case "step2":
            head = `for (let ${i} = 0; ${i} < ${n}${guard}; ${i} += 2)`;
            break;
          case "down":
            head = `for (let ${i} = ${n} - 1; ${i} >= 0${guard}; ${i}--)`;
            break;
        }
        return this.loop(head, s.body, scope, (sc) => sc.ints.unshift({ name: i, over }));
      }
      case "while": {
        const k = `c${++this.whileCount}`;
        const c = this.cond(s.c, { ...scope, ints: [{ name: k }, ...scope.ints] }, PREC.and + 1).s;
        const test = `${k} < ${s.max} && ${c}`;
        const loop = this.loop(s.doWhile ? "do" : `while (${test})`, s.body, scope, (sc) => sc.ints.unshift({ name: k }), [`${k}++;`]);
        const lines = [`let ${k} = 0;`, ...loop.lines];
        if (s.doWhile) lines[lines.length - 1] = `} while (${test});`;
        return { lines };
      }
      case "forOf": {
        if (!scope.arrs.length) return { lines: [] };
        const a = scope.arrs[s.arr % scope.arrs.length];
        const e = `e${++this.elemCount}`;
        return this.loop(`for (const ${e} of ${a.name})`, s.body, scope, (sc) => sc.nums.unshift({ name: e, mut: false, depth: sc.depth + 1 }));
      }
      case "forEach": {
        if (!scope.arrs.length) return { lines: [] };
        const a = scope.arrs[s.arr % scope.arrs.length];
        const e = `e${++this.elemCount}`;
        // Its own name: loops inside the callback count their depth from 0 again and would
        // shadow a counter name (writes indexed by the shadowed name would then run past the end).
        const i = `ix${this.elemCount}`;
        const body = this.nested(s.body, { ...scope, loops: [], callback: true }, (sc) => {
          sc.nums.unshift({ name: e, mut: false, depth: sc.depth + 1 });
          sc.ints.unshift({ name: i, over: a.mut ? undefined : a.name });
        });
        return { lines: [`${a.name}.forEach((${e}, ${i}) => {`, ...body, "});"] };
      }
      case "switch": {
        // A literal discriminant would make TypeScript reject the other cases.
        let on = this.index(s.on, scope, 3);
        if (/^\d+$/.test(on)) on = this.index({ k: "data", e: { k: "var", pick: 0 } }, scope, 3);
        const lines = [`switch (${on}) {`];
        // Jumps inside the switch see that an unlabelled break would leave the switch.
        const saved = scope.loops.map((l) => l.inSwitch);
        scope.loops.forEach((l) => (l.inSwitch = true));
        s.arms.forEach((arm, n) => {
          lines.push(`  case ${n}: {`, ...this.armBody(arm, scope), "  }");
        });
        lines.push("  default: {", ...this.armBody(s.dflt, scope), "  }", "}");
        scope.loops.forEach((l, n) => (l.inSwitch = saved[n]));
        return { lines };
      }
      case "jump": {
        if (!scope.loops.length) return { lines: [] };
        const t = s.target % scope.loops.length;
        const loop = scope.loops[scope.loops.length - 1 - t];
        const innermost = t === 0 && !(s.kind === "break" && loop.inSwitch);
        if (innermost) return { lines: [`${s.kind};`], leaves: true };
        loop.used = true;
        return { lines: [`${s.kind} ${loop.label};`], leaves: true };
      }
      case "return": {
        if (scope.callback) return { lines: [] };
        return { lines: [`return ${this.retValue(s.e, s.arr, scope)};`], leaves: true };
      }
      case "arrLet": {
        const { text, kind } = this.arrInit(s.init, scope);
        const name = `w${++this.arrCount}`;
        scope.arrs.unshift({ name, kind, param: false, mut: s.mut });
        // `let w = new Float64Array(n)` would be a Float64Array<ArrayBuffer>, which a function's
        // Float64Array result cannot be assigned to: annotate, as a user would.
        const type = text.startsWith("new Array(") ? ": number[]" : s.mut && kind === "f64" ? ": Float64Array" : "";
        return { lines: [`${s.mut ? "let" : "const"} ${name}${type} = ${text};`] };
      }
      case "arrAssign": {
        const targets = scope.arrs.filter((a) => a.mut);
        if (!targets.length) return this.stmt({ k: "arrLet", init: s.init, mut: true }, scope);
        const t = targets[s.pick % targets.length];
        // Half the maps of an assignment read the array they replace (`w = w.map(...)`).
        const init: ArrExpr = s.init.k === "map" && s.pick % 2 === 0 ? { ...s.init, arr: scope.arrs.indexOf(t) } : s.init;
        return { lines: [`${t.name} = ${this.arrValue(init, scope, t.kind, false)};`] };
      }
      case "write": {
        if (!scope.arrs.length) return this.stmt({ k: "let", mut: false, shadow: false, e: s.e }, scope);
        const a = scope.arrs[s.arr % scope.arrs.length];
        return { lines: [`${a.name}[${this.index(s.idx, scope, a)}] ${s.op} ${this.ex(s.e, scope).s};`] };
      }
      case "reduce": {
        if (!scope.arrs.length) return this.stmt({ k: "let", mut: false, shadow: false, e: s.body }, scope);
        const a = scope.arrs[s.arr % scope.arrs.length];
        const e = `e${++this.elemCount}`;
        const inner: Scope = { ...scope, nums: [{ name: e, mut: false, depth: scope.depth + 1 }, ...scope.nums] };
        const body = s.op === "+" ? `acc + ${wrap(this.ex(s.body, inner), PREC.add + 1)}` : `acc * ${wrap(this.ex({ k: "math", fn: "Math.cos", args: [s.body] }, inner), PREC.mul + 1)}`;
        const name = `v${++this.numCount}`;
        scope.nums.unshift({ name, mut: false, depth: scope.depth });
        return { lines: [`const ${name} = ${a.name}.reduce((acc, ${e}) => ${body}, ${s.op === "+" ? 0 : 1});`] };
      }
      case "callStmt": {
        if (this.avoid.includes("discarded-call")) return { lines: [] };
        const c = this.callText(s.fn, s.args, s.arrs, scope, null);
        return { lines: c ? [`${c.text};`] : [] };
      }
    }
  }

  /** Number variables a statement may assign. */
  private targets(scope: Scope): NumVar[] {
    const noParams = this.avoid.includes("param-write");
    return scope.nums.filter((v) => v.mut && !(noParams && v.depth === 0));
  }

  private armBody(stmts: readonly Stmt[], scope: Scope): string[] {
    const body = this.nested(stmts, scope);
    const last = body[body.length - 1]?.trim() ?? "";
    const leaves = /^(return|break|continue)\b/.test(last);
    return (leaves ? body : [...body, "  break;"]).map((l) => "  " + l);
  }

  private loop(head: string, body: readonly Stmt[], scope: Scope, extra: (s: Scope) => void, prologue: string[] = []): { lines: string[] } {
    const ctx: LoopCtx = { label: `L${++this.labelCount}`, used: false, inSwitch: false };
    const lines = this.nested(body, { ...scope, loops: [...scope.loops, ctx] }, extra);
    const label = ctx.used ? `${ctx.label}: ` : "";
    return { lines: [`${label}${head} {`, ...prologue.map((l) => "  " + l), ...lines, "}"] };
  }

  // -- arrays --

  /** Text and kind of an array value used to initialise a new local. */
  private arrInit(a: ArrExpr, scope: Scope): { text: string; kind: ArrKind } {
    const arrs = scope.arrs;
    const pickArr = (p: number): ArrVar | undefined => (arrs.length ? arrs[p % arrs.length] : undefined);
    switch (a.k) {
      case "zeros":
        return { text: a.kind === "f64" ? `new Float64Array(${a.n})` : `new Array(${a.n}).fill(0)`, kind: a.kind };
      case "zerosLike": {
        const src = pickArr(a.arr);
        const n = src ? `${src.name}.length` : "3";
        return { text: a.kind === "f64" ? `new Float64Array(${n})` : `new Array(${n}).fill(0)`, kind: a.kind };
      }
      case "lit": {
        const elems = a.elems.map((e) => this.ex(e, scope).s).join(", ");
        return { text: a.kind === "f64" ? `new Float64Array([${elems}])` : `[${elems}]`, kind: a.kind };
      }
      case "ref":
      case "copy": {
        const src = pickArr(a.arr);
        if (!src) return this.fallbackArr(scope);
        const how = a.k === "ref" ? "slice" : a.how;
        if (how === "slice") return { text: `${src.name}.slice()`, kind: src.kind };
        if (how === "from") return { text: this.toF64(src.name), kind: "f64" };
        if (how === "new") return { text: `new Float64Array(${src.name})`, kind: "f64" };
        return { text: `[...${src.name}]`, kind: "arr" };
      }
      case "map": {
        const src = pickArr(a.arr);
        if (!src) return this.fallbackArr(scope);
        const e = `e${++this.elemCount}`;
        const inner: Scope = { ...scope, nums: [{ name: e, mut: false, depth: scope.depth + 1 }, ...scope.nums] };
        return { text: `${src.name}.map((${e}) => ${this.ex(a.body, inner).s})`, kind: src.kind };
      }
      case "call": {
        const c = this.callText(a.fn, a.args, a.arrs, scope, "arr");
        if (!c) return this.fallbackArr(scope);
        return { text: c.text, kind: c.ret as ArrKind };
      }
    }
  }

  /** An array when the tree names none in scope: a literal of the function's number result. */
  private fallbackArr(scope: Scope): { text: string; kind: ArrKind } {
    return { text: `new Float64Array([${this.ex(this.f.result, scope).s}])`, kind: "f64" };
  }

  /** An array value of the given kind, for a return or an assignment to an array variable. */
  private arrValue(a: ArrExpr, scope: Scope, kind: ArrKind, isReturn: boolean): string {
    // A result that depends on the inputs: a local array, a copy of a parameter, or a literal of
    // the function's number result (not a constant array of zeros).
    if (isReturn && (a.k === "ref" || a.k === "zeros" || a.k === "zerosLike")) {
      const pick = a.k === "zeros" ? 0 : a.arr;
      const locals = scope.arrs.filter((v) => !v.param);
      if (locals.length) {
        const v = locals[pick % locals.length];
        if (v.kind === kind) return v.name;
        return kind === "f64" ? this.toF64(v.name) : `[...${v.name}]`;
      }
      if (scope.arrs.length) return this.arrValue({ k: "copy", arr: pick, how: "slice" }, scope, kind, false);
      return this.arrInit({ k: "lit", elems: [this.f.result], kind }, scope).text;
    }
    if (a.k === "zeros" || a.k === "zerosLike" || a.k === "lit") return this.arrInit({ ...a, kind }, scope).text;
    const r = this.arrInit(a, scope);
    if (r.kind === kind) return r.text;
    if (a.k === "copy" || a.k === "ref") {
      const src = scope.arrs.length ? scope.arrs[a.arr % scope.arrs.length] : undefined;
      if (src) return kind === "f64" ? this.toF64(src.name) : `[...${src.name}]`;
    }
    return kind === "f64" ? this.toF64(r.text) : `[...${r.text}]`;
  }

  /** A Float64Array copy of an array. */
  private toF64(text: string): string {
    return this.avoid.includes("float64-from") ? `new Float64Array(${text})` : `Float64Array.from(${text})`;
  }

  // -- calls --

  /**
   * A call of an earlier function returning a number (want "num") or an array (want "arr", or
   * either for a statement). Undefined when no earlier function fits.
   */
  private callText(fn: number, args: readonly Expr[], arrs: readonly number[], scope: Scope, want: "num" | "arr" | null): { text: string; ret: RetTy } | undefined {
    const fits = this.earlier.filter((s) => want === null || (want === "num" ? s.ret === "num" : s.ret !== "num"));
    if (!fits.length) return undefined;
    const callee = fits[fn % fits.length];
    let na = 0;
    let aa = 0;
    const used = new Set<string>();
    const out = callee.params.map((t) => {
      if (t === "int") return "3";
      if (t === "num") return args.length ? this.ex(args[na++ % args.length], scope).s : "1";
      // An array argument: a distinct array of the right kind, converted if need be.
      const p = arrs.length ? arrs[aa++ % arrs.length] : aa++;
      const free = scope.arrs.filter((v) => !used.has(v.name));
      if (!free.length) {
        const elems = [0, 1].map((k) => (args.length ? this.ex(args[(na + k) % args.length], scope).s : "1")).join(", ");
        return t === "f64" ? `new Float64Array([${elems}])` : `[${elems}]`;
      }
      const v = free.filter((x) => x.kind === t)[p % Math.max(1, free.filter((x) => x.kind === t).length)] ?? free[p % free.length];
      used.add(v.name);
      if (v.kind === t) return v.name;
      return t === "f64" ? this.toF64(v.name) : `[...${v.name}]`;
    });
    return { text: `${callee.name}(${out.join(", ")})`, ret: callee.ret };
  }

  // -- expressions --

  private ex(e: Expr, scope: Scope): R {
    switch (e.k) {
      case "lit":
        return { s: String(e.v), p: PREC.call };
      case "mconst":
        return { s: `Math.${e.name}`, p: PREC.call };
      case "var": {
        if (scope.nums.length) {
          const v = scope.nums[e.pick % scope.nums.length];
          scope.refs.add(v.name);
          return { s: v.name, p: PREC.call };
        }
        if (scope.arrs.length) return { s: `${scope.arrs[e.pick % scope.arrs.length].name}[0]`, p: PREC.call };
        return { s: "1", p: PREC.call };
      }
      case "int": {
        if (scope.ints.length) return { s: scope.ints[e.pick % scope.ints.length].name, p: PREC.call };
        return { s: String(1 + (e.pick % 3)), p: PREC.call };
      }
      case "len": {
        if (scope.arrs.length) return { s: `${scope.arrs[e.arr % scope.arrs.length].name}.length`, p: PREC.call };
        return { s: "3", p: PREC.call };
      }
      case "read": {
        if (!scope.arrs.length) return this.ex({ k: "var", pick: e.arr }, scope);
        const a = scope.arrs[e.arr % scope.arrs.length];
        return { s: `${a.name}[${this.index(e.idx, scope, a)}]`, p: PREC.call };
      }
      case "neg": {
        const inner = this.ex(e.e, scope);
        // `- -x` would read as a decrement; `-(a * b)` keeps the tree's grouping.
        return { s: `-${inner.p >= PREC.call && !inner.s.startsWith("-") ? inner.s : `(${inner.s})`}`, p: PREC.unary };
      }
      case "bin": {
        const a = this.ex(e.a, scope);
        const b = this.ex(e.b, scope);
        if (e.op === "**") {
          // The base of ** cannot be a unary expression; ** groups to the right.
          const base = a.p > PREC.unary && !a.s.startsWith("-") ? a.s : `(${a.s})`;
          return { s: `${base} ** ${wrap(b, PREC.exp)}`, p: PREC.exp };
        }
        const p = e.op === "+" || e.op === "-" ? PREC.add : PREC.mul;
        return { s: `${wrap(a, p)} ${e.op} ${wrap(b, p + 1)}`, p };
      }
      case "math":
        return { s: `${e.fn}(${e.args.map((a) => this.ex(a, scope).s).join(", ")})`, p: PREC.call };
      case "sq1": {
        // c + e * e without evaluating e twice in the text when e is more than a name.
        const inner = this.ex(e.e, scope);
        const simple = /^[A-Za-z_][\w.]*(\[[^\]]*\])?$/.test(inner.s) && inner.s.length <= 12;
        if (simple) return e.c === 0 ? { s: `${inner.s} * ${inner.s}`, p: PREC.mul } : { s: `${e.c} + ${inner.s} * ${inner.s}`, p: PREC.add };
        // Otherwise a positive value at least c with the operand written once.
        return { s: e.c === 0 ? `Math.abs(${inner.s})` : `Math.hypot(${inner.s}, ${e.c})`, p: PREC.call };
      }
      case "cond": {
        const c = this.cond(e.c, scope, PREC.cond + 1);
        return { s: `${c.s} ? ${this.ex(e.a, scope).s} : ${this.ex(e.b, scope).s}`, p: PREC.cond };
      }
      case "logic": {
        const p = e.op === "&&" ? PREC.and : PREC.or;
        // A literal left operand is always truthy (or falsy), which TypeScript rejects.
        const a = this.ex(e.a, scope);
        const b = this.ex(e.b, scope);
        if (/^-?[\d.]+$/.test(a.s) || a.p <= PREC.cond) return b;
        return { s: `${wrap(a, p)} ${e.op} ${wrap(b, p + 1)}`, p };
      }
      case "call": {
        const c = this.callText(e.fn, e.args, e.arrs, scope, "num");
        if (!c) return this.ex(e.args[0] ?? lit(1), scope);
        return { s: c.text, p: PREC.call };
      }
    }
  }

  /** An index into `a` (or, with a number, an integer in [0, n)). */
  private index(i: Index, scope: Scope, a: ArrVar | number): string {
    const len = typeof a === "number" ? String(a) : `${a.name}.length`;
    switch (i.k) {
      case "ctr": {
        if (!scope.ints.length) return "0";
        const c = scope.ints[i.pick % scope.ints.length];
        if (typeof a !== "number" && c.over === a.name) return i.rev ? `${len} - 1 - ${c.name}` : c.name;
        return `${c.name} % ${len}`;
      }
      case "lit":
        return i.v === 0 ? "0" : `${i.v} % ${len}`;
      case "data":
        return `Math.floor(Math.abs(${this.ex(i.e, scope).s})) % ${len}`;
    }
  }

  private cond(c: Cond, scope: Scope, min = 0): R {
    const r = this.condR(c, scope);
    return { s: wrap(r, min), p: Math.max(r.p, min) };
  }

  private condR(c: Cond, scope: Scope): R {
    switch (c.k) {
      case "cmp": {
        let l = wrap(this.ex(c.a, scope), PREC.rel + 1);
        let r = wrap(this.ex(c.b, scope), PREC.rel + 1);
        let op: string = c.op;
        // `a < (b > (c))` would parse as a call with type arguments: write `(b > (c)) > a`.
        if ((op === "<" || op === "<=") && r.startsWith("(")) [l, r, op] = [r, l, op === "<" ? ">" : ">="];
        return { s: `${l} ${op} ${r}`, p: PREC.rel };
      }
      case "ctr": {
        if (!scope.ints.length) return this.condR({ k: "cmp", op: ">", a: { k: "var", pick: c.pick }, b: lit(1) }, scope);
        const i = scope.ints[c.pick % scope.ints.length].name;
        // Not `i === v`: TypeScript would narrow i to v inside, and reject a later `i === w`.
        if (c.form === "eq") return { s: `${i} % 3 === ${c.v % 3}`, p: PREC.eq };
        if (c.form === "odd") return { s: `${i} % 2 === ${c.v % 2}`, p: PREC.eq };
        return { s: `${i} > ${c.v}`, p: PREC.rel };
      }
      case "and":
        return { s: `${wrap(this.condR(c.a, scope), PREC.and)} && ${wrap(this.condR(c.b, scope), PREC.and + 1)}`, p: PREC.and };
      case "or":
        return { s: `${wrap(this.condR(c.a, scope), PREC.or)} || ${wrap(this.condR(c.b, scope), PREC.or + 1)}`, p: PREC.or };
      case "not":
        return { s: `!${wrap(this.condR(c.c, scope), PREC.unary)}`, p: PREC.unary };
    }
  }
}

/** Lines of code in a rendered program, without blank lines, comments and the fixed header. */
export function codeSize(source: string): number {
  return source.split("\n").filter((l) => l.trim() && !l.trim().startsWith("//") && !l.trim().startsWith("/**") && !l.startsWith("import ") && !l.startsWith("export const api")).length;
}
