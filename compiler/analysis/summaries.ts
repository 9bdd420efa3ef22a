/**
 * Interprocedural summaries: which array parameters a function writes into, directly or through
 * the functions it calls. Activity analysis needs them: writing a differentiated value into an
 * array argument makes the caller's array depend on it. A write into a part of a parameter object
 * (`const w = p.w; w[0] = ...`) counts as a write into the parameter.
 */
import { isTree, type Expr, type FnId, type IrFunction } from "../ir/ir.js";
import { printExpr } from "../ir/print.js";
import { forEachExpr, forEachStmt, stmtExprs } from "../ir/walk.js";

export const fnKey = (id: FnId): string => `${id.file}:${id.pos}${id.variant ? `#${id.variant}` : ""}`;

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
      const roots = viewRoots(fn);
      const mark = (name: string): void => {
        const i = paramIndex.get(roots.get(name) ?? name);
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

/**
 * Views: locals that name a part of a parameter (`const w = p.w`, `const { w, b } = params`, a
 * view of a view), with that parameter and the part's path from it (`p.w`). Writing through a
 * view writes the parameter.
 */
export function views(fn: IrFunction): Map<string, { readonly root: string; readonly path: string }> {
  const params = new Set(fn.params.map((q) => q.name));
  const found = new Map<string, { root: string; path: string }>();
  const pathOf = (e: Expr): { root: string; path: string } | undefined => {
    if (e.k === "var") return params.has(e.name) ? { root: e.name, path: e.name } : found.get(e.name);
    if (e.k === "field") {
      const base = pathOf(e.obj);
      return base && { root: base.root, path: `${base.path}${e.idx ? `[${printExpr(e.idx)}]` : `.${e.name}`}` };
    }
    return undefined;
  };
  for (let changed = true; changed; ) {
    changed = false;
    forEachStmt(fn.body, (s) => {
      const [name, value] = s.k === "let" && s.init ? [s.name, s.init] : s.k === "assign" && s.target.k === "var" ? [s.target.name, s.value] : [undefined, undefined];
      if (!name || !value || params.has(name) || found.has(name)) return;
      const ty = fn.vars.get(name);
      if (!ty || ty.k === "num" || ty.k === "bool" || ty.k === "nd") return;
      // A part (`p.w`, `l[i]`), a copy of a view, or another name for a whole parameter object;
      // another name for a whole array parameter is an alias, which the fence refuses.
      const view = value.k === "field" ? pathOf(value) : value.k === "var" && (found.has(value.name) || isTree(ty)) ? pathOf(value) : undefined;
      if (view) {
        found.set(name, view);
        changed = true;
      }
    });
  }
  return found;
}

/** Each view's parameter. */
export function viewRoots(fn: IrFunction): Map<string, string> {
  return new Map([...views(fn)].map(([v, { root }]) => [v, root]));
}
