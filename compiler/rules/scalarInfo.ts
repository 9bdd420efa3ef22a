/**
 * Facts derived from the scalar rule registry that analyses need.
 */
import { scalarRule, type Operands } from "./scalar.js";
import { name } from "../ir/make.js";

const probe: Operands = { n: 1, arg: () => name("x"), lit: () => undefined, out: () => name("y") };
const zero = new Map<string, boolean>();

/** A primitive whose derivative is zero everywhere (floor, sign, ...): its result is a constant. */
export function isZeroRule(name: string): boolean {
  let z = zero.get(name);
  if (z === undefined) {
    const r = scalarRule(name);
    z = !!r && r.arity === 1 && r.partial(0, probe) === null;
    zero.set(name, z);
  }
  return z;
}
