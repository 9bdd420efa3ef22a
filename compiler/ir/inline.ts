/**
 * Inlining small functions, before analysis.
 *
 * A call of a small, non-recursive function of the build is replaced by the function's body,
 * with its locals renamed and its parameters bound to the arguments (a parameter the body never
 * assigns is replaced by the argument itself, so an array argument is not aliased). Callees are
 * inlined into first (bottom-up), so a chain of small helpers becomes one body.
 * What that buys in the adjoint: no recording version and no snapshot pushed per call, no tape
 * traffic for values that now stay in locals, and the caller's analyses (recomputation, dead
 * code, closed-form trip counts) see through the call. A row of the bundle adjustment Jacobian,
 * whose residual calls a chain of four helpers, took 3.3x the hand-written block split into
 * `_fwd`/`_rev` pairs and 1.1x flattened.
 *
 * Takes a lowered function and a way to get callees; gives a new function (same id).
 */
import type { Expr, FnId, IrFunction, Loop, Param, Pos, Stmt, Target, Ty } from "./ir.js";
import { free, num } from "./make.js";
import { relocated } from "./origins.js";
import { foldExpr, forEachExpr, forEachStmt, mapExpr, stmtExprs } from "./walk.js";

/** Functions up to this many statements (after their own inlining) are inlined. */
const MAX_STATEMENTS = 60;
/**
 * At most this many statements are inlined into one function; later calls stay calls. Many
 * calls of one helper would otherwise make one huge body, which takes long to compile (adc's
 * passes and V8's) and which V8 may decline to optimize at all.
 */
const GROWTH_BUDGET = 1000;

/**
 * The locals each inlining made (already named after the callee they came from): inlined again
 * into a caller of the caller, they keep their names rather than gaining a suffix per level.
 */
const madeByInlining = new WeakMap<IrFunction, ReadonlySet<string>>();

const fnKeyOf = (id: FnId): string => `${id.file}:${id.pos}:${id.variant ?? ""}`;

/** Names every module has: the body's reads of these mean the same anywhere they are not shadowed. */
const GLOBALS = new Set(["Math", "Number", "NaN", "Infinity", "undefined", "Float64Array", "Array", "Object", "Boolean", "String", "JSON", "globalThis", "isFinite", "isNaN", "console"]);

const freeCache = new WeakMap<IrFunction, ReadonlySet<string>>();

/**
 * The identifiers a function's body reads from outside it, as source text: module-level
 * constants, imports, and globals (kept: a caller's local may shadow them). The ones every
 * module has are marked by GLOBALS.
 */
function freeNames(g: IrFunction): ReadonlySet<string> {
  let names = freeCache.get(g);
  if (names) return names;
  const found = new Set<string>();
  const scan = (text: string): void => {
    for (const m of text.matchAll(/(?<![.\w$])[A-Za-z_$][\w$]*/g)) found.add(m[0]);
  };
  forEachStmt(g.body, (s) => {
    for (const e of stmtExprs(s))
      forEachExpr(e, (x) => {
        if (x.k === "free") scan(x.text);
        // (`.m()` and `.p` name a member of the first argument, not something in scope.)
        else if (x.k === "call" && x.fn.k === "opaque" && !x.fn.text.startsWith(".")) scan(x.fn.text.replace(/^@/, "").replace(/\binstanceof\b/, ""));
      });
  });
  names = found;
  freeCache.set(g, names);
  return names;
}

export function inlineSmallCalls(fn: IrFunction, callee: (id: FnId) => IrFunction | undefined, fresh: (base: string) => string): IrFunction {
  return inlineWithin(fn, callee, fresh, new Map(), new Set([fnKeyOf(fn.id)]));
}

function inlineWithin(
  fn: IrFunction,
  callee: (id: FnId) => IrFunction | undefined,
  fresh: (base: string) => string,
  done: Map<string, IrFunction | null>,
  visiting: ReadonlySet<string>,
): IrFunction {
  const vars = new Map(fn.vars);
  const reserved = new Set(fn.reserved);
  const made = new Set(madeByInlining.get(fn) ?? []);
  let changed = false;
  let grown = 0;

  const inlinable = (id: FnId): IrFunction | undefined => {
    const key = fnKeyOf(id);
    // Recursion (direct or through others) stays a call.
    if (visiting.has(key)) return undefined;
    if (!done.has(key)) {
      const original = callee(id);
      // The callee's own inlining needs names unique in the callee only: they are renamed again
      // (kept where free) when its body comes into this function.
      done.set(key, original && !original.outputs && !original.custom ? inlineWithin(original, callee, namesOf(original), done, new Set([...visiting, key])) : null);
    }
    const g = done.get(key);
    // A returned array would be one array under two names, the callee's local and the caller's
    // variable (analysis/fence.ts refuses such aliases): those calls stay calls.
    if (!g || (g.ret.k !== "num" && g.ret.k !== "void")) return undefined;
    let size = 0;
    let calls = false;
    forEachStmt(g.body, (s) => {
      size++;
      for (const e of stmtExprs(s)) forEachExpr(e, (x) => x.k === "call" && x.fn.k === "user" && (calls = true));
    });
    // What is left a call after the callee's own inlining stays in a function of its own.
    if (size > MAX_STATEMENTS || calls || grown + size > GROWTH_BUDGET) return undefined;
    // Names the body reads from its module (`scale`, an import) mean something else, or nothing,
    // in another module, and in this function when one of its variables has the name.
    const outer = freeNames(g);
    if (g.id.file !== fn.id.file && [...outer].some((n) => !GLOBALS.has(n))) return undefined;
    // Source text kept verbatim (a template literal) naming the callee's own variables would not
    // follow their renaming.
    if ([...outer].some((n) => g.vars.has(n))) return undefined;
    for (const n of outer) if (vars.has(n)) return undefined;
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
    forEachStmt(g.body, () => void grown++);
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
      // A parameter with a default takes it when the argument is undefined (`drag(v, c)` with
      // the caller's optional c), as the call would.
      const a = p.init !== undefined && !isLiteral(args[i]) ? withDefault(args[i], p) : args[i];
      // A literal is substituted unless the parameter is tested for truth: `0.25 && y` would not
      // type-check (TS2872), so there it is bound to a local.
      if (!assigned.has(p.name) && (a.k === "var" || a.k === "free" || (a.k === "num" && !tested.has(p.name)))) subst.set(p.name, a);
      else {
        const name = fresh(`${p.name}_${g.id.name}`);
        made.add(name);
        vars.set(name, p.ty);
        reserved.add(name);
        pre.push({ k: "let", name, ty: p.ty, init: a, isConst: !assigned.has(p.name), pos });
        subst.set(p.name, { k: "var", name, ty: p.ty, pos });
      }
    });
    const renames = new Map<string, string>();
    for (const [v, t] of g.vars) {
      if (subst.has(v)) continue;
      const name = fresh(madeByInlining.get(g)?.has(v) ? v : `${v}_${g.id.name}`);
      made.add(name);
      renames.set(v, name);
      vars.set(name, t);
      reserved.add(name);
    }
    // (Later names must not take the module's names the body reads.)
    for (const n of freeNames(g)) reserved.add(n);
    const labels = new Map<string, string>();
    const exit = fresh(`_${g.id.name}`);
    const resultName = g.ret.k === "void" ? null : into ? into.name : fresh(`_${g.id.name}_result`);
    if (resultName && !into) {
      made.add(resultName);
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
    return { stmts: g.id.file === fn.id.file ? stmts : relocate(stmts, pos, g.id.file, g.source), result: resultName ? { k: "var", name: resultName, ty: g.ret, pos } : null };
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
        if (!g || (!top && writesArrayParam(g)) || !writesOnlyVariables(g, args)) return { ...e, args };
        const { stmts, result } = expand(g, args, e.pos);
        out.push(...stmts);
        changed = true;
        return result ?? { k: "num", v: 0, text: "0", pos: e.pos };
      }
      default:
        return e;
    }
  };

  const block = (stmts: readonly Stmt[]): Stmt[] => {
    const out: Stmt[] = [];
    for (const s of stmts) {
      switch (s.k) {
        case "let": {
          const init = s.init;
          const g = init?.k === "call" && init.fn.k === "user" ? inlinable(init.fn.fn) : undefined;
          if (g && init?.k === "call" && g.ret.k === "num" && s.ty.k === "num" && writesOnlyVariables(g, init.args)) {
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
          if (s.e.k === "call" && s.e.fn.k === "user" && inlinable(s.e.fn.fn) && writesOnlyVariables(inlinable(s.e.fn.fn)!, s.e.args)) {
            const args = s.e.args.map((a) => hoist(a, out));
            out.push(...expand(inlinable(s.e.fn.fn)!, args, s.pos).stmts);
            changed = true;
          } else out.push(s);
          break;
        case "return":
          out.push({ ...s, value: s.value && hoist(s.value, out, true) });
          break;
        default:
          out.push(nested(s));
      }
    }
    return out;
  };
  const nested = (s: Stmt): Stmt => {
    switch (s.k) {
      case "if":
        return { ...s, then: block(s.then), else: block(s.else) };
      case "loop":
        return { ...s, init: block(s.init), body: block(s.body), update: block(s.update) };
      case "block":
        return { ...s, body: block(s.body) };
      default:
        return s;
    }
  };

  const body = block(fn.body);
  if (!changed) return fn;
  const result = { ...fn, body, vars, reserved };
  madeByInlining.set(result, made);
  return result;
}

/** A fresh-name source over the function's own names, numbering a base that is taken. */
function namesOf(fn: IrFunction): (base: string) => string {
  const taken = new Set<string>([...fn.reserved, ...fn.vars.keys(), ...fn.params.map((p) => p.name)]);
  return (base) => {
    let name = base;
    for (let k = 0; taken.has(name); k++) name = `${base}${k}`;
    taken.add(name);
    return name;
  };
}

/** The array parameters (by position) whose elements the function writes. */
function writtenArrayParams(g: IrFunction): Set<number> {
  const written = new Set<number>();
  forEachStmt(g.body, (s) => {
    if (s.k !== "assign" || s.target.k !== "index") return;
    const arr = s.target.arr;
    const j = g.params.findIndex((p) => p.ty.k === "arr" && p.name === arr);
    if (j >= 0) written.add(j);
  });
  return written;
}

function writesArrayParam(g: IrFunction): boolean {
  return writtenArrayParams(g).size > 0;
}

/**
 * Whether every array the callee writes is passed as a variable, which the inlined body then
 * writes by that name. Another expression (`p.w`, a part of an object) would be bound to a local:
 * a second name for the array, which the fence refuses in terms of the callee's renamed locals;
 * as a call it is refused with the callee's name and the argument as written.
 */
function writesOnlyVariables(g: IrFunction, args: readonly Expr[]): boolean {
  return [...writtenArrayParams(g)].every((j) => args[j]?.k === "var");
}

export type { Ty };

/**
 * The statements with every position (statements, their origins, targets and expressions) moved
 * to `pos`, each remembering where in `file` it was (ir/origins.ts).
 */
function relocate(stmts: readonly Stmt[], pos: Pos, file: string, text?: string): Stmt[] {
  const at = (p: Pos): Pos => relocated(pos, p, file, text);
  const ex = (e: Expr): Expr => foldExpr(e, (x) => ({ ...x, pos: at(x.pos) }) as Expr);
  const target = (t: Target): Target => (t.k === "var" ? { ...t, pos: at(t.pos) } : { ...t, idx: ex(t.idx), pos: at(t.pos) });
  return stmts.map((s): Stmt => {
    const moved = { ...s, pos: at(s.pos), ...("origin" in s && s.origin ? { origin: at(s.origin) } : {}) } as Stmt;
    switch (moved.k) {
      case "let":
        return { ...moved, init: moved.init && ex(moved.init) };
      case "assign":
        return { ...moved, target: target(moved.target), value: ex(moved.value) };
      case "if":
        return { ...moved, cond: ex(moved.cond), then: relocate(moved.then, pos, file, text), else: relocate(moved.else, pos, file, text) };
      case "loop":
        return {
          ...moved, cond: moved.cond && ex(moved.cond), init: relocate(moved.init, pos, file, text), body: relocate(moved.body, pos, file, text), update: relocate(moved.update, pos, file, text),
          counter: moved.counter && { ...moved.counter, init: ex(moved.counter.init) },
        } as Loop;
      case "block":
        return { ...moved, body: relocate(moved.body, pos, file, text) };
      case "return":
        return { ...moved, value: moved.value && ex(moved.value) };
      case "expr":
        return { ...moved, e: ex(moved.e) };
      default:
        return moved;
    }
  });
}

/** A literal is never undefined. */
export function isLiteral(e: Expr): boolean {
  return e.k === "num" || e.k === "bool" || e.k === "str";
}

/** `a ?? d` for a parameter's literal default d (a number parameter is never null); d for `undefined` itself. */
function withDefault(a: Expr, p: Param): Expr {
  const d: Expr = p.ty.k === "num" ? num(Number(p.init)) : free(p.init!, p.ty);
  return isUndefined(a) ? d : { k: "bin", op: "??", l: a, r: d, ty: p.ty, pos: a.pos };
}

export function isUndefined(e: Expr): boolean {
  return e.k === "free" && e.text === "undefined";
}
