/**
 * Renders the shapes that live in blocks: closures in module-level blocks, loops, namespaces and
 * functions (scope), and record blocks reading attached arrays through objects (record).
 */
import { NdRenderer, SHAPES } from "./ndgen.js";
import { child, diffOf, HEADER, innerText, lit, listIn, numCallee, pathText, sigOf, source, target, tsOf, tupleOf, use, type MList, type MObj } from "./shape-common.js";
import type { FindingId, RecordShape, ScopeBlock, ScopeShape, ShapeCase, Target, Tmpl } from "./shapes.js";

// ---- closures in module-level blocks ----------------------------------------------------------

export function renderScope(s: ScopeShape, avoid: readonly FindingId[]): ShapeCase {
  const outer = !avoid.includes("outer-captures");
  const text = innerText(s.inner);
  const c = numCallee(s.inner, text);
  const arrOf = (t: Tmpl): string => (t.k === "f64" ? "cf" : "c");
  const out = [text, "const k = 100;", "const k2 = 100;", `const c = [${c.slots.map(() => 99).join(", ")}];`, "const cf = new Float64Array([99]);", "const m = { s: 1000, w: [1000, 1000] };", "export const __found: any[] = [];"];
  const targets: Target[] = [];
  s.blocks.forEach((b, n) => {
    const src = source(b.at, c.domain);
    const local = b.nested ? "k2" : "k";
    // Which callee parameters the block fills: k for a number, its own c / cf for arrays.
    const filled = c.slots.map((t, i) => (t.k === "num" && b.captureNum && i === c.slots.findIndex((u) => u.k === "num")) || ((t.k === "arr" || t.k === "f64") && b.captureArr));
    const firstLive = c.slots.findIndex((t) => t.k !== "const");
    if (c.slots.every((t, i) => t.k === "const" || filled[i])) filled[firstLive] = false;
    const ps: Tmpl[] = [];
    const names: string[] = [];
    const decls: string[] = [];
    const args = c.slots.map((t, i) => {
      if (t.k === "const") return String(t.v);
      if (filled[i] && t.k === "num") return local;
      if (filled[i]) {
        const name = arrOf(t);
        const l = `const ${name} = ${lit(t, src.next)};`;
        if (!decls.some((d) => d.startsWith(`const ${name} =`))) decls.push(l);
        return c.written.has(i) ? `${name}.slice()` : name;
      }
      names.push(t.k === "num" ? `x${i}` : `a${i}`);
      ps.push(t);
      return names[names.length - 1];
    });
    const u = use(c, args, String(n));
    const obj = b.captureObj ? ` * m.s + m.w[${n % 2}]` : "";
    const value = `${b.helper ? `s${n}(${u.value})` : `${local} * ${u.value}`}${obj}`;
    const fnBody = [...u.pre, `return ${value};`];
    const sig = sigOf(ps, names);
    const closure = b.fnDecl ? [`function h(${sig}): number {`, ...fnBody.map((l) => "  " + l), "}"] : [`const h = (${sig}): number => {`, ...fnBody.map((l) => "  " + l), "};"];
    const diff = diffOf(ps).join(", ");
    const before = src.taken.length;
    const atVals = ps.map((t) => lit(t, src.next));
    const atPoint = src.taken.slice(before);
    // The derivatives take h by name, or (inline) the same arrow written out in each call (inside
    // the vjp and jvp wrappers only with the finding "outer-captures").
    const f = b.inline ? `(${sig}): number => { ${fnBody.join(" ")} }` : "h";
    const fw = outer ? f : "h";
    const push = [
      `__found.push({ h,${b.captureObj ? " m," : ""} g: grad(${f}, [${diff}]), vg: valueAndGrad(${f}, [${diff}]), vjp: (${sig}) => vjp(${fw}, ${names.join(", ")}),`,
      `  jvp: (p: ${tupleOf(ps)}, t: ${tupleOf(ps)}) => jvp(${fw}, p, t), gAt: grad(${f}, [${diff}])(${atVals.join(", ")})${ps.length > 1 ? `, g1: grad(${f}, [${ps.length - 1}])` : ""} });`,
    ];
    // A captured array changed after the closure is made: the closure reads it when called.
    const mutate = b.mutate && decls.length ? [`${decls[0].split(" ")[1]}[0] = ${src.next()};`] : [];
    if (b.helper) out.push(`function s${n}(y: number): number {`, "  return 1000 * y;", "}");
    if (b.captureObj) decls.push(`const m = { s: ${src.next()}, w: [${src.next()}, ${src.next()}] };`);
    let inner = [...decls, ...(b.helper ? [`const s${n} = (y: number): number => ${local} * y + 1;`] : []), ...closure, ...mutate, ...push];
    if (b.nested) inner = [n % 2 ? "{" : "if (k > 0) {", "  const k2 = k + 1;", ...inner.map((l) => "  " + l), "}"];
    // Declared in a function inside the block (only with the finding "outer-captures").
    const deep = b.deep && outer;
    if (deep) inner = [`function inner${n}(): void {`, ...inner.map((l) => "  " + l), "}", `inner${n}();`];
    const kDecl = b.head === "for" ? [] : [`const k = ${b.k};`];
    const body = [...kDecl, ...inner].map((l) => "  " + l);
    const heads: Record<ScopeBlock["head"], string[]> = {
      block: ["{", ...body, "}"],
      if: ["if (k > 1) {", ...body, "}"],
      else: ["if (k < 1) {", "  __found.push(null);", "} else {", ...body, "}"],
      for: [`for (const k of [${b.k}, ${b.k + 1}]) {`, ...body, "}"],
      label: [`L${n}: {`, ...body, `  if (k > 0) break L${n};`, "  __found.push(null);", "}"],
      namespace: [`namespace N${n} {`, ...body, "}"],
      function: [`function run${n}(k: number): void {`, ...body.slice(1), "}", `run${n}(${b.k});`],
    };
    out.push(...heads[b.head]);
    for (let r = 0; r < (b.head === "for" ? 2 : 1); r++) {
      const e = `__found.${targets.length}`;
      const captured = b.captureObj ? { path: `${e}.m`, fields: !avoid.includes("captured-fields") } : undefined;
      targets.push({ ...target(`${b.head} block ${n}${b.head === "for" ? `, iteration ${r}` : ""}`, `${e}.h`, `${e}.`, ps, c.domain), at: { g: `${e}.gAt`, values: atPoint }, captured });
    }
  });
  const heads = s.blocks.map((b) => `${b.head}${b.nested ? " (nested)" : ""}${b.deep && outer ? " (in a function inside)" : ""}${b.inline ? " (inline arrows)" : ""}`).join(", ");
  return { kind: "scope", what: `closures of ${c.name} in module-level ${heads}, reading locals that shadow module constants`, source: out.join("\n") + "\n", accept: [], targets, found: targets.length };
}

// ---- record blocks ------------------------------------------------------------------------------

export function renderRecord(s: RecordShape): ShapeCase {
  const nd = s.nd;
  const src = source(s.values, nd.domain);
  const model: MObj = { k: "obj", fields: [] };
  const list: MList = { k: "list", items: [] };
  const plain: [string, Tmpl][] = [];
  const consts: string[] = [];
  const arrays: { path: (string | number)[]; attached: boolean }[] = [];
  // At least one array has a gradient attached (the first, if the draw attached none).
  const attach = nd.params.map((p, i) => p >= 0 && s.homes[i % s.homes.length].attach);
  if (!attach.some(Boolean)) attach[nd.params.findIndex((p) => p >= 0)] = true;
  const names = nd.params.map((p, i) => {
    if (p < 0) {
      consts.push(`const z${i} = ${src.next()};`);
      return `z${i}`;
    }
    const h = s.homes[i % s.homes.length];
    const t: Tmpl = { k: "nd", shape: SHAPES[p] };
    const attached = attach[i];
    if (h.home === 0) return model.fields.push([`w${i}`, t]), arrays.push({ path: ["model", `w${i}`], attached }), `model.w${i}`;
    if (h.home === 1) return child(model, "l1").fields.push([`w${i}`, t]), arrays.push({ path: ["model", "l1", `w${i}`], attached }), `model.l1.w${i}`;
    if (h.home === 2) return list.items.push(t), arrays.push({ path: ["params", list.items.length - 1], attached }), `params[${list.items.length - 1}]`;
    if (h.home === 4) {
      const layers = listIn(model, "layers");
      layers.items.push({ k: "obj", fields: [["w", t]] });
      arrays.push({ path: ["model", "layers", layers.items.length - 1, "w"], attached });
      return `model.layers[${layers.items.length - 1}].w`;
    }
    return plain.push([`x${i}`, t]), arrays.push({ path: [`x${i}`], attached }), `x${i}`;
  });
  const containers: [string, Tmpl][] = [...(model.fields.length ? [["model", model] as [string, Tmpl]] : []), ...(list.items.length ? [["params", list] as [string, Tmpl]] : []), ...plain];
  const inputs = containers.map(([name, tmpl]) => {
    const before = src.taken.length;
    const text = lit(tmpl, src.next);
    return { name, tmpl, values: src.taken.slice(before), text };
  });
  // The first array through an earlier block: the main block reads what that one computed.
  const i0 = nd.params.findIndex((p) => p >= 0);
  const chain = s.chain ? { from: names[i0], block: [`  __h = np.mul(np.tanh(${names[i0]}), 1.5);`] } : undefined;
  if (chain) names[i0] = "__h";
  const r = new NdRenderer(nd, "g0", names).body();
  // A loop over a list of arrays, or of layer objects, read by element (for...of or an index).
  const layers = model.fields.find(([n]) => n === "layers");
  const loops = [
    list.items.length ? ["for (const q of params) {", "  __acc = np.add(__acc, np.sum(np.mul(q, np.tanh(q))));", "}"] : [],
    list.items.length ? ["for (let i = 0; i < params.length; i++) {", "  __acc = np.add(__acc, np.sum(np.sin(params[i])));", "}"] : [],
    layers ? ["for (const l of model.layers) {", "  __acc = np.add(__acc, np.mean(np.mul(l.w, np.cos(l.w))));", "}"] : [],
  ].filter((l) => l.length);
  const loop = s.loop && loops.length ? ["let __acc: NDArray = np.zeros([]);", ...loops[s.loop % loops.length]] : [];
  const lines = [...(s.call ? [] : r.lines), ...loop];
  const more = loop.length ? ", __acc" : "";
  const y = s.call ? `np.mul(np.ones([]), g0(${names.join(", ")}))` : `np.add(np.sum(${r.r1}), np.mean(${r.r2}))`;
  const value = `${s.call ? `g0(${names.join(", ")})` : `np.sum(${r.r1}).item() + np.mean(${r.r2}).item()`}${loop.length ? " + __acc.item()" : ""}`;
  // Where the block runs: at module level (exported containers), in a module-level block (which
  // pushes them onto __res), or in a function returning them; `repeat`: record and backward
  // twice in a loop, as a training loop does, on the same arrays.
  const where = s.inFunction ? "function" : s.inBlock ? "block" : "module";
  const ex = where === "module" ? "export " : "";
  const block = [...lines, `__y = ${more ? `np.add(${y}${more})` : y};`].map((l) => "  " + l);
  const sources = `[${arrays.map((a) => pathText(a.path)).join(", ")}]`;
  const add = s.add && !s.tape;
  const rec = s.tape ? "__t.record" : "record";
  const recording = [
    ...(s.tape ? ["const __t = new GradientTape();"] : []),
    ...(chain ? [`${rec}(() => {`, ...chain.block, "});"] : []),
    `${rec}(() => {`,
    ...block,
    "});",
    ...(s.tape ? [`__tg = __t.gradient(__y, ${sources});`] : add ? ["__y.backward(null, { retainGraph: true });", "__y.backward();"] : ["__y.backward();"]),
  ];
  const run = [
    ...inputs.map((i) => `${ex}const ${i.name} = ${i.text};`),
    ...arrays.filter((a) => a.attached).map((a) => `${pathText(a.path)}.attachGrad(${add ? '"add"' : ""});`),
    ...(s.tape ? [`${ex}let __tg!: NDArray[];`] : []),
    ...(chain ? [`${ex}let __h!: NDArray;`] : []),
    `${ex}let __y!: NDArray;`,
    ...(s.repeat ? ["for (let it = 0; it < 2; it++) {", ...recording.map((l) => "  " + l), "}"] : recording),
  ];
  const result = `{ ${[...inputs.map((i) => i.name), ...(s.tape ? ["__tg"] : [])].join(", ")} }`;
  const out = [HEADER, ...(s.call ? new NdRenderer(nd, "g0").render() : []), ...consts];
  if (where === "function") out.push("export function __run() {", ...run.map((l) => "  " + l), `  return ${result};`, "}");
  else if (where === "block") out.push("export const __res: any[] = [];", "{", ...run.map((l) => "  " + l), `  __res.push(${result});`, "}");
  else out.push(...run);
  out.push(`export function __plain(${inputs.map((i) => `${i.name}: ${tsOf(i.tmpl)}`).join(", ")}): number {`, ...(chain ? [`  const __h = np.mul(np.tanh(${chain.from}), 1.5);`] : []), ...lines.map((l) => "  " + l), `  return ${value};`, "}");
  const homes = [...new Set(arrays.map((a) => String(a.path[0])))].join(", ");
  return {
    kind: "record",
    what: `${s.tape ? "GradientTape.record" : "record"} block${chain ? "s (chained)" : ""} ${where === "function" ? "in a function" : where === "block" ? "in a module-level block" : "at module level"}${s.repeat ? ", twice in a loop," : ""} ${s.call ? "calling g0 on" : "reading"} ${homes}${loop.length ? ` in a loop (${loop[1].slice(0, 20)}...)` : ""}${add ? ', attachGrad("add") and two backward passes' : ""}`,
    source: out.join("\n") + "\n",
    accept: [],
    targets: [],
    record: { plain: "__plain", inputs: inputs.map(({ name, tmpl, values }) => ({ name, tmpl, values })), run: where === "function" ? "__run()" : where === "block" ? "__res.0" : "", arrays, tapeGrads: s.tape ? "__tg" : undefined, passes: add ? 2 * (s.repeat ? 2 : 1) : 1 },
  };
}
