/**
 * Tangent functions: a derivative written as an ordinary function of adc's IR, so that adc can
 * differentiate it again. This is how higher derivatives are made.
 *
 * T(f) is forward mode (diff/forward.ts) with two differences from `f_jvp`: it returns the
 * result's tangent instead of the value, and a call `g(a)` becomes `g(a)` for the value and
 * `T(g)(a, a_dot)` for the tangent, a call of another tangent function. The output contains
 * no runtime calls and no scratch lanes: only the operations f itself uses, each with a rule.
 *
 * Two shapes:
 * - unit: T(f) has f's parameters; the active one (a number) has tangent 1. Then
 *   T(f)(x) = df/dx, so `grad(grad(f))` is the gradient of T(f), and a third derivative the
 *   gradient of T(T(f)).
 * - directed: every active parameter is followed by its tangent, as in `f_jvp`; T(f)(x, v) is
 *   the directional derivative <grad f(x), v>, whose gradient in x is the Hessian times v.
 *
 * A callee that writes into an array it is given would run twice (for its value and inside its
 * tangent function): those calls are refused (tangentRefusals). Objects and lists of numbers,
 * arrays and NDArrays (pytrees) are parameters like any other: their tangents have their shape.
 */
import type { Expr, FnId, IrFunction, Param, Pos, Stmt, Ty } from "../ir/ir.js";
import { fnKey } from "../analysis/summaries.js";
import { forEachExpr, forEachStmt, mapStmtLists, reads, stmtExprs } from "../ir/walk.js";
import { num } from "../ir/make.js";
import { cleanup } from "../optimize/cleanup.js";
import { Forward, type TangentCalls } from "./forward.js";
import { ndTangentRefusal } from "../rules/nd-tangents.js";
import { ndDiffPositions } from "../rules/ndarray.js";
import { drawsRandom } from "../analysis/fence.js";
import type { Prepared, Specializer } from "./prepare.js";

export function tangentFunction(prepared: Prepared, spec: Specializer, id: FnId, unit: boolean, calls: TangentCalls): IrFunction {
  const p: Prepared = { ...prepared, namer: prepared.namer.clone() };
  const fn = p.fn;
  const active = new Set(p.activeParams.map((q) => q.name));
  const params: Param[] = unit ? [...fn.params] : fn.params.flatMap((q) => (active.has(q.name) ? [q, { name: p.namer.dot(q.name), ty: q.ty, pos: q.pos }] : [q]));
  const body: Stmt[] = [];
  // The direction of a unit tangent function: d/dx along the active number parameter. Its
  // tangent is the constant 1 unless the body assigns the parameter (then a variable from 1).
  const assigned = new Set<string>();
  forEachStmt(p.body, (s) => s.k === "assign" && s.target.k === "var" && assigned.add(s.target.name));
  const fixed = new Map<string, Expr>();
  for (const q of unit ? p.activeParams : []) {
    if (!assigned.has(q.name)) fixed.set(q.name, num(1));
    else body.push({ k: "let", name: p.namer.dot(q.name), ty: q.ty, init: num(1), isConst: false, pos: q.pos });
  }
  // A parameter outside the active set that the body assigns an active value starts at zero.
  for (const q of fn.params) if (!active.has(q.name) && p.isActive(q.name)) body.push({ k: "let", name: p.namer.dot(q.name), ty: q.ty, init: zero(q), isConst: false, pos: q.pos });
  body.push(...new Forward(p, spec, { ...calls, fixed }).block(p.body));
  // Values only the (dropped) result needed go: what T(f) computes is what its tangent needs.
  const clean = cleanup(body, new Set());
  const sunk = sinkFreshArrays(clean, mentions(clean));
  const cleaned = copyHandOvers(sunk, mentions(sunk, false));
  body.length = 0;
  body.push(...cleaned);
  const vars = new Map<string, Ty>(params.map((q) => [q.name, q.ty]));
  forEachStmt(body, (s) => {
    if (s.k === "let") vars.set(s.name, s.ty);
  });
  return { id, params, body, ret: fn.ret, vars, reserved: new Set([...fn.reserved, ...vars.keys()]), pos: fn.pos, source: fn.source };
}

function zero(q: Param): Expr {
  if (q.ty.k !== "arr") return num(0);
  return { k: "alloc", ctor: q.ty.ctor, size: { k: "len", arr: { k: "var", name: q.name, ty: q.ty, pos: q.pos }, pos: q.pos }, pos: q.pos };
}

/**
 * What a tangent function cannot be made from, with where: NDArray code, and calls that write into
 * an active array (they would run twice). Empty when T(f) can be made.
 */
export function tangentRefusals(p: Prepared, spec: Specializer): { pos: Pos; message: string }[] {
  const out: { pos: Pos; message: string }[] = [];
  // (The value and the derivative of a second derivative are separate evaluations.)
  if (drawsRandom(p.body)) out.push({ pos: p.fn.pos, message: `a higher derivative of '${p.fn.id.name}', which draws from np.random, is not supported (each evaluation would draw other numbers); draw them outside and pass them in as an argument` });
  forEachStmt(p.body, (s) => {
    for (const e of stmtExprs(s))
      forEachExpr(e, (x: Expr) => {
        if (x.k === "call" && x.fn.k === "nd" && ndDiffPositions(x.fn.op, x.fn.list).some((i) => p.isActiveAtom(x.args[i]))) {
          const why = ndTangentRefusal({ op: x.fn.op, args: x.args });
          if (why) out.push({ pos: x.pos, message: why });
        }
        if (x.k !== "call" || x.fn.k !== "user") return;
        // A customVjp rule gives first derivatives only (T of a customJvp function calls its rule,
        // tangents.ts; T of a checkpoint is T of its function).
        const custom = spec.callee(x.fn.fn).custom;
        if (custom && custom.kind !== "jvp" && !custom.target && x.args.some((a) => p.isActiveAtom(a)))
          out.push({
            pos: x.pos,
            message: custom.kind === "grad"
              ? `a derivative of order three through grad(${custom.name}) of an array is not supported yet (its derivatives are Hessian-vector products, made once)`
              : `a higher derivative through '${x.fn.text ?? x.fn.fn.name}', which has a custom rule, is not supported (the rule gives first derivatives only)`,
          });
        const writes = spec.mutations.get(fnKey(x.fn.fn));
        if (x.args.some((a, j) => writes?.has(j) && p.isActiveAtom(a)))
          out.push({ pos: x.pos, message: `a higher derivative through '${x.fn.text ?? x.fn.fn.name}', which writes into an array argument that carries a derivative, is not supported yet` });
      });
  });
  return out;
}

/**
 * How often each name is mentioned (read, or written through) in the statements; with
 * `assigned` false, a whole new value assigned to it does not count.
 */
function mentions(stmts: readonly Stmt[], assigned = true): Map<string, number> {
  const n = new Map<string, number>();
  const add = (name: string): void => void n.set(name, (n.get(name) ?? 0) + 1);
  forEachStmt(stmts, (s) => {
    for (const e of stmtExprs(s)) forEachExpr(e, (x) => x.k === "var" && add(x.name));
    if (s.k === "assign" && (s.target.k === "index" || assigned || s.op)) add(s.target.k === "var" ? s.target.name : s.target.arr);
  });
  return n;
}

/**
 * `w = v` where the array v is read nowhere else (an inlined callee's result handed to the
 * caller's variable): `w = v.slice()`. Differentiating T(f) refuses two names for one array
 * (ADC1011); nothing can tell the copy from the original, as nothing else reads v.
 */
function copyHandOvers(stmts: readonly Stmt[], reads: ReadonlyMap<string, number>): Stmt[] {
  const copy = (e: Expr | undefined): Expr | undefined =>
    e && e.k === "var" && e.ty.k === "arr" && reads.get(e.name) === 1 ? { k: "copy", ctor: e.ty.ctor, e, pos: e.pos } : e;
  return stmts.map((s): Stmt => {
    if (s.k === "let") return s.ty.k === "arr" ? { ...s, init: copy(s.init) } : s;
    if (s.k === "assign") return s.target.k === "var" && s.target.ty.k === "arr" && !s.op ? { ...s, value: copy(s.value)! } : s;
    return mapStmtLists(s, (l) => copyHandOvers(l, reads));
  });
}

/**
 * `const _t0 = Float64Array.from(w); ...; w = _t0;` back to `w = Float64Array.from(w)`. A-normal
 * form names every fresh array; left so, T(f) would hand one array two names (`w = _t0`), which
 * differentiating T(f) refuses (ADC1011).
 */
function sinkFreshArrays(stmts: readonly Stmt[], uses: ReadonlyMap<string, number>): Stmt[] {
  const out = stmts.map((s) => mapStmtLists(s, (l) => sinkFreshArrays(l, uses)));
  for (let i = 0; i < out.length; i++) {
    const s = out[i];
    if (s.k !== "let" || !s.isConst || !s.init || !["copy", "alloc", "arrlit"].includes(s.init.k) || uses.get(s.name) !== 1) continue;
    // Past declarations and plain assignments that neither read the temporary nor write what
    // its array was made from (and call no user function, which might write it).
    const from = reads(s.init);
    const harmless = (t: Stmt): boolean =>
      (t.k === "let" || (t.k === "assign" && t.target.k === "var" && !from.has(t.target.name))) &&
      !stmtExprs(t).some((e) => reads(e).has(s.name) || userCall(e));
    let j = i + 1;
    while (j < out.length && harmless(out[j])) j++;
    const use = out[j];
    if (!use || use.k !== "assign" || use.target.k !== "var" || use.value.k !== "var" || use.value.name !== s.name) continue;
    out[j] = { ...use, value: s.init };
    out.splice(i, 1);
    i--;
  }
  return out;
}

function userCall(e: Expr): boolean {
  let found = false;
  forEachExpr(e, (x) => {
    if (x.k === "call" && x.fn.k === "user") found = true;
  });
  return found;
}
