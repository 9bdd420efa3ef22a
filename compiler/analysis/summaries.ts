/**
 * Interprocedural summaries: which array parameters a function writes into, directly or through
 * the functions it calls. Activity analysis needs them: writing a differentiated value into an
 * array argument makes the caller's array depend on it.
 */
import type { FnId, IrFunction } from "../ir/ir.js";
import { forEachExpr, forEachStmt, stmtExprs } from "../ir/walk.js";

export const fnKey = (id: FnId): string => `${id.file}:${id.pos}`;

export type Mutations = ReadonlyMap<string, ReadonlySet<number>>;

/** Fixpoint over the call graph: param i of f is mutated if f writes p_i[...] or passes p_i to a mutating position. */
export function computeMutations(fns: ReadonlyMap<string, IrFunction>): Mutations {
  const result = new Map<string, Set<number>>();
  for (const k of fns.keys()) result.set(k, new Set());
  let changed = true;
  while (changed) {
    changed = false;
    for (const [key, fn] of fns) {
      const mine = result.get(key)!;
      const paramIndex = new Map(fn.params.map((p, i) => [p.name, i]));
      const mark = (name: string): void => {
        const i = paramIndex.get(name);
        if (i !== undefined && !mine.has(i)) {
          mine.add(i);
          changed = true;
        }
      };
      forEachStmt(fn.body, (s) => {
        if (s.k === "assign" && s.target.k === "index") mark(s.target.arr);
        for (const e of stmtExprs(s))
          forEachExpr(e, (x) => {
            if (x.k !== "call" || x.fn.k !== "user") return;
            const callee = result.get(fnKey(x.fn.fn));
            if (!callee) return;
            x.args.forEach((a, j) => {
              if (callee.has(j) && a.k === "var") mark(a.name);
            });
          });
      });
    }
  }
  return result;
}
