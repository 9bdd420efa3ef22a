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

/** One Jacobian, or a tuple of them (argnums written as a list). */
function resultTy(fn: IrFunction, wrt: readonly number[], tuple: boolean): string {
  return tuple ? `[${wrt.map((i) => jacobianTy(fn, fn.params[i])).join(", ")}]` : jacobianTy(fn, fn.params[wrt[0]]);
}

export function emitJacrev(fn: IrFunction, wrt: readonly number[], tuple: boolean, names: { jac: string; vjp: string }): Generated {
  const ty = resultTy(fn, wrt, tuple);
  const args = fn.params.map((q) => q.name).join(", ");
  const c = new Code().at(fn.pos.start);
  c.open(`export function ${names.jac}(${paramList(fn.params)}): ${ty}`);
  const k = tuple ? `[${wrt.join(", ")}]` : String(wrt[0]);
  c.line(`return ${RT}.jacobianRows(${names.vjp}(${args}), ${k}, [${args}]) as ${ty};`);
  c.close();
  return generated(c);
}

export function emitJacfwd(fn: IrFunction, wrt: readonly number[], tuple: boolean, names: { jac: string; pair: string }, captured: number, written: ReadonlySet<number>): Generated {
  const namer = new Namer(fn.reserved);
  const t = namer.fresh("t", false);
  const last = namer.fresh("last", false);
  const user = fn.params.slice(0, fn.params.length - captured);
  const closed = fn.params.slice(user.length);
  const ty = resultTy(fn, wrt, tuple);
  const extra = closed.map((q) => `, ${q.name}`).join("");
  // Arrays f writes: each column runs on copies, the very last on the caller's (runtime/jacobian.ts).
  const columns = (i: number, final: boolean): string => {
    const x = fn.params[i];
    const primals = `[${user.map((q, k) => (written.has(k) ? (final ? `${last} ? ${q.name} : ${RT}.copyArrays(${q.name})` : `${RT}.copyArrays(${q.name})`) : q.name)).join(", ")}]`;
    const tangents = `[${user.map((_, k) => (k === i ? t : zeros.get(k) ?? "undefined")).join(", ")}]`;
    return `${RT}.jacobianColumns((${t}: ${printTy(x.ty)}, ${last}: boolean) => ${names.pair}(${primals}, ${tangents}${extra}), ${x.name})`;
  };
  const c = new Code().at(fn.pos.start);
  c.open(`export function ${names.jac}(${paramList(fn.params)}): ${ty}`);
  // With several arguments, the others' tangents are zero while one's columns are made.
  const zeros = new Map<number, string>();
  for (const k of tuple ? wrt : []) {
    const q = fn.params[k];
    if (q.ty.k === "num") zeros.set(k, "0");
    else {
      const z = namer.fresh(`${q.name}_zero`, false);
      c.line(`const ${z} = ${RT}.zerosLike(${q.name});`);
      zeros.set(k, z);
    }
  }
  if (!tuple) c.line(`return ${columns(wrt[0], true)} as ${ty};`);
  else c.line(`return [${wrt.map((i, n) => columns(i, n === wrt.length - 1)).join(", ")}] as ${ty};`);
  c.close();
  return generated(c);
}
