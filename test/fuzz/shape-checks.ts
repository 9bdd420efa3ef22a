/**
 * The properties of each shape (shapes.ts), run on the loaded module of a rendered shape. Every
 * check reports through `ctx.fail(property, message)`; the property names are the failure
 * signatures (shape-properties.ts). Points are drawn with a seeded generator; finite differences
 * use two step sizes and skip a coordinate where they disagree (a kink), as check.ts does.
 */
import { close, dot } from "../helpers/numeric.js";
import { leaves } from "../helpers/pytree.js";
import { argLeaves, at, checkAgainstFd, ctOf, describe, draw, edit, EXACT, fd, flat, FD_RTOL, instantiate, isNd, overflows, rng, same, show, structure, untouched, type Any, type Ctx } from "./shape-values.js";
import type { ShapeCase, Target } from "./shapes.js";

/** A function against finite differences, in every mode: grad, valueAndGrad, vjp (twice), jvp. */
export function checkTarget(mod: Any, t: Target, ctx: Ctx): void {
  const f = at(mod, t.f);
  if (typeof f !== "function") return ctx.fail("module", `${t.name}: no function at ${t.f}`);
  const r = rng(ctx.seed);
  for (let n = 0; n <= ctx.points; n++) {
    const own = n === ctx.points;
    if (own && !t.at) break;
    const vals = own ? t.at!.values : draw(t.params, t.domain, r);
    const fresh = (): unknown[] => instantiate(t.params, vals, ctx.np);
    const label = `${t.name} at ${own ? "the block's own point" : `point ${n}`} ${show(vals)}`;
    const P = fresh();
    const y0 = f(...P);
    if (typeof y0 !== "number" || !Number.isFinite(y0) || overflows(() => f(...fresh()))) continue;
    const left = flat(P);
    const scale = Math.max(1, Math.abs(y0));
    let raw: unknown;
    if (own) raw = at(mod, t.at!.g);
    else if (t.g) {
      const A = fresh();
      raw = at(mod, t.g)(...A);
      if (!same(flat(A), left)) ctx.fail("rule for arrays", `${label}: after grad the arguments hold ${show(flat(A))}, after a plain call ${show(left)}`);
    }
    const G = (t.gTuple ? raw : [raw]) as unknown[];
    if (raw !== undefined) {
      if (!Array.isArray(G) || G.length !== t.diff.length) return ctx.fail("gradient structure", `${label}: ${t.gTuple ? `a tuple of ${t.diff.length}` : "a gradient"} expected, got ${describe(raw)}`);
      const like = fresh();
      for (const [k, i] of t.diff.entries()) {
        const m = structure(G[k], like[i], `the gradient of argument ${i}`);
        if (m) return ctx.fail("gradient structure", `${label}: ${m}`);
        checkAgainstFd(ctx, label, f, fresh, i, G[k], scale);
      }
    }
    if (own || raw === undefined) continue;
    // The caller keeps the gradient: later calls (of every mode) must not write into it.
    const kept = flat(G);
    if (t.vg) {
      const [v, G2] = at(mod, t.vg)(...fresh());
      if (!close(v, y0, EXACT, 1e-12 * scale)) ctx.fail("valueAndGrad", `${label}: valueAndGrad's value ${v}, f gives ${y0}`);
      if (!same(flat(t.gTuple ? G2 : [G2]), flat(G))) ctx.fail("valueAndGrad", `${label}: valueAndGrad's gradient ${show(flat(G2))}, grad's ${show(flat(G))}`);
    }
    if (t.vjp) {
      // The caller edits the arrays it passed after vjp: the pullback must not see it (the rule
      // for arrays), and then the number fields of its objects.
      const A = fresh();
      const [out, pb] = at(mod, t.vjp)(...A);
      if (!close(out, y0, EXACT, 1e-12 * scale)) ctx.fail("vjp", `${label}: vjp's value ${out}, f gives ${y0}`);
      const edited = edit(A, "arrays");
      const ct = 0.5 + r();
      const cot = pb(ct);
      const first = flat(cot.filter((_: unknown, i: number) => t.diff.includes(i)));
      const want = flat(G).map((x) => x * ct);
      if (!same(first, want, EXACT, 1e-12 * scale)) ctx.fail(edited ? "pullback after edits" : "vjp", `${label}: the pullback of ${ct}${edited ? `, after the caller edited ${edited} array(s) it passed,` : ""} gives ${show(first)}, ${ct} * grad is ${show(want)}`);
      ctx.checked(2);
      const fields = edit(A, "fields");
      const again = flat(pb(ct).filter((_: unknown, i: number) => t.diff.includes(i)));
      if (!same(again, first)) ctx.fail(fields ? "pullback after edits of number fields" : "vjp called twice", `${label}: a second call of the pullback${fields ? `, after the caller changed ${fields} number field(s) of the objects it passed,` : ""} gave ${show(again)}, the first ${show(first)}`);
      if (t.captured) {
        // The block changes what the closure captured (then puts it back): the pullback belongs to
        // the point vjp was called at.
        const cap = at(mod, t.captured.path);
        const restore = leaves(cap).map((l) => [l, l.get()] as const);
        const n = edit([cap], "arrays") + (t.captured.fields ? edit([cap], "fields") : 0);
        const third = flat(pb(ct).filter((_: unknown, i: number) => t.diff.includes(i)));
        restore.forEach(([l, v]) => l.set(v));
        ctx.checked();
        if (!same(third, first)) ctx.fail("pullback after edits of captured values", `${label}: after the block changed ${n} value(s) the closure captured, the pullback gave ${show(third)}, before ${show(first)}`);
      }
    }
    if (t.jvp) {
      const T = instantiate(t.params, draw(t.params, [-1, 1], r), ctx.np, true);
      const [o, od] = at(mod, t.jvp)(fresh(), T);
      if (!close(o, y0, EXACT, 1e-12 * scale)) ctx.fail("jvp", `${label}: jvp's value ${o}, f gives ${y0}`);
      const terms = t.diff.flatMap((i, k) => flat(G[k]).map((g, j) => g * flat(T[i])[j]));
      const want = terms.reduce((s, x) => s + x, 0);
      const size = terms.reduce((s, x) => s + Math.abs(x), 0);
      ctx.checked();
      if (!close(od, want, 1e-8, 1e-10 * (scale + size))) ctx.fail("jvp", `${label}: jvp's tangent ${od}, <grad, t> = ${want}`);
    }
    if (t.one) {
      const one = at(mod, t.one.g)(...fresh());
      const k = t.diff.indexOf(t.one.i);
      ctx.checked();
      if (!Array.isArray(one) || one.length !== 1 || structure(one[0], fresh()[t.one.i]) || !same(flat(one[0]), flat(G[k])))
        ctx.fail("argnums list of one", `${label}: grad(f, [${t.one.i}]) gave ${describe(one)}${Array.isArray(one) ? ` ${show(flat(one))}` : ""}, expected [${show(flat(G[k]))}]`);
    }
    if (t.g) at(mod, t.g)(...instantiate(t.params, draw(t.params, t.domain, r), ctx.np));
    if (!untouched(flat(G), kept)) ctx.fail("gradient kept by the caller", `${label}: later calls changed the gradient the caller kept from ${show(kept)} to ${show(flat(G))}`);
  }
}

/** Module-level blocks: each pushed its closure (and only the blocks that ran did). */
export function checkScope(mod: Any, c: ShapeCase, ctx: Ctx): void {
  const found: unknown[] = mod.__found ?? [];
  if (found.length !== c.found || found.includes(null)) return ctx.fail("blocks ran", `${c.found} closures expected on __found, got ${found.length}${found.includes(null) ? " (with a branch that should not run)" : ""}`);
  for (const t of c.targets) checkTarget(mod, t, ctx);
}

/** The same array as two arguments at an entry point: a run-time error if f writes one of them, else right numbers. */
export function checkTwice(mod: Any, tw: NonNullable<ShapeCase["twice"]>, ctx: Ctx): void {
  const [i, j] = tw.shared;
  const vals = draw(tw.params, tw.domain, rng(ctx.seed));
  const distinct = (): Any[] => {
    const a = instantiate(tw.params, vals, ctx.np) as Any[];
    a[j] = a[i].slice();
    return a;
  };
  const shared = (): Any[] => {
    const a = instantiate(tw.params, vals, ctx.np) as Any[];
    a[j] = a[i];
    return a;
  };
  const T = instantiate(tw.params, draw(tw.params, [-1, 1], rng(ctx.seed + 1)), ctx.np, true);
  const calls: [string, () => unknown][] = [
    ...(tw.g ? [["grad", () => at(mod, tw.g!)(...shared())] as [string, () => unknown]] : []),
    ...(tw.vg ? [["valueAndGrad", () => at(mod, tw.vg!)(...shared())] as [string, () => unknown]] : []),
    ["vjp", () => at(mod, tw.vjp)(...shared())[1](ctOf(at(mod, tw.f)(...distinct())))],
    ["jvp", () => at(mod, tw.jvp)(shared(), T)],
  ];
  const diff = tw.params.map((t, k) => [t, k] as const).filter(([t]) => t.k !== "const").map(([, k]) => k);
  if (tw.writes) {
    for (const [api, call] of calls) {
      let threw: unknown;
      try {
        call();
      } catch (e) {
        threw = e;
      }
      ctx.checked();
      if (!threw) ctx.fail("aliased entry point", `${api}: one array as arguments ${i} and ${j}, which f writes, ran without the error that they share one array`);
      else if (!/share one array/.test(String((threw as Error).message))) ctx.fail("aliased entry point", `${api}: threw ${String(threw)}, not the error that the arguments share one array`);
    }
    return;
  }
  const f = at(mod, tw.f);
  const y0 = flat(f(...distinct()));
  if (!y0.every(Number.isFinite) || overflows(() => f(...distinct()))) return;
  const scale = Math.max(1, ...y0.map(Math.abs));
  const label = `one array ${show(flat(distinct()[i]))} as arguments ${i} and ${j}`;
  if (tw.g) {
    const G = at(mod, tw.g)(...shared());
    diff.forEach((a, k) => checkAgainstFd(ctx, `${label}: grad`, f, distinct, a, G[k], scale));
    if (tw.vg) {
      const [v, G2] = at(mod, tw.vg)(...shared());
      ctx.checked();
      if (!close(v, y0[0], EXACT, 1e-12 * scale) || !same(flat(G2), flat(G))) ctx.fail("aliased valueAndGrad", `${label}: valueAndGrad gave [${v}, ${show(flat(G2))}], f is ${y0[0]} and grad ${show(flat(G))}`);
    }
  }
  const A = shared();
  const [out, pb] = at(mod, tw.vjp)(...A);
  const P = shared();
  f(...P);
  if (!same(flat(A), flat(P))) ctx.fail("rule for arrays", `${label}: after vjp the arguments hold ${show(flat(A))}, after a plain call ${show(flat(P))}`);
  const ct = ctOf(out);
  const cot = flat(pb(ct).filter((_: unknown, k: number) => diff.includes(k)));
  const ref = flat(at(mod, tw.vjp)(...distinct())[1](ct).filter((_: unknown, k: number) => diff.includes(k)));
  ctx.checked();
  if (!same(cot, ref, 1e-9, 1e-12 * scale)) ctx.fail("aliased vjp", `${label}: the pullback gives ${show(cot)}, with two distinct arrays ${show(ref)}`);
  const [, od] = at(mod, tw.jvp)(shared(), T);
  const want = y0.map(() => 0);
  for (const a of diff)
    for (const [j2, tj] of flat(T[a]).entries()) {
      const d = fd((args) => flat(f(...args)), distinct, (args) => argLeaves(args, a)[j2]);
      if (!d) return;
      d.forEach((v, k) => (want[k] += v * tj));
    }
  ctx.checked();
  if (!same(flat(od), want, FD_RTOL * 10, FD_RTOL * 10 * scale)) ctx.fail("aliased jvp", `${label}: jvp's tangent ${show(flat(od))}, finite differences ${show(want)}`);
}

/**
 * vjp, then the caller edits arrays and calls the pullback again and again: the pullback changes
 * no array the caller can reach, gives the same cotangents each time, and they are grad's (or
 * those of a fresh pullback); grad, valueAndGrad and jvp leave the arguments as f does.
 */
export function checkPullback(mod: Any, pb: NonNullable<ShapeCase["pullback"]>, ctx: Ctx): void {
  const f = at(mod, pb.f);
  const r = rng(ctx.seed);
  const vals = draw(pb.params, pb.domain, r);
  const fresh = (): Any[] => instantiate(pb.params, vals, ctx.np) as Any[];
  const diff = pb.params.map((t, k) => [t, k] as const).filter(([t]) => t.k !== "const").map(([, k]) => k);
  const P = fresh();
  const yP = flat(f(...P));
  if (!yP.every(Number.isFinite) || overflows(() => f(...fresh()))) return;
  const scale = Math.max(1, ...yP.map(Math.abs));
  const A = fresh();
  const [out, pull] = at(mod, pb.vjp)(...A);
  if (!same(flat(out), yP)) ctx.fail("vjp value", `vjp's value ${show(flat(out))}, f gives ${show(yP)}`);
  if (!same(flat(A), flat(P))) ctx.fail("rule for arrays", `after vjp the arguments hold ${show(flat(A))}, after a plain call ${show(flat(P))}`);
  // The arrays the caller can reach and edits: the arguments, the result, later the cotangents
  // the first call returned. The cotangent passed in is checked apart (it is passed again).
  const reach: [string, Any][] = A.map((a, k) => [`argument ${k}`, a] as [string, Any]).filter(([, a]) => typeof a !== "number");
  if (typeof out !== "number") reach.push(["the result", out]);
  const ct = ctOf(out);
  const ct0 = flat(ct);
  const [mask1, value, mask2, mode] = pb.edits;
  const edit = (mask: number, v: number): void =>
    reach.forEach(([, a], k) => {
      if (!(mask & (1 << k))) return;
      a[0] = v;
      a[a.length - 1] += 1;
    });
  const snap = (): number[][] => reach.map(([, a]) => Array.from(a));
  const unchanged = (before: number[][], when: string): void => {
    reach.forEach(([name, a], k) => untouched(Array.from(a), before[k]) || ctx.fail("pullback changed an array", `${when} changed ${name} from ${show(before[k])} to ${show(Array.from(a))}`));
    if (!untouched(flat(ct), ct0)) ctx.fail("pullback changed an array", `${when} changed the cotangent passed in from ${show(ct0)} to ${show(flat(ct))}`);
  };
  edit(mask1, (value % 17) - 8);
  let before = snap();
  const c1 = pull(ct);
  unchanged(before, "the first pullback call");
  const first = flat(c1.filter((_: unknown, k: number) => diff.includes(k)));
  c1.forEach((c: unknown, k: number) => typeof c === "object" && c !== null && reach.push([`the cotangent of argument ${k} from the first call`, c]));
  edit(mask2, (value % 5) + 3);
  if (mode & 1) {
    // A second pullback alive at once, called in between: of fresh arguments, or (mode & 4) of
    // the same arrays again, which f may write once more.
    const [, other] = at(mod, pb.vjp)(...(mode & 4 ? A : fresh()));
    other(ctOf(out));
  }
  before = snap();
  for (let n = 0; n < 1 + (mode & 2 ? 1 : 0) + 1; n++) {
    const again = flat(pull(ct).filter((_: unknown, k: number) => diff.includes(k)));
    if (!same(again, first, 0, 0)) ctx.fail("pullback called again", `call ${n + 2} of the pullback gave ${show(again)}, the first ${show(first)}`);
  }
  unchanged(before, "calling the pullback again");
  // The reference: grad on fresh arguments (a number result), or a fresh pullback, never edited.
  let ref: number[];
  if (pb.g) {
    const G = at(mod, pb.g)(...fresh());
    ref = flat(G).map((x) => x * ct);
    const B = fresh();
    at(mod, pb.g)(...B);
    if (!same(flat(B), flat(P))) ctx.fail("rule for arrays", `after grad the arguments hold ${show(flat(B))}, after a plain call ${show(flat(P))}`);
    const V = fresh();
    const [v] = at(mod, pb.vg!)(...V);
    if (!close(v, yP[0], EXACT, 1e-12 * scale)) ctx.fail("valueAndGrad", `valueAndGrad's value ${v}, f gives ${yP[0]}`);
    if (!same(flat(V), flat(P))) ctx.fail("rule for arrays", `after valueAndGrad the arguments hold ${show(flat(V))}, after a plain call ${show(flat(P))}`);
  } else ref = flat(at(mod, pb.vjp)(...fresh())[1](ctOf(out)).filter((_: unknown, k: number) => diff.includes(k)));
  if (!same(first, ref, EXACT, 1e-12 * scale)) ctx.fail("pullback after edits", `the pullback, with the arrays edited after vjp, gave ${show(first)}; on fresh arguments ${show(ref)}`);
  // jvp writes the primals as f does, leaves the tangents alone, and agrees with the pullback.
  const T = instantiate(pb.params, draw(pb.params, [-1, 1], r), ctx.np, true) as Any[];
  const T0 = flat(T);
  const J = fresh();
  const [, od] = at(mod, pb.jvp)(J, T);
  if (!same(flat(J), flat(P))) ctx.fail("rule for arrays", `after jvp the arguments hold ${show(flat(J))}, after a plain call ${show(flat(P))}`);
  if (!untouched(flat(T), T0)) ctx.fail("jvp changed the tangents", `jvp changed the tangents from ${show(T0)} to ${show(flat(T))}`);
  const lhs = dot(flat(ctOf(out)), flat(od));
  const rhs = dot(ref, diff.flatMap((k) => flat(T[k])));
  ctx.checked(6);
  if (!close(lhs, rhs, 1e-8, 1e-10 * scale * (1 + Math.abs(lhs)))) ctx.fail("vjp vs jvp", `<ct, jvp(t)> = ${lhs} but <vjp(ct), t> = ${rhs}`);
}

/** grad(f, [i]) is [grad(f, i)], valueAndGrad(f, [i]) is [value, [grad(f, i)]], both right. */
export function checkArgnums(mod: Any, a: NonNullable<ShapeCase["argnums"]>, ctx: Ctx): void {
  const f = at(mod, a.f);
  const vals = draw(a.params, a.domain, rng(ctx.seed));
  const fresh = (): unknown[] => instantiate(a.params, vals, ctx.np);
  const y0 = f(...fresh());
  if (!Number.isFinite(y0) || overflows(() => f(...fresh()))) return;
  const scale = Math.max(1, Math.abs(y0));
  for (const it of a.items) {
    const like = fresh()[it.i];
    const B = at(mod, it.b)(...fresh());
    const m = structure(B, like, `grad(f, ${it.i})`);
    if (m) return ctx.fail("argnums", m);
    checkAgainstFd(ctx, `grad(f, ${it.i})`, f, fresh, it.i, B, scale);
    const tuple = (x: unknown, what: string): unknown => {
      if (!Array.isArray(x) || x.length !== 1) return ctx.fail("argnums list of one", `${what}: a tuple of one expected, got ${describe(x)}`);
      const s = structure(x[0], like, `${what}[0]`);
      if (s) return ctx.fail("argnums list of one", s);
      if (!same(flat(x[0]), flat(B))) ctx.fail("argnums list of one", `${what}[0] = ${show(flat(x[0]))}, grad(f, ${it.i}) = ${show(flat(B))}`);
    };
    tuple(at(mod, it.t)(...fresh()), `grad(f, [${it.i}])`);
    const VT = at(mod, it.vt)(...fresh());
    if (!Array.isArray(VT) || VT.length !== 2 || !close(VT[0], y0, EXACT, 1e-12 * scale)) ctx.fail("argnums list of one", `valueAndGrad(f, [${it.i}]): [${y0}, [gradient]] expected, got ${describe(VT)}`);
    else tuple(VT[1], `valueAndGrad(f, [${it.i}])[1]`);
    const [v, g] = at(mod, it.vb)(...fresh());
    if (!close(v, y0, EXACT, 1e-12 * scale) || structure(g, like) || !same(flat(g), flat(B))) ctx.fail("argnums", `valueAndGrad(f, ${it.i}) gave [${v}, ${describe(g)}], expected [${y0}, grad(f, ${it.i})]`);
    ctx.checked(4);
    const d = at(mod, it.d)(...fresh());
    if (structure(d, like) || !same(flat(d), flat(B))) ctx.fail("argnums list of one", `const [g] = grad(f, [${it.i}])(...) gave ${describe(d)} ${show(flat(d))}, grad(f, ${it.i}) = ${show(flat(B))}`);
  }
}

/** A record block reading arrays through objects and lists: each attached array's .grad is right. */
export function checkRecord(mod: Any, rec: NonNullable<ShapeCase["record"]>, ctx: Ctx): void {
  const root = rec.run.endsWith("()") ? at(mod, rec.run.slice(0, -2))() : rec.run ? at(mod, rec.run) : mod;
  const plain = at(mod, rec.plain);
  const fresh = (): unknown[] => rec.inputs.map((i) => instantiate([i.tmpl], i.values, ctx.np)[0]);
  const y0 = plain(...fresh());
  if (!Number.isFinite(y0) || overflows(() => plain(...fresh()))) return;
  const scale = Math.max(1, Math.abs(y0));
  const tg = rec.tapeGrads ? at(root, rec.tapeGrads) : undefined;
  rec.arrays.forEach((a, n) => {
    const where = a.path.map((p, k) => (k === 0 ? p : typeof p === "number" ? `[${p}]` : `.${p}`)).join("");
    const g = tg ? tg[n] : a.attached ? at(root, a.path)?.grad : undefined;
    if (!tg && !a.attached) return;
    if (!isNd(g)) return ctx.fail("record gradient", `${where}${tg ? ": tape.gradient" : ".grad"} is ${describe(g)}, not an NDArray`);
    const input = rec.inputs.findIndex((i) => i.name === a.path[0]);
    const arrayIn = (args: unknown[]): Any => at(args[input], a.path.slice(1));
    const got = Array.from(g.data);
    for (let k = 0; k < got.length; k++) {
      const d = fd((args) => [plain(...args)], fresh, (args) => ({ get: () => arrayIn(args).data[k], set: (v) => void (arrayIn(args).data[k] = v) }));
      const want = d && (tg ? d[0] : d[0] * rec.passes);
      if (want !== null) ctx.checked();
      if (want !== null && !close(got[k], want, FD_RTOL, FD_RTOL * scale)) return ctx.fail("record gradient", `${where}${tg ? ": tape.gradient" : ".grad"} = ${show(got)}; element ${k} is ${got[k]}, finite differences ${d![0]}${!tg && rec.passes > 1 ? ` times ${rec.passes} backward passes` : ""}`);
    }
  });
}

/**
 * vjp and jvp of `p => p.l1`: the result is p.l1, its cotangent comes back at p.l1 with zeros (and
 * the strings) elsewhere, the pullback changes no array of p, jvp's tangent is t.a.
 */
export function checkPart(mod: Any, pt: NonNullable<ShapeCase["part"]>, ctx: Ctx): void {
  if (pt.param.k !== "obj") return;
  const sub = pt.param.fields.find(([n]) => n === pt.field)![1];
  const r = rng(ctx.seed + 7);
  const vals = draw([pt.param], pt.domain, r);
  const A = instantiate([pt.param], vals, ctx.np)[0] as Any;
  const [out, pb] = at(mod, pt.vjp)(A);
  const m = structure(out, A[pt.field], "vjp's result");
  if (m || !untouched(flat(out), flat(A[pt.field]))) return ctx.fail("part result", m ?? `vjp's result ${show(flat(out))}, p.${pt.field} is ${show(flat(A[pt.field]))}`);
  const before = flat(A);
  const ctVals = draw([sub], [-1, 1], r);
  const ct = instantiate([sub], ctVals, ctx.np)[0];
  const [cot] = pb(ct);
  const want = instantiate([pt.param], draw([pt.param], [0, 0], r), ctx.np)[0] as Any;
  want[pt.field] = instantiate([sub], ctVals, ctx.np)[0];
  ctx.checked(3);
  const s = structure(cot, want, "the cotangent");
  if (s || !same(flat(cot), flat(want))) ctx.fail("part result", s ?? `the pullback of a cotangent for p.${pt.field} gives ${show(flat(cot))}, expected ${show(flat(want))}`);
  if (!untouched(flat(A), before)) ctx.fail("pullback changed an array", `the pullback changed p from ${show(before)} to ${show(flat(A))}`);
  const T = instantiate([pt.param], draw([pt.param], [-1, 1], r), ctx.np, true)[0] as Any;
  const [, od] = at(mod, pt.jvp)(instantiate([pt.param], vals, ctx.np)[0], T);
  if (!same(flat(od), flat(T[pt.field]))) ctx.fail("part result", `jvp's tangent ${show(flat(od))}, t.${pt.field} is ${show(flat(T[pt.field]))}`);
}
