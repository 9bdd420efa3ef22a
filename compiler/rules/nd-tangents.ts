/**
 * Tangent rules of NDArray operations written as adc IR, for tangent functions (diff/tangent.ts).
 *
 * First-order code calls the runtime's rules (`_rt.ndJvp`), which adc cannot see into, so a
 * derivative made that way cannot be differentiated again. A tangent function instead spells each
 * op's tangent with other registry ops (`sin`'s is `t.mul(x.cos())`), and every one of those has
 * its own rules: the reverse sweep of a tangent function, and a tangent function of a tangent
 * function, need nothing more. Each rule follows its runtime twin (runtime/ndarray/ops/*.ts),
 * including JAX's conventions at kinks (ties of max/min split evenly, abs'(0) = 0).
 *
 * A rule returns the tangent with the output's shape and kind: where an operand carrying no
 * tangent is broadcast against one that does, a zero of the output's shape is added.
 */
import { ND, NUM, type Expr, type Pos, type Ty } from "../ir/ir.js";
import { free, num } from "../ir/make.js";
import { RT } from "../emit/names.js";

/** One application: operands, their tangents (null: none), the result, where it is written. */
export interface NdApplication {
  readonly op: string;
  readonly args: readonly Expr[];
  readonly dots: readonly (Expr | null)[];
  readonly out: Expr;
  readonly ty: Ty;
  readonly pos: Pos;
  /** concat/stack: how many leading arguments are the list operand. */
  readonly list?: number;
}

type Rule = (a: NdApplication, b: Build) => Expr;

/** Builders of NDArray expressions at one position. */
class Build {
  constructor(readonly pos: Pos) {}
  op(op: string, ...args: Expr[]): Expr {
    return { k: "call", fn: { k: "nd", op }, args, ty: ND, pos: this.pos };
  }
  /** Zeros shaped like `like`: a constant (no derivative flows through it). */
  zerosLike(like: Expr): Expr {
    return zerosLike(like, this.pos);
  }
  /** `e` broadcast up to the output's shape. */
  fit(e: Expr, out: Expr): Expr {
    return this.op("add", e, this.zerosLike(out));
  }
  sum(terms: readonly Expr[], out: Expr): Expr {
    if (!terms.length) return this.zerosLike(out);
    return terms.reduce((s, t) => this.op("add", s, t));
  }
  /** 1 where a > b, 1/2 at a tie, 0 where a < b: maximum's share for a (JAX's tie rule). */
  shareOfGreater(a: Expr, b: Expr): Expr {
    return this.op("mul", this.op("add", this.op("sign", this.op("sub", a, b)), num(1)), num(0.5));
  }
}

/** Zeros shaped like `like`, a constant: its argument is read for its shape only. */
export function zerosLike(like: Expr, pos: Pos): Expr {
  return { k: "call", fn: { k: "opaque", text: `${RT}.np.zerosLike` }, args: [{ k: "stop", e: like, ty: "ty" in like ? like.ty : ND, pos }], ty: ND, pos };
}

/** An argument that is absent from the call: `null` (an axis of every axis), or `undefined`. */
const arg = (a: NdApplication, i: number, absent = "undefined"): Expr => a.args[i] ?? free(absent);

/** Rules of ops linear in their one differentiable operand (0): the op applied to the tangent. */
function linear(a: NdApplication, b: Build): Expr {
  return b.op(a.op, a.dots[0]!, ...a.args.slice(1));
}

/** An elementwise unary op: t * f'(x), f' written with ops. */
const unary = (d: (x: Expr, out: Expr, b: Build) => Expr): Rule => (a, b) => b.op("mul", a.dots[0]!, d(a.args[0], a.out, b));

/**
 * A binary op: the sum of its operands' terms. `fit`: a term may be smaller than the output (the
 * tangent of `a + b` with only a's, a broadcast against b), so it is fitted to the output's shape;
 * a term that multiplies by the other operand (`t * b`) has the output's shape already.
 */
const binary = (terms: (x: NdApplication, b: Build) => (Expr | null)[], fit = false): Rule => (a, b) => {
  const ts = terms(a, b).filter((t): t is Expr => t !== null);
  const s = b.sum(ts, a.out);
  return fit && a.dots.some((d) => d === null) && ts.length ? b.fit(s, a.out) : s;
};

const term = (a: NdApplication, i: number, f: (t: Expr) => Expr): Expr | null => (a.dots[i] ? f(a.dots[i]!) : null);

/** maximum (greater = true) or minimum of x and y with tangents tx, ty (null: none). */
function chooser(b: Build, x: Expr, y: Expr, tx: Expr | null, ty: Expr | null, greater: boolean): (Expr | null)[] {
  const share = greater ? b.shareOfGreater(x, y) : b.shareOfGreater(y, x);
  return [tx && b.op("mul", tx, share), ty && b.op("mul", ty, b.op("sub", num(1), share))];
}

/** max/min along axes: the tangent at the chosen entries, split evenly among ties. */
function reduceChooser(a: NdApplication, b: Build): Expr {
  const [x, axis] = [a.args[0], arg(a, 1)];
  const keep = b.op(a.op, x, axis, free("true", { k: "bool" }));
  const mask = b.op("astype", b.op("equal", x, keep), { k: "str", text: '"float64"', pos: b.pos });
  const weights = b.op("div", mask, b.op("sum", mask, axis, free("true", { k: "bool" })));
  return b.op("sum", b.op("mul", a.dots[0]!, weights), ...a.args.slice(1));
}

const rules: Record<string, Rule> = {
  neg: linear,
  square: unary((x, _o, b) => b.op("mul", x, num(2))),
  exp: unary((_x, out) => out),
  log: unary((x, _o, b) => b.op("div", num(1), x)),
  sqrt: unary((_x, out, b) => b.op("div", num(0.5), out)),
  sin: unary((x, _o, b) => b.op("cos", x)),
  cos: unary((x, _o, b) => b.op("neg", b.op("sin", x))),
  tanh: unary((_x, out, b) => b.op("sub", num(1), b.op("square", out))),
  sigmoid: unary((_x, out, b) => b.op("mul", out, b.op("sub", num(1), out))),
  // relu'(x) = 1 for x > 0, else 0: the sign of relu(x).
  relu: unary((_x, out, b) => b.op("sign", out)),
  log1p: unary((x, _o, b) => b.op("div", num(1), b.op("add", x, num(1)))),
  sign: (a, b) => b.zerosLike(a.out),
  abs: unary((x, _o, b) => b.op("sign", x)),
  add: binary((a) => [a.dots[0], a.dots[1]], true),
  sub: binary((a, b) => [a.dots[0], term(a, 1, (t) => b.op("neg", t))], true),
  mul: binary((a, b) => [term(a, 0, (t) => b.op("mul", t, a.args[1])), term(a, 1, (t) => b.op("mul", a.args[0], t))]),
  div: binary((a, b) => [term(a, 0, (t) => b.op("div", t, a.args[1])), term(a, 1, (t) => b.op("neg", b.op("div", b.op("mul", t, a.out), a.args[1])))]),
  // d/da = b a^(b-1), 0 where b = 0; d/db = log(a) a^b, 0 where a = 0 (the runtime's conventions).
  // The excluded points are also kept out of the formula (b taken as 1, a as 1 there): a where
  // passes a zero adjoint to the branch it drops, and 0 times log'(0) would still be NaN.
  pow: binary((a, b) => {
    const [x, y] = a.args;
    const at0 = (c: Expr): Expr => b.op("equal", c, num(0));
    const safe = (c: Expr): Expr => b.op("where", at0(c), num(1), c);
    const dBase = (t: Expr): Expr => {
      if (y.k === "num") return y.v === 0 ? b.zerosLike(a.out) : b.op("mul", t, b.op("mul", y, b.op("pow", x, num(y.v - 1))));
      const y1 = safe(y);
      return b.op("mul", t, b.op("where", at0(y), num(0), b.op("mul", y1, b.op("pow", x, b.op("sub", y1, num(1))))));
    };
    return [
      term(a, 0, dBase),
      term(a, 1, (t) => b.op("mul", t, b.op("where", at0(x), num(0), b.op("mul", b.op("log", safe(x)), a.out)))),
    ];
  }),
  maximum: binary((a, b) => chooser(b, a.args[0], a.args[1], a.dots[0], a.dots[1], true)),
  minimum: binary((a, b) => chooser(b, a.args[0], a.args[1], a.dots[0], a.dots[1], false)),
  where: binary((a, b) => [b.op("where", a.args[0], a.dots[1] ?? num(0), a.dots[2] ?? num(0))], true),
  sum: linear,
  mean: linear,
  max: reduceChooser,
  min: reduceChooser,
  // var = mean((x - mean(x))^2) for ddof 0: its tangent is 2 mean((x - mean(x)) t).
  var: (a, b) => variance(a, b),
  std: (a, b) => b.op("div", variance(a, b), b.op("mul", a.out, num(2))),
  logsumexp: (a, b) => b.op("sum", b.op("mul", b.op("softmax", a.args[0], arg(a, 1, "null")), a.dots[0]!), ...a.args.slice(1)),
  softmax: (a, b) => b.op("mul", a.out, b.op("sub", a.dots[0]!, b.op("sum", b.op("mul", a.out, a.dots[0]!), softmaxAxis(a), free("true", { k: "bool" })))),
  logSoftmax: (a, b) => b.op("sub", a.dots[0]!, b.op("sum", b.op("mul", b.op("exp", a.out), a.dots[0]!), softmaxAxis(a), free("true", { k: "bool" }))),
  clip: (a, b) => {
    // minimum(maximum(x, lo), hi), each step with its chooser rule.
    const [x, lo, hi] = [a.args[0], a.args[1], a.args[2]];
    const absent = (e: Expr | undefined): boolean => e === undefined || (e.k === "free" && (e.text === "null" || e.text === "undefined"));
    let v = x;
    let t: Expr | null = a.dots[0];
    if (!absent(lo)) {
      const [tx, tl] = chooser(b, v, lo!, t, a.dots[1] ?? null, true);
      t = b.sum([tx, tl].filter((e): e is Expr => e !== null), a.out);
      v = b.op("maximum", v, lo!);
    }
    if (!absent(hi)) {
      const [tv, th] = chooser(b, v, hi!, t, a.dots[2] ?? null, false);
      t = b.sum([tv, th].filter((e): e is Expr => e !== null), a.out);
    }
    return b.fit(t ?? b.zerosLike(a.out), a.out);
  },
  dot: binary((a, b) => [term(a, 0, (t) => b.op("dot", t, a.args[1])), term(a, 1, (t) => b.op("dot", a.args[0], t))]),
  matmul: binary((a, b) => [term(a, 0, (t) => b.op("matmul", t, a.args[1])), term(a, 1, (t) => b.op("matmul", a.args[0], t))]),
  norm: (a, b) => b.op("div", b.op("sum", b.op("mul", a.args[0], a.dots[0]!)), a.out),
  reshape: linear,
  transpose: linear,
  expandDims: linear,
  squeeze: linear,
  astype: linear,
  copy: linear,
  fromArray: linear,
  slice: linear,
  index: linear,
  item: linear,
  take: linear,
  pick: linear,
  concat: listRule,
  stack: listRule,
};

function variance(a: NdApplication, b: Build): Expr {
  const [x, axis] = [a.args[0], arg(a, 1)];
  const deviation = b.op("sub", x, b.op("mean", x, axis, free("true", { k: "bool" })));
  return b.op("mul", b.op("mean", b.op("mul", deviation, a.dots[0]!), ...a.args.slice(1, 3)), num(2));
}

/** softmax/logSoftmax's axis: -1 when the call gives none. */
function softmaxAxis(a: NdApplication): Expr {
  return a.args[1] ?? num(-1);
}

/** concat/stack: the op over the listed arrays' tangents (zeros for one without). */
function listRule(a: NdApplication, b: Build): Expr {
  const n = a.list ?? 0;
  const listed = a.args.slice(0, n).map((x, i) => a.dots[i] ?? b.zerosLike(x));
  return { k: "call", fn: { k: "nd", op: a.op, list: n }, args: [...listed, ...a.args.slice(n)], ty: ND, pos: b.pos };
}

/**
 * Why an application has no IR rule (at second order), or undefined when it has one: ops without
 * a rule here, and the forms of one whose rule here does not cover them.
 */
export function ndTangentRefusal(a: Pick<NdApplication, "op" | "args">): string | undefined {
  if (!rules[a.op]) return `a higher derivative through the NDArray operation '${a.op}' is not supported yet`;
  const ddof = a.args[3];
  if ((a.op === "var" || a.op === "std") && ddof && !(ddof.k === "num" && ddof.v === 0))
    return `a higher derivative of '${a.op}' with a ddof other than 0 is not supported yet`;
  if (a.op === "norm" && a.args.length > 1) return "a higher derivative of 'norm' with an ord or axis is not supported yet";
  return undefined;
}

/** The tangent of one application as an IR expression (its refusal must have been checked). */
export function ndTangent(a: NdApplication): Expr {
  const b = new Build(a.pos);
  const e = rules[a.op](a, b);
  return a.ty.k === "num" && e.k === "call" ? { ...e, ty: NUM } : e;
}

/** The ops with a rule here (the second-order rule test checks it has a row for each). */
export function ndTangentOps(): string[] {
  return Object.keys(rules);
}
