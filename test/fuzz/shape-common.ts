/**
 * What the shape renderers share: the callee (the generated function a shape wraps, and which
 * of its array parameters it writes), TypeScript text of value structures (`Tmpl`), literals,
 * and the derivative exports a checked function gets.
 */
import { ts } from "ts-morph";
import { render, type Program } from "./generator.js";
import { SHAPES, type NdFnSpec } from "./ndgen.js";
import { valueAt, type Target, type Tmpl } from "./shapes.js";

// ---- the callee -------------------------------------------------------------------------------

export interface Callee {
  readonly name: string;
  readonly slots: readonly Tmpl[];
  readonly ret: "num" | "f64" | "arr";
  readonly domain: readonly [number, number];
  /** Array parameters it writes, directly or through the functions it calls. */
  readonly written: ReadonlySet<number>;
}

/** The last number function of `p` (rendered as `text`). */
export function numCallee(p: Program, text: string): Callee {
  const i = p.fns.length - 1;
  const f = p.fns[i];
  const slots = f.params.map((t): Tmpl => (t === "num" ? { k: "num" } : t === "int" ? { k: "const", v: 2 + (i % 3) } : { k: t, len: f.length }));
  return { name: `f${i}`, slots, ret: f.ret, domain: f.domain, written: writtenParams(text).get(`f${i}`) ?? new Set() };
}

/** An NDArray function (rendered as g0). */
export function ndCallee(f: NdFnSpec): Callee {
  return { name: "g0", slots: f.params.map((s): Tmpl => (s < 0 ? { k: "num" } : { k: "nd", shape: SHAPES[s] })), ret: "num", domain: f.domain, written: new Set() };
}

/**
 * Which array parameters each top-level function writes: `a[i] = ...` (any assignment or ++/--
 * on an element), or passing `a` to a function that writes that parameter (to a fixed point).
 * Generated code never aliases a parameter (copies are `.slice()` and the like), so names suffice.
 */
export function writtenParams(source: string): Map<string, Set<number>> {
  const sf = ts.createSourceFile("w.ts", source, ts.ScriptTarget.ES2022, true);
  const fns = new Map<string, { params: string[]; body: ts.Node }>();
  for (const st of sf.statements) {
    if (ts.isFunctionDeclaration(st) && st.name && st.body) fns.set(st.name.text, { params: st.parameters.map((q) => q.name.getText()), body: st.body });
    if (ts.isVariableStatement(st))
      for (const d of st.declarationList.declarations) {
        const init = d.initializer;
        if (ts.isIdentifier(d.name) && init && (ts.isArrowFunction(init) || ts.isFunctionExpression(init))) fns.set(d.name.text, { params: init.parameters.map((q) => q.name.getText()), body: init.body });
      }
  }
  const written = new Map<string, Set<number>>([...fns.keys()].map((n) => [n, new Set<number>()]));
  const edges: [caller: string, param: number, callee: string, at: number][] = [];
  const isMut = (k: ts.SyntaxKind): boolean => k >= ts.SyntaxKind.FirstAssignment && k <= ts.SyntaxKind.LastAssignment;
  for (const [name, { params, body }] of fns) {
    const elemOf = (e: ts.Expression): number => (ts.isElementAccessExpression(e) && ts.isIdentifier(e.expression) ? params.indexOf(e.expression.text) : -1);
    const visit = (n: ts.Node): void => {
      if (ts.isBinaryExpression(n) && isMut(n.operatorToken.kind) && elemOf(n.left) >= 0) written.get(name)!.add(elemOf(n.left));
      const step = (ts.isPrefixUnaryExpression(n) || ts.isPostfixUnaryExpression(n)) && (n.operator === ts.SyntaxKind.PlusPlusToken || n.operator === ts.SyntaxKind.MinusMinusToken);
      if (step && elemOf(n.operand) >= 0) written.get(name)!.add(elemOf(n.operand));
      if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && fns.has(n.expression.text))
        n.arguments.forEach((a, at) => ts.isIdentifier(a) && params.includes(a.text) && edges.push([name, params.indexOf(a.text), (n.expression as ts.Identifier).text, at]));
      ts.forEachChild(n, visit);
    };
    visit(body);
  }
  for (let changed = true; changed; ) {
    changed = false;
    for (const [caller, param, callee, at] of edges)
      if (written.get(callee)!.has(at) && !written.get(caller)!.has(param)) {
        written.get(caller)!.add(param);
        changed = true;
      }
  }
  return written;
}

// ---- text ---------------------------------------------------------------------------------------

export const HEADER = 'import { grad, valueAndGrad, vjp, jvp, np, NDArray, record, GradientTape } from "adc";';

/** The generated program's text, with the import the shapes need. */
export function innerText(p: Program): string {
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
export function lit(t: Tmpl, next: () => number): string {
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
export function source(ints: readonly number[], domain: readonly [number, number]): { next: () => number; taken: number[] } {
  let k = 0;
  const taken: number[] = [];
  return { next: () => (taken.push(valueAt(ints[k++ % ints.length] ?? 500, domain)), taken[taken.length - 1]), taken };
}

/** Statements that call the callee and the number they leave (an array result is summed). */
export function use(c: Callee, args: readonly string[], tag: string): { pre: string[]; value: string } {
  const call = `${c.name}(${args.join(", ")})`;
  if (c.ret === "num") return { pre: [], value: call };
  return { pre: [`const r${tag} = ${call};`, `let t${tag} = 0;`, `for (const e${tag} of r${tag}) t${tag} += e${tag};`], value: `t${tag}` };
}

export const diffOf = (ps: readonly Tmpl[]): number[] => ps.map((t, i) => [t, i] as const).filter(([t]) => t.k !== "const").map(([, i]) => i);
export const sigOf = (ps: readonly Tmpl[], names: readonly string[], types = ps.map(tsOf)): string => ps.map((_, i) => `${names[i]}: ${types[i]}`).join(", ");
export const tupleOf = (ps: readonly Tmpl[], types = ps.map(tsOf)): string => `[${types.join(", ")}]`;

/**
 * The derivative exports of a function `f` of parameters `ps` (names `names`, types `types`),
 * prefixed `pre`: grad and valueAndGrad over every parameter but the fixed ones, vjp, jvp.
 */
export function derivExports(f: string, ps: readonly Tmpl[], names: readonly string[], pre: string, types = ps.map(tsOf), bare = false): string[] {
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

export function target(name: string, f: string, pre: string, ps: readonly Tmpl[], domain: readonly [number, number], bare = false): Target {
  const diff = diffOf(ps);
  const one = diff.length > 1 || bare ? { g: `${pre}g1`, i: diff[diff.length - 1] } : undefined;
  return { name, f, g: `${pre}g`, gTuple: true, vg: `${pre}vg`, vjp: `${pre}vjp`, jvp: `${pre}jvp`, params: ps, diff, domain, one };
}

export type MObj = { k: "obj"; fields: [string, Tmpl][] };
export type MList = { k: "list"; items: Tmpl[] };

export function child(o: MObj, name: string): MObj {
  const f = o.fields.find(([n]) => n === name);
  if (f) return f[1] as MObj;
  const c: MObj = { k: "obj", fields: [] };
  o.fields.push([name, c]);
  return c;
}

export function listIn(o: MObj, name: string): MList {
  const f = o.fields.find(([n]) => n === name);
  if (f) return f[1] as MList;
  const l: MList = { k: "list", items: [] };
  o.fields.push([name, l]);
  return l;
}

/** The parameter names and body lines (between its braces) of the top-level function `name` in `text`. */
export function calleeBody(text: string, name: string): { params: string[]; body: string[] } {
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
export class Lines {
  readonly lines: string[] = [];
  once(l: string): void {
    if (!this.lines.includes(l)) this.lines.push(l);
  }
}

/** `model.l1.w0`, `params[1]`, `model.layers[0].w` from a path. */
export const pathText = (path: readonly (string | number)[]): string => path.map((p, k) => (k === 0 ? p : typeof p === "number" ? `[${p}]` : `.${p}`)).join("");
