/**
 * Facts that decide what the forward sweep keeps and what the reverse sweep recomputes: dead
 * code, temporaries recomputed at their use, single-use adjoints, whole-array checkpoints of
 * loops, and trip counts in closed form.
 */
import { ruleArgs, ruleName } from "../../emit/terms.js";
import { elementIncrement } from "../../ir/print-stmt.js";
import { type Expr, type Loop, type Stmt } from "../../ir/ir.js";
import { bin, isNum, math, num } from "../../ir/make.js";
import { forEachExpr, forEachStmt, reads, stmtExprs, stmtLists } from "../../ir/walk.js";
import { linearSelfUpdate } from "../../ir/anf.js";
import { callWrites, CHEAP_PRIMS, hasCall, hasUserCall } from "./helpers.js";
import { Facts } from "./facts.js";

export abstract class Liveness extends Facts {

  protected findAtUse(body: readonly Stmt[]): void {
    // Temporaries that prologue recomputation reads must exist before the prologue: leave them.
    const prologueReads = new Set<string>();
    for (const list of this.remat.byLoop.values()) for (const r of list) for (const v of reads(r.init)) prologueReads.add(v);
    const cheap = (e: Expr): boolean =>
      (e.k === "index" && e.arr.k === "var") ||
      (e.k === "bin" && ["+", "-", "*", "/"].includes(e.op)) ||
      (e.k === "un" && e.op === "-") ||
      (e.k === "call" && e.fn.k === "prim" && CHEAP_PRIMS.has(e.fn.name));
    // Statements using each variable (a temporary may be used twice by one statement: t * t).
    const users = new Map<string, Set<Stmt>>();
    forEachStmt(body, (st) => {
      for (const e of stmtExprs(st)) for (const v of reads(e)) (users.get(v) ?? users.set(v, new Set()).get(v)!).add(st);
    });
    // Only inside loops: elsewhere the forward sweep's own value is in scope and costs nothing.
    const visit = (stmts: readonly Stmt[], inLoop: boolean): void => {
      stmts.forEach((st, i) => {
        if (st.k === "if") {
          visit(st.then, inLoop);
          visit(st.else, inLoop);
        } else if (st.k === "loop") {
          visit(st.body, true);
        } else if (st.k === "block") visit(st.body, inLoop);
        if (!inLoop || st.k !== "let" || !st.init || st.ty.k !== "num" || !/^_t\d+$/.test(st.name)) return;
        const t = st.name;
        if (users.get(t)?.size !== 1 || this.remat.names.has(t) || prologueReads.has(t) || !cheap(st.init) || hasCall(st.init)) return;
        const opReads = reads(st.init);
        const arrays = new Set<string>();
        forEachExpr(st.init, (x) => x.k === "index" && x.arr.k === "var" && arrays.add(x.arr.name));
        for (let j = i + 1; j < stmts.length; j++) {
          const u = stmts[j];
          if (stmtExprs(u).some((e) => reads(e).has(t))) {
            // Not when the statement overwrites an operand and its adjoint reads the temporary
            // (`x = log1p(x * x)`): that adjoint runs before the old value is restored. A plain
            // copy (`m = _t1`) is fine: the temporary's own adjoint comes after the restore.
            // (Operands of recomputed operands count: `_t1 = 0.5 + _t0` with `_t0 = x * x`.)
            const deep = new Set<string>();
            const expand = (vs: Iterable<string>): void => {
              for (const v of vs) {
                if (deep.has(v)) continue;
                deep.add(v);
                const init = this.atUse.get(v);
                if (init) {
                  expand(reads(init));
                  forEachExpr(init, (x) => x.k === "index" && x.arr.k === "var" && arrays.add(x.arr.name));
                }
              }
            };
            expand(opReads);
            const copy = u.k === "assign" && u.value.k === "var" && u.value.name === t;
            const overwrites = u.k === "assign" && !copy && (u.target.k === "var" ? deep.has(u.target.name) : arrays.has(u.target.arr) || deep.has(u.target.arr));
            if ((u.k === "let" || u.k === "assign") && !overwrites) this.atUse.set(t, st.init);
            return;
          }
          // Anything in between that changes an operand disqualifies.
          let changes = false;
          forEachStmt([u], (x) => {
            if (x.k === "let" && opReads.has(x.name)) changes = true;
            if (x.k === "assign" && (opReads.has(x.target.k === "var" ? x.target.name : x.target.arr) || (x.target.k === "index" && arrays.has(x.target.arr)))) changes = true;
            for (const e of stmtExprs(x)) if (hasCall(e)) changes = true;
          });
          if (changes) return;
        }
      });
    };
    visit(body, false);
  }

  protected findSingleUse(body: readonly Stmt[]): void {
    const uses = new Map<string, number>();
    const defs = new Map<string, number>();
    // The statement reading each variable (the one that matters is read exactly once).
    const userOf = new Map<string, Stmt>();
    forEachStmt(body, (st) => {
      for (const e of stmtExprs(st))
        forEachExpr(e, (x) => {
          if (x.k !== "var") return;
          uses.set(x.name, (uses.get(x.name) ?? 0) + 1);
          userOf.set(x.name, st);
        });
      if (st.k === "let" && st.init) defs.set(st.name, (defs.get(st.name) ?? 0) + 1);
      if (st.k === "assign") {
        const n = st.target.k === "var" ? st.target.name : st.target.arr;
        defs.set(n, (defs.get(n) ?? 0) + 2); // an assignment disqualifies
      }
    });
    const visit = (stmts: readonly Stmt[]): void => {
      const at = new Map(stmts.map((st, i) => [st, i]));
      stmts.forEach((st, i) => {
        if (st.k === "if") {
          visit(st.then);
          visit(st.else);
        } else if (st.k === "loop") {
          visit(st.body);
        } else if (st.k === "block") visit(st.body);
        if (st.k !== "let" || !st.init || !this.isActive(st.name) || (st.ty.k !== "num" && st.ty.k !== "nd")) return;
        const v = st.name;
        if (defs.get(v) !== 1 || uses.get(v) !== 1 || this.params.has(v) || this.p.fn.outputs?.includes(v)) return;
        // v is read once: by a later statement of this list, or by none of them.
        const user = userOf.get(v);
        if (user && (at.get(user) ?? -1) > i && this.contributesTo(user, v)) this.singleUse.add(v);
      });
    };
    visit(body);
  }

  /** Whether the reverse sweep of `st` adds exactly one contribution to v's adjoint. */
  protected contributesTo(st: Stmt, v: string): boolean {
    const operand = (e: Expr): boolean => e.k === "var" && e.name === v;
    let value: Expr | undefined;
    let target: string | undefined;
    if (st.k === "let" && st.init) [value, target] = [st.init, st.name];
    else if (st.k === "assign" && st.target.k === "var") [value, target] = [st.value, st.target.name];
    else if (st.k === "return") return !!st.value && operand(st.value) && this.body[this.body.length - 1] === st;
    else if (st.k === "assign" && st.target.k === "index") {
      const inc = elementIncrement(st);
      return !!inc && operand(inc.step) && this.isActive(st.target.arr);
    }
    if (!value || !target || !this.isActive(target) || !this.p.isVaried(value)) return false;
    if (operand(value)) return true;
    const rule = ruleName(value);
    if (rule) {
      const args = ruleArgs(value);
      const self = args.some((a) => a.k === "var" && a.name === target);
      return args.filter(operand).length === 1 && (!self || linearSelfUpdate(value, target, (e) => this.p.isVaried(e)));
    }
    if (value.k === "call" && value.fn.k === "nd") return value.args.some(operand);
    if (value.k === "field") return operand(value.obj);
    return false;
  }

  /**
   * Dead code in the forward sweep: a definition is kept only if the reverse sweep reads the
   * variable (R), a kept statement reads it, or it is the returned value and the caller wants the
   * value. Calls, writes into parameter arrays and observers are always kept; so is the control
   * (conditions) around anything kept or recorded. A fixed point, per variable.
   */
  protected findNeeded(): void {
    const need = this.neededVars;
    for (const v of this.R) need.add(v);
    const outputAtoms: Expr[] = [];
    forEachStmt(this.body, (st) => {
      if (st.k === "return" && st.value) outputAtoms.push(st.value);
    });
    if (this.needValue) for (const e of outputAtoms) for (const v of reads(e)) need.add(v);
    for (const o of this.p.fn.outputs ?? []) need.add(o);
    if (this.p.fn.aux) need.add(this.p.fn.aux);
    const addReads = (e: Expr | null | undefined): boolean => {
      let grew = false;
      if (e) for (const v of reads(e)) if (!need.has(v)) {
        need.add(v);
        grew = true;
      }
      return grew;
    };
    for (let changed = true; changed; ) {
      changed = false;
      // Backwards through each list, so a read reaches the definitions before it in the same
      // pass (forwards, a chain of n definitions took n passes). The least fixed point is the
      // same in any order.
      const visit = (stmts: readonly Stmt[]): boolean => {
        let any = false;
        for (let i = stmts.length - 1; i >= 0; i--) {
          const st = stmts[i];
          if (this.stmtNeeded(st)) {
            any = true;
            for (const e of stmtExprs(st)) if (st.k !== "if" && st.k !== "loop" && addReads(e)) changed = true;
          }
          if (st.k === "if") {
            const inner = [visit(st.then), visit(st.else)].some(Boolean);
            if ((inner || this.hasWork(st) || this.stmtNeeded(st)) && addReads(st.cond)) changed = true;
            any ||= inner;
          } else if (st.k === "loop") {
            const inner = [visit(st.init), visit(st.body), visit(st.update)].some(Boolean);
            if ((inner || this.hasWork(st) || this.stmtNeeded(st)) && addReads(st.cond)) changed = true;
            any ||= inner;
          } else if (st.k === "block") any = visit(st.body) || any;
        }
        return any;
      };
      visit(this.body);
    }
    this.neededMemo = new Map();
  }

  /** Whether a flat statement must run in the forward sweep (nested ones are judged by their contents). */
  protected stmtNeeded(st: Stmt): boolean {
    switch (st.k) {
      case "let":
        return this.neededVars.has(st.name) || (!!st.init && hasCall(st.init));
      case "assign":
        if (st.target.k === "var") return this.neededVars.has(st.target.name) || hasUserCall(st.value);
        return this.neededVars.has(st.target.arr) || this.params.has(st.target.arr);
      case "expr":
        return true;
      case "return":
        return this.needValue || this.mode === "split";
      // A call in a condition may write an array a kept statement reads (`while (f0(w) < 1)`).
      case "if":
      case "loop":
        return !!st.cond && hasUserCall(st.cond);
      default:
        return false;
    }
  }

  /**
   * Whether anything in the statements is kept in the forward sweep. Remembered per statement
   * once `findNeeded` is done (nested loops ask about each other's insides).
   */
  protected anyNeeded(stmts: readonly Stmt[]): boolean {
    return stmts.some((st) => this.neededIn(st));
  }

  private neededIn(st: Stmt): boolean {
    const known = this.neededMemo?.get(st);
    if (known !== undefined) return known;
    const any = this.stmtNeeded(st) || stmtLists(st).some((l) => this.anyNeeded(l));
    this.neededMemo?.set(st, any);
    return any;
  }
  /** Set when the needed variables are final. */
  private neededMemo?: Map<Stmt, boolean>;

  /**
   * Arrays saved whole at the start of each iteration of loop L, instead of element by element.
   * A scratch array (allocated in this function, outside L) that L's body writes only inside
   * nested loops or calls, and whose reverse-sweep reads in the body all come after its last write
   * there: the reverse of one iteration then needs only the iteration's final contents, which the
   * whole-array restore of the next iteration provides. (GMM's centred point and Q times it: two
   * short arrays per component instead of every intermediate element.)
   */
  protected checkpointsOf(l: Loop): string[] {
    let list = this.checkpoints.get(l);
    if (list) return list;
    list = [];
    this.checkpoints.set(l, list);
    const body = l.body;
    const inside = (r: Stmt | null, under: Stmt): boolean => {
      for (let x: Stmt | null = r; x; x = this.parentOf.get(x)?.stmt ?? null) if (x === under) return true;
      return false;
    };
    for (const a of this.scratchArrays()) {
      if (body.some((st) => inside(this.declOf(a), st))) continue;
      let lastWrite = -1;
      let flat = false;
      body.forEach((st, k) => {
        forEachStmt([st], (x) => {
          const writes = (x.k === "assign" && x.target.k === "index" && x.target.arr === a) || (x.k !== "loop" && x.k !== "if" && x.k !== "block" && stmtExprs(x).some((e) => callWrites(e, a, this.spec)));
          if (!writes) return;
          lastWrite = k;
          if (x === st) flat = true;
        });
      });
      if (lastWrite < 0 || flat) continue;
      let firstRead = Infinity;
      for (const r of this.prevReaders.get(a) ?? []) {
        if (r === null) continue;
        const k = body.findIndex((st) => inside(r, st));
        if (k >= 0) firstRead = Math.min(firstRead, k);
      }
      if (firstRead !== Infinity && lastWrite < firstRead) list.push(a);
    }
    return list;
  }

  /** Arrays the reverse sweep reads that this function allocates: the candidates for checkpoints (found once, not per loop). */
  private scratchArrays(): string[] {
    if (this.scratch) return this.scratch;
    const allocated = new Set<string>();
    forEachStmt(this.body, (x) => {
      if (x.k === "let" && x.init?.k === "alloc") allocated.add(x.name);
    });
    return (this.scratch = [...this.R].filter((a) => this.ty(a).k === "arr" && this.elementsRead(a) && allocated.has(a) && !this.params.has(a)));
  }
  private scratch?: string[];

  /** Whether anything in the loop's body runs in the forward sweep (kept code or nested records). */
  protected bodyRuns(s: Loop): boolean {
    if (this.checkpointsOf(s).length) return true;
    const k = s.counter?.name;
    const body = [...s.body, ...s.update.filter((u) => !(u.k === "assign" && u.target.k === "var" && u.target.name === k))];
    // A branch or loop with records in it has them itself (hasWork looks inside): only those
    // not inside another need asking.
    const records = (list: readonly Stmt[]): boolean =>
      list.some((x) => ((x.k === "if" || x.k === "loop") && this.hasWork(x)) || (x.k === "block" && records(x.body)));
    return records(body) || this.anyNeeded(body);
  }

  /**
   * The trip count of a counted loop in closed form, when its start and bound are not changed by
   * the loop: `for (let i = a; i < b; i++)` runs max(0, ceil(b - a)) times.
   */
  protected tripCountFormula(s: Loop): Expr | undefined {
    const k = this.counterFor(s);
    const cond = s.cond;
    if (!k || !cond || cond.k !== "bin" || Math.abs(k.step) !== 1) return undefined;
    if (cond.l.k !== "var" || cond.l.name !== k.name || reads(cond.r).has(k.name) || hasCall(cond.r) || hasCall(k.init)) return undefined;
    const bounds = [...reads(cond.r), ...reads(k.init)];
    if (bounds.length === 0) return this.closedTripCount(k, cond); // literal bounds: nothing can change them
    const changed = new Set<string>();
    forEachStmt([...s.body, ...s.update], (x) => {
      if (x.k === "let") changed.add(x.name);
      if (x.k === "assign" && x.target.k === "var") changed.add(x.target.name);
    });
    for (const v of bounds) if (changed.has(v)) return undefined;
    return this.closedTripCount(k, cond);
  }

  /** `max(0, ceil(b - a))` for `<`, `max(0, floor(b - a) + 1)` for `<=`, and the mirror for a count down. */
  protected closedTripCount(k: NonNullable<Loop["counter"]>, cond: Extract<Expr, { k: "bin" }>): Expr | undefined {
    const up = k.step === 1;
    const span = up ? (isNum(k.init, 0) ? cond.r : bin("-", cond.r, k.init)) : isNum(cond.r, 0) ? k.init : bin("-", k.init, cond.r);
    switch (cond.op) {
      case "<":
      case ">":
        return up === (cond.op === "<") ? math("max", num(0), math("ceil", span)) : undefined;
      case "<=":
      case ">=":
        return up === (cond.op === "<=") ? math("max", num(0), bin("+", math("floor", span), num(1))) : undefined;
      default:
        return undefined;
    }
  }
}
