// Source of bench/checkpoint.ts: a scalar recurrence of n steps, differentiated as written and
// with the loop split into n / k checkpointed blocks of k steps (checkpoint, JAX's remat).
import { checkpoint, grad } from "adc";
export { tape } from "adc/runtime";

export function plain(x: number, n: number): number {
  let y = x;
  for (let i = 0; i < n; i++) y = Math.sin(y) * 0.5 + x;
  return y;
}

function block(y: number, x: number, k: number): number {
  for (let i = 0; i < k; i++) y = Math.sin(y) * 0.5 + x;
  return y;
}
const steps = checkpoint(block);

/** The same recurrence, k steps per checkpointed call (n a multiple of k). */
export function blocked(x: number, n: number, k: number): number {
  let y = x;
  for (let j = 0; j < n / k; j++) y = steps(y, x, k);
  return y;
}

export const dPlain = grad(plain);
export const dBlocked = grad(blocked);
