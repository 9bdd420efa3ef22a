/**
 * Removes jumps for reverse mode: `break`, `continue` and early `return` become assignments to
 * one integer flag, `_jump`, and the statements a jump would skip are guarded by
 * `if (_jump === 0)`. Loops test `_jump === 0 && cond`. Afterwards every statement list runs
 * front to back (or stops being guarded), loops exit only through their condition, and the
 * function returns once, at its end.
 *
 * Why: the reverse sweep replays a statement list backwards, so it must know which statements
 * of an iteration ran. With jumps gone, that is exactly what the branch records of the guards
 * say, and the adjoint of every construct stays the simple structured one. Forward mode does
 * not need this and keeps the user's jumps.
 *
 * Codes: 1 is "returning"; each jump target (loop or labelled block) gets a break code and,
 * for loops with `continue`, a continue code. Flags nobody reads are removed at the end.
 */
import { BOOL, NUM, type Expr, type Loop, type Pos, type Stmt, type Ty } from "./ir.js";
import { forEachStmt } from "./walk.js";

export interface Structured {
  readonly body: Stmt[];
  /** The variable holding the result when a `return` was not at the end (null otherwise). */
  readonly retVar: string | null;
  /** The jump flag's name if it is used. */
  readonly jumpVar: string | null;
}

export function structurize(body: readonly Stmt[], retTy: Ty, fresh: (base: string, numbered?: boolean) => string): Structured {
  if (!needsWork(body)) return { body: [...body], retVar: null, jumpVar: null };
  const jump = fresh("_jump", false);
  let retVar: string | null = null;
  const codes = new Map<object, { brk: number; cont: number }>();
  let nextCode = 2;
  const pos0: Pos = { start: 0, end: 0 };
  const J: Expr = { k: "var", name: jump, ty: NUM, pos: pos0 };
  const num = (v: number): Expr => ({ k: "num", v, text: String(v), pos: pos0 });
  const is = (code: number): Expr => ({ k: "bin", op: "===", l: J, r: num(code), ty: BOOL, pos: pos0 });
  const setJump = (code: number, p: Pos): Stmt => ({ k: "assign", target: { k: "var", name: jump, ty: NUM, pos: p }, value: num(code), pos: p });
  const clearIf = (code: number, p: Pos): Stmt => ({ k: "if", cond: is(code), then: [setJump(0, p)], else: [], pos: p });

  /** Jump targets in scope, innermost last. */
  const scopes: { node: Loop | Extract<Stmt, { k: "block" }>; label?: string }[] = [];
  const codeOf = (node: object): { brk: number; cont: number } => {
    let c = codes.get(node);
    if (!c) codes.set(node, (c = { brk: nextCode++, cont: nextCode++ }));
    return c;
  };
  /** Unlabelled jumps target the innermost loop (lowering already labelled a switch's breaks). */
  const targetOf = (label: string | undefined): object => {
    for (let i = scopes.length - 1; i >= 0; i--) {
      const s = scopes[i];
      if (label ? s.label === label : s.node.k === "loop") return s.node;
    }
    throw new Error(`no target for jump ${label ?? ""}`);
  };

  const seq = (stmts: readonly Stmt[], top = false): Stmt[] => {
    const out: Stmt[] = [];
    for (let i = 0; i < stmts.length; i++) {
      const s = stmts[i];
      // The function's own last statement may stay a plain return.
      if (top && s.k === "return" && i === stmts.length - 1 && !retVar) {
        out.push(s);
        return out;
      }
      out.push(...stmt(s));
      if (s.k === "break" || s.k === "continue" || s.k === "return") return out; // the rest is dead
      if (mayJump(s)) {
        const rest = seq(stmts.slice(i + 1));
        if (rest.length) out.push({ k: "if", cond: is(0), then: rest, else: [], pos: rest[0].pos });
        return out;
      }
    }
    return out;
  };

  const stmt = (s: Stmt): Stmt[] => {
    switch (s.k) {
      case "break":
        return [setJump(codeOf(targetOf(s.label)).brk, s.pos)];
      case "continue":
        return [setJump(codeOf(targetOf(s.label)).cont, s.pos)];
      case "return": {
        if (!s.value) return [setJump(1, s.pos)];
        retVar ??= fresh("_ret", false);
        return [
          { k: "assign", target: { k: "var", name: retVar, ty: retTy, pos: s.pos }, value: s.value, pos: s.pos },
          setJump(1, s.pos),
        ];
      }
      case "if":
        return [{ ...s, then: seq(s.then), else: seq(s.else) }];
      case "block": {
        scopes.push({ node: s, label: s.label });
        const body = seq(s.body);
        scopes.pop();
        const c = codes.get(s);
        return c ? [{ ...s, body }, clearIf(c.brk, s.pos)] : [{ ...s, body }];
      }
      case "loop": {
        scopes.push({ node: s, label: s.label });
        const body = seq(s.body);
        scopes.pop();
        const c = codes.get(s);
        const jumps = mayJumpWithin(s.body);
        if (c) body.push(clearIf(c.cont, s.pos));
        const cond: Expr = jumps ? (s.cond ? { k: "bin", op: "&&", l: is(0), r: s.cond, ty: BOOL, pos: s.cond.pos } : is(0)) : (s.cond ?? { k: "bool", v: true, pos: s.pos });
        const update = jumps && s.update.length && !s.counter ? [{ k: "if", cond: is(0), then: s.update, else: [], pos: s.pos } as Stmt] : s.update;
        const loop: Loop = { ...s, body, cond, update };
        return c ? [loop, clearIf(c.brk, s.pos)] : [loop];
      }
      default:
        return [s];
    }
  };

  const result = seq(body, true);
  const out: Stmt[] = [{ k: "let", name: jump, ty: NUM, init: num(0), isConst: false, pos: pos0 }];
  if (retVar) out.push({ k: "let", name: retVar, ty: retTy, isConst: false, pos: pos0 });
  out.push(...result);
  if (retVar) out.push({ k: "return", value: { k: "var", name: retVar, ty: retTy, pos: pos0 }, pos: pos0 });
  const readsJump = usesJump(out, jump);
  return { body: readsJump ? out : dropJump(out, jump), retVar, jumpVar: readsJump ? jump : null };
}

/** Whether the body has a jump other than one final `return` at the top level. */
function needsWork(body: readonly Stmt[]): boolean {
  let found = false;
  forEachStmt(body, (s) => {
    if (s.k === "break" || s.k === "continue") found = true;
    if (s.k === "return" && s !== body[body.length - 1]) found = true;
  });
  return found;
}

/** Whether a statement contains a jump that leaves it. */
function mayJump(s: Stmt): boolean {
  const inner = new Set<string | undefined>();
  return escapes(s, inner, 0);
}

function mayJumpWithin(stmts: readonly Stmt[]): boolean {
  return stmts.some((s) => escapes(s, new Set(), 0));
}

/** `labels`: labels of targets inside the statement; `loops`: loops entered inside it. */
function escapes(s: Stmt, labels: Set<string | undefined>, loops: number): boolean {
  switch (s.k) {
    case "return":
      return true;
    case "break":
      return s.label ? !labels.has(s.label) : loops === 0;
    case "continue":
      return s.label ? !labels.has(s.label) : loops === 0;
    case "if":
      return s.then.some((x) => escapes(x, labels, loops)) || s.else.some((x) => escapes(x, labels, loops));
    case "block": {
      const inner = new Set(labels).add(s.label);
      return s.body.some((x) => escapes(x, inner, loops));
    }
    case "loop": {
      const inner = s.label ? new Set(labels).add(s.label) : labels;
      return s.body.some((x) => escapes(x, inner, loops + 1));
    }
    default:
      return false;
  }
}

function usesJump(stmts: readonly Stmt[], jump: string): boolean {
  let used = false;
  const check = (e: Expr | null | undefined): void => {
    if (!e) return;
    if (e.k === "var" && e.name === jump) used = true;
    if (e.k === "bin") {
      check(e.l);
      check(e.r);
    }
  };
  forEachStmt(stmts, (s) => {
    if (s.k === "if") check(s.cond);
    if (s.k === "loop") check(s.cond);
  });
  return used;
}

function dropJump(stmts: readonly Stmt[], jump: string): Stmt[] {
  const out: Stmt[] = [];
  for (const s of stmts) {
    if ((s.k === "let" && s.name === jump) || (s.k === "assign" && s.target.k === "var" && s.target.name === jump)) continue;
    if (s.k === "if") out.push({ ...s, then: dropJump(s.then, jump), else: dropJump(s.else, jump) });
    else if (s.k === "loop") out.push({ ...s, body: dropJump(s.body, jump), update: dropJump(s.update, jump) });
    else if (s.k === "block") out.push({ ...s, body: dropJump(s.body, jump) });
    else out.push(s);
  }
  return out;
}
