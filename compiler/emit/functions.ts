/**
 * Assembles whole generated functions from the differentiators' parts:
 *   f_jvp           tangent version (forward mode)
 *   f_fwd / f_rev   split adjoint: records, then replays (used when another adjoint calls f)
 *   f_grad          fused gradient: forward sweep then reverse sweep in one function
 *   f_valueAndGrad  the same, also returning the value
 *   f_vjp           `[out, pullback]`; the pullback owns its tape segment
 *   f_jvpPair       `jvp(f, primals, tangents)` as JAX spells it: `[out, outDot]`
 */
import { emitAdjoint, type Adjoint } from "../diff/reverse/index.js";
import { emitJvp } from "../diff/forward.js";
import type { Prepared, Specializer } from "../diff/prepare.js";
import { barInPlace, isTree, type IrFunction, type Param, type Stmt, type Ty } from "../ir/ir.js";
import { fnKey } from "../analysis/summaries.js";
import { printExpr, printTy } from "../ir/print.js";
import { Code, generated, type Generated } from "./code.js";
import { printStmts } from "../ir/print-stmt.js";
import { cleanup } from "../optimize/cleanup.js";
import { localizeTape, worthLocalTape, type TapeLocals } from "../optimize/local-tape.js";
import { localAccumulators } from "../optimize/accumulators.js";
import { forEachStmt } from "../ir/walk.js";
import { dump } from "../pipeline.js";
import { Namer, RT } from "./names.js";

export { emitJvp };

/** `f_grad` or `f_valueAndGrad`: one fused function, gradients for `wrt` in order. */
export function emitFused(p: Prepared, spec: Specializer, name: string, wrt: readonly Param[], withValue: boolean, tuple = false): Generated {
  const namer = p.namer.clone();
  const fn = p.fn;
  // An NDArray result must hold one element; its seed is ones in its shape, made after the sweep.
  const ndResult = fn.ret.k === "nd";
  const seed = ndResult ? namer.fresh("_seed", false) : "1";
  const adj = emitAdjoint(p, spec, "fused", seed, namer, withValue);
  const c = new Code().at(fn.pos.start);
  const grads = wrt.map((q) => gradText(p, adj, q));
  const gradTy = wrt.length === 1 && !tuple ? printTy(wrt[0].ty) : `[${wrt.map((q) => printTy(q.ty)).join(", ")}]`;
  // hasAux (JAX's): grad gives [gradient, aux]; valueAndGrad [[value, aux], gradient].
  const aux = fn.aux;
  const auxTy = aux ? printTy(p.vars.get(aux)!) : "";
  const retTy = aux ? (withValue ? `[[number, ${auxTy}], ${gradTy}]` : `[${gradTy}, ${auxTy}]`) : withValue ? `[number, ${gradTy}]` : gradTy;
  c.open(`export function ${name}(${paramList(fn.params)}): ${retTy}`);
  const written = spec.mutations.get(fnKey(fn.id)) ?? new Set<number>();
  guardDistinct(c, fn, fn.params, written);
  printStmts(adj.hoisted, c);
  // (The adjoints of array and object parameters are this function's own arrays, made below.)
  const rev = sweep(name, p, adj, wrt.filter((q) => barInPlace(q.ty)).map((q) => adj.bar(q.name)));
  const [fwdSweep, revSweep] = withLocalTape([adj.fwd, rev], tapeLocals(adj.namer));
  c.line("// forward sweep");
  printStmts(fwdSweep, c);
  // The reverse sweep rolls written arrays back; the caller gets them as the primal left them.
  const holders = fn.params.filter((q, i) => written.has(i) && (barInPlace(q.ty)));
  const kept = holders.length ? adj.namer.fresh("_kept", false) : "";
  if (kept) c.line(`const ${kept} = ${RT}.keepArrays([${holders.map((q) => q.name).join(", ")}]);`);
  let value = "";
  if (ndResult) c.line(`const ${seed} = ${RT}.scalarSeed(${adj.output ? printExpr(adj.output) : "undefined as never"});`);
  if (withValue) {
    value = adj.namer.fresh("_value", false);
    c.line(`const ${value} = ${adj.output ? `${printExpr(adj.output)}${ndResult ? ".item()" : ""}` : "0"};`);
  }
  c.line("// reverse sweep");
  for (const q of wrt) {
    if (q.ty.k === "arr") c.line(`const ${adj.bar(q.name)} = ${RT}.zerosLike(${q.name});`);
    if (isTree(q.ty)) c.line(`const ${adj.bar(q.name)} = ${RT}.barOf(${q.name});`);
  }
  printStmts(revSweep, c);
  const g = wrt.length === 1 && !tuple ? grads[0] : `[${grads.join(", ")}]`;
  if (kept) c.line(`${RT}.restoreArrays(${kept});`);
  if (aux) c.line(`return ${withValue ? `[[${value}, ${aux}], ${g}]` : `[${g}, ${aux}]`};`);
  else c.line(`return ${withValue ? `[${value}, ${g}]` : g};`);
  c.close();
  return generated(c);
}

/** The adjoint of parameter q, or a zero if q turned out not to be active. */
export function gradText(p: Prepared, adj: Adjoint, q: Param): string {
  const active = p.isActive(q.name);
  switch (q.ty.k) {
    case "arr":
      return adj.bar(q.name);
    case "nd":
      return active ? `${RT}.ndOrZeros(${adj.bar(q.name)}, ${q.name})` : `${RT}.ndZerosLike(${q.name})`;
    case "obj":
    case "list":
      return `${RT}.fillBar(${adj.bar(q.name)}, ${q.name})`;
    default:
      return active ? adj.bar(q.name) : "0";
  }
}

/** The split pair: `fwd(params)` records and returns the value; `rev(bars..., out_bar)` replays. */
export function emitSplit(p: Prepared, spec: Specializer, names: { fwd: string; rev: string }, resultActive: boolean): Generated {
  const namer = p.namer.clone();
  const fn = p.fn;
  // A record block has one result per output variable, and one cotangent for each.
  const outs = fn.outputs;
  const outBar: string | string[] = outs ? outs.map((o) => namer.fresh(`${o}_out_bar`, false)) : namer.fresh("out_bar", false);
  const adj = emitAdjoint(p, spec, "split", outBar, namer);
  const c = new Code().at(fn.pos.start);
  const outTy = (o: string): string => printTy(p.vars.get(o)!);
  c.open(`export function ${names.fwd}(${paramList(fn.params)}): ${outs ? `[${outs.map(outTy).join(", ")}]` : printTy(fn.ret)}`);
  printStmts(adj.hoisted, c);
  // The pair is two functions but one use of the tape: the same local names in both.
  const locals = tapeLocals(adj.namer);
  const fwdRegion = [...adj.fwd, ...adj.snapshotPush];
  const revRegion = [...adj.snapshotPop, ...sweep(names.rev, p, adj, [])];
  const local = worthLocalTape([fwdRegion, revRegion]);
  const [fwdSweep] = local ? withLocalTape([fwdRegion], locals, true) : [fwdRegion];
  printStmts(fwdSweep, c);
  if (outs) c.line(`return [${outs.join(", ")}];`);
  else if (adj.output) c.line(`return ${printExpr(adj.output)};`);
  c.close();
  c.line("");
  const active = p.activeParams;
  const revParams = active.filter((q) => barInPlace(q.ty)).map((q) => `${adj.bar(q.name)}: ${isTree(q.ty) ? `${RT}.Bar<${printTy(q.ty)}>` : printTy(q.ty)}`);
  if (outs) outs.forEach((o, k) => revParams.push(`${(outBar as string[])[k]}: ${p.vars.get(o)!.k === "nd" ? `${outTy(o)} | null` : outTy(o)}`));
  // An NDArray adjoint may be null (symbolically zero) where the caller's reverse sweep has it.
  else if (resultActive) revParams.push(`${outBar}: ${printTy(fn.ret)}${fn.ret.k === "nd" ? " | null" : ""}`);
  const returned = active.filter((q) => !barInPlace(q.ty));
  const revRet = returned.length === 1 ? (returned[0].ty.k === "nd" ? `${printTy(returned[0].ty)} | null` : printTy(returned[0].ty)) : "void";
  c.open(`export function ${names.rev}(${revParams.join(", ")}): ${revRet}`);
  const [revSweep] = local ? withLocalTape([revRegion], locals, true) : [revRegion];
  printStmts(revSweep, c);
  const barOf = (q: Param): string => (p.isActive(q.name) ? adj.bar(q.name) : q.ty.k === "num" ? "0" : "null");
  // Array and object adjoints were passed in and accumulated in place; others come back.
  if (returned.length === 1) c.line(`return ${barOf(returned[0])};`);
  else {
    let f = 0;
    let o = 0;
    for (const q of returned) c.line(q.ty.k === "num" ? `${RT}.retF[${f++}] = ${barOf(q)};` : `${RT}.retO[${o++}] = ${barOf(q)};`);
  }
  c.close();
  return generated(c);
}

/**
 * A record block's `vjp`: runs the block's recording version on its inputs and returns its
 * outputs with a pullback (one cotangent per output in, one adjoint per input out), which the
 * runtime's `backward` calls.
 */
export function emitBlockVjp(p: Prepared, names: { fwd: string; rev: string; vjp: string }): Generated {
  const fn = p.fn;
  const namer = new Namer(fn.reserved);
  const outs = namer.fresh("outs", false);
  const mark = namer.fresh("_mark", false);
  const seg = namer.fresh("_seg", false);
  const bars = namer.fresh("bars", false);
  const active = p.activeParams;
  const c = new Code().at(fn.pos.start);
  c.open(`export function ${names.vjp}(${paramList(fn.params)}): [unknown[], (${bars}: any[]) => unknown[]]`);
  c.line(`const ${mark} = ${RT}.tape.mark();`);
  c.line(`const ${outs} = ${names.fwd}(${fn.params.map((q) => q.name).join(", ")});`);
  c.line(`const ${seg} = ${RT}.tape.cut(${mark});`);
  c.open(`const pullback = (${bars}: any[]): unknown[] =>`);
  c.line(`${RT}.tape.paste(${seg});`);
  const results = new Map<string, string>();
  // Objects and lists of NDArrays (a model's parameters): their adjoints are passed in, with
  // null (zero) leaves where nothing flows; the runtime routes each leaf.
  const trees = active.filter((q) => barInPlace(q.ty));
  for (const q of trees) {
    const b = namer.fresh(`${q.name}_bar`, false);
    c.line(`const ${b} = ${RT}.barOf(${q.name});`);
    results.set(q.name, b);
  }
  const args = [...trees.map((q) => results.get(q.name)!), ...(fn.outputs ?? []).map((_, k) => `${bars}[${k}]`)];
  const returned = active.filter((q) => !barInPlace(q.ty));
  if (returned.length === 1) {
    const inBar = namer.fresh("in_bar", false);
    c.line(`const ${inBar} = ${names.rev}(${args.join(", ")});`);
    results.set(returned[0].name, inBar);
  } else {
    c.line(`${names.rev}(${args.join(", ")});`);
    let f = 0;
    let o = 0;
    for (const q of returned) results.set(q.name, q.ty.k === "num" ? `${RT}.retF[${f++}]` : `${RT}.retO[${o++}]`);
  }
  c.line(`return [${fn.params.map((q) => results.get(q.name) ?? "null").join(", ")}];`);
  c.close("};");
  c.line(`return [${outs}, pullback];`);
  c.close();
  return generated(c);
}

/** `f_vjp(params)`: runs the recording version and returns the value with a pullback owning its records. */
export function emitVjp(p: Prepared, names: { fwd: string; rev: string; vjp: string }, resultActive: boolean, written: ReadonlySet<number>, captured = 0): Generated {
  const fn = p.fn;
  // A closure's captured locals are trailing parameters: passed along, given no cotangent. So are
  // defaulted or optional parameters the call leaves out (after the last active one).
  const active = new Set(p.activeParams.map((q) => q.name));
  const declared = fn.params.slice(0, fn.params.length - captured);
  let given = declared.filter((q) => q.init === undefined && !q.optional).length;
  declared.forEach((q, i) => { if (active.has(q.name)) given = Math.max(given, i + 1); });
  const user = declared.slice(0, given);
  const namer = new Namer(fn.reserved);
  const out = namer.fresh("out", false);
  const mark = namer.fresh("_mark", false);
  const seg = namer.fresh("_seg", false);
  const outBar = namer.fresh("out_bar", false);
  const bars = new Map(fn.params.map((q) => [q.name, namer.fresh(`${q.name}_bar`, false)]));
  const ctTy = `[${user.map((q) => (active.has(q.name) ? printTy(q.ty) : "undefined")).join(", ")}]`;
  const retTy = printTy(fn.ret);
  const c = new Code().at(fn.pos.start);
  // (The cotangent is the caller's: a readonly result takes a readonly one.)
  c.open(`export function ${names.vjp}(${paramList(fn.params)}): [${retTy}, (${outBar}: ${printTy(fn.ret, undefined, true)}) => ${ctTy}]`);
  guardDistinct(c, fn, user, written);
  c.line(`const ${mark} = ${RT}.tape.mark();`);
  c.line(`const ${out} = ${names.fwd}(${fn.params.map((q) => q.name).join(", ")});`);
  c.line(`const ${seg} = ${RT}.tape.cut(${mark});`);
  // The pullback reads the NDArrays it was given: one changed with assign since is refused.
  const nds = fn.params.filter((q) => q.ty.k === "nd" || isTree(q.ty));
  const versions = namer.fresh("_versions", false);
  if (nds.length) c.line(`const ${versions} = ${RT}.ndVersions([${nds.map((q) => q.name).join(", ")}]);`);
  c.open(`const pullback = (${outBar}: ${printTy(fn.ret, undefined, true)}): ${ctTy} =>`);
  if (nds.length) c.line(`${RT}.checkNdVersions(${versions}, ${JSON.stringify(`the pullback of ${fn.id.name}`)});`);
  if (resultActive) c.line(`${RT}.checkCotangent(${outBar}, ${out}, ${JSON.stringify(`the pullback of ${fn.id.name}`)});`);
  c.line(`${RT}.tape.paste(${seg});`);
  const args: string[] = [];
  for (const q of p.activeParams) {
    if (q.ty.k === "arr") c.line(`const ${bars.get(q.name)} = ${RT}.zerosLike(${q.name});`);
    if (isTree(q.ty)) c.line(`const ${bars.get(q.name)} = ${RT}.barOf(${q.name});`);
    if (barInPlace(q.ty)) args.push(bars.get(q.name)!);
  }
  if (resultActive) args.push(fn.ret.k === "arr" && fn.ret.ro ? `${outBar} as ${printTy(fn.ret)}` : outBar);
  const returned = p.activeParams.filter((q) => !barInPlace(q.ty));
  if (returned.length === 1) c.line(`const ${bars.get(returned[0].name)} = ${names.rev}(${args.join(", ")});`);
  else {
    c.line(`${names.rev}(${args.join(", ")});`);
    let f = 0;
    let o = 0;
    for (const q of returned) c.line(`const ${bars.get(q.name)} = ${q.ty.k === "num" ? `${RT}.retF[${f++}]` : `${RT}.retO[${o++}] as ${printTy(q.ty)} | null`};`);
  }
  const final = (q: Param): string => {
    const b = bars.get(q.name)!;
    if (!active.has(q.name)) return "undefined";
    if (q.ty.k === "nd") return `${RT}.ndOrZeros(${b}, ${q.name})`;
    if (isTree(q.ty)) return `${RT}.fillBar(${b}, ${q.name})`;
    return b;
  };
  c.line(`return [${user.map(final).join(", ")}];`);
  c.close("};");
  c.line(`return [${out}, pullback];`);
  c.close();
  return generated(c);
}

/** `f_jvpPair(primals, tangents)`: JAX's `jvp` calling convention over `f_jvp`. */
export function emitJvpPair(p: Prepared, names: { jvp: string; pair: string }, written: ReadonlySet<number>, captured = 0): Generated {
  const fn = p.fn;
  const user = fn.params.slice(0, fn.params.length - captured);
  const closed = fn.params.slice(user.length);
  const namer = new Namer(fn.reserved);
  const primals = namer.fresh("primals", false);
  const tangents = namer.fresh("tangents", false);
  const out = namer.fresh("out", false);
  const active = new Set(p.activeParams.map((q) => q.name));
  const tup = (f: (q: Param) => string): string => `[${user.map((q, i) => optionalElement(f(q), omissible(user, i))).join(", ")}]`;
  const retTy = printTy(fn.ret);
  const c = new Code().at(fn.pos.start);
  const extra = closed.length ? `, ${paramList(closed)}` : "";
  c.open(`export function ${names.pair}(${primals}: ${tup((q) => printTy(q.ty, undefined, true))}, ${tangents}: ${tup((q) => (active.has(q.name) ? printTy(q.ty, undefined, true) : "unknown"))}${extra}): [${retTy}, ${retTy}]`);
  guardDistinct(c, fn, user, written, user.map((_, i) => `${primals}[${i}]`));
  // Tangents of written parameters are written too: the caller's stay as they were.
  const tangent = (q: Param, i: number): string => (written.has(i) && q.ty.k !== "num" && q.ty.k !== "nd" ? `${RT}.copyArrays(${tangents}[${i}])` : `${tangents}[${i}]`);
  const args = [...user.flatMap((q, i) => (active.has(q.name) ? [primalOrDefault(q, `${primals}[${i}]`), tangentOrZero(q, tangent(q, i))] : [primalOrDefault(q, `${primals}[${i}]`)])), ...closed.map((q) => q.name)];
  c.line(`const ${out} = ${names.jvp}(${args.join(", ")});`);
  c.line(`return [${out}, ${fn.ret.k === "num" ? `${RT}.retF[0]` : `${RT}.retO[0] as ${retTy}`}];`);
  c.close();
  return generated(c);
}

/** The sweeps with the tape's float lane in locals (optimize/local-tape.ts), where they use it. */
export function withLocalTape(regions: readonly Stmt[][], locals: TapeLocals, force = false): Stmt[][] {
  if (!force && !worthLocalTape(regions)) return [...regions];
  return localizeTape(regions, locals) ?? [...regions];
}

export function tapeLocals(namer: Namer): TapeLocals {
  return { arr: namer.fresh("_tapeF", false), top: namer.fresh("_topF", false) };
}

/**
 * The reverse sweep (adjoint declarations first), cleaned up; what is read after it are the
 * parameters' adjoints (the function's results).
 */
export function sweep(name: string, p: Prepared, adj: Adjoint, ownBars: readonly string[]): Stmt[] {
  const rev = [...adj.barDecls, ...adj.rev];
  dump("reverse", name, [...adj.hoisted, ...adj.fwd, ...rev]);
  const clean = cleanup(rev, new Set(p.fn.params.map((q) => adj.bar(q.name))));
  // Arrays the function allocates itself (a parameter's adjoint passed in could be another's too).
  const locals = new Set(ownBars);
  const allocated = (s: Stmt): boolean => s.k === "let" && (s.ty.k === "arr" || (s.init?.k === "call" && s.init.fn.k === "rt" && s.init.fn.name === "zerosLike"));
  forEachStmt([...adj.hoisted, ...adj.fwd, ...clean], (s) => void (s.k === "let" && allocated(s) && locals.add(s.name)));
  const out = localAccumulators(clean, { locals, fresh: (base) => adj.namer.fresh(base, false) });
  dump("cleanup", name, [...adj.hoisted, ...adj.fwd, ...out]);
  return out;
}

/**
 * A function that writes into a parameter, given one array through two parameters, would be
 * differentiated as if they were two arrays: refuse at run time (docs/semantics.md).
 */
function guardDistinct(c: Code, fn: IrFunction, user: readonly Param[], written: ReadonlySet<number>, args: readonly string[] = user.map((q) => q.name)): void {
  const holders = user.map((q, i) => [q, i] as const).filter(([q]) => barInPlace(q.ty));
  if (holders.length < 2 || !holders.some(([, i]) => written.has(i))) return;
  const names = JSON.stringify(holders.map(([q]) => q.name));
  const w = JSON.stringify(holders.flatMap(([, i], k) => (written.has(i) ? [k] : [])));
  c.line(`${RT}.checkDistinct(${JSON.stringify(fn.id.name)}, ${names}, ${w}, [${holders.map(([, i]) => args[i]).join(", ")}]);`);
}

/**
 * A primal left out of a jvp's list (a parameter with a default value, as f(...primals) would
 * take it): the default, with a zero tangent when the tangent is left out too.
 */
export function omissible(params: readonly Param[], i: number): boolean {
  return params.slice(i).every((q) => q.init !== undefined || q.optional);
}
/** A tuple element's type, `T?` where it may be left out (`(A | B)?` for a union). */
export function optionalElement(ty: string, omit: boolean): string {
  return !omit ? ty : ty.includes("|") ? `(${ty})?` : `${ty}?`;
}
export function primalOrDefault(q: Param, text: string): string {
  return q.init === undefined ? text : `(${text} ?? ${q.init})`;
}
export function tangentOrZero(q: Param, text: string): string {
  return q.init === undefined || q.ty.k !== "num" ? text : `(${text} ?? 0)`;
}

export function paramList(params: readonly Param[]): string {
  // (`?` only where every later parameter may be left out too, as TypeScript requires.)
  const mayOmit = (i: number): boolean => params.slice(i + 1).every((q) => q.optional || q.init !== undefined);
  return params.map((q, i) => `${q.name}${q.optional && mayOmit(i) ? "?" : ""}: ${printTy(q.ty, undefined, true)}${q.init === undefined ? "" : ` = ${q.init}`}`).join(", ");
}

export type { Ty };
