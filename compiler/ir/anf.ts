/**
 * A-normal form for active code: after this pass, every statement that carries a derivative
 * applies one operation to atoms, so each differentiator handles one operation per statement.
 *
 * Takes a lowered function and its activity; gives a new body plus the temporaries it made.
 * Atoms are variables, literals, outer names, and small inactive expressions (arithmetic on
 * constants and indices, no calls), which stay inline so the output keeps the user's
 * `x * (i + 1)` instead of a temporary per subterm. Inactive statements are left as written.
 *
 * Invariants on the result, for an active `let`/`assign` `v = op(a...)`:
 * - the operands are atoms, and `v` is not one of them (a self-update `v = v * x` goes through a
 *   temporary), so both modes may compute the new value before its derivative;
 * - a conditional expression or `&&`/`||`/`??` with an active operand became an `if`, so only
 *   the branch taken is evaluated, as in the source.
 */
import type { Activity } from "../analysis/activity.js";
import { BOOL, NUM, isDiffTy, type Expr, type FnId, type IrFunction, type Pos, type Stmt, type Ty } from "./ir.js";
import { forEachExpr, forEachStmt, reads, stmtExprs } from "./walk.js";
import { printExpr } from "./print.js";
import { CseTable } from "./cse-table.js";

export interface AnfResult {
  readonly body: Stmt[];
  /** Every variable, temporaries included, with its type. */
  readonly vars: Map<string, Ty>;
  /** Temporaries that carry a derivative. */
  readonly activeTemps: ReadonlySet<string>;
}

export function toAnf(
  fn: IrFunction, act: Activity, fresh: (base: string) => string,
  /** Which arguments of a user function it may write into (analysis/summaries.ts). */
  writes: (callee: FnId) => ReadonlySet<number> | undefined = () => undefined,
): AnfResult {
  const vars = new Map(fn.vars);
  const activeTemps = new Set<string>();
  const isActive = (n: string): boolean => act.isActive(n) || activeTemps.has(n);
  const varied = (e: Expr): boolean => act.isVariedExpr(e) || (e.k === "var" && activeTemps.has(e.name));

  const writesActiveArray = (e: Extract<Expr, { k: "call" }>): boolean => {
    if (e.fn.k !== "user") return false;
    const w = writes(e.fn.fn);
    return e.args.some((a, j) => !!w?.has(j) && a.k === "var" && isActive(a.name));
  };

  const temp = (ty: Ty, active: boolean): string => {
    const name = fresh("_t");
    vars.set(name, ty);
    if (active) {
      activeTemps.add(name);
      act.addActive(name);
    }
    return name;
  };
  const v = (name: string, pos: Pos): Expr => ({ k: "var", name, ty: vars.get(name)!, pos });

  /** Small inactive expressions stay inline: no calls, so re-evaluating them is cheap and pure. */
  const simple = (e: Expr): boolean => {
    switch (e.k) {
      case "var": case "num": case "bool": case "str": case "free":
        return true;
      case "len":
        return simple(e.arr);
      case "bin":
        return simple(e.l) && simple(e.r);
      case "un": case "stop":
        return simple(e.e);
      case "index":
        return simple(e.arr) && simple(e.idx);
      case "field":
        return simple(e.obj) && (!e.idx || simple(e.idx));
      case "call":
        return e.fn.k === "prim" && e.args.every(simple);
      default:
        return false;
    }
  };

  /**
   * Common subexpressions: a temporary already holding the same pure operation (same text) in
   * this statement list is reused, until one of the variables it reads is assigned. `x[i] * x[i]`
   * reads x[i] once.
   */
  let cse = new CseTable();
  const pure = (op: Expr): boolean =>
    op.k === "index" || op.k === "bin" || op.k === "un" || op.k === "field" || (op.k === "call" && (op.fn.k === "prim" || op.fn.k === "nd"));
  const remember = (op: Expr, name: string): void => {
    if (pure(op)) cse.set(printExpr(op), { name, reads: reads(op) });
  };
  /** Temporaries made inside a branch are not visible after it. */
  const inBranch = <T>(f: () => T): T => cse.scoped(f);
  const recall = (op: Expr): string | undefined => (pure(op) ? cse.get(printExpr(op))?.name : undefined);
  const forget = (s: Stmt): void => {
    if (cse.isEmpty()) return; // (walking s would cost its whole inside, for nothing)
    const assigned = new Set<string>();
    forEachStmt([s], (x) => {
      if (x.k === "let") assigned.add(x.name);
      if (x.k === "assign") assigned.add(x.target.k === "var" ? x.target.name : x.target.arr);
      for (const e of stmtExprs(x)) for (const a of callArrays(e)) assigned.add(a);
    });
    forgetReads(assigned);
  };
  const forgetReads = (assigned: ReadonlySet<string>): void => cse.forget(assigned);
  /** Variables a user call in `e` is given: it may write into the arrays among them. */
  const callArrays = (e: Expr): Set<string> => {
    const out = new Set<string>();
    forEachExpr(e, (x) => {
      if (x.k === "call" && x.fn.k === "user") for (const a of x.args) if (a.k === "var") out.add(a.name);
    });
    return out;
  };
  const readsArray = (e: Expr): boolean => [...reads(e)].some((r) => vars.get(r)?.k === "arr");

  /**
   * Operands in evaluation order. An inline operand that reads an array is bound to a temporary
   * when a later operand calls a user function, which may write into the array before the
   * operation reads it (`a[0] + scale(a)` reads the old a[0]).
   */
  const atoms = (es: readonly Expr[], out: Stmt[], one: (e: Expr, out: Stmt[]) => Expr = atom): Expr[] =>
    es.map((e, i) => {
      const r = one(e, out);
      if (r.k === "var" || !readsArray(r) || !es.slice(i + 1).some((l) => callArrays(l).size > 0)) return r;
      const t = temp(tyOf(r, vars), varied(r));
      out.push({ k: "let", name: t, ty: vars.get(t)!, init: r, isConst: true, pos: r.pos });
      return v(t, r.pos);
    });

  /** An operand: returns an atom, emitting statements for anything bigger. */
  const atom = (e: Expr, out: Stmt[]): Expr => {
    if (e.k === "var" || e.k === "num" || e.k === "free") return e;
    if (!varied(e)) {
      if (simple(e)) return e;
      const known = recall(e);
      if (known) return v(known, e.pos);
      const t = temp(e.k === "stop" ? e.ty : tyOf(e, vars), false);
      out.push({ k: "let", name: t, ty: vars.get(t)!, init: e, isConst: true, pos: e.pos });
      remember(e, t);
      forgetReads(callArrays(e));
      return v(t, e.pos);
    }
    const op = operation(e, out);
    if (op.k === "var") return op;
    const known = recall(op);
    if (known) return v(known, e.pos);
    const t = temp(tyOf(e, vars), true);
    out.push({ k: "let", name: t, ty: vars.get(t)!, init: op, isConst: true, pos: e.pos });
    remember(op, t);
    forgetReads(callArrays(op));
    return v(t, e.pos);
  };

  /** One operation over atoms, for a varied expression. */
  const operation = (e: Expr, out: Stmt[]): Expr => {
    switch (e.k) {
      case "bin":
        if (e.op === "&&" || e.op === "||" || e.op === "??") return shortCircuit(e, out);
      {
        const [l, r] = atoms([e.l, e.r], out);
        return { ...e, l, r };
      }
      case "un":
        return e.op === "+" ? atom(e.e, out) : { ...e, e: atom(e.e, out) };
      case "call":
        return { ...e, args: atoms(e.args, out, (a, o) => (isDiffTy(tyOf(a, vars)) || a.k === "var" ? atom(a, o) : a)) };
      case "index":
        return { ...e, arr: atom(e.arr, out), idx: inactiveAtom(e.idx, out) };
      case "field":
        return { ...e, obj: atom(e.obj, out), idx: e.idx && inactiveAtom(e.idx, out) };
      case "cond": {
        const t = temp(e.ty, true);
        out.push({ k: "let", name: t, ty: e.ty, isConst: false, pos: e.pos });
        const a: Stmt[] = [];
        const b: Stmt[] = [];
        a.push({ k: "assign", target: { k: "var", name: t, ty: e.ty, pos: e.pos }, value: inBranch(() => operationOrAtom(e.a, a)), pos: e.a.pos });
        b.push({ k: "assign", target: { k: "var", name: t, ty: e.ty, pos: e.pos }, value: inBranch(() => operationOrAtom(e.b, b)), pos: e.b.pos });
        out.push({ k: "if", cond: e.c, then: a, else: b, pos: e.pos });
        // A call in either branch may have written arrays read before the branch.
        forgetReads(new Set([...callArrays(e.a), ...callArrays(e.b)]));
        return v(t, e.pos);
      }
      case "arrlit":
        return { ...e, elems: atoms(e.elems, out) };
      case "copy":
        return { ...e, e: atom(e.e, out) };
      default:
        return e;
    }
  };

  const operationOrAtom = (e: Expr, out: Stmt[]): Expr => (varied(e) ? operation(e, out) : atom(e, out));

  /** An index or other non-differentiated operand: inline if simple, else a constant temporary. */
  const inactiveAtom = (e: Expr, out: Stmt[]): Expr => {
    if (simple(e)) return e;
    const t = temp(NUM, false);
    out.push({ k: "let", name: t, ty: NUM, init: e, isConst: true, pos: e.pos });
    return v(t, e.pos);
  };

  const readsElementOf = (e: Expr, arr: string): boolean => {
    let found = false;
    forEachExpr(e, (x) => {
      if (x.k === "index" && x.arr.k === "var" && x.arr.name === arr) found = true;
    });
    return found;
  };
  const boundIndex = (e: Expr, out: Stmt[]): Expr => {
    if (e.k === "var" || e.k === "num") return e;
    const t = temp(NUM, false);
    out.push({ k: "let", name: t, ty: NUM, init: e, isConst: true, pos: e.pos });
    return v(t, e.pos);
  };

  /** `a[i] + e`, `e + a[i]` or `a[i] - e` for the element the statement writes. */
  const incrementOf = (value: Expr, arr: string, idx: Expr): { bin: Extract<Expr, { k: "bin" }>; old: Expr; step: Expr } | null => {
    if (value.k !== "bin" || (value.op !== "+" && value.op !== "-")) return null;
    const same = (e: Expr): boolean => e.k === "index" && e.arr.k === "var" && e.arr.name === arr && printExpr(e.idx) === printExpr(idx);
    if (same(value.l) && !reads(value.r).has(arr)) return { bin: value, old: value.l, step: value.r };
    if (value.op === "+" && same(value.r) && !reads(value.l).has(arr)) return { bin: value, old: value.r, step: value.l };
    return null;
  };

  /** `a && b`, `a || b`, `a ?? b` on numbers: an `if`, so `b` runs only when the source would run it. */
  const shortCircuit = (e: Extract<Expr, { k: "bin" }>, out: Stmt[]): Expr => {
    const t = temp(NUM, true);
    const tv = v(t, e.pos);
    const left = operationOrAtom(e.l, out);
    out.push({ k: "let", name: t, ty: NUM, init: left, isConst: false, pos: e.pos });
    // A call on the left may write arrays the right reads (a fuzzer find: `g(a) && a[0] * a[0]`
    // reused a[0] * a[0] computed before the call).
    forgetReads(callArrays(left));
    const test: Expr =
      e.op === "&&" ? tv
      : e.op === "||" ? { k: "un", op: "!", e: tv, ty: BOOL, pos: e.pos }
      : { k: "bin", op: "==", l: tv, r: { k: "free", text: "null", ty: NUM, pos: e.pos }, ty: BOOL, pos: e.pos };
    const then: Stmt[] = [];
    then.push({ k: "assign", target: { k: "var", name: t, ty: NUM, pos: e.pos }, value: inBranch(() => operationOrAtom(e.r, then)), pos: e.pos });
    out.push({ k: "if", cond: test, then, else: [], pos: e.pos });
    forgetReads(callArrays(e.r));
    return tv;
  };

  /**
   * The value of an active definition of `name`: one operation, reading `name` itself only when
   * the operation is linear in it (`s = s + t`, `s = s * c` with c constant), whose adjoint
   * updates `s_bar` in place and needs no old value.
   */
  const definition = (name: string, value: Expr, out: Stmt[]): Expr => {
    if (!varied(value)) return value; // a constant: the derivative is reset to zero
    const op = operation(value, out);
    if (op.k !== "var" && reads(op).has(name) && !linearSelfUpdate(op, name, varied)) {
      const t = temp(tyOf(value, vars), true);
      out.push({ k: "let", name: t, ty: vars.get(t)!, init: op, isConst: true, pos: value.pos });
      return v(t, value.pos);
    }
    return op;
  };

  /** A statement list; `fresh` starts without the enclosing list's temporaries (a loop body). */
  const block = (stmts: readonly Stmt[], fresh = false): Stmt[] => {
    const saved = cse;
    if (fresh) cse = new CseTable();
    const out: Stmt[] = [];
    cse.scoped(() => {
      for (const s of stmts) listStmt(s, out);
    });
    cse = saved;
    return out;
  };

  const listStmt = (s: Stmt, out: Stmt[]): void => {
    const start = out.length;
    stmt(s, out);
    forget(s);
    // Remember which user statement each flat statement came from, for generated comments.
    if (s.k === "let" || s.k === "assign" || s.k === "expr" || s.k === "return")
      for (let i = start; i < out.length; i++) {
        const o = out[i];
        if ((o.k === "let" || o.k === "assign" || o.k === "expr") && !o.origin) out[i] = { ...o, origin: s.k === "return" ? s.pos : s.origin ?? s.pos };
      }
  };

  const stmt = (s: Stmt, out: Stmt[]): void => {
    switch (s.k) {
      case "let":
        if (s.init && isActive(s.name)) {
          out.push({ ...s, init: definition(s.name, s.init, out) });
          return;
        }
        // A call with varied arguments whose result carries no derivative may still write into
        // an array that does (`const r = step(a, x > 1 ? a[0] : 0)`): its arguments become atoms
        // so the call's derivative versions see which of them are active.
        if (s.init?.k === "call" && writesActiveArray(s.init) && s.init.args.some(varied)) {
          out.push({ ...s, init: operation(s.init, out) });
          return;
        }
        break;
      case "assign": {
        const t = s.target;
        if (t.k === "var" && s.value.k === "var" && s.value.name === t.name) return; // `x = x` does nothing
        if (t.k === "var" && isActive(t.name)) {
          out.push({ ...s, value: definition(t.name, s.value, out) });
          return;
        }
        if (t.k === "var" && s.value.k === "call" && writesActiveArray(s.value) && s.value.args.some(varied)) {
          out.push({ ...s, value: operation(s.value, out) });
          return;
        }
        if (t.k === "index" && isActive(t.arr)) {
          // An index that reads the array it writes names another element once the write is done:
          // evaluate it once, before (`a[Math.floor(a[0])] = v`).
          const idx = readsElementOf(t.idx, t.arr) ? boundIndex(t.idx, out) : inactiveAtom(t.idx, out);
          // `a[i] += e` keeps reading the old element in place: the differentiators treat it as
          // an increment (diff/shared.ts elementIncrement), with no temporary for a[i].
          const inc = incrementOf(s.value, t.arr, t.idx);
          if (inc && varied(inc.step)) {
            const old: Expr = { k: "index", arr: v(t.arr, t.pos), idx, pos: inc.old.pos };
            out.push({ ...s, target: { ...t, idx }, value: { ...inc.bin, l: old, r: atom(inc.step, out) } });
            return;
          }
          out.push({ ...s, target: { ...t, idx }, value: varied(s.value) ? atom(s.value, out) : s.value });
          return;
        }
        break;
      }
      case "if":
        out.push({ ...s, then: block(s.then), else: block(s.else) });
        return;
      case "loop":
        out.push({ ...s, init: block(s.init, true), body: block(s.body, true), update: block(s.update, true) });
        return;
      case "block":
        out.push({ ...s, body: block(s.body) });
        return;
      case "return":
        if (s.value && varied(s.value)) {
          out.push({ ...s, value: atom(s.value, out) });
          return;
        }
        break;
      case "expr":
        if (s.e.k === "call" && s.e.fn.k === "user" && s.e.args.some(varied)) {
          out.push({ ...s, e: operation(s.e, out) });
          return;
        }
        break;
    }
    out.push(s);
  };

  return { body: block(fn.body), vars, activeTemps };
}

/**
 * Whether `op` uses `name` exactly once, as an operand it is linear in: `name + a`, `a - name`,
 * `name * c` or `name / c` with c constant, `-name`.
 */
export function linearSelfUpdate(op: Expr, name: string, varied: (e: Expr) => boolean): boolean {
  const isSelf = (e: Expr): boolean => e.k === "var" && e.name === name;
  if (op.k === "un" && op.op === "-") return isSelf(op.e);
  if (op.k !== "bin") return false;
  const l = isSelf(op.l);
  const r = isSelf(op.r);
  if (l === r) return false;
  if (op.op === "+" || op.op === "-") return true;
  // The constant factor is evaluated again by the derivative code, after the update: it must not
  // read the variable (`x *= Math.floor(x)`).
  const other = l ? op.r : op.l;
  if (op.op === "*") return !varied(other) && !reads(other).has(name);
  if (op.op === "/") return l && !varied(op.r) && !reads(op.r).has(name);
  return false;
}

/** The type of an expression's value. */
export function tyOf(e: Expr, vars: ReadonlyMap<string, Ty>): Ty {
  switch (e.k) {
    case "num": case "len":
      return NUM;
    case "bool":
      return BOOL;
    case "str":
      return { k: "other", text: "string" };
    case "var":
      return vars.get(e.name) ?? e.ty;
    case "index":
      return NUM;
    case "alloc": case "arrlit": case "copy":
      return { k: "arr", ctor: e.ctor };
    default:
      return e.ty;
  }
}
