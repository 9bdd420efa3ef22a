/**
 * Random NDArray functions for generated programs (generator.ts renders them after the number
 * functions): NDArray and number parameters, NDArray locals, elementwise ops with broadcasting,
 * reductions (over everything or one axis, with and without keepdims), matmul/dot/transpose,
 * function and method forms (`np.add(a, b)`, `a.add(b)`, `a.T`, `a.sum()`), `for` loops that
 * accumulate, branches on `np.sum(e).item()`, and a number result through `.item()`.
 *
 * Invariants, whatever the tree: the renderer tracks every value's shape, so every operation
 * is well formed (an operand that would not broadcast is first reduced with np.mean to a scalar;
 * matmul is used only where the inner dimensions agree, with a transpose when that makes them
 * agree); log, sqrt, div and pow get guarded operands and exp a tanh-squashed one, as in
 * generator.ts; every loop runs a literal number of times.
 */
import fc from "fast-check";

export type Shape = readonly number[];

/** Parameter shapes (tags `@shape name 3,4`; `scalar` for []). */
export const SHAPES: readonly Shape[] = [[3, 4], [4], [3, 1], [1, 4], [3], []];

export type NdExpr =
  | { k: "p"; pick: number }
  | { k: "n"; pick: number }
  | { k: "u"; f: number; e: NdExpr }
  | { k: "b"; f: number; a: NdExpr; b: NdExpr }
  | { k: "red"; op: "sum" | "mean" | "max" | "min"; axis: number; keep: boolean; method: boolean; e: NdExpr }
  | { k: "mm"; a: NdExpr; b: NdExpr }
  | { k: "t"; method: boolean; e: NdExpr };

export type NdStmt =
  | { k: "let"; mut: boolean; e: NdExpr }
  | { k: "set"; pick: number; e: NdExpr }
  | { k: "num"; red: "sum" | "mean"; e: NdExpr }
  | { k: "for"; n: number; body: NdStmt[] }
  | { k: "if"; e: NdExpr; then: NdStmt[]; else: NdStmt[] };

export interface NdFnSpec {
  /** Shape indices into SHAPES for NDArray parameters; -1 for a number parameter. */
  readonly params: readonly number[];
  readonly body: readonly NdStmt[];
  readonly result: NdExpr;
  readonly result2: NdExpr;
  readonly domain: readonly [number, number];
}

const UNARY = 11;
const BINARY = 9;

export function ndFnArb(): fc.Arbitrary<NdFnSpec> {
  const pick = fc.nat({ max: 7 });
  const { expr } = fc.letrec<{ expr: NdExpr; leaf: NdExpr }>((tie) => ({
    leaf: fc.oneof(
      { arbitrary: pick.map((p): NdExpr => ({ k: "p", pick: p })), weight: 4 },
      { arbitrary: pick.map((p): NdExpr => ({ k: "n", pick: p })), weight: 1 },
    ),
    expr: fc.oneof(
      { maxDepth: 3, depthSize: "small", withCrossShrink: true },
      { arbitrary: tie("leaf"), weight: 3 },
      { arbitrary: fc.record({ f: fc.nat({ max: UNARY - 1 }), e: tie("expr") }).map((r): NdExpr => ({ k: "u", ...r })), weight: 3 },
      { arbitrary: fc.record({ f: fc.nat({ max: BINARY - 1 }), a: tie("expr"), b: tie("expr") }).map((r): NdExpr => ({ k: "b", ...r })), weight: 4 },
      {
        arbitrary: fc
          .record({ op: fc.constantFrom("sum" as const, "mean" as const, "max" as const, "min" as const), axis: fc.integer({ min: -1, max: 1 }), keep: fc.boolean(), method: fc.boolean(), e: tie("expr") })
          .map((r): NdExpr => ({ k: "red", ...r })),
        weight: 1,
      },
      { arbitrary: fc.record({ a: tie("expr"), b: tie("expr") }).map((r): NdExpr => ({ k: "mm", ...r })), weight: 1 },
      { arbitrary: fc.record({ method: fc.boolean(), e: tie("expr") }).map((r): NdExpr => ({ k: "t", ...r })), weight: 1 },
    ),
  }));
  const { stmt } = fc.letrec<{ stmt: NdStmt; block: NdStmt[] }>((tie) => ({
    stmt: fc.oneof(
      { maxDepth: 2, depthSize: "small", withCrossShrink: true },
      { arbitrary: fc.record({ mut: fc.boolean(), e: expr }).map((r): NdStmt => ({ k: "let", ...r })), weight: 4 },
      { arbitrary: fc.record({ pick, e: expr }).map((r): NdStmt => ({ k: "set", ...r })), weight: 3 },
      { arbitrary: fc.record({ red: fc.constantFrom("sum" as const, "mean" as const), e: expr }).map((r): NdStmt => ({ k: "num", ...r })), weight: 2 },
      { arbitrary: fc.record({ n: fc.integer({ min: 1, max: 4 }), body: tie("block") }).map((r): NdStmt => ({ k: "for", ...r })), weight: 2 },
      { arbitrary: fc.record({ e: expr, then: tie("block"), else: tie("block") }).map((r): NdStmt => ({ k: "if", ...r })), weight: 1 },
    ),
    block: fc.array(tie("stmt"), { minLength: 1, maxLength: 3 }),
  }));
  return fc
    .record({
      params: fc.array(fc.integer({ min: -1, max: SHAPES.length - 1 }), { minLength: 1, maxLength: 3 }),
      body: fc.array(stmt, { maxLength: 4 }),
      result: expr,
      result2: expr,
      domain: fc.constantFrom<readonly [number, number]>([-1, 1], [0.5, 2], [-2, 2]),
    })
    .map((f) => (f.params.some((p) => p >= 0) ? f : { ...f, params: [0, ...f.params] }));
}

// ---- rendering --------------------------------------------------------------------------------

/** A rendered value: its text and shape ("num" for a JS number, which broadcasts as []). */
interface V {
  readonly s: string;
  readonly shape: Shape | "num";
}
interface NdVar {
  readonly name: string;
  readonly shape: Shape;
  readonly mut: boolean;
}
interface NdScope {
  nds: NdVar[];
  nums: string[];
}

const dims = (v: V): Shape => (v.shape === "num" ? [] : v.shape);
const same = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/** numpy broadcasting; undefined if the shapes do not broadcast. */
export function broadcast(a: Shape, b: Shape): Shape | undefined {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out.push(Math.max(x, y));
  }
  return out;
}

const shapeTag = (s: Shape): string => (s.length ? s.join(",") : "scalar");

export class NdRenderer {
  private count = 0;
  /** `names`: how the body reads each parameter (default u, v, w; shapes.ts passes `model.w`, `params[0]`). */
  constructor(
    private readonly f: NdFnSpec,
    readonly name: string,
    private readonly names: readonly string[] = f.params.map((_, i) => ["u", "v", "w"][i] ?? `u${i}`),
  ) {}

  render(): string[] {
    const names = this.names;
    const tags = [`@domain ${this.f.domain[0]} ${this.f.domain[1]}`];
    this.f.params.forEach((p, i) => p >= 0 && tags.push(`@shape ${names[i]} ${shapeTag(SHAPES[p])}`));
    const sig = this.f.params.map((p, i) => `${names[i]}: ${p < 0 ? "number" : "NDArray"}`).join(", ");
    const { lines, r1, r2 } = this.body();
    lines.push(`return np.sum(${r1}).item() + np.mean(${r2}).item();`);
    return [`/** ${tags.join(" ")} */`, `export function ${this.name}(${sig}): number {`, ...lines.map((l) => "  " + l), "}"];
  }

  /** The body's statements and its two results (NDArray or number expressions), before the return. */
  body(): { lines: string[]; r1: string; r2: string } {
    const scope: NdScope = { nds: [], nums: [] };
    this.f.params.forEach((p, i) => {
      if (p < 0) scope.nums.unshift(this.names[i]);
      else scope.nds.unshift({ name: this.names[i], shape: SHAPES[p], mut: false });
    });
    const lines = this.block(this.f.body, scope);
    return { lines, r1: this.ex(this.f.result, scope).s, r2: this.ex(this.f.result2, scope).s };
  }

  private block(stmts: readonly NdStmt[], outer: NdScope): string[] {
    const scope: NdScope = { nds: [...outer.nds], nums: [...outer.nums] };
    return stmts.flatMap((s) => this.stmt(s, scope));
  }

  private stmt(s: NdStmt, scope: NdScope): string[] {
    switch (s.k) {
      case "let": {
        const v = this.ex(s.e, scope);
        const name = `t${++this.count}`;
        if (v.shape === "num") {
          scope.nums.unshift(name);
          return [`${s.mut ? "let" : "const"} ${name} = ${v.s};`];
        }
        scope.nds.unshift({ name, shape: v.shape, mut: s.mut });
        return [`${s.mut ? "let" : "const"} ${name}${s.mut ? ": NDArray" : ""} = ${v.s};`];
      }
      case "set": {
        const targets = scope.nds.filter((v) => v.mut);
        if (!targets.length) return this.stmt({ k: "let", mut: true, e: s.e }, scope);
        const t = targets[s.pick % targets.length];
        const v = this.ex(s.e, scope);
        // Keep the variable's shape: add what broadcasts into it, else its mean.
        const b = broadcast(t.shape, dims(v));
        const rhs = v.shape !== "num" && same(dims(v), t.shape) ? v.s : b && same(b, t.shape) ? `np.add(np.mul(${t.name}, 0.5), ${v.s})` : `np.add(${t.name}, np.mean(${v.s}))`;
        return [`${t.name} = ${rhs};`];
      }
      case "num": {
        const v = this.ex(s.e, scope);
        const name = `s${++this.count}`;
        scope.nums.unshift(name);
        return [`const ${name} = np.${s.red}(${v.s}).item();`];
      }
      case "for": {
        const i = `k${++this.count}`;
        const inner: NdScope = { nds: scope.nds, nums: [i, ...scope.nums] };
        return [`for (let ${i} = 0; ${i} < ${s.n}; ${i}++) {`, ...this.block(s.body, inner).map((l) => "  " + l), "}"];
      }
      case "if": {
        const c = this.ex(s.e, scope).s;
        return [`if (np.sum(${c}).item() > 0) {`, ...this.block(s.then, scope).map((l) => "  " + l), "} else {", ...this.block(s.else, scope).map((l) => "  " + l), "}"];
      }
    }
  }

  private ex(e: NdExpr, scope: NdScope): V {
    switch (e.k) {
      case "p": {
        if (!scope.nds.length) return this.ex({ k: "n", pick: e.pick }, scope);
        const v = scope.nds[e.pick % scope.nds.length];
        return { s: v.name, shape: v.shape };
      }
      case "n":
        if (!scope.nums.length) return { s: "0.5", shape: "num" };
        return { s: scope.nums[e.pick % scope.nums.length], shape: "num" };
      case "u": {
        const a = this.ex(e.e, scope);
        const shape = dims(a);
        const forms = [
          `np.tanh(${a.s})`,
          `np.sin(${a.s})`,
          `np.cos(${a.s})`,
          `np.square(${a.s})`,
          `np.neg(${a.s})`,
          `np.exp(np.tanh(${a.s}))`,
          `np.log(np.add(np.square(${a.s}), 1))`,
          `np.sqrt(np.add(np.square(${a.s}), 0.5))`,
          `np.sigmoid(${a.s})`,
          `np.relu(${a.s})`,
          `np.abs(${a.s})`,
        ];
        return { s: forms[e.f % forms.length], shape };
      }
      case "b": {
        const a = this.ex(e.a, scope);
        let b = this.ex(e.b, scope);
        let shape = broadcast(dims(a), dims(b));
        if (!shape) {
          b = { s: `np.mean(${b.s})`, shape: [] };
          shape = dims(a);
        }
        const method = a.shape !== "num";
        const forms = [
          `np.add(${a.s}, ${b.s})`,
          `np.mul(${a.s}, ${b.s})`,
          `np.sub(${a.s}, ${b.s})`,
          `np.div(${a.s}, np.add(np.square(${b.s}), 1))`,
          `np.maximum(${a.s}, ${b.s})`,
          `np.minimum(${a.s}, ${b.s})`,
          `np.pow(np.add(np.square(${a.s}), 0.5), np.tanh(${b.s}))`,
          method ? `${a.s}.add(${b.s})` : `np.add(${a.s}, ${b.s})`,
          method ? `${a.s}.mul(${b.s})` : `np.mul(${a.s}, ${b.s})`,
        ];
        return { s: forms[e.f % forms.length], shape };
      }
      case "red": {
        const a = this.ex(e.e, scope);
        const d = dims(a);
        if (e.axis < 0 || e.axis >= d.length) {
          const s = e.method && a.shape !== "num" && (e.op === "sum" || e.op === "mean") ? `${a.s}.${e.op}()` : `np.${e.op}(${a.s})`;
          return { s, shape: [] };
        }
        const shape = e.keep ? d.map((x, i) => (i === e.axis ? 1 : x)) : d.filter((_, i) => i !== e.axis);
        return { s: `np.${e.op}(${a.s}, ${e.axis}${e.keep ? ", true" : ""})`, shape };
      }
      case "mm": {
        const a = this.ex(e.a, scope);
        const b = this.ex(e.b, scope);
        const x = dims(a);
        const y = dims(b);
        if (x.length === 2 && y.length === 2) {
          if (x[1] === y[0]) return { s: `np.matmul(${a.s}, ${b.s})`, shape: [x[0], y[1]] };
          if (x[1] === y[1]) return { s: `np.matmul(${a.s}, np.transpose(${b.s}))`, shape: [x[0], y[0]] };
          if (x[0] === y[0]) return { s: `np.matmul(np.transpose(${a.s}), ${b.s})`, shape: [x[1], y[1]] };
        }
        if (x.length === 2 && y.length === 1 && x[1] === y[0]) return { s: `np.dot(${a.s}, ${b.s})`, shape: [x[0]] };
        if (x.length === 1 && y.length === 1 && x[0] === y[0]) return { s: `np.dot(${a.s}, ${b.s})`, shape: [] };
        return this.ex({ k: "b", f: 1, a: e.a, b: e.b }, scope);
      }
      case "t": {
        const a = this.ex(e.e, scope);
        const d = dims(a);
        if (d.length !== 2) return a;
        return { s: e.method ? `${a.s}.T` : `np.transpose(${a.s})`, shape: [d[1], d[0]] };
      }
    }
  }
}
