/**
 * The numeric check run for every fixture and every generated program: for each probed
 * function at seeded random points, reverse mode against finite differences, forward mode
 * against finite differences, forward against reverse, grad per parameter against the full
 * gradient, valueAndGrad's value against the function, and a vjp pullback called twice against
 * itself. Returns the failures as messages.
 */
import type { Loaded } from "./load.js";
import { clone, close, coordinates, dot, finiteDifference, flat, get, overflows, randomValues, type ParamKind, type Value } from "./numeric.js";
import type { ProbeFn } from "./probe.js";

export const FD_RTOL = 2e-5;
export const EXACT_RTOL = 1e-9;

/**
 * Arguments for a call: fresh copies (a function may write its arrays); NDArray arguments are
 * built with the module's own np (each bundle has its own runtime).
 */
export function argMaker(mod: Loaded, kinds: readonly ParamKind[]): (args: readonly Value[]) => unknown[] {
  const np = mod.__np;
  return (args) => args.map((a, i) => (kinds[i].k === "nd" ? np.reshape(np.array(Array.from(a as Float64Array)), (kinds[i] as { shape: readonly number[] }).shape) : clone(a)));
}

export function checkProbe(mod: Loaded, spec: ProbeFn, seed: number, points = 3): string[] {
  const probe = mod[`__probe_${spec.name}`];
  if (!probe) return [`no probe for ${spec.name}`];
  const kinds = spec.params.map((p) => p.kind);
  const failures: string[] = [];
  const fail = (at: Value[], msg: string): void => {
    failures.push(`${spec.name} at (${at.map((a) => (typeof a === "number" ? a : `[${Array.from(a).join(", ")}]`)).join(", ")}): ${msg}`);
  };
  const np = mod.__np;
  const toArgs = argMaker(mod, kinds);
  const primal = (args: Value[]): number[] => flat(probe.primal(...toArgs(args)));
  const diffIdx = kinds.map((k, i) => [k, i] as const).filter(([k]) => k.k !== "fixed").map(([, i]) => i);
  const samples = randomValues(kinds, spec.domain, seed, points);
  const tangents = randomValues(kinds.map((k) => (k.k === "fixed" ? { k: "fixed" as const, value: 0 } : k)), { lo: -1, hi: 1, length: spec.domain.length }, seed + 1, points);

  samples.forEach((args, n) => {
    // A point where an intermediate overflows (a Math function sees or returns Infinity or NaN,
    // or an array the function writes ends up holding one) is skipped, as kinks are: derivatives
    // there are NaN (0 * Infinity) where finite differences see a flat function
    // (docs/semantics.md).
    const written = toArgs(args);
    if (overflows(() => probe.primal(...written)) || written.some((a) => typeof a === "object" && a !== null && !(a as { shape?: unknown }).shape && flat(a as Value).some((x) => !Number.isFinite(x)))) return;
    const f0 = primal(args);
    const scale = Math.max(1, ...f0.map(Math.abs));
    const coords = coordinates(args, kinds);
    // Finite differences of the primal, per coordinate (null at kinks).
    const fd = new Map<string, number[] | null>();
    if (!spec.noFd) for (const c of coords) fd.set(c.join(","), finiteDifference(primal, args, c, FD_RTOL));

    let grad: Value[] | null = null;
    if (spec.returns === "num") {
      const [value, g] = probe.vg(...toArgs(args));
      if (!close(value, f0[0], EXACT_RTOL, 1e-12 * scale)) fail(args, `valueAndGrad value ${value} != f ${f0[0]}`);
      grad = g; // argnums written as a list: a tuple, even of one (as JAX)
      const full: Value[] = kinds.map(() => 0);
      diffIdx.forEach((i, k) => (full[i] = grad![k]));
      for (const c of coords) {
        const d = fd.get(c.join(","));
        const r = flat(full[c[0]])[Math.max(0, c[1])];
        if (d && !close(r, d[0], FD_RTOL, FD_RTOL * scale)) fail(args, `reverse d/d${spec.params[c[0]].name}${c[1] >= 0 ? `[${c[1]}]` : ""} = ${r}, finite differences ${d[0]}`);
      }
      diffIdx.forEach((i, k) => {
        const gi = probe.g[k](...toArgs(args));
        const a = flat(gi);
        const b = flat(grad![k]);
        if (a.some((x, j) => !close(x, b[j], EXACT_RTOL, 1e-12 * scale))) fail(args, `grad(f, ${i}) = ${a} differs from valueAndGrad's ${b}`);
      });
      grad = full;
    }

    // Forward mode: jvp against directional finite differences and against reverse.
    const t = tangents[n];
    const [out2, outDot] = probe.jvp(toArgs(args), toArgs(t));
    const o2 = flat(out2);
    if (o2.some((x, k) => !close(x, f0[k], EXACT_RTOL, 1e-12 * scale))) fail(args, `jvp value ${o2} != f ${f0}`);
    const od = flat(outDot);
    const dir = new Array(f0.length).fill(0);
    let dirKnown = !spec.noFd;
    for (const c of coords) {
      const d = fd.get(c.join(","));
      const tc = get(t[c[0]], c[1]);
      if (!d) {
        if (tc !== 0) dirKnown = false;
        continue;
      }
      d.forEach((v, k) => (dir[k] += v * tc));
    }
    if (dirKnown && od.some((x, k) => !close(x, dir[k], FD_RTOL * 10, FD_RTOL * scale * 10))) fail(args, `jvp tangent ${od} vs finite differences ${dir}`);

    // vjp with a random cotangent; the dot-product identity ties it to jvp.
    const [out3, pullback] = probe.vjp(...toArgs(args));
    const o3 = flat(out3);
    if (o3.some((x, k) => !close(x, f0[k], EXACT_RTOL, 1e-12 * scale))) fail(args, `vjp value ${o3} != f ${f0}`);
    const ctFlat = f0.map((_, k) => Math.sin(k + 1.3 + n));
    const ct =
      typeof out3 === "number" ? ctFlat[0]
      : out3 instanceof Float64Array ? Float64Array.from(ctFlat)
      : Array.isArray(out3) ? ctFlat
      : np.reshape(np.array(ctFlat), out3.shape);
    const cot: unknown[] = pullback(ct);
    let lhs = dot(ctFlat, od);
    let rhs = 0;
    cot.forEach((c, i) => {
      if (c === undefined || c === null || kinds[i].k === "fixed") return;
      rhs += dot(flat(c), flat(t[i]));
    });
    // (Both infinite or NaN: the derivative itself overflowed, in both modes.)
    const overflowed = !Number.isFinite(lhs) && !Number.isFinite(rhs);
    if (!overflowed && !close(lhs, rhs, 1e-8, 1e-10 * scale * (1 + Math.abs(lhs)))) fail(args, `<ct, jvp(t)> = ${lhs} but <vjp(ct), t> = ${rhs}`);
    // A pullback may be called again (JAX allows it): the same cotangent gives the same result.
    const again: unknown[] = pullback(ct);
    cot.forEach((c, i) => {
      if (c === undefined || c === null) return;
      const a = flat(again[i]);
      const b = flat(c);
      if (a.length !== b.length || a.some((x, j) => !Object.is(x, b[j]) && !close(x, b[j], EXACT_RTOL, 1e-12 * scale)))
        fail(args, `a second call of the pullback gave ${a} for ${spec.params[i].name}, the first ${b}`);
    });
    if (grad) {
      cot.forEach((c, i) => {
        if (kinds[i].k === "fixed" || c === undefined) return;
        const a = flat(c);
        const b = flat(grad![i]).map((x) => x * ctFlat[0]);
        if (a.some((x, j) => !close(x, b[j], EXACT_RTOL, 1e-12 * scale))) fail(args, `vjp cotangent ${a} != ct * grad ${b}`);
      });
      lhs = 0;
    }
  });
  return failures;
}
