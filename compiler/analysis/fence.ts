/**
 * The fence that needs activity: constructs that are fine on constants but would make a
 * derivative silently wrong if a differentiated value flowed through them. Each gets a
 * diagnostic at its position; nothing is emitted for a file with one.
 */
import type { Code } from "../diagnostics.js";
import { assertNever, type Expr, type FnId, type IrFunction, type Stmt } from "../ir/ir.js";
import { printExpr } from "../ir/print.js";
import { forEachExpr, forEachStmt, stmtExprs, stmtLists } from "../ir/walk.js";
import { views } from "./summaries.js";
import { arrayNames, readsOf, writtenThrough } from "./aliases.js";

const OBSERVERS = new Set(["console.log", "console.info", "console.warn", "console.error", "console.debug"]);
/** Properties that describe a value without carrying its derivative (shapes, sizes). */
const METADATA = new Set([".shape", ".size", ".ndim", ".dtype", ".length"]);

export type Report = (code: Code, e: { pos: { start: number; end: number } }, message: string, hint?: string) => void;

export function fence(
  fn: IrFunction, isVaried: (e: Expr) => boolean, isActive: (n: string) => boolean, report: Report,
  writes: (callee: FnId) => ReadonlySet<number> | undefined = () => undefined,
  /** The parameters whose array (or part) a callee returns (summaries.ts returnedParts). */
  returned: (callee: FnId) => ReadonlySet<number> | undefined = () => undefined,
): void {
  const params = new Set(fn.params.map((p) => p.name));
  const readCount = readsOf(fn.body);
  const written = writtenThrough(fn.body, writes);
  const inits = new Map<string, (Expr | undefined)[]>();
  forEachStmt(fn.body, (s) => {
    const n = s.k === "let" ? s.name : s.k === "assign" && s.target.k === "var" ? s.target.name : undefined;
    if (n !== undefined) (inits.get(n) ?? inits.set(n, []).get(n)!).push(s.k === "let" ? s.init : (s as Extract<Stmt, { k: "assign" }>).value);
  });
  const freshOnly = (n: string): boolean => inits.get(n)?.length === 1 && ["copy", "alloc", "arrlit"].includes(inits.get(n)![0]?.k ?? "");
  // Where each statement sits: its list and index.
  const place = new Map<Stmt, { list: readonly Stmt[]; at: number }>();
  const index = (list: readonly Stmt[]): void => list.forEach((st, at) => (place.set(st, { list, at }), stmtLists(st).forEach(index)));
  index(fn.body);
  // Whether one statement (its own expressions and target, not the statements it holds) names n.
  const names = (x: Stmt, n: string): boolean => {
    let hit = (x.k === "let" && x.name === n) || (x.k === "assign" && (x.target.k === "var" ? x.target.name : x.target.arr) === n);
    for (const e of stmtExprs(x)) forEachExpr(e, (y) => void (hit ||= y.k === "var" && y.name === n));
    return hit;
  };
  const count = (stmts: readonly Stmt[], n: string): number => {
    let k = 0;
    forEachStmt(stmts, (x) => void (names(x, n) && k++));
    return k;
  };
  const deadAfter = (t: string, move: Stmt): boolean => {
    const p = place.get(move);
    if (!p || !freshOnly(t)) return false;
    const decl = p.list.findIndex((st, k) => k < p.at && st.k === "let" && st.name === t);
    return decl >= 0 && count(fn.body, t) === count(p.list.slice(decl, p.at + 1), t);
  };
  const viewed = views(fn, returned);
  const roots = new Map([...viewed].map(([v, { root }]) => [v, root]));
  const parts = localParts(fn, params, returned);
  forEachStmt(fn.body, (s) => {
    // A write into part of a parameter object: its adjoint would have to reach the parameter's
    // through the view, which adc does not follow.
    if (s.k === "assign" && s.target.k === "index" && roots.has(s.target.arr) && (isVaried(s.value) || isVaried({ k: "var", name: s.target.arr, ty: s.target.arrTy, pos: s.pos })))
      report("ADC1011", s, `'${s.target.arr}' is part of the parameter '${roots.get(s.target.arr)}'; writing into it is not supported in differentiated code`, `copy it first: const ${s.target.arr} = ... .slice()`);
    // The same for a row of a local list (`const row = M[1]; row[0] = ...`, `for (const r of rows)`):
    // the list's adjoint would not see the write.
    else if (s.k === "assign" && s.target.k === "index" && parts.has(s.target.arr) && (isVaried(s.value) || isVaried({ k: "var", name: s.target.arr, ty: s.target.arrTy, pos: s.pos })))
      report("ADC1011", s, `'${s.target.arr}' is part of '${parts.get(s.target.arr)}'; writing into it is not supported in differentiated code`, `keep the rows in one flat array (${parts.get(s.target.arr)}[i * n + j]), or copy the row first: .slice()`);
    for (const root of stmtExprs(s))
      forEachExpr(root, (e) => {
        if (e.k !== "call" || e.fn.k !== "user") return;
        const w = writes(e.fn.fn);
        if (!w?.size || !e.args.some(isVaried)) return;
        const callee = e.fn.fn.name;
        e.args.forEach((a, j) => {
          if (!w.has(j)) return;
          if (a.k === "field" || (a.k === "var" && roots.has(a.name)))
            report("ADC1011", e, `'${callee}' writes into '${printExpr(a)}', part of the parameter '${a.k === "var" ? roots.get(a.name) : printExpr(a).split(".")[0]}', which is not supported in differentiated code`, `pass a copy: ${printExpr(a)}.slice()`);
          // The same array in two places, one of them written: the derivative code treats the
          // two parameters as different arrays.
          const k = e.args.findIndex((b, i) => i !== j && sameArray(a, b, viewed));
          if (k >= 0)
            report("ADC1011", e, `the same array '${printExpr(a)}' is passed to '${callee}' twice (arguments ${Math.min(j, k) + 1} and ${Math.max(j, k) + 1}), and '${callee}' writes into it`, `pass a copy as one of them: ${printExpr(a)}.slice()`);
        });
      });
  });
  forEachStmt(fn.body, (s) => {
    // A call that writes into a differentiated array must be a statement of its own, the whole
    // right-hand side of an assignment, or part of a differentiated statement: those are the
    // places where the derivative code runs its reverse at the matching point. In a condition or
    // nested in a statement that carries no derivative, the derivative of its writes is lost.
    // A differentiated statement handles such calls only where its derivative flows: not in a
    // condition (`c ? a : b`, `x < g(a)`, `p && q` on booleans), an index or a non-numeric operand,
    // which derivative code evaluates as plain calls (a fuzzer find: f0(a) in `&&` inside `?:`).
    const top = s.k === "expr" ? s.e : s.k === "let" ? s.init : s.k === "assign" && s.target.k === "var" ? s.value : undefined;
    const handled = (s.k === "let" || s.k === "assign" || s.k === "return") && definesActive(s, isActive);
    for (const root of stmtExprs(s)) {
      const rootFlows = handled && (root === top || (s.k === "assign" && root === s.value) || (s.k === "return" && root === s.value));
      walkFlow(root, rootFlows, (e, flows) => {
        if (e.k !== "call" || e.fn.k !== "user" || e === top || flows) return;
        const w = writes(e.fn.fn);
        // (A fresh array argument, `g([x, y])`, is seen by nobody else: its writes do not matter.)
        const arr = e.args.find((a, j) => w?.has(j) && a.k === "var" && isVaried(a));
        if (arr)
          report("ADC1018", e, `'${e.fn.fn.name}' writes into the differentiated array '${printExpr(arr)}' here, where adc cannot place the derivative of that write`, `call it in a statement of its own first: const r = ${e.fn.fn.name}(...); then use r`);
      });
    }
  });
  forEachStmt(fn.body, (s) => {
    const observer = s.k === "expr" && s.e.k === "call" && s.e.fn.k === "opaque" && OBSERVERS.has(s.e.fn.text);
    // `console.log(`loss ${loss.toFixed(3)}`)`: what is only printed never flows back into a
    // number, so formatting a differentiated value there loses no derivative.
    if (observer) return;
    for (const root of stmtExprs(s)) {
      // What is inside stopGradient (or a hasAux value) carries no derivative: nothing to refuse there.
      const stopped = new Set<Expr>();
      forEachExpr(root, (e) => e.k === "stop" && forEachExpr(e.e, (x) => void stopped.add(x)));
      forEachExpr(root, (e) => {
        if (e.k === "stop") return;
        if (e.k === "call" && e.fn.k === "opaque") {
          const text = e.fn.text.startsWith("@") ? e.fn.text.slice(1) : e.fn.text;
          // Anywhere in a differentiated function, not only in active statements: `const eps =
          // Math.random(); return x * eps` draws a new eps in every generated call, so the
          // derivative belongs to a different function than the value the user computed.
          if (text === "Math.random")
            return report("ADC1003", e, "Math.random() in a differentiated computation", "draw the random numbers outside and pass them in as an argument");
          // (`recv instanceof C`, choosing a method, reads the object's class, not its numbers.)
          if (METADATA.has(e.fn.text) || e.fn.text.startsWith(" instanceof ") || stopped.has(e)) return;
          if (e.args.some(isVaried)) {
            if (text.startsWith("{"))
              return report("ADC1012", e, "an object literal holding a differentiated value is not supported in differentiated code (objects of NDArray parameters are, as parameters)", "pass the values as separate numbers or arrays");
            if (e.ty.k === "other" && /string/.test(e.ty.text))
              return report("ADC1004", e, `a differentiated value is turned into a string by '${shortText(text)}'`, "keep differentiated values as numbers; format them outside the differentiated function");
            if (e.fn.why) return report("ADC1002", e, `adc cannot differentiate through '${shortText(text)}': ${e.fn.why}`);
            return report("ADC1002", e, `adc cannot differentiate through '${shortText(text)}'`, "use Math functions and functions declared in this build, or wrap a constant in stopGradient");
          }
        }
        // An optional array field (`v?: number[]`) of a differentiated object: its adjoint would
        // have no place in the gradient's structure, which follows the declared fields. (An
        // optional number is differentiated where the object has it.)
        if (e.k === "field" && e.ty.k === "other" && !stopped.has(e) && isVaried(e.obj) && /\bundefined\b/.test(e.ty.text) && /\b(Float64Array|NDArray)\b|number\[\]/.test(e.ty.text))
          return report("ADC1012", e, `the optional field '${e.name}' (${e.ty.text}) of a differentiated object is not supported`, `declare it without '?', or pass its value as an argument of its own`);
        if (e.k === "bin" && e.ty.k === "other" && !stopped.has(e) && (isVaried(e.l) || isVaried(e.r))) {
          if (/string/.test(e.ty.text))
            report("ADC1004", e, "a differentiated value is combined with a string", "keep differentiated values as numbers; format them outside the differentiated function");
          else
            report("ADC1012", e, `this expression mixes a differentiated number with other types (${e.ty.text})`, "make both operands numbers");
        }
      });
    }
    // A differentiated value kept in a variable of a type adc does not differentiate (`let t:
    // NDArray | undefined`, `any`, a bare `let y;`): its adjoint would have no type to follow.
    const stored = s.k === "let" && s.init ? { name: s.name, ty: s.ty, value: s.init } : s.k === "assign" && s.target.k === "var" ? { name: s.target.name, ty: s.target.ty, value: s.value } : undefined;
    // (`number | undefined` is differentiated where it holds a number: a ?? b, docs/semantics.md.)
    const maybeNumber = stored?.ty.k === "other" && stored.ty.text.split("|").map((t) => t.trim()).filter((t) => t !== "undefined" && t !== "null").join("|") === "number";
    const loose = stored?.ty.k === "other" && (/^(any|unknown)$/.test(stored.ty.text) || (/\b(undefined|null)\b/.test(stored.ty.text) && /\b(NDArray|Float64Array|number)\b/.test(stored.ty.text)));
    if (stored && stored.ty.k === "other" && loose && !maybeNumber && isVaried(stored.value))
      report("ADC1012", s, `'${stored.name}' is declared '${stored.ty.text}', a type adc does not differentiate, and is given a value that carries a derivative`, `declare it with the value's own type (let ${stored.name}: NDArray, assigned on every path before it is read; or number, Float64Array, ...)`);
    // Array aliasing: two names for one differentiated array.
    if ((s.k === "let" && s.init) || (s.k === "assign" && s.target.k === "var")) {
      const name = s.k === "let" ? s.name : (s.target as { name: string }).name;
      const value = s.k === "let" ? s.init! : s.value;
      const ty = s.k === "let" ? s.ty : (s.target as { ty: import("../ir/ir.js").Ty }).ty;
      // (`b = t` where t holds a new array and is read nowhere else hands the array over: a move.)
      // Or t is a new array declared earlier in the same list and used only up to here (the
      // layer's `out`, filled and then handed to h): t is dead after the handover.
      const moved = value.k === "var" && !params.has(value.name) && ((readCount.get(value.name) === 1 && !written.has(value.name) && freshOnly(value.name)) || deadAfter(value.name, s));
      const aliased = ty.k === "arr" && !moved ? arrayNames(value) : [];
      if (aliased.length && (aliased.some((a) => isVaried(a)) || isActive(name))) {
        const first = aliased[0].name;
        const which = value.k === "var" ? `the array '${first}'` : `one of the arrays ${aliased.map((a) => `'${a.name}'`).join(", ")}`;
        report("ADC1011", s, `'${name}' would become a second name for ${which}`, `copy it instead: ${aliased.map((a) => `${a.name}.slice()`).join(" or ")}`);
      }
      if (s.k === "assign" && ty.k === "arr" && params.has(name) && isActive(name))
        report("ADC1017", s, `the array parameter '${name}' is replaced inside the function`, "declare a new local array instead");
    }
    if (s.k === "return" && s.value?.k === "var" && fn.ret.k === "arr" && params.has(s.value.name) && isVaried(s.value))
      report("ADC1011", s, `returning the parameter array '${s.value.name}' makes the result alias the argument`, `return a copy: ${s.value.name}.slice()`);
  });
}

/**
 * Whether the statements draw from np.random: each evaluation draws anew, so code that evaluates
 * a function again (checkpoint's recomputation, second derivatives) would differentiate other
 * numbers than the value was computed with, as Math.random would everywhere.
 */
export function drawsRandom(stmts: readonly Stmt[]): boolean {
  let found = false;
  forEachStmt(stmts, (s) => {
    for (const e of stmtExprs(s)) forEachExpr(e, (x) => void (found ||= x.k === "call" && x.fn.k === "opaque" && /\bnp\.random\.\w+\(/.test(printExpr(x))));
  });
  return found;
}

/** Locals that name a part of a local list or object (`const row = M[1]`), with that local's name. */
function localParts(fn: IrFunction, params: ReadonlySet<string>, returned: (callee: FnId) => ReadonlySet<number> | undefined): Map<string, string> {
  const out = new Map<string, string>();
  const rootOf = (e: Expr): string | undefined => (e.k === "var" ? (params.has(e.name) ? undefined : out.get(e.name) ?? e.name) : e.k === "field" ? rootOf(e.obj) : undefined);
  // (`row(M, 0)` of a callee returning a part of its parameter: a part of the argument.)
  const partOf = (v: Expr): string | undefined => {
    if (v.k === "field") return rootOf(v.obj);
    if (v.k !== "call" || v.fn.k !== "user") return undefined;
    for (const j of returned(v.fn.fn) ?? []) {
      const r = v.args[j] && rootOf(v.args[j]);
      if (r !== undefined && fn.vars.get(r)?.k !== "arr") return r;
    }
    return undefined;
  };
  forEachStmt(fn.body, (s) => {
    const [name, value] = s.k === "let" && s.init ? [s.name, s.init] : s.k === "assign" && s.target.k === "var" ? [s.target.name, s.value] : [undefined, undefined];
    if (name === undefined || !value || (fn.vars.get(name)?.k !== "arr")) return;
    const root = partOf(value);
    if (root !== undefined) out.set(name, root);
  });
  return out;
}


function definesActive(s: Stmt, isActive: (n: string) => boolean): boolean {
  if (s.k === "let") return isActive(s.name);
  if (s.k === "assign") return isActive(s.target.k === "var" ? s.target.name : s.target.arr);
  if (s.k === "return") return true;
  return false;
}

function shortText(t: string): string {
  return t.length > 40 ? t.slice(0, 37) + "..." : t;
}

/** Whether two arguments name one array: one variable, or one part of one parameter. */
function sameArray(a: Expr, b: Expr, viewed: ReadonlyMap<string, { readonly path: string }>): boolean {
  if (a.k === "var" && b.k === "var" && a.name === b.name) return true;
  const path = (e: Expr): string | undefined => (e.k === "var" ? viewed.get(e.name)?.path : e.k === "field" ? fieldPath(e, viewed) : undefined);
  const pa = path(a);
  return pa !== undefined && pa === path(b);
}

function fieldPath(e: Expr, viewed: ReadonlyMap<string, { readonly path: string }>): string | undefined {
  if (e.k === "var") return viewed.get(e.name)?.path ?? e.name;
  if (e.k === "field") {
    const base = fieldPath(e.obj, viewed);
    return base && `${base}${e.idx ? `[${printExpr(e.idx)}]` : `.${e.name}`}`;
  }
  return undefined;
}

/**
 * Visits e and its subexpressions with whether a derivative flows through each position: it
 * does through arithmetic, numeric `&&`/`||`/`??`, the branches of `?:`, calls' arguments,
 * elements and copies; it does not through conditions, comparisons, `!`, indices, lengths,
 * stopGradient, sizes, or the arguments of calls adc keeps as written.
 */
function walkFlow(e: Expr, flows: boolean, f: (e: Expr, flows: boolean) => void): void {
  // (No helper closure per node: under tsx every closure made is also named, which costs.)
  f(e, flows);
  switch (e.k) {
    case "bin": {
      const arithmetic = ARITHMETIC.has(e.op) || ((e.op === "&&" || e.op === "||" || e.op === "??") && e.ty.k === "num");
      walkFlow(e.l, flows && arithmetic, f);
      walkFlow(e.r, flows && arithmetic, f);
      return;
    }
    case "un":
      return walkFlow(e.e, flows && (e.op === "-" || e.op === "+"), f);
    case "cond":
      walkFlow(e.c, false, f);
      walkFlow(e.a, flows, f);
      return walkFlow(e.b, flows, f);
    case "call":
      for (const a of e.args) walkFlow(a, flows && e.fn.k !== "opaque", f);
      return;
    case "index":
      walkFlow(e.arr, flows, f);
      return walkFlow(e.idx, false, f);
    case "field":
      walkFlow(e.obj, flows, f);
      if (e.idx) walkFlow(e.idx, false, f);
      return;
    case "arrlit":
      for (const x of e.elems) walkFlow(x, flows, f);
      return;
    case "copy":
    case "as":
      return walkFlow(e.e, flows, f);
    case "stop":
      return walkFlow(e.e, false, f);
    case "len":
      return walkFlow(e.arr, false, f);
    case "alloc":
      return walkFlow(e.size, false, f);
    case "num": case "bool": case "str": case "var": case "free":
      return;
    default:
      assertNever(e, "expression");
  }
}

const ARITHMETIC = new Set(["+", "-", "*", "/", "%", "**"]);
