/**
 * The float lane of the tape as a local array (issue "Performance round 2", tape calls): in the
 * sweeps of one generated function, `tape.pushF(v)` becomes `tf[tt] = v; tt++` and
 * `x = tape.popF()` becomes `tt--; x = tf[tt]`, on locals that hold the tape's array and top.
 * V8 stops inlining `pushF`/`popF` in large functions once its inlining budget is spent; the
 * local form is plain loads and stores, whatever the function's size.
 *
 * The locals must agree with the tape wherever other code can see it:
 * - a region (a sweep) loads them at its start and stores the top back at its end and before a
 *   `return`;
 * - around a statement that may use the tape itself (a call of a generated derivative, of a
 *   user function that may run one, of any runtime helper not known to leave the float lane
 *   alone), the top is stored before and both are reloaded after (the array may have grown).
 * Capacity: one check per straight-line segment (`if (tt + K > tf.length) tf = tape.reserveF(tt,
 * K)`), at the start of each statement list and after each loop or call, K counting the pushes
 * up to the next loop or call (the larger branch of an `if`). A loop body checks once per
 * iteration. Pops need no check.
 *
 * Where a float-lane operation appears anywhere else (a loop's head, a condition holding a call
 * that may use the tape), the function keeps the tape calls as they were.
 */
import { F64, NUM, type Expr, type Pos, type Stmt } from "../ir/ir.js";
import { forEachExpr, forEachStmt, stmtExprs } from "../ir/walk.js";
import { GEN, name, num } from "../ir/make.js";
import { assign, assignAt, decl, increment, ifStmt, rt } from "../diff/build-ir.js";
import { RT } from "../emit/names.js";

/** Runtime calls that neither touch the float lane nor run user code. */
const LANE_SAFE = new Set(["tape.pushB", "tape.popB", "tape.pushI", "tape.popI", "tape.pushO", "tape.popO", "zerosLike", "addInto", "keepArrays", "restoreArrays", "barOf", "fillBar", "copyArrays"]);

export interface TapeLocals {
  /** The local holding the tape's float array. */
  readonly arr: string;
  /** The local holding its top. */
  readonly top: string;
}

/** Whether an expression may use the tape (or run code that may): a call other than Math and lane-safe helpers. */
function mayUseTape(e: Expr): boolean {
  let found = false;
  forEachExpr(e, (x) => {
    if (x.k !== "call") return;
    if (x.fn.k === "prim") return;
    if (x.fn.k === "rt" && LANE_SAFE.has(x.fn.name)) return;
    found = true;
  });
  return found;
}

function isFloatOp(e: Expr): boolean {
  return e.k === "call" && e.fn.k === "rt" && (e.fn.name === "tape.pushF" || e.fn.name === "tape.popF");
}

/** `tape.pushF(v)` as a statement, with v free of tape use. */
function pushOf(s: Stmt): Expr | null {
  if (s.k !== "expr" || s.e.k !== "call" || s.e.fn.k !== "rt" || s.e.fn.name !== "tape.pushF") return null;
  const v = s.e.args[0];
  return mayUseTape(v) ? null : v;
}

/** `x = tape.popF()`, `a[i] = tape.popF()` or `const x = tape.popF()`, with nothing else using the tape. */
function isPop(s: Stmt): boolean {
  if (s.k === "let") return isPopCall(s.init);
  if (s.k === "assign" && !s.op) return isPopCall(s.value) && (s.target.k === "var" || !mayUseTape(s.target.idx));
  return false;
}

function isPopCall(e: Expr | undefined): boolean {
  return !!e && e.k === "call" && e.fn.k === "rt" && e.fn.name === "tape.popF";
}

/** Whether a statement, apart from its nested statement lists, may use the tape. */
function syncPoint(s: Stmt): boolean {
  return stmtExprs(s).some(mayUseTape);
}

/**
 * Whether the statements can be rewritten: every float-lane operation is a push or pop statement
 * the rewrite knows, and no loop head or condition may use the tape.
 */
function rewritable(stmts: readonly Stmt[]): boolean {
  let ok = true;
  forEachStmt(stmts, (s) => {
    if (!ok) return;
    if (pushOf(s) || isPop(s)) return;
    const own = stmtExprs(s);
    if (own.some((e) => { let f = false; forEachExpr(e, (x) => void (f ||= isFloatOp(x))); return f; })) ok = false;
    else if ((s.k === "if" || s.k === "loop") && own.some(mayUseTape)) ok = false;
    else if (s.k === "loop" && [...s.init, ...s.update].some((u) => syncPoint(u) || pushOf(u) || isPop(u))) ok = false;
  });
  return ok;
}

/**
 * Whether the locals pay: some float-lane operation runs in a loop, or there are many. A small
 * function's one or two pushes stay calls, which V8 inlines there and which read better.
 */
export function worthLocalTape(regions: readonly (readonly Stmt[])[]): boolean {
  let ops = 0;
  let inLoop = false;
  const visit = (stmts: readonly Stmt[], loop: boolean): void => {
    for (const s of stmts) {
      if (pushOf(s) || isPop(s)) {
        ops++;
        inLoop ||= loop;
      }
      if (s.k === "if") {
        visit(s.then, loop);
        visit(s.else, loop);
      } else if (s.k === "block") visit(s.body, loop);
      else if (s.k === "loop") visit(s.body, true);
    }
  };
  for (const r of regions) visit(r, false);
  return inLoop || ops >= 8;
}

/**
 * The regions (sweeps) rewritten to use the locals, or null when one cannot be. Each region loads
 * the locals at its start (the first declares them) and stores the top at its end.
 */
export function localizeTape(regions: readonly (readonly Stmt[])[], locals: TapeLocals): Stmt[][] | null {
  if (!regions.every(rewritable)) return null;
  const r = new Rewriter(locals);
  return regions.map((stmts, k) => {
    const at = stmts[0]?.pos ?? GEN;
    return [...(k === 0 ? r.declare(at) : r.reload(at)), ...r.list(stmts), r.store(stmts[stmts.length - 1]?.pos ?? at)];
  });
}

class Rewriter {
  constructor(private readonly t: TapeLocals) {}

  declare(at: Pos): Stmt[] {
    return [decl(this.t.arr, this.tapeField("f", F64), at, { ty: F64, annot: F64 }), decl(this.t.top, this.tapeField("fTop", NUM), at)];
  }

  reload(at: Pos): Stmt[] {
    return [assign(this.t.arr, this.tapeField("f", F64), at, F64), assign(this.t.top, this.tapeField("fTop", NUM), at)];
  }

  /** The top back into the tape (the runtime field written as a plain assignment). */
  store(at: Pos): Stmt {
    return { k: "assign", target: { k: "var", name: `${RT}.tape.fTop`, ty: NUM, pos: GEN }, value: name(this.t.top), pos: at };
  }

  private tapeField(field: string, ty: typeof F64 | typeof NUM): Expr {
    return { k: "free", text: `${RT}.tape.${field}`, ty, pos: GEN };
  }

  /** One statement list: pushes and pops rewritten, capacity checks per segment, syncs around calls. */
  list(stmts: readonly Stmt[]): Stmt[] {
    const out: Stmt[] = [];
    let segStart = 0;
    let pushes = 0;
    let reloadedAt = -1;
    const flush = (): void => {
      if (pushes > 0) out.splice(segStart, 0, this.check(pushes, out[segStart]?.pos ?? GEN));
      pushes = 0;
      segStart = out.length;
    };
    for (const s of stmts) {
      const v = pushOf(s);
      if (v) {
        out.push(assignAt(this.t.arr, name(this.t.top), v, s.pos, F64), increment(this.t.top, s.pos));
        pushes++;
      } else if (isPop(s)) {
        out.push(this.decrement(s.pos), this.popInto(s));
      } else if (s.k === "if") {
        const straight = [this.straight(s.then), this.straight(s.else)];
        if (straight[0] !== null && straight[1] !== null && !syncPoint(s)) {
          pushes += Math.max(straight[0], straight[1]);
          out.push(ifStmt(s.cond, this.inline(s.then), this.inline(s.else), s.pos));
        } else {
          flush();
          out.push(ifStmt(s.cond, this.list(s.then), this.list(s.else), s.pos));
          segStart = out.length;
        }
      } else if (s.k === "loop") {
        flush();
        out.push({ ...s, body: this.list(s.body) });
        segStart = out.length;
      } else if (s.k === "block") {
        flush();
        out.push({ ...s, body: this.list(s.body) });
        segStart = out.length;
      } else if (s.k === "return") {
        out.push(this.store(s.pos), s);
      } else if (syncPoint(s)) {
        flush();
        // Calls in a row share one store before and one reload after.
        if (reloadedAt === out.length && out.length >= 2) out.splice(out.length - 2, 2, s);
        else out.push(this.store(s.pos), s);
        out.push(...this.reload(s.pos));
        segStart = reloadedAt = out.length;
      } else out.push(s);
    }
    flush();
    return out;
  }

  /**
   * The pushes of a list with no loop, call or block (the larger branch of each `if`), or null
   * if it has one: such a list is rewritten inside its enclosing segment.
   */
  private straight(stmts: readonly Stmt[]): number | null {
    let n = 0;
    for (const s of stmts) {
      if (pushOf(s)) n++;
      else if (isPop(s)) continue;
      else if (s.k === "loop" || s.k === "block" || s.k === "return") return null;
      else if (s.k === "if") {
        const a = this.straight(s.then);
        const b = this.straight(s.else);
        if (a === null || b === null || syncPoint(s)) return null;
        n += Math.max(a, b);
      } else if (syncPoint(s)) return null;
    }
    return n;
  }

  /** A straight list rewritten without checks of its own (its segment's check covers it). */
  private inline(stmts: readonly Stmt[]): Stmt[] {
    const out: Stmt[] = [];
    for (const s of stmts) {
      const v = pushOf(s);
      if (v) out.push(assignAt(this.t.arr, name(this.t.top), v, s.pos, F64), increment(this.t.top, s.pos));
      else if (isPop(s)) out.push(this.decrement(s.pos), this.popInto(s));
      else if (s.k === "if") out.push(ifStmt(s.cond, this.inline(s.then), this.inline(s.else), s.pos));
      else out.push(s);
    }
    return out;
  }

  private decrement(at: Pos): Stmt {
    return assign(this.t.top, { k: "bin", op: "-", l: name(this.t.top), r: num(1), ty: NUM, pos: GEN }, at);
  }

  /** `x = tf[tt]` in place of `x = tape.popF()`. */
  private popInto(s: Stmt): Stmt {
    const load: Expr = { k: "index", arr: name(this.t.arr, F64), idx: name(this.t.top), pos: GEN };
    if (s.k === "let") return { ...s, init: load };
    if (s.k === "assign") return { ...s, value: load };
    throw new Error("local tape: not a pop");
  }

  /** `if (tt + k > tf.length) tf = tape.reserveF(tt, k);` */
  private check(k: number, at: Pos): Stmt {
    const need: Expr = { k: "bin", op: ">", l: { k: "bin", op: "+", l: name(this.t.top), r: num(k), ty: NUM, pos: GEN }, r: { k: "len", arr: name(this.t.arr, F64), pos: GEN }, ty: NUM, pos: GEN };
    return ifStmt(need, [assign(this.t.arr, rt("tape.reserveF", [name(this.t.top), num(k)], F64), at, F64)], [], at);
  }
}

