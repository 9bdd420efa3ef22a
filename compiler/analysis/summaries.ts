/**
 * Interprocedural summaries: which array parameters a function writes into, directly or through
 * the functions it calls. Activity analysis needs them: writing a differentiated value into an
 * array argument makes the caller's array depend on it. A write into a part of a parameter object
 * (`const w = p.w; w[0] = ...`) counts as a write into the parameter.
 */
import { isTree, type Expr, type FnId, type IrFunction } from "../ir/ir.js";
import { printExpr } from "../ir/print.js";
import { forEachExpr, forEachStmt, stmtExprs } from "../ir/walk.js";
import { arrayNames } from "./aliases.js";

export const fnKey = (id: FnId): string => `${id.file}:${id.pos}${id.variant ? `#${id.variant}` : ""}`;

export type Mutations = ReadonlyMap<string, ReadonlySet<number>>;

/** Parameters whose array (or a part of it) each function returns, by the build's mutations (see computeMutations). */
const returnedByBuild = new WeakMap<Mutations, ReadonlyMap<string, ReadonlySet<number>>>();

/** The parameters whose array (or a part of it, `return p.w`) the function returns: its result is a view of them. */
export function returnedParts(m: Mutations, key: string): ReadonlySet<number> | undefined {
  return returnedByBuild.get(m)?.get(key);
}

/** Fixpoint over the call graph: param i of f is mutated if f writes p_i[...] or passes p_i to a mutating position. */
export function computeMutations(fns: ReadonlyMap<string, IrFunction>): Mutations {
  const parts = computeReturnedParts(fns);
  const partsOf = (id: FnId): ReadonlySet<number> | undefined => parts.get(fnKey(id));
  const result = new Map<string, Set<number>>();
  for (const k of fns.keys()) result.set(k, new Set());
  let changed = true;
  while (changed) {
    changed = false;
    for (const [key, fn] of fns) {
      const mine = result.get(key)!;
      const paramIndex = new Map(fn.params.map((p, i) => [p.name, i]));
      const roots = viewRoots(fn, partsOf);
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
  returnedByBuild.set(result, parts);
  return result;
}

/** Fixpoint: parameter i is returned by f if f returns it, a part of it, or a callee's view of it. */
function computeReturnedParts(fns: ReadonlyMap<string, IrFunction>): Map<string, Set<number>> {
  const parts = new Map<string, Set<number>>([...fns.keys()].map((k) => [k, new Set<number>()]));
  for (let changed = true; changed; ) {
    changed = false;
    for (const [key, fn] of fns) {
      if (fn.ret.k !== "arr" && fn.ret.k !== "obj" && fn.ret.k !== "list") continue;
      const mine = parts.get(key)!;
      const index = new Map(fn.params.map((p, i) => [p.name, i]));
      const found = views(fn, (id) => parts.get(fnKey(id)));
      // Other names for a parameter's array (`const r = a`, `c ? a : b`, `a ?? b`), to any depth.
      const names = new Map<string, Set<string>>();
      const rootsOf = (e: Expr): string[] => {
        if (e.k === "field") return [rootName(e, found)].filter((r): r is string => r !== undefined);
        return arrayNames(e).flatMap((v) => (index.has(v.name) ? [v.name] : found.has(v.name) ? [found.get(v.name)!.root] : [...(names.get(v.name) ?? [])]));
      };
      for (let grew = true; grew; ) {
        grew = false;
        forEachStmt(fn.body, (s) => {
          const [n, value] = s.k === "let" && s.init ? [s.name, s.init] : s.k === "assign" && s.target.k === "var" ? [s.target.name, s.value] : [undefined, undefined];
          if (n === undefined || !value) return;
          const set = names.get(n) ?? names.set(n, new Set()).get(n)!;
          for (const r of rootsOf(value)) if (!set.has(r)) (set.add(r), (grew = true));
        });
      }
      forEachStmt(fn.body, (s) => {
        if (s.k !== "return" || !s.value) return;
        for (const root of rootsOf(s.value)) {
          const i = index.get(root);
          if (i !== undefined && !mine.has(i)) (mine.add(i), (changed = true));
        }
      });
    }
  }
  return parts;
}

function rootName(e: Expr, found: ReadonlyMap<string, { root: string }>): string | undefined {
  if (e.k === "var") return found.get(e.name)?.root ?? e.name;
  return e.k === "field" ? rootName(e.obj, found) : undefined;
}

/**
 * Views: locals that name a part of a parameter (`const w = p.w`, `const { w, b } = params`, a
 * view of a view), with that parameter and the part's path from it (`p.w`). Writing through a
 * view writes the parameter.
 */
export function views(fn: IrFunction, returned?: (callee: FnId) => ReadonlySet<number> | undefined): Map<string, { readonly root: string; readonly path: string }> {
  const params = new Set(fn.params.map((q) => q.name));
  const found = new Map<string, { root: string; path: string }>();
  const pathOf = (e: Expr): { root: string; path: string } | undefined => {
    if (e.k === "var") return params.has(e.name) ? { root: e.name, path: e.name } : found.get(e.name);
    if (e.k === "field") {
      const base = pathOf(e.obj);
      return base && { root: base.root, path: `${base.path}${e.idx ? `[${printExpr(e.idx)}]` : `.${e.name}`}` };
    }
    // `getW(p)` of a callee that returns (a part of) its parameter: a view of the argument.
    if (e.k === "call" && e.fn.k === "user" && returned) {
      const callee = e.fn.fn;
      for (const j of returned(callee) ?? []) {
        const base = e.args[j] && pathOf(e.args[j]);
        if (base) return { root: base.root, path: `${callee.name}(${base.path})` };
      }
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
      const view = value.k === "field" || value.k === "call" ? pathOf(value) : value.k === "var" && (found.has(value.name) || isTree(ty)) ? pathOf(value) : undefined;
      if (view) {
        found.set(name, view);
        changed = true;
      }
    });
  }
  return found;
}

/** Each view's parameter. */
export function viewRoots(fn: IrFunction, returned?: (callee: FnId) => ReadonlySet<number> | undefined): Map<string, string> {
  return new Map([...views(fn, returned)].map(([v, { root }]) => [v, root]));
}
