/**
 * NDArray operations as the compiler sees them: which calls are NDArray ops, and for each op
 * which operands are differentiable. The facts come from the runtime's op registry (one entry
 * per op, next to its kernel), so adding an op touches one place.
 */
import { ts } from "ts-morph";

export interface NdOpInfo {
  readonly diff: readonly number[];
  readonly returns: "ndarray" | "number" | "bool";
}

/** Filled in when the NDArray runtime is wired in. */
const registry = new Map<string, NdOpInfo>();

export function ndInfo(op: string): NdOpInfo | undefined {
  return registry.get(op);
}

/** If the call (or getter) is an NDArray operation, its registry name and operands in order. */
export function ndOpOf(_e: ts.CallExpression | ts.PropertyAccessExpression, _checker: ts.TypeChecker): { op: string; args: ts.Expression[] } | undefined {
  return undefined;
}
