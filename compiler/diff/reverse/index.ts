/**
 * Reverse mode: the adjoint of a function, as one fused function (forward sweep, then reverse
 * sweep) or as a split pair (`f_fwd` records, `f_rev` replays) for calls from other adjoints.
 *
 * The forward sweep is the primal code (jumps removed by `structurize`) plus records:
 * - a branch record per `if` and a trip count per loop whose reverse has work; outside loops in
 *   a fused function these are plain locals (`_br0`, `_n0`), elsewhere they go on the tape;
 * - the old value of a variable (or array element) just before it is overwritten, when the
 *   reverse sweep reads that variable ("to be recorded", docs/design.md). The reverse sweep
 *   restores it at the same point, so there every variable holds the value it had at the
 *   matching point of the forward sweep, and adjoint statements read primal variables directly.
 * The reverse sweep visits statements backwards: each active `v = op(a, b)` becomes
 * `a_bar += v_bar * da; b_bar += v_bar * db`, each `if` pops its branch record, each loop pops its
 * trip count (a counted `for` recounts its index instead of recording it).
 *
 * Which variables the reverse sweep reads is only known once it is written, and restoring a
 * variable can make the sweep read more (an array element's index). So the emitter runs to a
 * fixed point: emit with a guess of the read set, collect what was read, repeat until stable.
 * Both sweeps are IR (statement lists), printed by ir/print-stmt.ts.
 */
import { type Namer } from "../../emit/names.js";
import { type Expr, type Stmt } from "../../ir/ir.js";
import { structurize } from "../../ir/structurize.js";
import { type Prepared, type Specializer } from "../prepare.js";
import { ReverseEmitter } from "./reverse-sweep.js";
import type { BodyFacts } from "./facts.js";

export type AdjointMode = "fused" | "split";

export interface Adjoint {
  /** Declarations hoisted to the top of the function (variables the reverse sweep reads). */
  readonly hoisted: Stmt[];
  readonly fwd: Stmt[];
  /** Split mode: the snapshot pushed at the end of the forward sweep. */
  readonly snapshotPush: Stmt[];
  /** Split mode: the snapshot popped at the start of the reverse sweep. */
  readonly snapshotPop: Stmt[];
  /** Adjoint variable declarations (at the start of the reverse sweep). */
  readonly barDecls: Stmt[];
  readonly rev: Stmt[];
  /** The atom the function returns (null for void). */
  readonly output: Expr | null;
  /** Whether the output carries a derivative. */
  readonly outputActive: boolean;
  readonly namer: Namer;
  bar(name: string): string;
}

/**
 * `needValue`: whether the caller uses the function's value (valueAndGrad, the split forward
 * sweep); when it does not (grad), forward-sweep code that only computes the value is dropped.
 */
export function emitAdjoint(p: Prepared, spec: Specializer, mode: AdjointMode, outBar: string | readonly string[], base: Namer, needValue = true): Adjoint {
  const s = structurize(p.body, p.fn.ret, (b, numbered) => base.fresh(b, numbered));
  // Arrays are shared by reference, so their contents must be right whenever anyone's reverse
  // sweep reads them. A recording version (split mode) therefore saves and restores every element
  // it writes into an array parameter: its caller may read that array's contents in reverse.
  let R = new Set<string>(mode === "split" ? p.fn.params.filter((q) => q.ty.k === "arr").map((q) => q.name) : []);
  // Where (at which top-level statement) each variable is read by the reverse sweep; an array
  // parameter of a recording version counts as read before everything (its caller's reads).
  let sites = new Map<string, Set<number>>([...R].map((v) => [v, new Set([-1])]));
  let readers = new Map<string, Set<Stmt | null>>([...R].map((v) => [v, new Set([null])]));
  let shared: BodyFacts | undefined;
  // Arrays whose elements the sweep reads; R less these are read only for their length.
  let contents = new Set<string>(R);
  for (let round = 0; ; round++) {
    const lengthOnly = new Set([...R].filter((v) => !contents.has(v)));
    const em = new ReverseEmitter(p, spec, mode, s.body, s.retVar, R, base.clone(), outBar, needValue, sites, readers, shared, lengthOnly);
    shared ??= em.bodyFacts();
    const result = em.run();
    const grew = [...em.sites].some(([v, at]) => [...at].some((t) => !sites.get(v)?.has(t))) || [...em.readers].some(([v, at]) => [...at].some((t) => !readers.get(v)?.has(t)));
    if ((!grew && [...em.reads].every((v) => contents.has(v)) && [...em.lengthReads].every((v) => R.has(v))) || round > 20) return result;
    contents = new Set([...contents, ...em.reads]);
    R = new Set([...R, ...em.reads, ...em.lengthReads]);
    const merged = new Map([...sites].map(([v, at]) => [v, new Set(at)]));
    for (const [v, at] of em.sites) for (const t of at) (merged.get(v) ?? merged.set(v, new Set()).get(v)!).add(t);
    sites = merged;
    const mergedReaders = new Map([...readers].map(([v, at]) => [v, new Set(at)]));
    for (const [v, at] of em.readers) for (const t of at) (mergedReaders.get(v) ?? mergedReaders.set(v, new Set()).get(v)!).add(t);
    readers = mergedReaders;
  }
}

export interface Rec {
  /** A local's name, or null when the record goes on the tape. */
  local: string | null;
}


export { isDiffTy } from "../../ir/ir.js";
