/**
 * Renders a shape (shapes.ts) as the module a user would write, with the exports the checker
 * reads (`__g`, `__vjp`, `__found`, ...), and says what the checker must find (`ShapeCase`).
 */
import { ts } from "ts-morph";
import { render, type FnSpec, type Program } from "./generator.js";
import { NdRenderer, SHAPES } from "./ndgen.js";
import { KNOWN, ndCallee, numCallee, valueAt, type Accept, type FindingId, type ArgnumsShape, type Callee, type NestedShape, type PullbackShape, type RecordShape, type ScopeBlock, type ScopeShape, type Shape, type ShapeCase, type Target, type Tmpl, type TwiceShape } from "./shapes.js";

const HEADER = 'import { grad, valueAndGrad, vjp, jvp, np, NDArray, record, GradientTape } from "adc";';

/** The generated program's text, with the import the shapes need. */
function innerText(p: Program): string {
  const lines = render(p).split("\n");
  return [HEADER, ...lines.slice(1)].join("\n");
}

export function tsOf(t: Tmpl): string {
  switch (t.k) {
    case "num":
    case "const":
      return "number";
    case "f64":
      return "Float64Array";
    case "arr":
      return "number[]";
    case "nd":
      return "NDArray";
    case "str":
      return "string";
    case "obj":
      return `{ ${t.fields.map(([n, f]) => `${n}: ${tsOf(f)}`).join("; ")} }`;
    case "list":
      return `${tsOf(t.items[0])}[]`;
  }
}

/** A literal of a value with structure `t`, numbers from `next`. */
function lit(t: Tmpl, next: () => number): string {
  const nums = (n: number): string => Array.from({ length: n }, next).join(", ");
  switch (t.k) {
    case "num":
      return String(next());
    case "const":
      return String(t.v);
    case "f64":
      return `new Float64Array([${nums(t.len)}])`;
    case "arr":
      return `[${nums(t.len)}]`;
    case "nd": {
      const nest = (dims: readonly number[]): string => (dims.length === 0 ? String(next()) : `[${Array.from({ length: dims[0] }, () => nest(dims.slice(1))).join(", ")}]`);
      return `np.array(${nest(t.shape)})`;
    }
    case "str":
      return JSON.stringify(t.v);
    case "obj":
      return `{ ${t.fields.map(([n, f]) => `${n}: ${lit(f, next)}`).join(", ")} }`;
    case "list":
      return `[${t.items.map((i) => lit(i, next)).join(", ")}]`;
  }
}

/** A number source cycling through `ints` (0..1000) mapped into `domain`, and what it gave. */
function source(ints: readonly number[], domain: readonly [number, number]): { next: () => number; taken: number[] } {
  let k = 0;
  const taken: number[] = [];
  return { next: () => (taken.push(valueAt(ints[k++ % ints.length] ?? 500, domain)), taken[taken.length - 1]), taken };
}

/** Statements that call the callee and the number they leave (an array result is summed). */
function use(c: Callee, args: readonly string[], tag: string): { pre: string[]; value: string } {
  const call = `${c.name}(${args.join(", ")})`;
  if (c.ret === "num") return { pre: [], value: call };
  return { pre: [`const r${tag} = ${call};`, `let t${tag} = 0;`, `for (const e${tag} of r${tag}) t${tag} += e${tag};`], value: `t${tag}` };
}

const diffOf = (ps: readonly Tmpl[]): number[] => ps.map((t, i) => [t, i] as const).filter(([t]) => t.k !== "const").map(([, i]) => i);
const sigOf = (ps: readonly Tmpl[], names: readonly string[], types = ps.map(tsOf)): string => ps.map((_, i) => `${names[i]}: ${types[i]}`).join(", ");
const tupleOf = (ps: readonly Tmpl[], types = ps.map(tsOf)): string => `[${types.join(", ")}]`;

/**
 * The derivative exports of a function `f` of parameters `ps` (names `names`, types `types`),
 * prefixed `pre`: grad and valueAndGrad over every parameter but the fixed ones, vjp, jvp.
 */
function derivExports(f: string, ps: readonly Tmpl[], names: readonly string[], pre: string, types = ps.map(tsOf), bare = false): string[] {
  const an = bare ? "" : `, [${diffOf(ps).join(", ")}]`;
  return [
    `export const ${pre}g = grad(${f}${an});`,
    `export const ${pre}vg = valueAndGrad(${f}${an});`,
    `export const ${pre}vjp = (${sigOf(ps, names, types)}) => vjp(${f}, ${names.join(", ")});`,
    `export const ${pre}jvp = (p: ${tupleOf(ps, types)}, t: ${tupleOf(ps, types)}) => jvp(${f}, p, t);`,
    // Argnums a list of one: the last parameter alone (with several), or the bare form's tuple.
    ...(diffOf(ps).length > 1 || bare ? [`export const ${pre}g1 = grad(${f}, [${diffOf(ps).pop()}]);`] : []),
  ];
}

function target(name: string, f: string, pre: string, ps: readonly Tmpl[], domain: readonly [number, number], bare = false): Target {
  const diff = diffOf(ps);
  const one = diff.length > 1 || bare ? { g: `${pre}g1`, i: diff[diff.length - 1] } : undefined;
  return { name, f, g: `${pre}g`, gTuple: true, vg: `${pre}vg`, vjp: `${pre}vjp`, jvp: `${pre}jvp`, params: ps, diff, domain, one };
}

// ---- nested parameter objects and lists -------------------------------------------------------

type MObj = { k: "obj"; fields: [string, Tmpl][] };
type MList = { k: "list"; items: Tmpl[] };

function child(o: MObj, name: string): MObj {
  const f = o.fields.find(([n]) => n === name);
  if (f) return f[1] as MObj;
  const c: MObj = { k: "obj", fields: [] };
  o.fields.push([name, c]);
  return c;
}

function listIn(o: MObj, name: string): MList {
  const f = o.fields.find(([n]) => n === name);
  if (f) return f[1] as MList;
  const l: MList = { k: "list", items: [] };
  o.fields.push([name, l]);
  return l;
}

/** The parameter names and body lines (between its braces) of the top-level function `name` in `text`. */
function calleeBody(text: string, name: string): { params: string[]; body: string[] } {
  const sf = ts.createSourceFile("c.ts", text, ts.ScriptTarget.ES2022, true);
  for (const st of sf.statements) {
    const fn = ts.isFunctionDeclaration(st) && st.name?.text === name ? st
      : ts.isVariableStatement(st) ? st.declarationList.declarations.find((d) => ts.isIdentifier(d.name) && d.name.text === name)?.initializer
      : undefined;
    if (fn && (ts.isFunctionDeclaration(fn) || ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) && fn.body && ts.isBlock(fn.body)) {
      const lines = text.slice(fn.body.getStart() + 1, fn.body.getEnd() - 1).split("\n").filter((l) => l.trim());
      return { params: fn.parameters.map((q) => q.name.getText()), body: lines.map((l) => l.replace(/^  /, "")) };
    }
  }
  throw new Error(`no function ${name} in the generated program`);
}

/** Lines of a function body, each added once (a local bound for several reads). */
class Lines {
  readonly lines: string[] = [];
  once(l: string): void {
    if (!this.lines.includes(l)) this.lines.push(l);
  }
}

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

// ---- closures in module-level blocks ----------------------------------------------------------

function renderScope(s: ScopeShape, avoid: readonly FindingId[]): ShapeCase {
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

/** `model.l1.w0`, `params[1]`, `model.layers[0].w` from a path. */
const pathText = (path: readonly (string | number)[]): string => path.map((p, k) => (k === 0 ? p : typeof p === "number" ? `[${p}]` : `.${p}`)).join("");

function renderRecord(s: RecordShape): ShapeCase {
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
