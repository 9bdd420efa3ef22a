/**
 * Entry points for second derivatives that are not one generated function but a few calls of
 * them (diff/tangent.ts explains T(f), the directed tangent function):
 *   f_hessian        hessian(f) for an array argument: row k is grad_x T(f)(x, e_k)
 *   f_grad_jvpPair   jvp(grad(f), primals, tangents): [grad f, the Hessian times the tangents]
 *   f_grad_vjp       vjp(grad(f), ...primals): [grad f, u => the Hessian times u, per argument]
 * A Hessian-vector product is one gradient of T(f), a small constant times the cost of grad(f).
 */
import type { IrFunction, Param } from "../ir/ir.js";
import { printTy } from "../ir/print.js";
import { Code, generated, type Generated } from "./code.js";
import { omissible, optionalElement, paramList, primalOrDefault, tangentOrZero } from "./functions.js";
import { Namer, RT } from "./names.js";

/** The arguments of T(f): each parameter in `directed` followed by its direction. */
function tangentArgs(params: readonly Param[], directed: ReadonlySet<number>, arg: (k: number) => string, dir: (k: number) => string): string {
  return params.flatMap((_, k) => (directed.has(k) ? [arg(k), dir(k)] : [arg(k)])).join(", ");
}

/**
 * Arguments f writes (`written`, by position) are passed as copies to every evaluation but the
 * one that stands for f's own run, so each evaluation starts from the caller's values and the
 * caller's arrays end as one run of f leaves them (docs/semantics.md, the rule for arrays).
 */
function own(q: Param, k: number, written: ReadonlySet<number>, name = q.name): string {
  return written.has(k) && q.ty.k !== "num" ? `${RT}.copyArrays(${name})` : name;
}

export function emitHessian(fn: IrFunction, i: number, names: { hessian: string; hvp: string }, written: ReadonlySet<number> = new Set()): Generated {
  const namer = new Namer(fn.reserved);
  const x = fn.params[i];
  if (x.ty.k === "nd") return ndHessian(fn, i, names, namer);
  const ctor = x.ty.k === "arr" && x.ty.ctor === "Float64Array" ? "Float64Array" : "Array";
  const e = namer.fresh("_e", false);
  const rows = namer.fresh("_rows", false);
  const k = namer.fresh("_k", false);
  const rowTy = ctor === "Float64Array" ? "Float64Array" : "number[]";
  const c = new Code().at(fn.pos.start);
  c.open(`export function ${names.hessian}(${paramList(fn.params)}): ${rowTy}[]`);
  c.line(`const ${e} = ${ctor === "Float64Array" ? `new Float64Array(${x.name}.length)` : `new Array<number>(${x.name}.length).fill(0)`};`);
  c.line(`const ${rows}: ${rowTy}[] = [];`);
  c.open(`for (let ${k} = 0; ${k} < ${x.name}.length; ${k}++)`);
  c.line(`${e}[${k}] = 1;`);
  // (T(f) writes the direction where f writes x: it gets a copy too.)
  const last = `${k} === ${x.name}.length - 1`;
  const arg = (j: number): string => (written.has(j) && fn.params[j].ty.k !== "num" ? `${last} ? ${fn.params[j].name} : ${RT}.copyArrays(${fn.params[j].name})` : fn.params[j].name);
  c.line(`${rows}.push(${names.hvp}(${tangentArgs(fn.params, new Set([i]), arg, () => (written.has(i) ? `${e}.slice()` : e))}));`);
  c.line(`${e}[${k}] = 0;`);
  c.close();
  c.line(`return ${rows};`);
  c.close();
  return generated(c);
}

/** hessian(f) of an NDArray: the runtime takes one Hessian-vector product per entry (NDArrays are never written). */
function ndHessian(fn: IrFunction, i: number, names: { hessian: string; hvp: string }, namer: Namer): Generated {
  const e = namer.fresh("_e", false);
  const c = new Code().at(fn.pos.start);
  c.open(`export function ${names.hessian}(${paramList(fn.params)}): ${RT}.NDArray`);
  const args = tangentArgs(fn.params, new Set([i]), (k) => fn.params[k].name, () => e);
  c.line(`return ${RT}.hessianOfNd((${e}: ${RT}.NDArray) => ${names.hvp}(${args}), ${fn.params[i].name});`);
  c.close();
  return generated(c);
}

/** `jvp(grad(f, i), primals, tangents)`; `directed`: the parameters with tangents (T(f)'s mask). */
export function emitGradJvpPair(fn: IrFunction, i: number, directed: ReadonlySet<number>, names: { pair: string; grad: string; hvp: string }, captured: number, written: ReadonlySet<number> = new Set()): Generated {
  const namer = new Namer(fn.reserved);
  const user = fn.params.slice(0, fn.params.length - captured);
  const closed = fn.params.slice(user.length);
  const primals = namer.fresh("primals", false);
  const tangents = namer.fresh("tangents", false);
  const outTy = printTy(fn.params[i].ty);
  const tup = (f: (q: Param, k: number) => string): string => `[${user.map((q, k) => optionalElement(f(q, k), omissible(user, k))).join(", ")}]`;
  const arg = (k: number): string => (k < user.length ? primalOrDefault(fn.params[k], `${primals}[${k}]`) : fn.params[k].name);
  const c = new Code().at(fn.pos.start);
  const extra = closed.length ? `, ${paramList(closed)}` : "";
  c.open(`export function ${names.pair}(${primals}: ${tup((q) => printTy(q.ty, undefined, true))}, ${tangents}: ${tup((q, k) => (directed.has(k) ? printTy(q.ty, undefined, true) : "unknown"))}${extra}): [${outTy}, ${outTy}]`);
  const all = fn.params.map((_, k) => arg(k)).join(", ");
  // The product first, on copies of what f writes (and of their tangents); then grad, f's own run.
  const hv = namer.fresh("hv", false);
  const cast = (k: number): string => tangentOrZero(fn.params[k], `${tangents}[${k}] as ${printTy(fn.params[k].ty)}`);
  c.line(`const ${hv} = ${names.hvp}(${tangentArgs(fn.params, directed, (k) => own(fn.params[k], k, written, arg(k)), (k) => own(fn.params[k], k, written, cast(k)))});`);
  c.line(`return [${names.grad}(${all}), ${hv}];`);
  c.close();
  return generated(c);
}

/** `vjp(grad(f, i), ...primals)`; `wrt`: the parameters that get cotangents, in order. */
export function emitGradVjp(fn: IrFunction, i: number, wrt: readonly number[], names: { vjp: string; grad: string; hvp: string }, captured: number, written: ReadonlySet<number> = new Set()): Generated {
  const namer = new Namer(fn.reserved);
  const user = fn.params.slice(0, fn.params.length - captured);
  const out = namer.fresh("out", false);
  const kept = namer.fresh("primals", false);
  const u = namer.fresh("u", false);
  const g = namer.fresh("g", false);
  const outTy = printTy(fn.params[i].ty);
  const ctTy = `[${user.map((q, k) => (wrt.includes(k) ? printTy(q.ty) : "undefined")).join(", ")}]`;
  const c = new Code().at(fn.pos.start);
  c.open(`export function ${names.vjp}(${paramList(fn.params)}): [${outTy}, (${u}: ${outTy}) => ${ctTy}]`);
  // The pullback reads the primals as they were passed, whatever f or the caller does to them later.
  c.line(`const ${kept} = ${RT}.copyArrays([${fn.params.map((q) => q.name).join(", ")}] as const);`);
  c.line(`const ${out} = ${names.grad}(${fn.params.map((q) => q.name).join(", ")});`);
  c.open(`const pullback = (${u}: ${outTy}): ${ctTy} =>`);
  c.line(`const ${g} = ${names.hvp}(${tangentArgs(fn.params, new Set([i]), (k) => own(fn.params[k], k, written, `${kept}[${k}]`), () => own(fn.params[i], i, written, u))});`);
  // One cotangent comes back bare, several as a tuple (grad's convention).
  c.line(`return [${user.map((_, k) => (!wrt.includes(k) ? "undefined" : wrt.length === 1 ? g : `${g}[${wrt.indexOf(k)}]`)).join(", ")}];`);
  c.close("};");
  c.line(`return [${out}, pullback];`);
  c.close();
  return generated(c);
}
