/**
 * Derivatives of functions with custom rules (`customVjp`, `customJvp`): instead of
 * differentiating f, the generated functions call the user's rule, in the calling conventions
 * every other callee's derivatives have (emit/functions.ts), so differentiated callers treat them
 * like any user function:
 *   f_fwd / f_rev  reverse mode: customVjp's fwd (residuals on the tape) and bwd; for customJvp,
 *                  the primals on the tape and the rule transposed (runtime/custom.ts)
 *   f_jvp          forward mode: customJvp's rule; customVjp has none (as in JAX)
 * A checkpoint (`checkpoint(h)`) records only its arguments; its reverse sweep runs h's recording
 * version again and then h's reverse sweep, so h's values live on the tape only while they are used.
 */
import { barInPlace, isTree, type IrFunction, type Param } from "../ir/ir.js";
import { printTy } from "../ir/print.js";
import { Code, generated, type Generated } from "./code.js";
import { paramList } from "./functions.js";
import { RT } from "./names.js";

/** What the rule is: its kind and the module-level const that holds the function. */
export interface CustomRule {
  readonly kind: "vjp" | "jvp" | "checkpoint" | "grad";
  readonly name: string;
}

const bar = (q: Param): string => `${q.name}_bar`;
const dot = (q: Param): string => `${q.name}_dot`;

/**
 * A reverse sweep's parameters and result in the split convention: the adjoints of active arrays,
 * objects and lists come in (accumulated in place), then `out_bar`; the adjoints of active
 * numbers and NDArrays go out (one as the result, several in the scratch lanes).
 */
export function revSignature(ir: IrFunction, mask: readonly boolean[], resultActive: boolean): { inPlace: Param[]; returned: Param[]; head: string } {
  const active = ir.params.filter((_, i) => mask[i]);
  const inPlace = active.filter((q) => barInPlace(q.ty));
  const returned = active.filter((q) => !barInPlace(q.ty));
  const params = inPlace.map((q) => `${bar(q)}: ${isTree(q.ty) ? `${RT}.Bar<${printTy(q.ty)}>` : printTy(q.ty)}`);
  if (resultActive) params.push(`out_bar: ${printTy(ir.ret)}${ir.ret.k === "nd" ? " | null" : ""}`);
  const result = returned.length === 1 ? (returned[0].ty.k === "nd" ? `${printTy(returned[0].ty)} | null` : printTy(returned[0].ty)) : "void";
  return { inPlace, returned, head: `(${params.join(", ")}): ${result}` };
}

/** The split pair of a custom function for the active parameters `mask`. */
export function emitCustomSplit(ir: IrFunction, rule: CustomRule, mask: readonly boolean[], names: { fwd: string; rev: string }): Generated {
  const c = new Code().at(ir.pos.start);
  const args = ir.params.map((q) => q.name).join(", ");
  const ret = printTy(ir.ret);
  const nd = ir.ret.k === "nd";
  c.open(`export function ${names.fwd}(${paramList(ir.params)}): ${ret}`);
  if (rule.kind === "vjp") {
    c.line(`const [_out, _res] = ${RT}.customVjpOf(${rule.name}).fwd(${args});`);
    c.line(`${RT}.tape.pushO(_res);`);
    if (nd) c.line(`${RT}.tape.pushO(_out);`);
    c.line(`return _out as ${ret};`);
  } else {
    // The transposed rule needs the primals: the arguments themselves (a caller that writes an
    // array it passed restores it before this function's reverse sweep runs).
    c.line(`${RT}.tape.pushO([${args}]);`);
    c.line(`return ${RT}.customJvpOf(${rule.name}).f(${args}) as ${ret};`);
  }
  c.close();
  c.line("");
  const { inPlace, returned, head } = revSignature(ir, mask, true);
  c.open(`export function ${names.rev}${head}`);
  if (rule.kind === "vjp") {
    if (nd) c.line(`const _out = ${RT}.tape.popO<${ret}>();`);
    c.line(`const _res = ${RT}.tape.popO<unknown>();`);
    c.line(`const _bars = ${RT}.customVjpOf(${rule.name}).bwd(_res, ${nd ? `${RT}.ndOrZeros(out_bar, _out)` : "out_bar"});`);
  } else {
    c.line(`const _args = ${RT}.tape.popO<unknown[]>();`);
    c.line(`const _bars = ${RT}.customJvpTranspose(${rule.name}, _args, [${mask.join(", ")}], out_bar);`);
  }
  handBack(c, inPlace, returned, (q) => `_bars[${ir.params.indexOf(q)}] as ${printTy(q.ty)}`);
  c.close();
  return generated(c);
}

/**
 * The end of a reverse sweep in the split convention: each parameter's cotangent (`value`) added
 * into the adjoint passed in (arrays, objects), or given back (one as the result, several in the
 * scratch lanes).
 */
export function handBack(c: Code, inPlace: readonly Param[], returned: readonly Param[], value: (q: Param) => string): void {
  for (const q of inPlace) c.line(q.ty.k === "arr" ? `${RT}.addInto(${bar(q)}, ${value(q)});` : `${RT}.addTree(${bar(q)}, ${value(q)});`);
  if (returned.length === 1) c.line(`return ${value(returned[0])};`);
  else {
    let f = 0;
    let o = 0;
    for (const q of returned) c.line(q.ty.k === "num" ? `${RT}.retF[${f++}] = ${value(q)};` : `${RT}.retO[${o++}] = ${value(q)};`);
  }
}

/** The tangent version of a customJvp function: its rule, with zero tangents for inactive parameters. */
export function emitCustomJvp(ir: IrFunction, rule: CustomRule, mask: readonly boolean[], name: string): Generated {
  const c = new Code().at(ir.pos.start);
  const params = ir.params.flatMap((q, i) => (mask[i] ? [`${q.name}: ${printTy(q.ty)}`, `${dot(q)}: ${printTy(q.ty)}`] : [`${q.name}: ${printTy(q.ty)}`]));
  const ret = printTy(ir.ret);
  c.open(`export function ${name}(${params.join(", ")}): ${ret}`);
  const primals = ir.params.map((q) => q.name).join(", ");
  const tangents = ir.params.map((q, i) => (mask[i] ? dot(q) : `${RT}.zeroTangent(${q.name})`)).join(", ");
  c.line(`const [_out, _outDot] = ${RT}.customJvpOf(${rule.name}).rule([${primals}], [${tangents}]);`);
  c.line(`${ir.ret.k === "num" ? `${RT}.retF[0]` : `${RT}.retO[0]`} = _outDot as ${ret};`);
  c.line(`return _out as ${ret};`);
  c.close();
  return generated(c);
}

/**
 * `checkpoint(h)`'s split pair: the forward sweep keeps the arguments and calls h plainly; the
 * reverse sweep runs h's own pair (same active set, same calling convention) back to back.
 */
export function emitCheckpointSplit(ir: IrFunction, rule: CustomRule, mask: readonly boolean[], names: { fwd: string; rev: string }, target: { fwd: string; rev: string }, resultActive: boolean): Generated {
  const c = new Code().at(ir.pos.start);
  const args = ir.params.map((q) => q.name).join(", ");
  const ret = printTy(ir.ret);
  c.open(`export function ${names.fwd}(${paramList(ir.params)}): ${ret}`);
  c.line(`${RT}.tape.pushO([${args}]);`);
  c.line(`return ${rule.name}(${args});`);
  c.close();
  c.line("");
  const { inPlace, returned, head } = revSignature(ir, mask, resultActive);
  c.open(`export function ${names.rev}${head}`);
  c.line(`const [${args}] = ${RT}.tape.popO<[${ir.params.map((q) => printTy(q.ty)).join(", ")}]>();`);
  c.line(`${target.fwd}(${args});`);
  const passed = [...inPlace.map(bar), ...(resultActive ? ["out_bar"] : [])].join(", ");
  c.line(returned.length === 1 ? `return ${target.rev}(${passed});` : `${target.rev}(${passed});`);
  c.close();
  return generated(c);
}

/** `checkpoint(h)` in forward mode is h's tangent version (nothing is recorded). */
export function emitCheckpointJvp(ir: IrFunction, mask: readonly boolean[], name: string, target: string): Generated {
  const c = new Code().at(ir.pos.start);
  const params = ir.params.flatMap((q, i) => (mask[i] ? [`${q.name}: ${printTy(q.ty)}`, `${dot(q)}: ${printTy(q.ty)}`] : [`${q.name}: ${printTy(q.ty)}`]));
  const args = ir.params.flatMap((q, i) => (mask[i] ? [q.name, dot(q)] : [q.name]));
  c.open(`export function ${name}(${params.join(", ")}): ${printTy(ir.ret)}`);
  c.line(`return ${target}(${args.join(", ")});`);
  c.close();
  return generated(c);
}
