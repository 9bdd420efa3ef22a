/**
 * jacfwd in vector forward mode: `f_jvp_lanes` carries LANES directions through one run of f
 * (lanes.ts), and `f_jacfwd` calls it once per LANES columns, each lane seeded with its column's
 * unit direction, instead of calling `f_jvp` once per column. The columns are written into a
 * row-major block: the caller's (jacfwdInto), or one of its own that the runtime lays out as JAX
 * does (runtime/jacobian.ts, jacobianFromBlock).
 */
import type { Prepared, Specializer } from "../diff/prepare.js";
import { forwardFunction } from "../diff/forward.js";
import { NUM, type Expr, type GenFunction, type IrFunction, type Param } from "../ir/ir.js";
import { bin, cond, name, num } from "../ir/make.js";
import { forEachStmt, mapExpr, mapStmtExprs } from "../ir/walk.js";
import { printFunction } from "../ir/print-stmt.js";
import { printTy } from "../ir/print.js";
import { Code, generated, type Generated } from "./code.js";
import { laneBody } from "./lanes.js";
import { Namer, RT } from "./names.js";
import { sumText } from "./buffer-rows.js";
import { paramList } from "./functions.js";

/** Directions per run: enough to share the primal work, few enough to keep the code small. */
export const LANES = 8;
/** The largest f_jvp (in statements) split into lanes: each lane repeats its tangent half. */
const LANE_BUDGET = 600;

/**
 * `f_jvp_lanes` as IR: f_jvp with LANES directions, each a unit vector. Instead of a tangent
 * per active parameter, lane k takes `q_at_k`, the position of its 1 in parameter q (any other
 * value, -1 or past the end, where the 1 is in another parameter or the lane is unused): a read
 * `q_dot[i]` becomes `i === q_at_k ? 1 : 0`, and no direction array is made. Null if f_jvp cannot
 * be split into lanes, or uses a tangent parameter other than by reading its entries.
 */
export function laneFunction(p: Prepared, spec: Specializer, fnName: string): GenFunction | null {
  const g = forwardFunction(p, spec, fnName);
  let size = 0;
  forEachStmt(g.body, () => void size++);
  if (size > LANE_BUDGET) return null;
  const namer = p.namer.clone();
  const K = lanesFor(p.activeParams);
  const seeds = p.activeParams.map((q) => p.namer.dot(q.name));
  const lanes = laneBody(g.body, seeds, K, new Set([`${RT}.retF`, `${RT}.retO`]), (b) => namer.fresh(b, false));
  if (!lanes) return null;
  // Lane k's tangent of parameter q -> the name of its 1's position.
  const unit = new Map<string, { at: string; arr: boolean }>();
  for (const q of p.activeParams)
    for (let k = 0; k < K; k++) unit.set(lanes.name(p.namer.dot(q.name), k), { at: namer.fresh(`${q.name}_at${k === 0 ? "" : `_${k}`}`, false), arr: q.ty.k !== "num" });
  let whole = false;
  forEachStmt(lanes.stmts, (s) => {
    if ((s.k === "let" && unit.has(s.name)) || (s.k === "assign" && unit.has(s.target.k === "var" ? s.target.name : s.target.arr))) whole = true;
  });
  const one = (c: Expr): Expr => cond(c, num(1), num(0));
  const rewrite = (e: Expr): Expr =>
    mapExpr(e, (x) => {
      if (x.k === "index" && x.arr.k === "var" && unit.get(x.arr.name)?.arr) return one(bin("===", rewrite(x.idx), name(unit.get(x.arr.name)!.at)));
      if (x.k === "var" && unit.has(x.name)) {
        if (unit.get(x.name)!.arr) whole = true;
        return one(bin("===", name(unit.get(x.name)!.at), num(0)));
      }
      return undefined;
    });
  // (mapStmtExprs reaches the nested statements' expressions too.)
  const body = lanes.stmts.map((s) => mapStmtExprs(s, rewrite));
  if (whole) return null;
  const params = g.params.flatMap((q) => (seeds.includes(q.name) ? Array.from({ length: K }, (_, k) => ({ name: unit.get(lanes.name(q.name, k))!.at, ty: NUM })) : [q]));
  return { ...g, params, body };
}

/** Lanes for an active set: as many as its number parameters when it has only those, else LANES. */
export function lanesFor(active: readonly Param[]): number {
  return active.every((q) => q.ty.k === "num") ? Math.max(1, Math.min(LANES, active.length)) : LANES;
}

export function emitJvpLanes(p: Prepared, spec: Specializer, name: string): Generated {
  const g = laneFunction(p, spec, name);
  if (!g) throw new Error(`internal: ${name} was asked for, but f_jvp cannot be split into lanes`);
  return generated(printFunction(g));
}

/**
 * jacfwd (into the caller's buffer when `into`) of an f that writes none of its arguments,
 * through `names.lanes` (f_jvp_lanes with K lanes): lane k of a run carries column c0 + k, a unit
 * direction given as its position in each parameter (lanes past the last column carry none).
 */
export function emitJacfwdLanes(fn: IrFunction, wrt: readonly number[], tuple: boolean, into: boolean, K: number, names: { jac: string; lanes: string }, resultTy: string): Generated {
  const namer = new Namer(fn.reserved);
  const fresh = (b: string): string => namer.fresh(b, false);
  const J = fresh("J");
  const offset = into ? fresh("offset") : "0";
  const n = fresh("n");
  const m = fresh("m");
  const c0 = fresh("c0");
  const i = fresh("i");
  const numOut = fn.ret.k === "num";
  const qs = wrt.map((k) => fn.params[k]);
  const widths = qs.map((q) => (q.ty.k === "num" ? 1 : `${q.name}.length`));
  const firsts = new Map(qs.map((q, t) => [q.name, sumText(widths.slice(0, t))] as const));
  const lane = (k: number): string => (k === 0 ? c0 : `${c0} + ${k}`);
  const at = (q: string, k: number): string => (firsts.get(q) === "0" ? lane(k) : `${lane(k)} - (${firsts.get(q)})`);
  const argsWith = (pos: (q: string, k: number) => string): string => fn.params.flatMap((q) => (firsts.has(q.name) ? [q.name, ...Array.from({ length: K }, (_, k) => pos(q.name, k))] : [q.name])).join(", ");
  const args = argsWith(at);
  const c = new Code().at(fn.pos.start);
  c.open(into ? `export function ${names.jac}(${J}: Float64Array, ${offset}: number, ${paramList(fn.params)}): Float64Array` : `export function ${names.jac}(${paramList(fn.params)}): ${resultTy}`);
  c.line(`const ${n}: number = ${sumText(widths)};`);
  if (!into) c.line(`let ${J}: Float64Array = ${RT}.EMPTY_F64;`);
  c.line(`let ${m} = ${numOut ? 1 : 0};`);
  if (numOut) c.line(into ? `${RT}.jacobianSpace(${J}, ${offset}, 1, ${n});` : `${J} = ${RT}.zerosF64(${n});`);
  const to = (e: string): string => (offset === "0" ? e : `${offset} + ${e}`);
  c.open(`for (let ${c0} = 0; ${c0} < ${n}; ${c0} += ${K})`);
  c.line(`${names.lanes}(${args});`);
  if (!numOut) {
    c.open(`if (${c0} === 0)`);
    c.line(`${m} = (${RT}.retO[0] as ${printTy(fn.ret)}).length;`);
    c.line(into ? `${RT}.jacobianSpace(${J}, ${offset}, ${m}, ${n});` : `${J} = ${RT}.zerosF64(${m} * ${n});`);
    c.close();
  }
  for (let k = 0; k < K; k++) {
    const guard = k === 0 ? "" : `if (${lane(k)} < ${n}) `;
    if (numOut) c.line(`${guard}${J}[${to(lane(k))}] = ${RT}.retF[${k}];`);
    else {
      const col = fresh("col");
      if (k > 0) c.open(guard.trim());
      c.line(`const ${col} = ${RT}.retO[${k}] as ${printTy(fn.ret)};`);
      c.line(`for (let ${i} = 0; ${i} < ${m}; ${i}++) ${J}[${to(`${i} * ${n} + ${lane(k)}`)}] = ${col}[${i}];`);
      if (k > 0) c.close();
    }
  }
  c.close();
  if (into) c.line(`return ${J};`);
  else {
    // No columns: the output's length from one run.
    if (!numOut) c.line(`if (${n} === 0) ${m} = ${names.lanes}(${argsWith(() => "-1")}).length;`);
    const kinds = qs.map((q) => (q.ty.k === "num" ? `"num"` : JSON.stringify(q.ty.k === "arr" ? q.ty.ctor : "Array")));
    const out = numOut ? `"num"` : JSON.stringify(fn.ret.k === "arr" ? fn.ret.ctor : "Array");
    c.line(`return ${RT}.jacobianFromBlock(${J}, ${m}, [${qs.map((q) => q.name).join(", ")}], [${kinds.join(", ")}], ${out}, ${tuple}) as ${resultTy};`);
  }
  c.close();
  return generated(c);
}
