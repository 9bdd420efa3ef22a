/**
 * NDArray operations as the compiler sees them: which calls are NDArray ops and, for each op,
 * which operands are differentiable. The facts come from the runtime's op registry (one entry
 * per op, next to its kernel, with its primal, tangent and adjoint rules), so adding an op
 * touches one place. Generated code calls the rules through `_rt.ndJvp` and `_rt.ndVjp`.
 */
import { ts } from "ts-morph";
import { anyOp, ndMethodAliases, ndOps } from "../../runtime/ndarray/registry.js";
import { np } from "../../runtime/ndarray/np.js";
import { adcExportName } from "../targets.js";
import { setNdPath } from "../ir/print.js";
import { RT } from "../emit/names.js";

export interface NdOpInfo {
  readonly diff: readonly number[];
  readonly returns: "ndarray" | "number" | "bool" | "boolean";
}

/** Ops whose operand 0 is a list of arrays. */
const LIST_OPS = new Set(["concat", "stack"]);
export function isListOp(op: string): boolean {
  return LIST_OPS.has(op);
}

/** Differentiable argument positions of one call, with a list operand spread over `list` positions. */
export function ndDiffPositions(op: string, list: number | undefined): number[] {
  const info = anyOp(op);
  if (!info) return [];
  if (list === undefined) return [...info.diff];
  return info.diff.flatMap((i) => (i === 0 ? Array.from({ length: list }, (_, k) => k) : [i + list - 1]));
}

export function ndInfo(op: string): NdOpInfo | undefined {
  const o = anyOp(op);
  return o ? { diff: o.diff, returns: o.returns } : undefined;
}

/** Ops reachable as `np.<path>`: `np.add`, `np.linalg.norm`. */
const byPath = new Map<string, string>();
for (const [name, o] of Object.entries(ndOps)) byPath.set(o.npPath ?? name, name);
// Ops `np` offers are called through it (`_rt.np.linalg.norm`); the rest through the registry.
setNdPath((op) => {
  const path = anyOp(op)?.npPath ?? op;
  let at: unknown = np;
  for (const part of path.split(".")) at = (at as Record<string, unknown> | undefined)?.[part];
  return typeof at === "function" ? `${RT}.np.${path}` : `${RT}.ndPrimal.${op}`;
});

function isNdArray(e: ts.Expression, checker: ts.TypeChecker): boolean {
  const t = checker.getTypeAtLocation(e);
  return (t.getSymbol() ?? t.aliasSymbol)?.getName() === "NDArray";
}

/** The `np.a.b` path of a property chain rooted at adc's `np`, or undefined. */
function npPath(e: ts.Expression, checker: ts.TypeChecker): string | undefined {
  const parts: string[] = [];
  while (ts.isPropertyAccessExpression(e)) {
    parts.unshift(e.name.text);
    e = e.expression;
  }
  if (!ts.isIdentifier(e) || adcExportName(e, checker) !== "np") return undefined;
  return parts.join(".");
}

/** If the call (or getter) is an NDArray operation, its registry name and operands in order. */
export function ndOpOf(e: ts.CallExpression | ts.PropertyAccessExpression, checker: ts.TypeChecker): { op: string; args: ts.Expression[] } | undefined {
  if (ts.isCallExpression(e)) {
    const callee = e.expression;
    if (!ts.isPropertyAccessExpression(callee)) return undefined;
    const path = npPath(callee, checker);
    if (path !== undefined) {
      const op = byPath.get(path);
      return op ? { op, args: [...e.arguments] } : undefined;
    }
    if (!isNdArray(callee.expression, checker)) return undefined;
    const name = callee.name.text;
    const alias = ndMethodAliases[name];
    const op = alias && !alias.getter ? alias.op : ndOps[name]?.method ? name : undefined;
    return op ? { op, args: [callee.expression, ...e.arguments] } : undefined;
  }
  // A getter: `a.T`.
  if (ts.isCallExpression(e.parent) && e.parent.expression === e) return undefined;
  const alias = ndMethodAliases[e.name.text];
  if (alias?.getter && isNdArray(e.expression, checker)) return { op: alias.op, args: [e.expression] };
  return undefined;
}
