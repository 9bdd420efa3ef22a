/**
 * Every scalar rule in the registry, alone: a one-line function applying the primitive, compiled
 * with grad, vjp and jvp, checked at several points against central finite differences and
 * against each other; and to second order (as JAX's check_grads(order=2)): grad(grad(f, i), j),
 * jvp(grad(f, i)) and vjp(grad(f, i)) against finite differences of grad(f, i) and each other. The table is checked against the registry (compiler/rules/scalar.ts), so a
 * new rule without a row here fails this test.
 */
import { describe, expect, it } from "vitest";
import { compile, formatDiagnostic } from "../compiler/index.js";
import { scalarRuleNames } from "../compiler/rules/scalar.js";
import { load } from "./helpers/load.js";

interface Row {
  /** The function body's expression over x, y, z. */
  readonly expr: string;
  readonly arity: number;
  /** Where the points are drawn (inside the domain, away from kinks). */
  readonly lo: number;
  readonly hi: number;
  /** Piecewise constant: the derivative is 0 everywhere (away from the jumps). */
  readonly zero?: boolean;
}

const unary = (name: string, lo = -2, hi = 2): Row => ({ expr: `${name}(x)`, arity: 1, lo, hi });
const zero = (name: string): Row => ({ expr: `${name}(x)`, arity: 1, lo: -3, hi: 3, zero: true });

const TABLE: Record<string, Row> = {
  "+": { expr: "x + y", arity: 2, lo: -2, hi: 2 },
  "-": { expr: "x - y", arity: 2, lo: -2, hi: 2 },
  "*": { expr: "x * y", arity: 2, lo: -2, hi: 2 },
  "/": { expr: "x / y", arity: 2, lo: 0.5, hi: 2 },
  "%": { expr: "x % y", arity: 2, lo: 0.3, hi: 3 },
  "**": { expr: "x ** y", arity: 2, lo: 0.3, hi: 2 },
  neg: { expr: "-x", arity: 1, lo: -2, hi: 2 },
  copy: { expr: "x", arity: 1, lo: -2, hi: 2 },
  "Math.pow": { expr: "Math.pow(x, y)", arity: 2, lo: 0.3, hi: 2 },
  "Math.sin": unary("Math.sin"),
  "Math.cos": unary("Math.cos"),
  "Math.tan": unary("Math.tan", -1.2, 1.2),
  "Math.asin": unary("Math.asin", -0.9, 0.9),
  "Math.acos": unary("Math.acos", -0.9, 0.9),
  "Math.atan": unary("Math.atan"),
  "Math.sinh": unary("Math.sinh"),
  "Math.cosh": unary("Math.cosh"),
  "Math.tanh": unary("Math.tanh"),
  "Math.asinh": unary("Math.asinh"),
  "Math.acosh": unary("Math.acosh", 1.2, 3),
  "Math.atanh": unary("Math.atanh", -0.9, 0.9),
  "Math.exp": unary("Math.exp"),
  "Math.expm1": unary("Math.expm1"),
  "Math.log": unary("Math.log", 0.2, 3),
  "Math.log1p": unary("Math.log1p", -0.8, 3),
  "Math.log2": unary("Math.log2", 0.2, 3),
  "Math.log10": unary("Math.log10", 0.2, 3),
  "Math.sqrt": unary("Math.sqrt", 0.2, 3),
  "Math.cbrt": unary("Math.cbrt", 0.2, 3),
  "Math.abs": unary("Math.abs"),
  "Math.sign": zero("Math.sign"),
  "Math.floor": zero("Math.floor"),
  "Math.ceil": zero("Math.ceil"),
  "Math.round": zero("Math.round"),
  "Math.trunc": zero("Math.trunc"),
  "Math.fround": { expr: "Math.fround(x)", arity: 1, lo: -3, hi: 3, zero: true },
  "Math.atan2": { expr: "Math.atan2(x, y)", arity: 2, lo: 0.3, hi: 2 },
  "Math.max": { expr: "Math.max(x, y, z)", arity: 3, lo: -2, hi: 2 },
  "Math.min": { expr: "Math.min(x, y, z)", arity: 3, lo: -2, hi: 2 },
  "Math.hypot": { expr: "Math.hypot(x, y, z)", arity: 3, lo: -2, hi: 2 },
};

const NAMES = ["x", "y", "z"];

/** Deterministic points in [lo, hi] (a fixed linear congruential sequence). */
function points(row: Row, count: number): number[][] {
  let s = 12345;
  const next = (): number => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * (row.hi - row.lo) + row.lo;
  return Array.from({ length: count }, () => Array.from({ length: row.arity }, next));
}

describe("scalar rules", () => {
  it("every rule in the registry has a row, and every row a rule", () => {
    expect(Object.keys(TABLE).sort()).toEqual(scalarRuleNames().sort());
  });

  it("each primitive alone: grad, vjp and jvp agree with finite differences and with each other", async () => {
    const rows = Object.entries(TABLE);
    const fnName = (k: number): string => `r${k}`;
    const source = [
      'import { grad, vjp, jvp } from "adc";',
      ...rows.flatMap(([, row], k) => {
        const params = NAMES.slice(0, row.arity);
        const sig = params.map((p) => `${p}: number`).join(", ");
        const all = `[${params.map((_, i) => i).join(", ")}]`;
        return [
          `export function ${fnName(k)}(${sig}): number { return ${row.expr}; }`,
          `export const ${fnName(k)}_g = grad(${fnName(k)}, ${all});`,
          `export const ${fnName(k)}_v = (${sig}) => vjp(${fnName(k)}, ${params.join(", ")});`,
          `export const ${fnName(k)}_j = (p: number[], t: number[]) => jvp(${fnName(k)}, [${params.map((_, i) => `p[${i}]`).join(", ")}], [${params.map((_, i) => `t[${i}]`).join(", ")}]);`,
        ];
      }),
    ].join("\n");
    const r = compile(source, { fileName: "rules-input.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    const m = await load(r.code, "rules-input.ts");
    const failures: string[] = [];
    rows.forEach(([name, row], k) => {
      const f = m[fnName(k)] as (...a: number[]) => number;
      for (const p of points(row, 6)) {
        const g = m[`${fnName(k)}_g`](...p) as number[];
        const [value, pullback] = m[`${fnName(k)}_v`](...p);
        if (value !== f(...p)) failures.push(`${name} at ${p}: vjp value ${value} != ${f(...p)}`);
        const ct = pullback(1) as number[];
        for (let i = 0; i < row.arity; i++) {
          const h = 1e-6 * Math.max(1, Math.abs(p[i]));
          const at = (d: number): number => f(...p.map((v, j) => (j === i ? v + d : v)));
          const fd = row.zero ? 0 : (at(h) - at(-h)) / (2 * h);
          const tol = 1e-6 * Math.max(1, Math.abs(fd));
          if (!(Math.abs(g[i] - fd) <= tol)) failures.push(`${name} at ${p}: reverse d/d${NAMES[i]} = ${g[i]}, finite differences ${fd}`);
          if (ct[i] !== g[i]) failures.push(`${name} at ${p}: vjp d/d${NAMES[i]} = ${ct[i]} != grad ${g[i]}`);
          const e = p.map((_, j) => (j === i ? 1 : 0));
          const [, dot] = m[`${fnName(k)}_j`](p, e);
          if (!(Math.abs(dot - g[i]) <= 1e-12 * Math.max(1, Math.abs(g[i])))) failures.push(`${name} at ${p}: forward d/d${NAMES[i]} = ${dot} != reverse ${g[i]}`);
        }
      }
    });
    expect(failures).toEqual([]);
  });

  it("each primitive alone, to second order: grad of grad, jvp of grad and vjp of grad agree with finite differences of grad", async () => {
    const rows = Object.entries(TABLE);
    const fnName = (k: number): string => `r${k}`;
    const source = [
      'import { grad, vjp, jvp } from "adc";',
      ...rows.flatMap(([, row], k) => {
        const f = fnName(k);
        const params = NAMES.slice(0, row.arity);
        const sig = params.map((p) => `${p}: number`).join(", ");
        const list = (a: string): string => `[${params.map((_, i) => `${a}[${i}]`).join(", ")}]`;
        return [
          `export function ${f}(${sig}): number { return ${row.expr}; }`,
          ...params.map((_, i) => `export const ${f}_g${i} = grad(${f}, ${i});`),
          // Row i of the Hessian three ways: reverse over the unit tangent, forward over reverse, its transpose.
          ...params.map((_, i) => `export const ${f}_gg${i} = [${params.map((_, j) => `grad(grad(${f}, ${i}), ${j})`).join(", ")}];`),
          ...params.map((_, i) => `export const ${f}_jg${i} = (p: number[], t: number[]) => jvp(grad(${f}, ${i}), ${list("p")}, ${list("t")});`),
          ...params.map((_, i) => `export const ${f}_vg${i} = (p: number[]) => vjp(grad(${f}, ${i}), ...(${list("p")} as [${params.map(() => "number").join(", ")}]));`),
        ];
      }),
    ].join("\n");
    const r = compile(source, { fileName: "rules2-input.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    const m = await load(r.code, "rules2-input.ts");
    const failures: string[] = [];
    rows.forEach(([name, row], k) => {
      const f = fnName(k);
      for (const p of points(row, 6)) {
        for (let i = 0; i < row.arity; i++) {
          const gi = m[`${f}_g${i}`] as (...a: number[]) => number;
          const [, pullback] = m[`${f}_vg${i}`](p);
          const transposed = pullback(1) as number[];
          for (let j = 0; j < row.arity; j++) {
            const h = 1e-5 * Math.max(1, Math.abs(p[j]));
            const at = (d: number): number => gi(...p.map((v, q) => (q === j ? v + d : v)));
            const fd = row.zero ? 0 : (at(h) - at(-h)) / (2 * h);
            const hij = m[`${f}_gg${i}`][j](...p) as number;
            const where = `${name} at ${p}: d2/d${NAMES[i]}d${NAMES[j]}`;
            if (!(Math.abs(hij - fd) <= 1e-5 * Math.max(1, Math.abs(fd)))) failures.push(`${where} = ${hij} (grad of grad), finite differences of grad ${fd}`);
            const [, dot] = m[`${f}_jg${i}`](p, p.map((_, q) => (q === j ? 1 : 0)));
            if (!(Math.abs(dot - hij) <= 1e-10 * Math.max(1, Math.abs(hij)))) failures.push(`${where} = ${dot} (jvp of grad) != ${hij} (grad of grad)`);
            if (!(Math.abs(transposed[j] - hij) <= 1e-10 * Math.max(1, Math.abs(hij)))) failures.push(`${where} = ${transposed[j]} (vjp of grad) != ${hij} (grad of grad)`);
          }
        }
      }
    });
    expect(failures).toEqual([]);
  });
});
