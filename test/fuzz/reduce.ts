/**
 * The hand cleanup after fast-check's shrinking, automated: a greedy reducer over a `Program`
 * tree. fast-check shrinks each node within its own arbitrary, but it does not replace a node by
 * one of its children (`(1 + x * x) ** Math.sin(x)` by `Math.sin(x)`, an `if` by its body), and
 * its array shrinker does not always retry dropping a trailing element after it shrank an
 * earlier one. This pass tries exactly those edits, one at a time, and keeps each edit after
 * which the program still fails the same way, until no edit applies (or time runs out).
 *
 * Edits, largest first: drop a function, an API use, a statement (at any depth), a call
 * argument or an array element; replace a compound statement by one of its blocks; replace an
 * expression by one of its sub-expressions; drop an `else`. Every edit keeps the tree well formed,
 * and the renderer keeps every program valid (generator.ts), so no edit leaves the language.
 */
import type { ArrExpr, Cond, Expr, FnSpec, Index, Program, Stmt } from "./generator.js";

type Edit = () => Program;

/** Expression slots of each expression kind (where a child can take the parent's place). */
function exprChildren(e: Expr): Expr[] {
  switch (e.k) {
    case "neg":
    case "sq1":
      return [e.e];
    case "bin":
    case "cond":
    case "logic":
      return [e.a, e.b];
    case "math":
    case "call":
      return [...e.args];
    default:
      return [];
  }
}

/** Every candidate edit of `p`, each a function building the edited copy. */
export function edits(p: Program): Edit[] {
  const out: Edit[] = [];
  const big: Edit[] = [];
  // Work on a copy per edit: each edit is a path of mutations replayed on structuredClone(p).
  const at = (mutate: (q: Program) => void): Edit => () => {
    const q = structuredClone(p) as Program;
    mutate(q);
    return q;
  };

  p.fns.forEach((_, i) => {
    if (p.fns.length > 1) big.push(at((q) => void (q.fns as FnSpec[]).splice(i, 1)));
  });
  p.uses.forEach((_, i) => big.push(at((q) => void (q.uses as unknown[]).splice(i, 1))));
  p.nd.forEach((_, i) => big.push(at((q) => void (q.nd as unknown[]).splice(i, 1))));
  p.nd.forEach((f, i) => f.body.forEach((_, k) => big.push(at((q) => void (q.nd[i].body as unknown[]).splice(k, 1)))));

  // Walk each function with accessors that reach the same node in a clone.
  p.fns.forEach((f, fi) => {
    const fn = (q: Program): FnSpec => q.fns[fi] as FnSpec;
    stmts(f.body, (q) => fn(q).body as Stmt[]);
    expr(f.result, (q) => fn(q).result, (q, e) => ((fn(q) as { result: Expr }).result = e));
    arr(f.arrResult, (q) => fn(q).arrResult);
  });
  return [...big, ...out];

  function stmts(list: readonly Stmt[], get: (q: Program) => Stmt[]): void {
    list.forEach((s, i) => {
      big.push(at((q) => void get(q).splice(i, 1)));
      for (const block of blocksOf(s)) {
        const k = blocksOf(s).indexOf(block);
        out.push(at((q) => void get(q).splice(i, 1, ...blocksOf(get(q)[i])[k])));
      }
      stmt(s, (q) => get(q)[i]);
    });
  }

  function stmt(s: Stmt, get: (q: Program) => Stmt): void {
    const set = (field: string) => (q: Program, e: Expr) => ((get(q) as unknown as Record<string, Expr>)[field] = e);
    const read = (field: string) => (q: Program) => (get(q) as unknown as Record<string, Expr>)[field];
    switch (s.k) {
      case "let":
      case "assign":
      case "write":
        expr(s.e, read("e"), set("e"));
        if (s.k === "write") index(s.idx, (q) => (get(q) as Extract<Stmt, { k: "write" }>).idx);
        break;
      case "return":
        expr(s.e, read("e"), set("e"));
        arr(s.arr, (q) => (get(q) as Extract<Stmt, { k: "return" }>).arr);
        break;
      case "reduce":
        expr(s.body, read("body"), set("body"));
        break;
      case "if":
        cond(s.c, (q) => (get(q) as Extract<Stmt, { k: "if" }>).c);
        stmts(s.then, (q) => (get(q) as Extract<Stmt, { k: "if" }>).then);
        if (s.else) {
          out.push(at((q) => void ((get(q) as { else: Stmt[] | null }).else = null)));
          stmts(s.else, (q) => (get(q) as Extract<Stmt, { k: "if" }>).else!);
        }
        break;
      case "for":
      case "forOf":
      case "forEach":
        stmts(s.body, (q) => (get(q) as { body: Stmt[] }).body);
        if (s.k === "for" && s.guard) {
          out.push(at((q) => void ((get(q) as { guard: Cond | null }).guard = null)));
          cond(s.guard, (q) => (get(q) as Extract<Stmt, { k: "for" }>).guard!);
        }
        break;
      case "while":
        cond(s.c, (q) => (get(q) as Extract<Stmt, { k: "while" }>).c);
        stmts(s.body, (q) => (get(q) as { body: Stmt[] }).body);
        break;
      case "switch":
        s.arms.forEach((arm, k) => {
          if (s.arms.length > 1) big.push(at((q) => void (get(q) as Extract<Stmt, { k: "switch" }>).arms.splice(k, 1)));
          stmts(arm, (q) => (get(q) as Extract<Stmt, { k: "switch" }>).arms[k]);
        });
        stmts(s.dflt, (q) => (get(q) as Extract<Stmt, { k: "switch" }>).dflt);
        break;
      case "arrLet":
      case "arrAssign":
        arr(s.init, (q) => (get(q) as { init: ArrExpr }).init);
        break;
      case "callStmt":
        args(s.args, (q) => (get(q) as { args: Expr[] }).args);
        break;
      default:
        break;
    }
  }

  function args(list: readonly Expr[], get: (q: Program) => Expr[]): void {
    list.forEach((e, i) => {
      if (list.length > 1) out.push(at((q) => void get(q).splice(i, 1)));
      expr(e, (q) => get(q)[i], (q, x) => (get(q)[i] = x));
    });
  }

  function expr(e: Expr, get: (q: Program) => Expr, set: (q: Program, e: Expr) => void): void {
    exprChildren(e).forEach((_, k) => out.push(at((q) => set(q, exprChildren(get(q))[k]))));
    switch (e.k) {
      case "neg":
      case "sq1":
        expr(e.e, (q) => (get(q) as { e: Expr }).e, (q, x) => ((get(q) as { e: Expr }).e = x));
        break;
      case "bin":
      case "logic":
      case "cond":
        for (const side of ["a", "b"] as const) expr(e[side], (q) => (get(q) as Record<"a" | "b", Expr>)[side], (q, x) => ((get(q) as Record<"a" | "b", Expr>)[side] = x));
        if (e.k === "cond") cond(e.c, (q) => (get(q) as Extract<Expr, { k: "cond" }>).c);
        break;
      case "math":
        // Math functions keep their arity: only their operands are reduced.
        e.args.forEach((a, i) => expr(a, (q) => (get(q) as { args: Expr[] }).args[i], (q, x) => ((get(q) as { args: Expr[] }).args[i] = x)));
        break;
      case "call":
        args(e.args, (q) => (get(q) as { args: Expr[] }).args);
        break;
      case "read":
        index(e.idx, (q) => (get(q) as Extract<Expr, { k: "read" }>).idx);
        break;
      default:
        break;
    }
  }

  function cond(c: Cond, get: (q: Program) => Cond): void {
    if (c.k === "cmp") {
      for (const side of ["a", "b"] as const) expr(c[side], (q) => (get(q) as Record<"a" | "b", Expr>)[side], (q, x) => ((get(q) as Record<"a" | "b", Expr>)[side] = x));
    } else if (c.k === "and" || c.k === "or") {
      for (const side of ["a", "b"] as const) cond(c[side], (q) => (get(q) as Record<"a" | "b", Cond>)[side]);
    } else if (c.k === "not") cond(c.c, (q) => (get(q) as { c: Cond }).c);
  }

  function index(i: Index, get: (q: Program) => Index): void {
    if (i.k === "data") expr(i.e, (q) => (get(q) as { e: Expr }).e, (q, x) => ((get(q) as { e: Expr }).e = x));
  }

  function arr(a: ArrExpr, get: (q: Program) => ArrExpr): void {
    if (a.k === "lit") args(a.elems, (q) => (get(q) as { elems: Expr[] }).elems);
    if (a.k === "map") expr(a.body, (q) => (get(q) as { body: Expr }).body, (q, x) => ((get(q) as { body: Expr }).body = x));
    if (a.k === "call") args(a.args, (q) => (get(q) as { args: Expr[] }).args);
  }
}

/** The blocks a compound statement could be replaced by. */
function blocksOf(s: Stmt): Stmt[][] {
  switch (s.k) {
    case "if":
      return s.else ? [s.then, s.else] : [s.then];
    case "for":
    case "while":
    case "forOf":
    case "forEach":
      return [s.body];
    case "switch":
      return [...s.arms, s.dflt];
    default:
      return [];
  }
}

/**
 * Applies edits greedily while `stillFails` holds for the edited program; returns the smallest
 * program reached (the input itself if no edit keeps the failure).
 */
export async function reduce(p: Program, stillFails: (q: Program) => Promise<boolean>, timeLimitMs = 60_000): Promise<{ program: Program; steps: number }> {
  const deadline = Date.now() + timeLimitMs;
  let steps = 0;
  let current = p;
  let progress = true;
  while (progress && Date.now() < deadline) {
    progress = false;
    for (const edit of edits(current)) {
      if (Date.now() >= deadline) break;
      const next = edit();
      if (await stillFails(next)) {
        current = next;
        steps++;
        progress = true;
        break;
      }
    }
  }
  return { program: current, steps };
}
