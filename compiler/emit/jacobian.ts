/**
 * Jacobian entry points (JAX's jacrev and jacfwd), a few calls of generated functions:
 *   f_jacrev   f_vjp once (one forward sweep), then its pullback once per output entry
 *   f_jacfwd   f_jvpPair once per input entry, along each unit direction (on copies of the
 *              arrays f writes, but the last time: the caller's arrays end as one run leaves them)
 * The runtime (runtime/jacobian.ts) lays the results out as rows of the output entries, each
 * shaped like the input.
 */
import type { IrFunction, Param } from "../ir/ir.js";
import { printTy } from "../ir/print.js";
import { Code, generated, type Generated } from "./code.js";
import { paramList } from "./functions.js";
import { Namer, RT } from "./names.js";

/** The type of f's Jacobian with respect to parameter `x` (runtime/api.ts, JacobianOf). */
function jacobianTy(fn: IrFunction, x: Param): string {
  const out = printTy(fn.ret);
  const row = printTy(x.ty);
  if (fn.ret.k === "num") return row;
  return x.ty.k === "num" ? out : `${row}[]`;
}

export function emitJacrev(fn: IrFunction, i: number, names: { jac: string; vjp: string }): Generated {
  const ty = jacobianTy(fn, fn.params[i]);
  const c = new Code().at(fn.pos.start);
  c.open(`export function ${names.jac}(${paramList(fn.params)}): ${ty}`);
  c.line(`return ${RT}.jacobianRows(${names.vjp}(${fn.params.map((q) => q.name).join(", ")}), ${i}) as ${ty};`);
  c.close();
  return generated(c);
}

export function emitJacfwd(fn: IrFunction, i: number, names: { jac: string; pair: string }, captured: number, written: ReadonlySet<number>): Generated {
  const namer = new Namer(fn.reserved);
  const t = namer.fresh("t", false);
  const last = namer.fresh("last", false);
  const user = fn.params.slice(0, fn.params.length - captured);
  const closed = fn.params.slice(user.length);
  const x = fn.params[i];
  const ty = jacobianTy(fn, x);
  const c = new Code().at(fn.pos.start);
  c.open(`export function ${names.jac}(${paramList(fn.params)}): ${ty}`);
  // Arrays f writes: each column runs on copies, the last on the caller's (runtime/jacobian.ts).
  const primals = `[${user.map((q, k) => (written.has(k) ? `${last} ? ${q.name} : ${RT}.copyArrays(${q.name})` : q.name)).join(", ")}]`;
  const tangents = `[${user.map((_, k) => (k === i ? t : "undefined")).join(", ")}]`;
  const extra = closed.map((q) => `, ${q.name}`).join("");
  c.line(`return ${RT}.jacobianColumns((${t}: ${printTy(x.ty)}, ${last}: boolean) => ${names.pair}(${primals}, ${tangents}${extra}), ${x.name}) as ${ty};`);
  c.close();
  return generated(c);
}
