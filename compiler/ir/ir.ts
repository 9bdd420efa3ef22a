/**
 * adc's intermediate representation.
 *
 * Lowering turns a TypeScript function into this small structured language; analyses and both
 * differentiators work on it; the emitters print it back as TypeScript. It keeps the source's
 * structure (blocks, loops, branches, jumps) so printed code reads like the original, and every
 * node keeps a source position for diagnostics.
 *
 * Invariants:
 * - Variable names are unique within a function (lowering renames shadowed declarations), so
 *   analyses can key facts by name and emitters can hoist declarations.
 * - Expressions have no side effects except `call` of user functions (which may write into
 *   array arguments) and opaque observer calls (console.log) in expression statements.
 */

export interface Pos {
  /** Character offsets in the source file. */
  readonly start: number;
  readonly end: number;
}

export type Ctor = "Float64Array" | "Array";

/** The types adc distinguishes. `other` values are never differentiated. */
export type Ty =
  | { readonly k: "num" }
  | { readonly k: "bool" }
  /** `ro`: declared readonly (`readonly number[]`, a readonly tuple); generated code keeps the word. */
  | { readonly k: "arr"; readonly ctor: Ctor; readonly ro?: boolean }
  | { readonly k: "nd" }
  | { readonly k: "obj"; readonly fields: ReadonlyArray<readonly [string, Ty]>; readonly text: string }
  /** An array of differentiable containers (`NDArray[]`, `number[][]`, an array of objects). */
  | { readonly k: "list"; readonly elem: Ty; readonly text: string }
  | { readonly k: "void" }
  | { readonly k: "other"; readonly text: string };

export const NUM: Ty = { k: "num" };
export const BOOL: Ty = { k: "bool" };
export const VOID: Ty = { k: "void" };
export const F64: Ty = { k: "arr", ctor: "Float64Array" };
export const NUMARR: Ty = { k: "arr", ctor: "Array" };
export const ND: Ty = { k: "nd" };

/** Types whose values can carry a derivative. */
export function isDiffTy(t: Ty): boolean {
  return t.k === "num" || t.k === "arr" || t.k === "nd" || t.k === "obj" || t.k === "list";
}

/** Objects and lists: parameters whose parts (fields, elements) carry derivatives. */
export function isTree(t: Ty): boolean {
  return t.k === "obj" || t.k === "list";
}

/**
 * Types whose adjoint is a mutable container the caller allocates and the callee accumulates
 * into (arrays, objects, lists); numbers and NDArrays come back as results instead.
 */
export function barInPlace(t: Ty): boolean {
  return t.k === "arr" || isTree(t);
}

export type BinOp =
  | "+" | "-" | "*" | "/" | "%" | "**"
  | "<" | "<=" | ">" | ">=" | "===" | "!==" | "==" | "!="
  | "&&" | "||" | "??"
  | "&" | "|" | "^" | "<<" | ">>" | ">>>";

export type UnOp = "-" | "+" | "!" | "~";

/** What a call calls. */
export type Callee =
  /** A scalar primitive with a rule in the registry (Math.sin, ...). */
  | { readonly k: "prim"; readonly name: string }
  /**
   * A user function that adc differentiates (declared in this build). `text` is the name that
   * calls it where the call is written (an import's local name, a captured local helper), which
   * the printed primal call uses; generated names derive from `fn.name`.
   */
  | { readonly k: "user"; readonly fn: FnId; readonly text?: string }
  /** An NDArray operation from the runtime registry. */
  /** An NDArray operation; `list` leading arguments form its list operand (concat, stack). */
  | { readonly k: "nd"; readonly op: string; readonly list?: number }
  /** Anything else: printed as written, never differentiated (fenced by analysis). */
  | { readonly k: "opaque"; readonly text: string; readonly why?: string }
  /** In derivative code: a function of adc's runtime (`tape.pushF`, `ndJvp`, `zerosLike`). */
  | { readonly k: "rt"; readonly name: string }
  /** In derivative code: a generated derivative of a user function (`f_jvp`, `f_fwd`, `f_rev`). */
  | { readonly k: "derived"; readonly name: string; readonly of: FnId; readonly kind: "jvp" | "fwd" | "rev" };

/** Identifies a user function: the file and the declaration's start offset. */
export interface FnId {
  readonly file: string;
  readonly pos: number;
  /** The name generated functions derive theirs from. */
  readonly name: string;
  /**
   * A function adc made from the declaration at `pos` rather than the declaration itself: a
   * tangent function `T(f)` (diff/tangent.ts), which higher derivatives differentiate again.
   */
  readonly variant?: string;
}

export type Expr =
  | { readonly k: "num"; readonly v: number; readonly text: string; readonly pos: Pos }
  | { readonly k: "bool"; readonly v: boolean; readonly pos: Pos }
  | { readonly k: "str"; readonly text: string; readonly pos: Pos }
  | { readonly k: "var"; readonly name: string; readonly ty: Ty; readonly pos: Pos }
  /** A name from an enclosing scope (module constant, captured value): never active. */
  | { readonly k: "free"; readonly text: string; readonly ty: Ty; readonly pos: Pos }
  | { readonly k: "bin"; readonly op: BinOp; readonly l: Expr; readonly r: Expr; readonly ty: Ty; readonly pos: Pos }
  | { readonly k: "un"; readonly op: UnOp; readonly e: Expr; readonly ty: Ty; readonly pos: Pos }
  | { readonly k: "call"; readonly fn: Callee; readonly args: readonly Expr[]; readonly ty: Ty; readonly pos: Pos; readonly tyArgs?: readonly Ty[] }
  /** In derivative code: `e as T`, where the runtime returns a wider type than the value has. */
  | { readonly k: "as"; readonly e: Expr; readonly ty: Ty; readonly pos: Pos }
  | { readonly k: "index"; readonly arr: Expr; readonly idx: Expr; readonly pos: Pos }
  | { readonly k: "len"; readonly arr: Expr; readonly pos: Pos }
  /** A part of a parameter object: `obj.name`, or with `idx` an element `obj[idx]` of a list. */
  /** `hidden`: a private or protected member, read as `obj["name"]` from outside its class. */
  | { readonly k: "field"; readonly obj: Expr; readonly name: string; readonly idx?: Expr; readonly ty: Ty; readonly pos: Pos; readonly hidden?: boolean }
  | { readonly k: "cond"; readonly c: Expr; readonly a: Expr; readonly b: Expr; readonly ty: Ty; readonly pos: Pos }
  /** `stopGradient(e)`: e's value, with zero derivative. */
  | { readonly k: "stop"; readonly e: Expr; readonly ty: Ty; readonly pos: Pos }
  /** A fresh array: `new Float64Array(n)`, `new Array(n).fill(0)`. Zero-filled. */
  | { readonly k: "alloc"; readonly ctor: Ctor; readonly size: Expr; readonly pos: Pos }
  /** An array literal `[a, b, c]` or `new Float64Array([a, b])`. */
  | { readonly k: "arrlit"; readonly ctor: Ctor; readonly elems: readonly Expr[]; readonly pos: Pos }
  /** A copy of an array: `a.slice()`, `Float64Array.from(a)`, `[...a]`. */
  | { readonly k: "copy"; readonly ctor: Ctor; readonly e: Expr; readonly pos: Pos };

export type Target =
  | { readonly k: "var"; readonly name: string; readonly ty: Ty; readonly pos: Pos }
  | { readonly k: "index"; readonly arr: string; readonly arrTy: Ty; readonly idx: Expr; readonly pos: Pos };

/** The user's statement a normalized statement came from, quoted in generated comments. */
export function originText(source: string, p: Pos): string {
  const text = source.slice(p.start, p.end).split("\n")[0].trim().replace(/\s+/g, " ").replace(/;$/, "");
  return text.length > 90 ? text.slice(0, 87) + "..." : text;
}

/** A canonical counted loop: `for (let i = init; i < bound; i += step)` with i not assigned in the body. */
export interface Counter {
  readonly name: string;
  readonly init: Expr;
  readonly step: number;
}

export type Stmt =
  /**
   * `let`/`const` declaration; `init` absent for `let x: number;`. `annot`: the type written in
   * the declaration (derivative code: `let x_bar: NDArray | null = null`); without it a `let` with
   * no value is printed definitely assigned (`let x!: T`), and one with a value unannotated.
   */
  | { readonly k: "let"; readonly name: string; readonly ty: Ty; readonly init?: Expr; readonly isConst: boolean; readonly pos: Pos; readonly origin?: Pos; readonly annot?: Ty }
  /** `target = value`; in derivative code, with `op`, the compound `target op= value` (`x_bar += g`). */
  | { readonly k: "assign"; readonly target: Target; readonly value: Expr; readonly pos: Pos; readonly origin?: Pos; readonly op?: "+" }
  | { readonly k: "if"; readonly cond: Expr; readonly then: Stmt[]; readonly else: Stmt[]; readonly pos: Pos }
  | Loop
  /** A labelled block; `break label` leaves it (lowered `switch`, labelled blocks). */
  | { readonly k: "block"; readonly label: string; readonly body: Stmt[]; readonly pos: Pos }
  | { readonly k: "break"; readonly label?: string; readonly pos: Pos }
  | { readonly k: "continue"; readonly label?: string; readonly pos: Pos }
  | { readonly k: "return"; readonly value?: Expr; readonly pos: Pos }
  /** An expression for its effects (a user call writing into arrays, console.log). */
  | { readonly k: "expr"; readonly e: Expr; readonly pos: Pos; readonly origin?: Pos }
  /** In derivative code: a comment line (`// adjoint of: ...`). */
  | { readonly k: "comment"; readonly text: string; readonly pos: Pos };

/**
 * A loop. Each iteration: (`cond` at the top unless `doWhile`) body, update; `doWhile` tests
 * after the body. `init` runs once, scoped to the loop.
 */
export interface Loop {
  readonly k: "loop";
  readonly label?: string;
  readonly init: Stmt[];
  readonly cond: Expr | null;
  readonly doWhile: boolean;
  readonly body: Stmt[];
  readonly update: Stmt[];
  readonly counter?: Counter;
  readonly pos: Pos;
}

export interface Param {
  readonly name: string;
  readonly ty: Ty;
  readonly pos: Pos;
  /** A default value, as a literal's text (`lambda = 0.1`): generated entry points keep it. */
  readonly init?: string;
  /** Declared `s?: T`: generated entry points may be called without it too. */
  readonly optional?: boolean;
}

export interface IrFunction {
  readonly id: FnId;
  readonly params: readonly Param[];
  readonly body: Stmt[];
  readonly ret: Ty;
  /** Every local (params included) with its type. */
  readonly vars: ReadonlyMap<string, Ty>;
  /** Names the function text uses from outside (free names), so generated names avoid them. */
  readonly reserved: ReadonlySet<string>;
  readonly pos: Pos;
  /** The text of the file the function is in (for comments quoting the user's statements). */
  readonly source: string;
  /**
   * A record block's results: the variables whose final values it hands back (the outer
   * variables it assigns). Plain functions have none and return their result.
   */
  readonly outputs?: readonly string[];
  /** A class method: its first parameter is `this`. */
  readonly method?: boolean;
  /**
   * `hasAux`: the variable holding the auxiliary value each `return [value, aux]` assigns; it
   * carries no derivative and is handed back beside the gradient.
   */
  readonly aux?: string;
  /**
   * A function with a custom rule (`const f = customVjp(g, fwd, bwd)` or `customJvp(g, rule)`):
   * no body; its derivatives call the rule through the const named `name` (emit/custom.ts).
   * Kind "grad": `grad(g)(w)` of an array w inside differentiated code, the gradient of `of` along
   * parameter `wrt`, whose derivatives are Hessian-vector products (emit/inner-grad.ts).
   */
  readonly custom?: { readonly kind: "vjp" | "jvp" | "checkpoint" | "grad"; readonly name: string; readonly target?: FnId; readonly of?: FnId; readonly wrt?: number };
}

/** A generated function: a derivative, as IR, before it is printed. */
export interface GenFunction {
  readonly name: string;
  readonly params: readonly { readonly name: string; readonly ty: Ty }[];
  readonly ret: Ty;
  readonly body: readonly Stmt[];
  /** The user function it derives from. */
  readonly pos: Pos;
}

/**
 * The source offset a statement's derivative code comes from: the user statement it normalizes
 * (a negative handle when that statement was inlined from another file, ir/origins.ts).
 */
export function originOf(s: Stmt): number {
  return mapOffset("origin" in s && s.origin ? s.origin : s.pos);
}

import { mapOffset } from "./origins.js";

/** For the default of a switch over IR kinds: a kind added to the IR and not handled is a type error. */
export function assertNever(x: never, what = "IR node"): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify((x as { k?: unknown }).k ?? x)}`);
}
