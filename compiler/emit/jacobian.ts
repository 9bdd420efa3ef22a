/**
 * Jacobian entry points (JAX's jacrev and jacfwd), a few calls of generated functions:
 *   f_jacrev   per output entry f_fwd and f_rev with that entry's unit cotangent (direct); for an
 *              f that writes its arguments, f_vjp once and its pullback once per entry
 *   f_jacfwd   f_jvp once per input entry, along each unit direction, straight into the rows
 *              (direct); for an f that writes its arguments, f_jvpPair on copies of the arrays
 *              it writes but the last time (the caller's arrays end as one run leaves them)
 * The runtime (runtime/jacobian.ts) lays the results out as rows of the output entries, each
 * shaped like the input.
 */
import { barInPlace, type IrFunction, type Param } from "../ir/ir.js";
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

/**
 * jacfwd for an f that writes none of its arguments: f_jvp called directly, one unit tangent
 * at a time, its tangent written straight into the rows (no tuples, closures or copies of the
 * arguments per column).
 */
export function emitJacfwdDirect(fn: IrFunction, wrt: readonly number[], tuple: boolean, names: { jac: string; jvp: string }): Generated {
  const namer = new Namer(fn.reserved);
  const ty = resultTy(fn, wrt, tuple);
  const dots = new Map(wrt.map((k) => [k, namer.fresh(`${fn.params[k].name}_dot`, false)]));
  const args = fn.params.flatMap((q, k) => (dots.has(k) ? [q.name, dots.get(k)!] : [q.name])).join(", ");
  const outTy = printTy(fn.ret);
  const lane = fn.ret.k === "num" ? `${RT}.retF[0]` : `(${RT}.retO[0] as ${outTy})`;
  const c = new Code().at(fn.pos.start);
  c.open(`export function ${names.jac}(${paramList(fn.params)}): ${ty}`);
  for (const k of wrt) {
    const q = fn.params[k];
    c.line(q.ty.k === "num" ? `let ${dots.get(k)} = 0;` : `const ${dots.get(k)} = ${RT}.zerosLike(${q.name});`);
  }
  const results: string[] = [];
  for (const k of wrt) {
    const q = fn.params[k];
    const dot = dots.get(k)!;
    const jac = namer.fresh(`J_${q.name}`, false);
    results.push(jac);
    const jty = jacobianTy(fn, q);
    if (q.ty.k === "num") {
      // One column: the tangent itself, in the output's shape.
      c.line(`${dot} = 1;`);
      c.line(`${names.jvp}(${args});`);
      c.line(`const ${jac}: ${jty} = ${fn.ret.k === "num" ? lane : `${lane}.slice()`};`);
      c.line(`${dot} = 0;`);
      continue;
    }
    const row = q.ty.k === "arr" && q.ty.ctor === "Float64Array" ? (n: string) => `new Float64Array(${n})` : (n: string) => `new Array<number>(${n}).fill(0)`;
    const j = namer.fresh("j", false);
    if (fn.ret.k === "num") {
      // The gradient: one entry per column.
      c.line(`const ${jac}: ${jty} = ${row(`${q.name}.length`)};`);
      c.open(`for (let ${j} = 0; ${j} < ${q.name}.length; ${j}++)`);
      c.line(`${dot}[${j}] = 1;`);
      c.line(`${names.jvp}(${args});`);
      c.line(`${jac}[${j}] = ${lane};`);
      c.line(`${dot}[${j}] = 0;`);
      c.close();
      continue;
    }
    // Rows of the output's entries: column j of each is the tangent along e_j.
    const col = namer.fresh("col", false);
    const i = namer.fresh("i", false);
    c.line(`const ${jac}: ${jty} = [];`);
    c.open(`for (let ${j} = 0; ${j} < ${q.name}.length; ${j}++)`);
    c.line(`${dot}[${j}] = 1;`);
    c.line(`${names.jvp}(${args});`);
    c.line(`const ${col} = ${lane};`);
    c.line(`if (${j} === 0) for (let ${i} = 0; ${i} < ${col}.length; ${i}++) ${jac}.push(${row(`${q.name}.length`)});`);
    c.line(`for (let ${i} = 0; ${i} < ${col}.length; ${i}++) ${jac}[${i}][${j}] = ${col}[${i}];`);
    c.line(`${dot}[${j}] = 0;`);
    c.close();
    // No columns: the output's length from one evaluation.
    c.line(`if (${q.name}.length === 0) for (let ${i} = 0; ${i} < ${names.jvp}(${args}).length; ${i}++) ${jac}.push(${row("0")});`);
  }
  c.line(`return ${tuple ? `[${results.join(", ")}]` : results[0]};`);
  c.close();
  return generated(c);
}

/**
 * jacrev for an f that writes none of its arguments: per output entry, f's forward sweep and
 * its reverse sweep with that entry's unit cotangent (f_fwd then f_rev, the tape consumed each
 * time), the adjoint arrays becoming the rows. The forward sweep runs once per row; against the
 * vjp route that shares it, this saves copying the tape and the arrays it saved for every row.
 */
export function emitJacrevDirect(fn: IrFunction, wrt: readonly number[], tuple: boolean, active: readonly Param[], names: { jac: string; fwd: string; rev: string }): Generated {
  const namer = new Namer(fn.reserved);
  const ty = resultTy(fn, wrt, tuple);
  const args = fn.params.map((q) => q.name).join(", ");
  const out = namer.fresh("out", false);
  const bar = new Map(active.map((q) => [q.name, namer.fresh(`${q.name}_bar`, false)]));
  const jac = new Map(wrt.map((k) => [k, namer.fresh(`J_${fn.params[k].name}`, false)]));
  const c = new Code().at(fn.pos.start);
  c.open(`export function ${names.jac}(${paramList(fn.params)}): ${ty}`);
  // One reverse sweep with cotangent `ct`, each differentiated parameter's adjoint into a local.
  const sweep = (ct: string): void => {
    for (const q of active) if (barInPlace(q.ty)) c.line(`const ${bar.get(q.name)} = ${RT}.zerosLike(${q.name});`);
    const revArgs = [...active.filter((q) => barInPlace(q.ty)).map((q) => bar.get(q.name)!), ct].join(", ");
    const returned = active.filter((q) => !barInPlace(q.ty));
    if (returned.length === 1) c.line(`const ${bar.get(returned[0].name)} = ${names.rev}(${revArgs});`);
    else {
      c.line(`${names.rev}(${revArgs});`);
      returned.forEach((q, f) => c.line(`const ${bar.get(q.name)} = ${RT}.retF[${f}];`));
    }
  };
  if (fn.ret.k === "num") {
    // One row: the gradient.
    c.line(`${names.fwd}(${args});`);
    sweep("1");
    c.line(`return ${tuple ? `[${wrt.map((k) => bar.get(fn.params[k].name)).join(", ")}]` : bar.get(fn.params[wrt[0]].name)};`);
    c.close();
    return generated(c);
  }
  const ctor = fn.ret.k === "arr" && fn.ret.ctor === "Float64Array" ? "Float64Array" : "Array";
  for (const k of wrt) c.line(`const ${jac.get(k)}: ${fn.params[k].ty.k === "num" ? "number" : printTy(fn.params[k].ty)}[] = [];`);
  const i = namer.fresh("i", false);
  const m = namer.fresh("m", false);
  const ct = namer.fresh("ct", false);
  c.line(`let ${out} = ${names.fwd}(${args});`);
  c.line(`const ${m} = ${out}.length;`);
  c.open(`for (let ${i} = 0; ${i} < ${m}; ${i}++)`);
  c.line(`if (${i} > 0) ${out} = ${names.fwd}(${args});`);
  c.line(`const ${ct} = ${ctor === "Float64Array" ? `new Float64Array(${m})` : `new Array<number>(${m}).fill(0)`};`);
  c.line(`${ct}[${i}] = 1;`);
  sweep(ct);
  for (const k of wrt) c.line(`${jac.get(k)}.push(${bar.get(fn.params[k].name)});`);
  c.close();
  // A number parameter's entries, one per output entry, in the output's type.
  const result = (k: number): string => (fn.params[k].ty.k === "num" && ctor === "Float64Array" ? `Float64Array.from(${jac.get(k)})` : jac.get(k)!);
  c.line(`return ${tuple ? `[${wrt.map(result).join(", ")}]` : result(wrt[0])};`);
  c.close();
  return generated(c);
}
