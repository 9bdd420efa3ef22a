/**
 * `grad(g)(w)` inside a differentiated function, where w is an array or an NDArray (a step of
 * gradient descent inside a loss, as in meta-learning). The call is a function G(w, c, ...) = grad_w g, with no
 * body in IR (custom kind "grad"); its primal is g's gradient, and its derivatives are
 * Hessian-vector products, each the gradient of g's directed tangent function T(g) (higher.ts):
 *   G        the gradient itself (g_grad)
 *   G_fwd    keeps the arguments, returns the gradient
 *   G_rev    (w, c)_bar += H u for G's cotangent u: the gradient of <grad_w g, u> with u held
 *            constant, i.e. of T(g) directed along w by u (second derivatives are symmetric)
 *   G_jvp    G's tangent along (w_dot, c_dot) is grad_w of T(g) directed by (w_dot, c_dot)
 * So a gradient through G costs a constant number of gradients of g, not one per entry of w.
 */
import type { IrFunction } from "../ir/ir.js";
import { printTy } from "../ir/print.js";
import { Code, generated, type Generated } from "./code.js";
import { handBack, revSignature } from "./custom.js";
import { paramList } from "./functions.js";
import { Namer, RT } from "./names.js";

/** The arguments of T(g): each parameter, followed by its direction where `direction` gives one. */
function tangentArgs(ir: IrFunction, direction: (k: number) => string | undefined): string {
  return ir.params.flatMap((q, k) => [q.name, direction(k)].filter((x): x is string => x !== undefined)).join(", ");
}

/** G itself: g's gradient along parameter i. */
export function emitInnerGradPrimal(ir: IrFunction, name: string, grad: string): Generated {
  const c = new Code().at(ir.pos.start);
  c.open(`export function ${name}(${paramList(ir.params)}): ${printTy(ir.ret)}`);
  c.line(`return ${grad}(${ir.params.map((q) => q.name).join(", ")});`);
  c.close();
  return generated(c);
}

/**
 * G's split pair for the active parameters `mask`. `hvp` is the gradient of T(g) directed along
 * parameter i, taken w.r.t. the active parameters (one bare, several as a tuple in order).
 */
export function emitInnerGradSplit(ir: IrFunction, i: number, mask: readonly boolean[], names: { fwd: string; rev: string }, grad: string, hvp: string): Generated {
  const namer = new Namer(new Set([...ir.reserved, ...ir.params.map((q) => `${q.name}_bar`), "out_bar"]));
  const args = ir.params.map((q) => q.name).join(", ");
  const c = new Code().at(ir.pos.start);
  c.open(`export function ${names.fwd}(${paramList(ir.params)}): ${printTy(ir.ret)}`);
  // The arguments by reference: a caller that overwrites an array it passed restores it before
  // this call's reverse sweep runs (as for every callee's split pair).
  c.line(`${RT}.tape.pushO([${args}]);`);
  c.line(`return ${grad}(${args});`);
  c.close();
  c.line("");
  const { inPlace, returned, head } = revSignature(ir, mask, true);
  c.open(`export function ${names.rev}${head}`);
  c.line(`const [${args}] = ${RT}.tape.popO<[${ir.params.map((q) => printTy(q.ty)).join(", ")}]>();`);
  const hv = namer.fresh("_hv", false);
  // (An NDArray cotangent may be a symbolic zero, null: the direction is then zeros of w's shape.)
  const u = ir.params[i].ty.k === "nd" ? `${RT}.ndOrZeros(out_bar, ${ir.params[i].name})` : "out_bar";
  c.line(`const ${hv} = ${hvp}(${tangentArgs(ir, (k) => (k === i ? u : undefined))});`);
  const active = ir.params.filter((_, k) => mask[k]);
  handBack(c, inPlace, returned, (q) => (active.length === 1 ? hv : `${hv}[${active.indexOf(q)}]`));
  c.close();
  return generated(c);
}

/** G's tangent version: `hvp` is the gradient w.r.t. parameter i of T(g) directed along `mask`. */
export function emitInnerGradJvp(ir: IrFunction, mask: readonly boolean[], name: string, grad: string, hvp: string): Generated {
  const namer = new Namer(new Set([...ir.reserved, ...ir.params.map((q) => `${q.name}_dot`)]));
  const dot = (k: number): string => `${ir.params[k].name}_dot`;
  const params = ir.params.flatMap((q, k) => (mask[k] ? [`${q.name}: ${printTy(q.ty)}`, `${dot(k)}: ${printTy(q.ty)}`] : [`${q.name}: ${printTy(q.ty)}`]));
  const c = new Code().at(ir.pos.start);
  c.open(`export function ${name}(${params.join(", ")}): ${printTy(ir.ret)}`);
  const hv = namer.fresh("_hv", false);
  const out = namer.fresh("_out", false);
  // The tangent is made first and put in its return slot last: the gradient may use the slot.
  c.line(`const ${hv} = ${hvp}(${tangentArgs(ir, (k) => (mask[k] ? dot(k) : undefined))});`);
  c.line(`const ${out} = ${grad}(${ir.params.map((q) => q.name).join(", ")});`);
  c.line(`${RT}.retO[0] = ${hv};`);
  c.line(`return ${out};`);
  c.close();
  return generated(c);
}
