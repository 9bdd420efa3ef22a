/**
 * The analyses every differentiator starts from, run once per (function, active parameters):
 * activity, then A-normal form. The result also owns the function's Namer, so the names of
 * one generated function never collide.
 */
import { copyHarmlessAliases } from "../analysis/aliases.js";
import { analyzeActivity, type NdInfo } from "../analysis/activity.js";
import { fnKey, type Mutations } from "../analysis/summaries.js";
import { Namer } from "../emit/names.js";
import { dump } from "../pipeline.js";
import { toAnf } from "../ir/anf.js";
import { inlineSmallCalls } from "../ir/inline.js";
import type { Expr, FnId, IrFunction, Param, Stmt, Ty } from "../ir/ir.js";

export interface Prepared {
  readonly fn: IrFunction;
  readonly body: Stmt[];
  readonly vars: ReadonlyMap<string, Ty>;
  readonly activeParams: readonly Param[];
  readonly namer: Namer;
  /** Whether a variable carries a derivative. */
  isActive(name: string): boolean;
  /** Whether an operand carries a derivative (an active variable). */
  isActiveAtom(e: Expr): boolean;
  /** Whether an expression's value depends on the active inputs. */
  isVaried(e: Expr): boolean;
}

/** What the differentiators need to know about other functions and to request their derivatives. */
export interface Specializer {
  /** The lowered callee. */
  callee(fn: FnId): IrFunction;
  /** Name of the callee's tangent version for the active parameters `mask` (recorded as needed). */
  jvpName(fn: FnId, mask: readonly boolean[]): string;
  /** Names of the callee's split reverse pair (forward sweep, reverse sweep) for `mask`. */
  splitNames(fn: FnId, mask: readonly boolean[]): { fwd: string; rev: string };
  /** Whether the callee's result carries a derivative when called with `mask`. */
  resultActive(fn: FnId, mask: readonly boolean[]): boolean;
  readonly mutations: Mutations;
  readonly nd: NdInfo;
}

export function prepare(original: IrFunction, activeParams: ReadonlySet<string>, spec: Specializer): Prepared {
  const namer = new Namer(original.reserved);
  for (const v of original.vars.keys()) namer.reserve(v);
  const inlined = inlineSmallCalls(original, (id) => spec.callee(id), (base) => namer.fresh(base, false));
  const fn = copyHarmlessAliases(inlined, (id) => spec.mutations.get(fnKey(id)));
  const what = `${original.id.name} (active: ${[...activeParams].join(", ") || "none"})`;
  dump("inline", what, fn.body);
  const act = analyzeActivity(fn, activeParams, spec.mutations, spec.nd);
  const anf = toAnf(fn, act, (base) => namer.fresh(base), (id) => spec.mutations.get(fnKey(id)));
  dump("anf", what, anf.body);
  const isActive = (n: string): boolean => act.isActive(n) || anf.activeTemps.has(n);
  return {
    fn,
    body: anf.body,
    vars: anf.vars,
    activeParams: fn.params.filter((p) => activeParams.has(p.name)),
    namer,
    isActive,
    isActiveAtom: (e) => e.k === "var" && isActive(e.name),
    isVaried: (e) => act.isVariedExpr(e) || (e.k === "var" && anf.activeTemps.has(e.name)),
  };
}

/** Which arguments of a call carry derivatives: the callee's active-parameter mask. */
export function callMask(p: Prepared, args: readonly Expr[]): boolean[] {
  return args.map((a) => p.isActiveAtom(a));
}
