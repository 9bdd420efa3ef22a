/**
 * The second-order check (JAX's check_grads(order=2) in spirit), run on every function of
 * fixtures/higher: each second derivative adc makes is compared with central finite differences
 * of the first derivative adc makes (grad(f, i), itself checked by check.ts):
 * - hessian(f, i) row by row; grad(grad(f, i), j) for number parameters;
 * - jvp(grad(f, i)) (a Hessian-vector product) against the differences along the tangent;
 * - vjp(grad(f, i)) against that jvp through the dot-product identity;
 * - with `@order 3`, grad(grad(grad(f, i), i), i) against differences of grad(grad(f, i), i);
 * - for every function (also those returning arrays): jacfwd(f, i) against jacrev(f, i), and
 *   jacrev against central differences of f.
 * Returns the failures as messages.
 */
import type { Loaded } from "./load.js";
import { argMaker, EXACT_RTOL, FD_RTOL } from "./check.js";
import { close, coordinates, dot, finiteDifference, flat, get, overflows, randomValues, type Value } from "./numeric.js";
import type { ProbeFn } from "./probe.js";

export function checkSecondOrder(mod: Loaded, spec: ProbeFn, seed: number, points = 3): string[] {
  const probe = mod[`__probe_${spec.name}`];
  const probe2 = mod[`__probe2_${spec.name}`];
  if (!probe || !probe2) return [`no second-order probe for ${spec.name}`];
  const kinds = spec.params.map((p) => p.kind);
  const toArgs = argMaker(mod, kinds);
  const diffIdx = kinds.map((k, i) => [k, i] as const).filter(([k]) => k.k !== "fixed").map(([, i]) => i);
  const failures: string[] = [];
  const samples = randomValues(kinds, spec.domain, seed, points);
  const tangents = randomValues(kinds.map((k) => (k.k === "fixed" ? { k: "fixed" as const, value: 0 } : k)), { lo: -1, hi: 1, length: spec.domain.length }, seed + 1, points);

  samples.forEach((args, n) => {
    if (overflows(() => probe.primal(...toArgs(args)))) return;
    const fail = (msg: string): void => {
      failures.push(`${spec.name} at (${args.map((a) => (typeof a === "number" ? a : `[${Array.from(a).join(", ")}]`)).join(", ")}): ${msg}`);
    };
    const coords = coordinates(args, kinds);
    const t = tangents[n];
    jacobians(args, coords, fail);
    if (spec.returns !== "num") return;
    diffIdx.forEach((i, k) => {
      const g = (a: Value[]): number[] => flat(probe.g[k](...toArgs(a)));
      const g0 = g(args);
      // Column c of the Hessian block of parameter i: d grad_i / d coordinate c (null at a kink).
      const col = new Map(coords.map((c) => [c.join(","), finiteDifference(g, args, c, FD_RTOL)]));
      const scale = Math.max(1, ...[...col.values()].flatMap((v) => (v ? v.map(Math.abs) : [])));
      const near = (got: number, fd: number): boolean => close(got, fd, FD_RTOL * 10, FD_RTOL * 10 * scale);

      // hessian(f, i): the block of parameter i with itself.
      const h = probe2.h[k](...toArgs(args));
      const rows: number[][] = typeof h === "number" ? [[h]] : Array.from(h as ArrayLike<ArrayLike<number>>, (r) => Array.from(r));
      const len = typeof args[i] === "number" ? 1 : (args[i] as ArrayLike<number>).length;
      if (rows.length !== len || rows.some((r) => r.length !== len)) fail(`hessian(f, ${i}) has shape ${rows.length}x${rows[0]?.length}, expected ${len}x${len}`);
      for (let b = 0; b < len; b++) {
        const d = col.get(`${i},${len === 1 && typeof args[i] === "number" ? -1 : b}`);
        if (!d) continue;
        for (let a = 0; a < len; a++) if (!near(rows[a]?.[b], d[a])) fail(`hessian(f, ${i})[${a}][${b}] = ${rows[a]?.[b]}, finite differences of grad ${d[a]}`);
      }

      // grad(grad(f, i), j) for number parameters i and j.
      for (const j of diffIdx) {
        const gg = probe2.gg[`${i},${j}`];
        if (!gg) continue;
        const d = col.get(`${j},-1`);
        const got = gg(...toArgs(args));
        if (d && !near(got, d[0])) fail(`grad(grad(f, ${i}), ${j}) = ${got}, finite differences of grad ${d[0]}`);
      }

      // jvp(grad(f, i)): the Hessian rows of parameter i times the tangent.
      const [gv, gDot] = probe2.hvp[k](toArgs(args), toArgs(t));
      if (flat(gv).some((x, a) => !close(x, g0[a], EXACT_RTOL, 1e-12 * scale))) fail(`jvp(grad(f, ${i})) value ${flat(gv)} != grad ${g0}`);
      const hv = new Array(g0.length).fill(0);
      let known = true;
      for (const c of coords) {
        const d = col.get(c.join(","));
        const tc = get(t[c[0]], c[1]);
        if (!d) known &&= tc === 0;
        else d.forEach((v, a) => (hv[a] += v * tc));
      }
      const hd = flat(gDot);
      if (known && hd.some((x, a) => !near(x, hv[a]))) fail(`jvp(grad(f, ${i})) tangent ${hd}, finite differences ${hv}`);

      // vjp(grad(f, i)) and jvp(grad(f, i)) agree: <ct, H t> = <H^T ct, t>.
      const [gw, pullback] = probe2.vjpg[k](...toArgs(args));
      if (flat(gw).some((x, a) => !close(x, g0[a], EXACT_RTOL, 1e-12 * scale))) fail(`vjp(grad(f, ${i})) value ${flat(gw)} != grad ${g0}`);
      const ctFlat = g0.map((_, a) => Math.cos(a + 0.7 + n));
      const ct = typeof gw === "number" ? ctFlat[0] : gw instanceof Float64Array ? Float64Array.from(ctFlat) : ctFlat;
      const cot: unknown[] = pullback(ct);
      let rhs = 0;
      cot.forEach((c, j) => {
        if (c !== undefined && c !== null && kinds[j].k !== "fixed") rhs += dot(flat(c), flat(t[j]));
      });
      const lhs = dot(ctFlat, hd);
      if (!close(lhs, rhs, 1e-8, 1e-10 * scale * (1 + Math.abs(lhs)))) fail(`<ct, jvp(grad(f, ${i}))(t)> = ${lhs} but <vjp(grad(f, ${i}))(ct), t> = ${rhs}`);

      // Third order: grad(grad(grad(f, i), i), i) against differences of grad(grad(f, i), i).
      const ggg = probe2.ggg?.[`${i}`];
      if (ggg) {
        const gg = probe2.gg[`${i},${i}`];
        const d = finiteDifference((a) => [gg(...toArgs(a))], args, [i, -1], FD_RTOL);
        const got = ggg(...toArgs(args));
        if (d && !close(got, d[0], FD_RTOL * 10, FD_RTOL * 10 * Math.max(1, Math.abs(d[0])))) fail(`grad(grad(grad(f, ${i}), ${i}), ${i}) = ${got}, finite differences ${d[0]}`);
      }
    });
  });
  return failures;

  /**
   * jacfwd against jacrev, and jacrev against central differences of f, entry by entry; the
   * jacrevInto and jacfwdInto blocks (all the differentiated parameters' columns side by side,
   * written between guard entries that must stay as they were) against jacrev too.
   */
  function jacobians(args: Value[], coords: [number, number][], fail: (msg: string) => void): void {
    const primal = (a: Value[]): number[] => flat(probe.primal(...toArgs(a)));
    const numOut = spec.returns === "num";
    const widths = diffIdx.map((i) => (typeof args[i] === "number" ? 1 : (args[i] as ArrayLike<number>).length));
    const n = widths.reduce((s, w) => s + w, 0);
    const m = numOut ? 1 : primal(args).length;
    const GUARD = 3;
    const blocks = (["jri", "jfi"] as const).map((key) => {
      const buf = new Float64Array(m * n + 2 * GUARD).fill(-7.5);
      probe2[key](buf, GUARD, ...toArgs(args));
      if (buf.subarray(0, GUARD).some((v) => v !== -7.5) || buf.subarray(GUARD + m * n).some((v) => v !== -7.5)) fail(`${key === "jri" ? "jacrevInto" : "jacfwdInto"} wrote outside its block`);
      return [key === "jri" ? "jacrevInto" : "jacfwdInto", buf.subarray(GUARD, GUARD + m * n)] as const;
    });
    diffIdx.forEach((i, k) => {
      const col0 = widths.slice(0, k).reduce((s, w) => s + w, 0);
      const jf = probe2.jf[k](...toArgs(args));
      const jr = probe2.jr[k](...toArgs(args));
      const numIn = typeof args[i] === "number";
      // Entry (output a, input coordinate b) in JAX's layout.
      const at = (J: unknown, a: number, b: number): number =>
        numOut ? (numIn ? (J as number) : (J as ArrayLike<number>)[b]) : numIn ? (J as ArrayLike<number>)[a] : (J as ArrayLike<ArrayLike<number>>)[a][b];
      for (const c of coords) {
        if (c[0] !== i) continue;
        const d = finiteDifference(primal, args, c, FD_RTOL);
        const b = Math.max(0, c[1]);
        const outs = d?.length ?? primal(args).length;
        for (let a = 0; a < outs; a++) {
          const r = at(jr, a, b);
          const f = at(jf, a, b);
          if (!close(f, r, 1e-9, 1e-9 * Math.max(1, Math.abs(r)))) fail(`jacfwd(f, ${i})[${a}][${b}] = ${f} but jacrev gives ${r}`);
          for (const [what, block] of blocks) {
            const v = block[a * n + col0 + b];
            if (!close(v, r, 1e-9, 1e-9 * Math.max(1, Math.abs(r)))) fail(`${what}(f, [${diffIdx.join(", ")}]) entry (${a}, ${col0 + b}) = ${v} but jacrev gives ${r}`);
          }
          if (d && !close(r, d[a], FD_RTOL * 10, FD_RTOL * 10 * Math.max(1, Math.abs(d[a])))) fail(`jacrev(f, ${i})[${a}][${b}] = ${r}, finite differences ${d[a]}`);
        }
      }
    });
  }
}
