/**
 * Renders a shape (shapes.ts) as the module a user would write, with the exports the checker
 * reads (`__g`, `__vjp`, `__found`, ...), and says what the checker must find (`ShapeCase`):
 * nested parameter objects, arrays passed twice, pullbacks and argnums here; closures in blocks
 * and record blocks in shape-render-blocks.ts.
 */
import type { FnSpec, Program } from "./generator.js";
import { calleeBody, child, derivExports, diffOf, innerText, Lines, listIn, ndCallee, numCallee, sigOf, target, tsOf, use, type MList, type MObj } from "./shape-common.js";
import { renderRecord, renderScope } from "./shape-render-blocks.js";
import { KNOWN, type Accept, type ArgnumsShape, type FindingId, type NestedShape, type PullbackShape, type Shape, type ShapeCase, type Tmpl, type TwiceShape } from "./shapes.js";

export { tsOf } from "./shape-common.js";

// ---- nested parameter objects and lists -------------------------------------------------------

interface Placed {
  readonly i: number;
  readonly path: readonly string[];
  /** The field, or the list and the index in it. */
  readonly field: string;
  readonly index: number | null;
}

/**
 * How a function reads a part at `path` below `base`: by path (`p.l1.l2.s0`), through a local bound
 * to an object above it (`const q1 = p.l1; q1.l2.s0`), by destructuring (`const { l1 } = p; l1.l2.s0`), or an
 * element of a list by array destructuring (`const [, l1_rows1] = p.l1.rows`).
 */
function reader(base: string, lines: Lines, binds: Map<string, string>) {
  return (x: Placed, path: readonly string[], style: number): string => {
    const leaf = x.index === null ? x.field : `${x.field}[${x.index}]`;
    if (style === 1 && path.length) {
      // The local holds the object one level up when there is one (`const q1 = p.l1; q1.l2.s0`).
      const held = path.length > 1 ? path.slice(0, -1) : path;
      const key = held.join(".");
      if (!binds.has(key)) binds.set(key, `q${binds.size + 1}`);
      lines.once(`const ${binds.get(key)} = ${base}.${key};`);
      return [binds.get(key), ...path.slice(held.length), leaf].join(".");
    }
    if (style === 2) {
      lines.once(`const { ${path[0] ?? x.field} } = ${base};`);
      return path.length ? [...path, leaf].join(".") : leaf;
    }
    if (style === 3 && x.index !== null) {
      const name = `${[...path, x.field].join("_")}${x.index}`;
      lines.once(`const [${", ".repeat(x.index)}${name}] = ${[base, ...path, x.field].join(".")};`);
      return name;
    }
    return [base, ...path, leaf].join(".");
  };
}

function renderNested(s: NestedShape): ShapeCase {
  const inner: Program = s.nd ? { ...s.inner, fns: [] as FnSpec[], nd: [s.nd] } : s.inner;
  const text = innerText(inner);
  const c = s.nd ? ndCallee(s.nd) : numCallee(inner, text);
  const live = diffOf(c.slots);
  const copy = (i: number, e: string): string => (c.written.has(i) && s.copy ? `${e}.slice()` : e);
  /** The callee called once or twice (reading the same parts again), its result a number. */
  const calls = (args: readonly string[]): { pre: string[]; value: string } => {
    const u1 = use(c, args, "1");
    if (!s.callTwice) return u1;
    const u2 = use(c, args, "2");
    return { pre: [...u1.pre, ...u2.pre], value: `${u1.value} + 0.5 * ${u2.value}` };
  };
  let param: Tmpl;
  let pname = "p";
  let body: string[];
  let helper: string[] = [];
  let partLines: string[] = [];
  let part: ShapeCase["part"];
  let what: string;
  // The callee's body inlined into the wrapper (a number result, one parameter: its returns are the wrapper's).
  const inline = s.layout === "inline" && c.ret === "num";
  if (s.layout === "tree" || s.layout === "inline") {
    const root: MObj = { k: "obj", fields: [] };
    const placed = new Map<number, Placed>();
    for (const i of live) {
      const slot = c.slots[i];
      const r = s.routes[i];
      const path = r.groups.map((g) => ["l1", "l2"][g]);
      let o = root;
      for (const g of path) o = child(o, g);
      if (r.list && slot.k !== "num") {
        const field = slot.k === "nd" ? "ps" : slot.k === "f64" ? "frows" : "rows";
        const l = listIn(o, field);
        placed.set(i, { i, path, field, index: l.items.length });
        l.items.push(slot);
      } else {
        placed.set(i, { i, path, field: `s${i}`, index: null });
        o.fields.push([`s${i}`, slot]);
      }
    }
    if (s.extras) {
      const pad = (o: MObj): void =>
        o.fields.forEach(([, f]) => (f.k === "list" ? (f as MList).items.push(f.items[0]) : f.k === "obj" ? pad(f as MObj) : undefined));
      pad(root);
      root.fields.push(["name", { k: "str", v: "layer" }], ["u", { k: "num" }]);
    }
    param = root;
    const main = new Lines();
    const read = reader("p", main, new Map());
    // A helper function given the part `p.l1` (an object) reads what lies below it.
    const sub = s.helper && !inline ? root.fields.find(([n]) => n === "l1")?.[1] : undefined;
    if (sub) {
      const hl = new Lines();
      const hread = reader("q", hl, new Map());
      const hp: string[] = ["q: Q"];
      const passed: string[] = ["p.l1"];
      const args = c.slots.map((slot, i) => {
        const x = placed.get(i);
        if (!x) return String((slot as { v: number }).v);
        if (x.path[0] === "l1") return copy(i, hread(x, x.path.slice(1), s.routes[i].access));
        hp.push(`o${i}: ${tsOf(slot)}`);
        passed.push(copy(i, read(x, x.path, s.routes[i].access)));
        return `o${i}`;
      });
      const u = calls(args);
      helper = [`type Q = ${tsOf(sub)};`, `function part(${hp.join(", ")}): number {`, ...[...hl.lines, ...u.pre, `return ${u.value};`].map((l) => "  " + l), "}"];
      body = [...main.lines, `const y = part(${passed.join(", ")});`];
    } else if (inline) {
      // The callee's own body, its parameters bound to the parts (copies of those it writes).
      const f = calleeBody(text, c.name);
      const bind = c.slots.map((slot, i) => {
        const x = placed.get(i);
        const name = f.params[i];
        if (!x) return `const ${name} = ${String((slot as { v: number }).v)};`;
        if (slot.k === "num") return `let ${name} = ${read(x, x.path, s.routes[i].access)};`;
        // An array is bound once: `const a = <part>` or destructured into its name, never
        // through another local (that would be two names for one array, which adc refuses).
        const style = s.routes[i].access;
        if (style === 3 && x.index !== null && !(c.written.has(i) && s.copy)) return `const [${", ".repeat(x.index)}${name}] = ${["p", ...x.path, x.field].join(".")};`;
        return `const ${name} = ${copy(i, read(x, x.path, style === 3 || (style === 2 && !x.path.length) ? 0 : style))};`;
      });
      body = [...main.lines, ...bind, ...f.body];
    } else {
      const args = c.slots.map((slot, i) => (placed.has(i) ? copy(i, read(placed.get(i)!, placed.get(i)!.path, s.routes[i].access)) : String((slot as { v: number }).v)));
      const u = calls(args);
      body = [...main.lines, ...u.pre, `const y = ${u.value};`];
    }
    // A function returning the part p.l1: vjp and jvp give it cotangents of p's structure.
    const partOf = root.fields.find(([n]) => n === "l1")?.[1];
    if (partOf) {
      partLines = [`type A = ${tsOf(partOf)};`, `function partA(p: P): A {`, s.routes[0].access % 2 ? "  const q = p.l1;\n  return q;" : "  return p.l1;", "}", "export const __part = (p: P) => vjp(partA, p);", "export const __partJ = (p: P, t: P) => jvp(partA, [p], [t]);"];
      part = { vjp: "__part", jvp: "__partJ", param: root, field: "l1", domain: c.domain };
    }
    what = `a nested parameter object read by path, through locals and destructuring${sub ? ", its part p.l1 passed to a helper" : ""}${inline ? `, ${c.name}'s body inlined on its parts` : ""}${partOf ? ", vjp of p => p.l1" : ""}`;
  } else {
    const perItem = live.filter((i) => s.routes[i].perItem);
    if (!perItem.length && live.length) perItem.push(live[0]);
    const shared = live.filter((i) => !perItem.includes(i));
    const bare = s.bare && perItem.length === 1;
    const item: Tmpl = bare ? c.slots[perItem[0]] : { k: "obj", fields: perItem.map((i) => [`s${i}`, c.slots[i]] as [string, Tmpl]) };
    const list: Tmpl = { k: "list", items: Array.from({ length: s.items }, () => item) };
    const rootIsList = !shared.length && !s.extras;
    const fields: [string, Tmpl][] = [["ls", list], ...shared.map((i) => [`s${i}`, c.slots[i]] as [string, Tmpl])];
    if (s.extras) fields.push(["name", { k: "str", v: "layer" }]);
    param = rootIsList ? list : { k: "obj", fields };
    if (rootIsList) pname = "ls";
    const ls = rootIsList ? "ls" : "p.ls";
    const el = s.indexLoop ? `${ls}[i]` : "l";
    const pre = new Lines();
    const args = c.slots.map((slot, i) => {
      if (slot.k === "const") return String(slot.v);
      if (perItem.includes(i)) return copy(i, bare ? el : `${el}.s${i}`);
      if (s.routes[i].access === 2) {
        pre.once(`const { s${i} } = p;`);
        return copy(i, `s${i}`);
      }
      return copy(i, `p.s${i}`);
    });
    const u = calls(args);
    const head = s.indexLoop ? `for (let i = 0; i < ${ls}.length; i++) {` : `for (const l of ${ls}) {`;
    body = [...pre.lines, "let y = 0;", head, ...[...u.pre, `y += ${u.value};`].map((l) => "  " + l), "}"];
    what = `a list${bare ? "" : " of objects"} read in a ${s.indexLoop ? "counted" : "for...of"} loop`;
  }
  const second = s.second && !inline;
  const ps: Tmpl[] = second ? [param, { k: "num" }] : [param];
  const names = second ? [pname, "x"] : [pname];
  const lines = [
    text,
    `type P = ${tsOf(param)};`,
    ...helper,
    `export function w(${names.map((n, i) => `${n}: ${i === 0 ? "P" : "number"}`).join(", ")}): number {`,
    ...body.map((l) => "  " + l),
    ...(inline ? [] : [`  return ${second ? "y * x" : "y"};`]),
    "}",
    // One parameter: grad(w), the bare form (a gradient, not a tuple).
    ...derivExports("w", ps, names, "__", second ? ["P", "number"] : ["P"], !second),
    ...partLines,
  ];
  const unsafe = c.slots.some((_, i) => c.written.has(i)) && !s.copy;
  const accept: Accept[] = unsafe ? [{ code: "ADC1011", message: "part of the parameter", why: "the callee writes an array that is part of the differentiated parameter (README: parts are read, not written)" }] : [];
  return { kind: "nested", what: `${what}${s.callTwice ? ", the callee called twice" : ""}${s.nd ? " (NDArray parts)" : ""}`, source: lines.join("\n") + "\n", accept, targets: [{ ...target("w", "w", "__", ps, c.domain, !second), gTuple: second }], part };
}

// ---- one array passed twice -------------------------------------------------------------------

function renderTwice(s: TwiceShape): ShapeCase {
  const text = innerText(s.inner);
  const c = numCallee(s.inner, text);
  const [i, j] = s.at;
  const writes = c.written.has(i) || c.written.has(j);
  if (s.entry) {
    const names = c.slots.map((_, k) => `p${k}`);
    const lines = [text, `export const __f = ${c.name};`, ...derivExports(c.name, c.slots, names, "__").filter((l) => c.ret === "num" || !/__v?g1? =/.test(l))];
    return {
      kind: "twice",
      what: `one array given as arguments ${i + 1} and ${j + 1} of ${c.name} at an entry point (${c.name} ${writes ? "writes" : "only reads"} them)`,
      source: lines.join("\n") + "\n",
      accept: [],
      targets: [],
      twice: { f: "__f", g: c.ret === "num" ? "__g" : undefined, vg: c.ret === "num" ? "__vg" : undefined, vjp: "__vjp", jvp: "__jvp", params: c.slots, shared: [i, j], writes, domain: c.domain },
    };
  }
  const ps: Tmpl[] = [s.inObject ? { k: "obj", fields: [["v", c.slots[i]], ["s", { k: "num" }]] } : c.slots[i]];
  const names = [s.inObject ? "p" : "v"];
  const args = c.slots.map((slot, k) => {
    if (k === i || k === j) return "v";
    if (slot.k === "const") return String(slot.v);
    names.push(slot.k === "num" ? `x${k}` : `c${k}`);
    ps.push(slot);
    return names[names.length - 1];
  });
  const u = use(c, args, "1");
  const body = [...(s.inObject ? ["const v = p.v;"] : []), ...u.pre, `return ${s.inObject ? `p.s * ${u.value}` : u.value};`];
  const lines = [text, `export function h(${sigOf(ps, names)}): number {`, ...body.map((l) => "  " + l), "}", ...derivExports("h", ps, names, "__")];
  const why = "the callee writes one of the two parameters that get the same array (docs/semantics.md, Aliasing)";
  const accept: Accept[] = writes ? [{ code: "ADC1011", message: `the same array 'v' is passed to '${c.name}' twice`, why }] : [];
  if (writes && s.inObject) accept.push({ code: "ADC1011", message: "part of the parameter", why: "the array is also part of the parameter object, which is read, not written" });
  return { kind: "twice", what: `h(${s.inObject ? "p" : "v"}) calls ${c.name} with ${s.inObject ? "p.v" : "v"} as arguments ${i + 1} and ${j + 1} (${c.name} ${writes ? "writes" : "only reads"} them)`, source: lines.join("\n") + "\n", accept, targets: [target("h", "h", "__", ps, c.domain)] };
}

// ---- pullbacks, argnums, record blocks ----------------------------------------------------------

function renderPullback(s: PullbackShape): ShapeCase {
  const text = innerText(s.inner);
  const c = numCallee(s.inner, text);
  const names = c.slots.map((_, k) => `p${k}`);
  const lines = [text, `export const __f = ${c.name};`, ...derivExports(c.name, c.slots, names, "__").filter((l) => c.ret === "num" || !/__v?g1? =/.test(l))];
  const ret = c.ret === "num" ? "num" : "arr";
  return {
    kind: "pullback",
    what: `vjp of ${c.name} (${c.written.size ? "writes" : "reads"} its arrays, returns ${ret === "num" ? "a number" : "an array"}), arrays edited between pullback calls`,
    source: lines.join("\n") + "\n",
    accept: [],
    targets: [],
    pullback: { f: "__f", g: ret === "num" ? "__g" : undefined, vg: ret === "num" ? "__vg" : undefined, vjp: "__vjp", jvp: "__jvp", params: c.slots, ret, edits: s.edits, domain: c.domain },
  };
}

function renderArgnums(s: ArgnumsShape): ShapeCase {
  const text = innerText(s.inner);
  const c = numCallee(s.inner, text);
  const names = c.slots.map((_, k) => `p${k}`);
  const sig = sigOf(c.slots, names);
  const f = c.name;
  const items = diffOf(c.slots).map((i) => ({ i, t: `__t${i}`, b: `__b${i}`, vt: `__vt${i}`, vb: `__vb${i}`, d: `__d${i}` }));
  const lines = [text, `export const __f = ${f};`];
  for (const { i } of items)
    lines.push(
      `export const __t${i} = grad(${f}, [${i}]);`,
      `export const __b${i} = grad(${f}, ${i});`,
      `export const __vt${i} = valueAndGrad(${f}, [${i}]);`,
      `export const __vb${i} = valueAndGrad(${f}, ${i});`,
      `export const __d${i} = (${sig}) => { const [g] = grad(${f}, [${i}])(${names.join(", ")}); return g; };`,
    );
  return { kind: "argnums", what: `grad(${f}, [i]) and valueAndGrad(${f}, [i]) for each parameter i`, source: lines.join("\n") + "\n", accept: [], targets: [], argnums: { f: "__f", params: c.slots, items, domain: c.domain } };
}

/** The module of a shape and what to check; `avoid`: known findings left out (default: all). */
export function renderShape(s: Shape, avoid: readonly FindingId[] = KNOWN): ShapeCase {
  switch (s.kind) {
    case "nested":
      return renderNested(s);
    case "twice":
      return renderTwice(s);
    case "scope":
      return renderScope(s, avoid);
    case "pullback":
      return renderPullback(s);
    case "argnums":
      return renderArgnums(s);
    case "record":
      return renderRecord(s);
  }
}
