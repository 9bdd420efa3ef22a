/**
 * Lowering: a TypeScript function (declaration, arrow or function expression) to adc's IR.
 *
 * Takes the function node, the checker and a sink; gives an IrFunction or throws a Refusal after
 * reporting why. This is where the language is fenced: every construct is either lowered here or
 * refused with a diagnostic at its position. Whether a construct touches a differentiated value
 * is decided later, by activity analysis (an unknown call with constant arguments is fine).
 *
 * Desugaring done here: compound assignment and ++/-- become plain assignments; `for...of`,
 * `map`, `reduce` and `forEach` with inline callbacks become counted loops; `switch` becomes a
 * labelled block of `if`s; shadowed names are renamed so names are unique per function.
 */
import { ts } from "ts-morph";
import type { DiagnosticSink } from "../../diagnostics.js";
import { type FnId, type IrFunction } from "../ir.js";
import { Lowerer } from "./statements.js";

export { assigns } from "./helpers.js";

import type { DerivativePair } from "../../inner-grads.js";

/** A function adc reads: a declaration, an arrow or function expression, or a class method (whose `this` is a leading parameter). */
export type FunctionNode = ts.FunctionDeclaration | ts.ArrowFunction | ts.FunctionExpression | ts.MethodDeclaration;

export interface LowerEnv {
  readonly checker: ts.TypeChecker;
  readonly sink: DiagnosticSink;
  readonly file: string;
  /** The user function a callee refers to, if adc can differentiate it. */
  resolveUser(callee: ts.Expression): FnId | undefined;
  /**
   * `recv.m(...)` where m is a method adc can read, looked up on `recvType` (the receiver's
   * class): the function to call with the receiver as first argument; a message when the call
   * cannot be followed; undefined when m is no such method. When subclasses override m, the
   * function for each class the receiver may have, most derived first, to choose among with
   * `instanceof` (the last one runs otherwise).
   */
  resolveMethod?(callee: ts.PropertyAccessExpression, recvType: ts.Type): FnId | { readonly cases: readonly { readonly cls: string; readonly fn: FnId; readonly at: number }[] } | { readonly static: FnId } | string | undefined;
  /** In a method: the class `this` is (the receiver's class, which may be a subclass of the method's own). */
  readonly thisType?: ts.Type;
  /** `hasAux`: every return is `[value, aux]`; the value is the result, aux goes to IrFunction.aux. */
  readonly aux?: boolean;
  /**
   * `grad(g, i)` (or a const bound to it) called inside the function: the function adc makes for
   * it (g's derivative as a function of IR, which is called like a user function), a message
   * when it cannot, undefined when `callee` is no grad.
   */
  derivativeCall?(callee: ts.Expression): { readonly fn: FnId; readonly text: string } | string | undefined;
  /**
   * `valueAndGrad(g)(x)` or `jvp(g, [x], [t])` destructured (`const [y, dy] = ...`) inside the
   * function: what to call for the value and for the derivative (inner-grads.ts).
   */
  derivativePair?(call: ts.CallExpression): DerivativePair | string | undefined;
  /** Whether `callee` is the named export of the `adc` package. */
  isAdcApi(callee: ts.Expression, name: string): boolean;
  /** If `callee` is an NDArray operation (`np.add`, `x.add`), its registry name. */
  ndOp?(call: ts.CallExpression | ts.PropertyAccessExpression): { op: string; args: ts.Expression[] } | undefined;
  /**
   * For a record block: the outer variables it uses. Read ones become parameters (the block's
   * inputs); assigned ones are its outputs (assigned-only ones start as locals).
   */
  readonly captures?: readonly { readonly ident: ts.Identifier | ts.ThisExpression; readonly read: boolean; readonly written: boolean }[];
  /** The captures are a closure's reads of enclosing locals (extra parameters), not a record block's. */
  readonly closure?: boolean;
  /** The enclosing-function locals a called closure reads, passed after its own arguments. */
  calleeCaptures?(callee: FnId): readonly ts.Identifier[];
}

export function lowerFunction(node: FunctionNode, id: FnId, env: LowerEnv): IrFunction {
  return new Lowerer(node, id, env).run();
}
