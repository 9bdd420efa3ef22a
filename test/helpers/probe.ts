/**
 * Probes: for a fixture's exported functions, code that asks adc for every derivative form
 * (valueAndGrad over all parameters, grad per parameter, vjp, jvp), appended to the fixture and
 * compiled with it, so the numeric checks exercise what a user would call.
 *
 * Checked functions are exported, with annotated parameter and return types among number,
 * number[] and Float64Array. JSDoc tags tune the check: `@domain lo hi` (default 0.5 2),
 * `@length n` for array arguments (default 4), `@fixed name value` for a parameter held
 * constant (a count or an index), `@shape name 3,4` for an NDArray argument (default 3; `scalar`
 * for shape []).
 *
 * With `order` 2 (every function of fixtures/higher) the probe also asks, for functions of
 * numbers and arrays (no NDArray), for jacfwd and jacrev per parameter, and for those returning
 * a number for second derivatives: hessian per parameter, grad(grad(f, i), j) for number
 * parameters, jvp(grad(f, i)) and vjp(grad(f, i)); `@order 3` adds grad(grad(grad(f, i), i), i)
 * for a number parameter i.
 */
import { ts } from "ts-morph";
import type { Domain, ParamKind } from "./numeric.js";

export interface ProbeFn {
  readonly name: string;
  readonly params: readonly { name: string; kind: ParamKind; type: string }[];
  readonly returns: "num" | "arr";
  readonly domain: Domain;
  /** `@nofd`: the derivative is not the function's (stopGradient); compare modes only. */
  readonly noFd: boolean;
  /** Highest derivative order to check: 1, or 2 and 3 (second-order probe). */
  readonly order: number;
}

function kindOf(type: string, shape?: readonly number[]): ParamKind | undefined {
  const t = type.replace(/^readonly\s+/, "").trim();
  if (t === "number") return { k: "num" };
  if (t === "NDArray") return { k: "nd", shape: shape ?? [3] };
  if (t === "Float64Array") return { k: "arr", ctor: "Float64Array" };
  if (t === "number[]") return { k: "arr", ctor: "Array" };
  return undefined;
}

export function probeSpecs(source: string, fileName: string, order = 1): ProbeFn[] {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, true);
  const out: ProbeFn[] = [];
  const consider = (name: string, fn: ts.SignatureDeclaration, docNode: ts.Node): void => {
    const ret = fn.type ? kindOf(fn.type.getText(), []) : undefined;
    if (!ret) return;
    const tags = ts.getJSDocTags(docNode);
    const tag = (n: string): string[] =>
      tags.filter((t) => t.tagName.text === n).map((t) => (typeof t.comment === "string" ? t.comment : "")).filter(Boolean);
    const [lo, hi] = (tag("domain")[0] ?? "0.5 2").split(/\s+/).map(Number);
    const length = Number(tag("length")[0] ?? 4);
    const fixed = new Map(tag("fixed").map((c) => c.split(/\s+/)).map(([n, v]) => [n, Number(v)]));
    const shapes = new Map(tag("shape").map((c) => c.split(/\s+/)).map(([n, v]) => [n, v === "scalar" ? [] : v.split(",").map(Number)]));
    const params: ProbeFn["params"][number][] = [];
    for (const p of fn.parameters) {
      const pname = p.name.getText();
      const type = p.type?.getText() ?? "";
      const kind = fixed.has(pname) ? ({ k: "fixed", value: fixed.get(pname)! } as ParamKind) : kindOf(type, shapes.get(pname));
      if (!kind) return;
      params.push({ name: pname, kind, type });
    }
    if (!params.some((p) => p.kind.k !== "fixed")) return;
    const noFd = tags.some((t) => t.tagName.text === "nofd");
    const ord = Math.max(order, Number(tag("order")[0] ?? 1));
    out.push({ name, params, returns: ret.k === "num" ? "num" : "arr", domain: { lo, hi, length }, noFd, order: !params.some((q) => q.kind.k === "nd") ? ord : 1 });
  };
  for (const st of sf.statements) {
    const exported = ts.getModifiers(st as ts.HasModifiers)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
    if (!exported) continue;
    if (ts.isFunctionDeclaration(st) && st.name && st.body) consider(st.name.text, st, st);
    if (ts.isVariableStatement(st))
      for (const d of st.declarationList.declarations) {
        const init = d.initializer;
        if (ts.isIdentifier(d.name) && init && (ts.isArrowFunction(init) || ts.isFunctionExpression(init))) consider(d.name.text, init, st);
      }
  }
  return out;
}

/** The fixture's text with the probe appended. */
export function probeText(source: string, fns: readonly ProbeFn[]): string {
  const lines = [source, "", 'import { grad as __grad, valueAndGrad as __valueAndGrad, vjp as __vjp, jvp as __jvp, hessian as __hessian, jacfwd as __jacfwd, jacrev as __jacrev, jacrevInto as __jacrevInto, jacfwdInto as __jacfwdInto } from "adc";', 'export { np as __np } from "adc";'];
  for (const f of fns) {
    const diff = f.params.map((p, i) => [p, i] as const).filter(([p]) => p.kind.k !== "fixed").map(([, i]) => i);
    const sig = f.params.map((p, i) => `__a${i}: ${p.type}`).join(", ");
    const names = f.params.map((_, i) => `__a${i}`).join(", ");
    const tuple = `[${f.params.map((p) => p.type).join(", ")}]`;
    lines.push(`export const __probe_${f.name} = {`);
    lines.push(`  primal: ${f.name},`);
    if (f.returns === "num") {
      lines.push(`  vg: __valueAndGrad(${f.name}, [${diff.join(", ")}]),`);
      lines.push(`  g: [${diff.map((i) => `__grad(${f.name}, ${i})`).join(", ")}],`);
    }
    lines.push(`  vjp: (${sig}) => __vjp(${f.name}, ${names}),`);
    lines.push(`  jvp: (__p: ${tuple}, __t: ${tuple}) => __jvp(${f.name}, __p, __t),`);
    lines.push("};");
    if (f.order >= 2) lines.push(...secondOrder(f, diff, sig, names, tuple));
  }
  return lines.join("\n") + "\n";
}

/** The second-order probe: every way adc offers to differentiate grad(f, i) again. */
function secondOrder(f: ProbeFn, diff: readonly number[], sig: string, names: string, tuple: string): string[] {
  const nums = diff.filter((i) => f.params[i].kind.k === "num");
  const lines = [`export const __probe2_${f.name} = {`];
  lines.push(`  jf: [${diff.map((i) => `__jacfwd(${f.name}, ${i})`).join(", ")}],`);
  lines.push(`  jr: [${diff.map((i) => `__jacrev(${f.name}, ${i})`).join(", ")}],`);
  // One block for all the differentiated parameters, into a buffer.
  lines.push(`  jri: __jacrevInto(${f.name}, [${diff.join(", ")}]),`);
  lines.push(`  jfi: __jacfwdInto(${f.name}, [${diff.join(", ")}]),`);
  if (f.returns !== "num") return [...lines, "};"];
  lines.push(`  h: [${diff.map((i) => `__hessian(${f.name}, ${i})`).join(", ")}],`);
  lines.push(`  gg: { ${nums.flatMap((i) => nums.map((j) => `"${i},${j}": __grad(__grad(${f.name}, ${i}), ${j})`)).join(", ")} },`);
  lines.push(`  hvp: [${diff.map((i) => `(__p: ${tuple}, __t: ${tuple}) => __jvp(__grad(${f.name}, ${i}), __p, __t)`).join(", ")}],`);
  lines.push(`  vjpg: [${diff.map((i) => `(${sig}) => __vjp(__grad(${f.name}, ${i}), ${names})`).join(", ")}],`);
  if (f.order >= 3) lines.push(`  ggg: { ${nums.map((i) => `"${i}": __grad(__grad(__grad(${f.name}, ${i}), ${i}), ${i})`).join(", ")} },`);
  lines.push("};");
  return lines;
}
