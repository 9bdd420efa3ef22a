// Functions for bench/loops.ts: Rosenbrock in n dimensions and an RK4 integrator, differentiated
// by adc, and a hand-written Rosenbrock gradient to compare with.
import { grad, vjp } from "adc";

export function rosenbrock(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length - 1; i++) {
    const a = x[i + 1] - x[i] * x[i];
    const b = 1 - x[i];
    s += 100 * a * a + b * b;
  }
  return s;
}

/** The gradient a careful person writes by hand: one pass, no tape. */
export function rosenbrockHand(x: Float64Array, g: Float64Array): void {
  g.fill(0);
  for (let i = 0; i < x.length - 1; i++) {
    const a = x[i + 1] - x[i] * x[i];
    const b = 1 - x[i];
    g[i] += -400 * a * x[i] - 2 * b;
    g[i + 1] += 200 * a;
  }
}

function accel(theta: number, omega: number, damping: number): number {
  return -Math.sin(theta) - damping * omega;
}

export function rk4(theta0: number, omega0: number, damping: number, steps: number): number {
  const h = 0.01;
  let th = theta0;
  let om = omega0;
  for (let k = 0; k < steps; k++) {
    const k1t = om;
    const k1o = accel(th, om, damping);
    const k2t = om + 0.5 * h * k1o;
    const k2o = accel(th + 0.5 * h * k1t, om + 0.5 * h * k1o, damping);
    const k3t = om + 0.5 * h * k2o;
    const k3o = accel(th + 0.5 * h * k2t, om + 0.5 * h * k2o, damping);
    const k4t = om + h * k3o;
    const k4o = accel(th + h * k3t, om + h * k3o, damping);
    th = th + (h / 6) * (k1t + 2 * k2t + 2 * k3t + k4t);
    om = om + (h / 6) * (k1o + 2 * k2o + 2 * k3o + k4o);
  }
  return th;
}

export const drosenbrock = grad(rosenbrock);
/** A three-variable recurrence: every step overwrites x, y and z, whose old values the reverse sweep needs. */
export function recur3(a: number, b: number, c: number, n: number): number {
  let x = a;
  let y = b;
  let z = c;
  for (let i = 0; i < n; i++) {
    const x1 = x + 0.001 * (Math.sin(y) - x);
    const y1 = y + 0.001 * (x * Math.cos(z) - y);
    const z1 = z + 0.001 * (x * y - 2.6 * z);
    x = x1;
    y = y1;
    z = z1;
  }
  return x + y * z;
}

export const drk4 = grad(rk4, [0, 1, 2]);
export const drecur3 = grad(recur3, [0, 1, 2]);
export const pullRecur3 = (a: number, b: number, c: number, n: number) => vjp(recur3, a, b, c, n);
export const pullRk4 = (a: number, b: number, c: number, n: number) => vjp(rk4, a, b, c, n);
export { tape } from "adc/runtime";
