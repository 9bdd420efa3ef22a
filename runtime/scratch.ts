/**
 * Scratch registers for generated functions with more than one result.
 *
 * A generated function returns its first result and writes the others here; the caller reads
 * them in the statements right after the call. Nothing runs between the write and the read,
 * so nested and re-entrant calls cannot clobber a value still wanted, and scalar code stays
 * free of allocation (a returned tuple would allocate on every call).
 */
import { zerosF64 } from "./alloc.js";

export const retF = new Float64Array(256);
export const retO: unknown[] = [];

export const EMPTY_F64 = new Float64Array(0);

/** A zero adjoint for an array: same kind and length; an empty one if the array was never made. */
export function zerosLike<T extends Float64Array | number[]>(a: T | undefined): T;
/** (A readonly array's zeros are a number array the derivative code writes.) */
export function zerosLike(a: readonly number[]): number[];
export function zerosLike(a: Float64Array | readonly number[] | undefined): Float64Array | number[] {
  if (a === undefined) return EMPTY_F64;
  if (a instanceof Float64Array) return zerosF64(a.length);
  return new Array<number>(a.length).fill(0);
}

/** `acc[k] += add[k]` for every k: the adjoint of copying an array. */
export function addInto(acc: Float64Array | number[], add: Float64Array | number[]): void {
  for (let k = 0; k < add.length; k++) acc[k] += add[k];
}
