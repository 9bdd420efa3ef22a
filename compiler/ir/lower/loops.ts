/** Loops (`for`, `while`, `do`, `for...of` as a counted loop) and `switch` (a labelled block of ifs). */
import { someNode } from "../../ast-walk.js";
import { ts } from "ts-morph";
import { BOOL, NUM, VOID, type Counter, type Expr, type Stmt } from "../ir.js";
import { assigns, endsAbruptly, countedLoop, interfaceListWhy } from "./helpers.js";
import { Destructuring } from "./destructuring.js";

export abstract class Loops extends Destructuring {

  protected loop(s: ts.ForStatement | ts.WhileStatement | ts.DoStatement | ts.ForOfStatement, label: string | undefined, out: Stmt[]): void {
    const p = this.pos(s);
    this.targets.push({ label, kind: "loop" });
    try {
      if (ts.isWhileStatement(s) || ts.isDoStatement(s)) {
        const cond = this.withPre(null, () => this.condExpr(s.expression));
        out.push({ k: "loop", label, init: [], cond, doWhile: ts.isDoStatement(s), body: this.body(s.statement), update: [], pos: p });
        return;
      }
      if (ts.isForStatement(s)) {
        const init: Stmt[] = [];
        if (s.initializer) {
          if (ts.isVariableDeclarationList(s.initializer)) this.varDecls(s.initializer, init);
          else this.exprStmt(s.initializer, init);
        }
        const cond = s.condition ? this.withPre(null, () => this.condExpr(s.condition!)) : null;
        const update: Stmt[] = [];
        if (s.incrementor) this.withPre(null, () => this.exprStmt(s.incrementor!, update));
        const body = this.body(s.statement);
        const counter = this.counterOf(init, update, body);
        out.push({ k: "loop", label, init, cond, doWhile: false, body, update, counter, pos: p });
        return;
      }
      // for (const x of arr): a counted loop over the array's indices.
      const arrExpr = this.withPre(out, () => this.expr(s.expression));
      const arrTy = arrExpr.k === "var" || arrExpr.k === "free" ? arrExpr.ty : this.typeOf(s.expression);
      // Over other arrays (the rows of a number[][]), the loop reads elements as written; activity
      // analysis refuses it if those carry derivatives.
      const tsTy = this.env.checker.getTypeAtLocation(s.expression);
      const otherArray = arrTy.k === "other" && (this.env.checker.isArrayType(tsTy) || this.env.checker.isTupleType(tsTy));
      if (arrTy.k !== "arr" && arrTy.k !== "list" && !otherArray) this.refuse("ADC1012", s.expression, `for...of is supported over arrays, not '${this.env.checker.typeToString(tsTy)}'`, "copy the values into an array first, or use an index loop");
      // for...of iterates the array the variable held when the loop started; the index loop it
      // becomes reads the variable each time, so a body that reassigns it is refused.
      if (arrExpr.k === "var" && this.assignsIn(s.statement, arrExpr.name))
        this.refuse("ADC1024", s.expression, `the loop body assigns a new array to '${s.expression.getText()}', which for...of is iterating`, "iterate over a copy (for (const e of w.slice())) or use an index loop");
      const decl = s.initializer;
      if (!ts.isVariableDeclarationList(decl) || decl.declarations.length !== 1)
        this.refuse("ADC1024", s.initializer, "for...of must declare one variable");
      const idx = this.temp("_i", NUM);
      const ep = this.pos(s.expression);
      let arr = arrExpr;
      if (arrExpr.k !== "var" && arrExpr.k !== "free") {
        // Evaluated once, as for...of does (`for (const e of w.slice())`).
        const name = this.temp("_of", arrTy);
        out.push({ k: "let", name, ty: arrTy, init: arrExpr, isConst: true, pos: ep });
        arr = { k: "var", name, ty: arrTy, pos: ep };
      }
      const idxVar: Expr = { k: "var", name: idx, ty: NUM, pos: ep };
      const binding = decl.declarations[0].name;
      const elemTy = arrTy.k === "list" ? arrTy.elem : otherArray ? this.typeOf(binding) : NUM;
      // `for (const { w, b } of layers)`: the element, then its parts, as a declaration would.
      const elemName = ts.isIdentifier(binding) ? this.declare(binding, elemTy) : this.temp("_elem", elemTy);
      const parts: Stmt[] = [];
      if (!ts.isIdentifier(binding)) this.unpack(binding, { k: "var", name: elemName, ty: elemTy, pos: ep }, elemTy, !!(decl.flags & ts.NodeFlags.Const), decl, parts);
      const elem: Expr =
        arrTy.k === "list" ? { k: "field", obj: arr, name: "[]", idx: idxVar, ty: elemTy, pos: ep }
        : otherArray ? { k: "call", fn: { k: "opaque", text: "[]", ...withWhy(interfaceListWhy(tsTy, this.env.checker)) }, args: [arr, idxVar], ty: elemTy, pos: ep }
        : { k: "index", arr, idx: idxVar, pos: ep };
      const len: Expr = otherArray ? { k: "call", fn: { k: "opaque", text: ".length" }, args: [arr], ty: NUM, pos: ep } : { k: "len", arr, pos: ep };
      const body: Stmt[] = [
        { k: "let", name: elemName, ty: elemTy, init: elem, isConst: true, pos: this.pos(decl) },
        ...parts,
        ...this.body(s.statement),
      ];
      out.push({ ...countedLoop(idx, 0, len, body, ep), label, pos: p });
    } finally {
      this.targets.pop();
    }
  }

  /** Whether `node` assigns the local `name` as a whole (`name = ...`, `name += ...`). */
  protected assignsIn(node: ts.Node, name: string): boolean {
    return someNode(node, (n) => {
      if (!(ts.isBinaryExpression(n) && n.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && n.operatorToken.kind <= ts.SyntaxKind.LastAssignment)) return false;
      const targets = ts.isArrayLiteralExpression(n.left) ? n.left.elements : [n.left];
      return targets.some((t) => ts.isIdentifier(t) && this.localName(t) === name);
    });
  }

  /** A loop condition is evaluated every iteration, so it may not need statements run before it. */
  protected condExpr(e: ts.Expression): Expr {
    return this.expr(e);
  }

  /** `for (let i = a; ...; i += c)` with i not assigned in the body: the reverse sweep can recount i. */
  protected counterOf(init: Stmt[], update: Stmt[], body: Stmt[]): Counter | undefined {
    if (init.length !== 1 || init[0].k !== "let" || init[0].ty.k !== "num" || !init[0].init) return undefined;
    if (update.length !== 1 || update[0].k !== "assign") return undefined;
    const name = init[0].name;
    const u = update[0];
    if (u.target.k !== "var" || u.target.name !== name || u.value.k !== "bin") return undefined;
    const { op, l, r } = u.value;
    if (l.k !== "var" || l.name !== name || r.k !== "num" || (op !== "+" && op !== "-")) return undefined;
    if (!Number.isInteger(r.v) || r.v === 0) return undefined;
    if (assigns(body, name)) return undefined;
    return { name, init: init[0].init, step: op === "+" ? r.v : -r.v };
  }

  protected switchStmt(s: ts.SwitchStatement, out: Stmt[]): void {
    const p = this.pos(s);
    const label = this.temp("_switch", VOID);
    this.vars.delete(label);
    let disc = this.withPre(out, () => this.expr(s.expression));
    if (disc.k !== "var" && disc.k !== "num" && disc.k !== "free") {
      const name = this.temp("_d", this.typeOf(s.expression));
      out.push({ k: "let", name, ty: this.vars.get(name)!, init: disc, isConst: true, pos: this.pos(s.expression) });
      disc = { k: "var", name, ty: this.vars.get(name)!, pos: this.pos(s.expression) };
    }
    this.targets.push({ label, kind: "switch" });
    // Group empty clauses with the next non-empty one; refuse fall-through into code.
    type Arm = { tests: Expr[]; isDefault: boolean; body: Stmt[] };
    const arms: Arm[] = [];
    let pending: Arm = { tests: [], isDefault: false, body: [] };
    const clauses = s.caseBlock.clauses;
    clauses.forEach((c, i) => {
      if (ts.isDefaultClause(c)) pending.isDefault = true;
      else pending.tests.push(this.withPre(null, () => this.expr(c.expression)));
      if (c.statements.length === 0 && i < clauses.length - 1) return;
      const stmts = [...c.statements];
      const last = stmts[stmts.length - 1];
      if (i < clauses.length - 1 && !(last && endsAbruptly(last)))
        this.refuse("ADC1013", c, "this switch case falls through into the next one", "end the case with break, return or continue");
      if (last && ts.isBreakStatement(last) && !last.label) stmts.pop();
      pending.body = this.block(stmts);
      arms.push(pending);
      pending = { tests: [], isDefault: false, body: [] };
    });
    this.targets.pop();
    // Build the if-chain from the last arm up; the default arm (if any) is the final else.
    const def = arms.find((a) => a.isDefault);
    let chain: Stmt[] = def ? def.body : [];
    for (let i = arms.length - 1; i >= 0; i--) {
      const a = arms[i];
      const tests = a.tests.map<Expr>((t) => ({ k: "bin", op: "===", l: disc, r: t, ty: BOOL, pos: t.pos }));
      if (tests.length === 0) continue;
      const cond = tests.reduce((x, y) => ({ k: "bin", op: "||", l: x, r: y, ty: BOOL, pos: p }));
      chain = [{ k: "if", cond, then: a.body, else: chain, pos: p }];
    }
    out.push({ k: "block", label, body: chain, pos: p });
  }
}

const withWhy = (why: string | undefined): { why?: string } => (why ? { why } : {});
