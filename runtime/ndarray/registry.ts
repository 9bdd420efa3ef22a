// The op registry the compiler reads, plus the helpers generated derivative
// code calls. Entries are defined next to their kernels in ops/*.ts and only
// collected here; names are unique (checked at load).
// Facts the compiler can rely on (the tests check each one for every entry):
//   - np[name] (or np at entry.npPath) is entry.primal;
//   - method === true means NDArray.prototype[name](...rest) === primal(this, ...rest);
//   - jvp/vjp results have the output's / the operand's exact shape and kind
//     (see types.ts), so `accumulate` never needs to broadcast;
//   - ops with diff [] are non-differentiable; their jvp/vjp throw.
// Method spellings that are not op names are listed in ndMethodAliases.

import { NDArray } from "./ndarray.js";
import { sameShape } from "./layout.js";
import { unaryOps } from "./ops/unary.js";
import { add, binaryOps } from "./ops/binary.js";
import { compareOps } from "./ops/compare.js";
import { reduceOps } from "./ops/reduce.js";
import { linalgOps } from "./ops/linalg.js";
import { shapeOps } from "./ops/shape.js";
import { indexingOps } from "./ops/indexing.js";
import { joinOps } from "./ops/join.js";
import { attachOps } from "./ops/attach.js";
import { bridgeOps } from "./ops/bridge.js";
import { momentOps } from "./ops/moments.js";
import { softmaxOps } from "./ops/softmax.js";
import { clipOps } from "./ops/clip.js";
import { gatherOps } from "./ops/gather.js";
import { discreteOps } from "./ops/discrete.js";
import { unbroadcast } from "./operand.js";
import type { NdOp, Operand } from "./types.js";

// A null-prototype table, so lookups of names like "toString" find nothing.
function collect(groups: readonly (readonly NdOp[])[]): Readonly<Record<string, NdOp>> {
  const table: Record<string, NdOp> = Object.create(null);
  for (const group of groups) {
    for (const op of group) {
      if (table[op.name]) throw new Error(`duplicate op ${op.name} in the ndarray registry`);
      table[op.name] = Object.freeze(op);
    }
  }
  return Object.freeze(table);
}

export const ndOps: Readonly<Record<string, NdOp>> = collect([
  unaryOps,
  binaryOps,
  compareOps,
  reduceOps,
  momentOps,
  softmaxOps,
  clipOps,
  linalgOps,
  shapeOps,
  indexingOps,
  gatherOps,
  discreteOps,
  joinOps,
]);

/**
 * Ops with effects on the imperative autograd state, which compiled record blocks use
 * (attachGrad inside a block). Kept out of `ndOps`, whose entries are pure numpy operations.
 */
export const autogradOps: Readonly<Record<string, NdOp>> = collect([attachOps]);

/** Ops taking a plain JS array of numbers (np.array(xs) in differentiated code), also kept out of `ndOps`. */
export const bridgeOpTable: Readonly<Record<string, NdOp>> = collect([bridgeOps]);

/** An op of any table, by name. */
export function anyOp(name: string): NdOp | undefined {
  return ndOps[name] ?? autogradOps[name] ?? bridgeOpTable[name];
}

/** NDArray members that reach an op under another spelling: a.get(i) is index; a.T is transpose(). */
export const ndMethodAliases: Readonly<Record<string, { op: string; getter: boolean }>> = Object.freeze({
  get: Object.freeze({ op: "index", getter: false }),
  T: Object.freeze({ op: "transpose", getter: true }),
});

function describe(x: Operand): string {
  return typeof x === "number" ? "number" : `NDArray of shape [${x.shape.join(", ")}]`;
}

/**
 * acc + contrib for derivative accumulation. null means "zero so far" and
 * gives back contrib itself; otherwise the sum is a new array. Nothing is ever
 * mutated, so arrays that alias caller-visible values stay intact. The two
 * must have the same kind and exact shape: a mismatch is a bug in the caller,
 * so it throws rather than broadcasting.
 */
export function accumulate(acc: Operand | null, contrib: Operand): Operand {
  if (acc === null || acc === undefined) return contrib;
  if (typeof acc === "number" && typeof contrib === "number") return acc + contrib;
  if (acc instanceof NDArray && contrib instanceof NDArray && sameShape(acc.shape, contrib.shape)) {
    return add(acc, contrib);
  }
  throw new TypeError(`accumulate: cannot add ${describe(contrib)} to ${describe(acc)} (shapes must match exactly)`);
}

/** The zero of x's tangent space: 0 for a number, float64 zeros of x's shape otherwise. */
export function zerosLikeOperand(x: Operand): Operand {
  return typeof x === "number" ? 0 : new NDArray(new Float64Array(x.size), x.shape);
}

/** Ones shaped like x: the seed cotangent of a scalar output, or a tangent direction. */
export function onesLikeOperand(x: Operand): Operand {
  return typeof x === "number" ? 1 : new NDArray(new Float64Array(x.size).fill(1), x.shape);
}

export { unbroadcast };
export type { NdOp, Operand };
