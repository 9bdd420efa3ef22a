/**
 * Inlining small functions called inside loops, before analysis.
 *
 * A call in a loop body to a small, non-recursive function of the build is replaced by the
 * function's body, with its locals renamed and its parameters bound to the arguments (a parameter
 * the body never assigns is replaced by the argument itself, so an array argument is not aliased).
 * What that buys in the adjoint: no recording version, no snapshot pushed per call, and the
 * caller's analyses (recomputation, dead code, closed-form trip counts) see through the call.
 * Calls outside loops keep their own generated functions, so generated code stays readable.
 *
 * Takes a lowered function and a way to get callees; gives a new function (same id).
 */
import type { Expr, FnId, IrFunction, Loop, Pos, Stmt, Target, Ty } from "./ir.js";
import { forEachExpr, forEachStmt, mapExpr, stmtExprs } from "./walk.js";

/** Functions up to this many statements are inlined. */
const MAX_STATEMENTS = 40;

export function inlineSmallCalls(fn: IrFunction, callee: (id: FnId) => IrFunction | undefined, fresh: (base: string) => string): IrFunction {
  const vars = new Map(fn.vars);
  const reserved = new Set(fn.reserved);
  let changed = false;

  const inlinable = (id: FnId): IrFunction | undefined => {
    if (id.file === fn.id.file && id.pos === fn.id.pos && id.variant === fn.id.variant) return undefined;
    const g = callee(id);
    if (!g || g.outputs || g.custom) return undefined;
    let size = 0;
    let calls = false;
    forEachStmt(g.body, (s) => {
      size++;
      for (const e of stmtExprs(s)) forEachExpr(e, (x) => x.k === "call" && x.fn.k === "user" && (calls = true));
    });
    // Leaf functions only: no calls of their own (so no recursion through them either).
    if (size > MAX_STATEMENTS || calls) return undefined;
    // Array parameters are substituted, so they must not be reassigned in the body.
    const assigned = new Set<string>();
    forEachStmt(g.body, (s) => s.k === "assign" && s.target.k === "var" && assigned.add(s.target.name));
    if (g.params.some((p) => p.ty.k !== "num" && assigned.has(p.name))) return undefined;
    return g;
  };

  /**
   * Replaces a call by the callee's body; returns the statements and the result expression.
   * `into`: the call is the whole initializer of this declaration, whose variable then takes the
   * result itself (declared where the result variable would be). A separate result variable
   * copied into it would be two variables holding one value, and reverse mode would record both.
   */
  const expand = (g: IrFunction, args: readonly Expr[], pos: Pos, into?: Extract<Stmt, { k: "let" }>): { stmts: Stmt[]; result: Expr | null } => {
    const assigned = new Set<string>();
    forEachStmt(g.body, (s) => {
      if (s.k === "assign" && s.target.k === "var") assigned.add(s.target.name);
    });
    const tested = new Set<string>();
    const test = (e: Expr): void => {
      if (e.k === "var") tested.add(e.name);
    };
    forEachStmt(g.body, (s) => {
      for (const e of stmtExprs(s))
        forEachExpr(e, (x) => {
          if (x.k === "bin" && (x.op === "&&" || x.op === "||" || x.op === "??")) [x.l, x.r].forEach(test);
          if (x.k === "un" && x.op === "!") test(x.e);
          if (x.k === "cond") test(x.c);
        });
      if (s.k === "if") test(s.cond);
      if (s.k === "loop" && s.cond) test(s.cond);
    });
    const subst = new Map<string, Expr>();
    const pre: Stmt[] = [];
    g.params.forEach((p, i) => {
      const a = args[i];
      // A literal is substituted unless the parameter is tested for truth: `0.25 && y` would not
      // type-check (TS2872), so there it is bound to a local.
      if (!assigned.has(p.name) && (a.k === "var" || a.k === "free" || (a.k === "num" && !tested.has(p.name)))) subst.set(p.name, a);
      else {
        const name = fresh(`${p.name}_${g.id.name}`);
        vars.set(name, p.ty);
        reserved.add(name);
        pre.push({ k: "let", name, ty: p.ty, init: a, isConst: !assigned.has(p.name), pos });
        subst.set(p.name, { k: "var", name, ty: p.ty, pos });
      }
    });
    const renames = new Map<string, string>();
    for (const [v, t] of g.vars) {
      if (subst.has(v)) continue;
      const name = fresh(`${v}_${g.id.name}`);
      renames.set(v, name);
      vars.set(name, t);
      reserved.add(name);
    }
    const labels = new Map<string, string>();
    const exit = fresh(`_${g.id.name}`);
    const resultName = g.ret.k === "void" ? null : into ? into.name : fresh(`_${g.id.name}_result`);
    if (resultName && !into) {
      vars.set(resultName, g.ret);
      reserved.add(resultName);
    }
    const expr = (e: Expr): Expr => mapExpr(e, (x) => {
      if (x.k !== "var") return undefined;
      const s = subst.get(x.name);
      if (s) return s;
      const r = renames.get(x.name);
      return r ? { ...x, name: r } : undefined;
    });
    // A parameter the body assigns was bound to a fresh local above: its writes go there.
    const name = (n: string): string => renames.get(n) ?? (subst.get(n) as { name?: string } | undefined)?.name ?? n;
    const target = (t: Target): Target => (t.k === "var" ? { ...t, name: name(t.name) } : { ...t, arr: name(t.arr), idx: expr(t.idx) });
    const label = (l: string | undefined): string | undefined => {
      if (!l) return l;
      if (!labels.has(l)) labels.set(l, fresh(l));
      return labels.get(l);
    };
    let jumps = false;
    const stmt = (s: Stmt): Stmt => {
      switch (s.k) {
        case "let":
          return { ...s, name: name(s.name), init: s.init && expr(s.init) };
        case "assign":
          return { ...s, target: target(s.target), value: expr(s.value) };
        case "if":
          return { ...s, cond: expr(s.cond), then: s.then.map(stmt), else: s.else.map(stmt) };
        case "loop":
          return {
            ...s, label: label(s.label), init: s.init.map(stmt), cond: s.cond && expr(s.cond), body: s.body.map(stmt), update: s.update.map(stmt),
            counter: s.counter && { ...s.counter, name: name(s.counter.name), init: expr(s.counter.init) },
          } as Loop;
        case "block":
          return { ...s, label: label(s.label)!, body: s.body.map(stmt) };
        case "break":
        case "continue":
          return { ...s, label: label(s.label) };
        case "return": {
          jumps = true;
          const set: Stmt[] = resultName && s.value ? [{ k: "assign", target: { k: "var", name: resultName, ty: g.ret, pos: s.pos }, value: expr(s.value), pos: s.pos }] : [];
          return { k: "block", label: `${exit}_ret`, body: [...set, { k: "break", label: exit, pos: s.pos }], pos: s.pos };
        }
        case "expr":
          return { ...s, e: expr(s.e) };
        case "comment":
          return s;
      }
    };
    // A final return needs no jump.
    const body = [...g.body];
    const last = body[body.length - 1];
    let tail: Stmt[] = [];
    if (last?.k === "return") {
      body.pop();
      if (resultName && last.value) tail = [{ k: "assign", target: { k: "var", name: resultName, ty: g.ret, pos: last.pos }, value: expr(last.value), pos: last.pos }];
    }
    const inner = [...body.map(stmt), ...tail];
    // Returns from the middle became `break exit` out of a block around the body; flatten the
    // per-return blocks (they only group the assignment with its jump).
    const flat = (list: Stmt[]): Stmt[] =>
      list.flatMap((s): Stmt[] => {
        if (s.k === "block" && s.label === `${exit}_ret`) return s.body;
        if (s.k === "if") return [{ ...s, then: flat(s.then), else: flat(s.else) }];
        if (s.k === "loop") return [{ ...s, body: flat(s.body), init: flat(s.init), update: flat(s.update) }];
        if (s.k === "block") return [{ ...s, body: flat(s.body) }];
        return [s];
      });
    const stmts: Stmt[] = [...pre];
    if (into) stmts.push({ k: "let", name: into.name, ty: into.ty, isConst: false, pos: into.pos, ...(into.annot ? { annot: into.annot } : {}) });
    else if (resultName) stmts.push({ k: "let", name: resultName, ty: g.ret, isConst: false, pos });
    stmts.push(...(jumps ? [{ k: "block", label: exit, body: flat(inner), pos } as Stmt] : flat(inner)));
    // Statements from another file keep positions in that file's text: they are placed at the call.
    return { stmts: g.id.file === fn.id.file ? stmts : relocate(stmts, pos), result: resultName ? { k: "var", name: resultName, ty: g.ret, pos } : null };
  };

  /**
   * Pulls inlinable calls out of an expression (innermost first), emitting their bodies into
   * `out`. Calls under a conditional operator or a short-circuit operand stay calls: hoisting
   * them would run them when the source does not.
   */
  const hoist = (e: Expr, out: Stmt[], top = false): Expr => {
    switch (e.k) {
      case "cond":
        return { ...e, c: hoist(e.c, out) };
      case "bin":
        if (e.op === "&&" || e.op === "||" || e.op === "??") return { ...e, l: hoist(e.l, out) };
        return { ...e, l: hoist(e.l, out), r: hoist(e.r, out) };
      case "un":
      case "stop":
        return { ...e, e: hoist(e.e, out) } as Expr;
      case "index":
        return { ...e, arr: hoist(e.arr, out), idx: hoist(e.idx, out) };
      case "call": {
        const args = e.args.map((a) => hoist(a, out));
        const g = e.fn.k === "user" ? inlinable(e.fn.fn) : undefined;
        // A callee that writes into an array argument is inlined only as a whole right-hand side:
        // inside a larger expression, operands the source evaluates before the call would read
        // the array after the inlined writes (`a[i] *= bump(a)`).
        if (!g || (!top && writesArrayParam(g))) return { ...e, args };
        const { stmts, result } = expand(g, args, e.pos);
        out.push(...stmts);
        changed = true;
        return result ?? { k: "num", v: 0, text: "0", pos: e.pos };
      }
      default:
        return e;
    }
  };

  const block = (stmts: readonly Stmt[], inLoop: boolean): Stmt[] => {
    const out: Stmt[] = [];
    for (const s of stmts) {
      if (!inLoop) {
        out.push(nested(s, inLoop));
        continue;
      }
      switch (s.k) {
        case "let": {
          const init = s.init;
          const g = init?.k === "call" && init.fn.k === "user" ? inlinable(init.fn.fn) : undefined;
          if (g && init?.k === "call" && g.ret.k === "num" && s.ty.k === "num") {
            const args = init.args.map((a) => hoist(a, out));
            out.push(...expand(g, args, init.pos, s).stmts);
            changed = true;
          } else out.push({ ...s, init: s.init && hoist(s.init, out, true) });
          break;
        }
        case "assign": {
          const value = hoist(s.value, out, s.target.k === "var");
          out.push({ ...s, target: s.target.k === "index" ? { ...s.target, idx: hoist(s.target.idx, out) } : s.target, value });
          break;
        }
        case "expr":
          if (s.e.k === "call" && s.e.fn.k === "user" && inlinable(s.e.fn.fn)) {
            const args = s.e.args.map((a) => hoist(a, out));
            out.push(...expand(inlinable(s.e.fn.fn)!, args, s.pos).stmts);
            changed = true;
          } else out.push(s);
          break;
        case "return":
          out.push({ ...s, value: s.value && hoist(s.value, out, true) });
          break;
        default:
          out.push(nested(s, inLoop));
      }
    }
    return out;
  };
  const nested = (s: Stmt, inLoop: boolean): Stmt => {
    switch (s.k) {
      case "if":
        return { ...s, then: block(s.then, inLoop), else: block(s.else, inLoop) };
      case "loop":
        return { ...s, init: block(s.init, inLoop), body: block(s.body, true), update: block(s.update, true) };
      case "block":
        return { ...s, body: block(s.body, inLoop) };
      default:
        return s;
    }
  };

  const body = block(fn.body, false);
  return changed ? { ...fn, body, vars, reserved } : fn;
}

/** Whether the function writes an element of one of its array parameters. */
function writesArrayParam(g: IrFunction): boolean {
  const params = new Set(g.params.filter((p) => p.ty.k === "arr").map((p) => p.name));
  let writes = false;
  forEachStmt(g.body, (s) => {
    if (s.k === "assign" && s.target.k === "index" && params.has(s.target.arr)) writes = true;
  });
  return writes;
}

export type { Ty };

/** The statements with every statement position (and origin) moved to `pos`. */
function relocate(stmts: readonly Stmt[], pos: Pos): Stmt[] {
  return stmts.map((s): Stmt => {
    const at = { ...s, pos, ...("origin" in s && s.origin ? { origin: pos } : {}) } as Stmt;
    switch (at.k) {
      case "if":
        return { ...at, then: relocate(at.then, pos), else: relocate(at.else, pos) };
      case "loop":
        return { ...at, init: relocate(at.init, pos), body: relocate(at.body, pos), update: relocate(at.update, pos) };
      case "block":
        return { ...at, body: relocate(at.body, pos) };
      default:
        return at;
    }
  });
}
