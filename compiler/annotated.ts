/**
 * Functions whose derivatives travel with them (issue 16, item 1):
 * - `/** @differentiable *\/` on a module-level function declaration or `const` arrow: adc makes its
 *   vjp and jvp even if no call in the build names it, and attaches them to the function value
 *   when its module runs (`_rt.attachDerivatives`);
 * - `grad(fn)`, `valueAndGrad`, `vjp`, `jvp` of a function value adc cannot name at build time (a
 *   parameter, a factory's result) become run-time lookups of those derivatives (runtime/dynamic.ts).
 */
import { ts } from "ts-morph";
import { forEachNode } from "./ast-walk.js";
import { RT } from "./emit/names.js";
import type { FunctionNode } from "./ir/lower/index.js";
import { isModuleScoped } from "./scopes.js";
import type { DynamicSite } from "./targets.js";

function tag(n: ts.Node): ts.JSDocTag | undefined {
  // Every JSDoc block on the declaration (`/** @differentiable */` above a block of prose):
  // ts.getJSDocTags reads only the nearest one.
  const blocks = (n as { jsDoc?: ts.JSDoc[] }).jsDoc ?? [];
  return [...blocks.flatMap((d) => d.tags ?? []), ...ts.getJSDocTags(n)].find((t) => t.tagName.text === "differentiable");
}

/**
 * The parameters a tag restricts the derivatives to, `@differentiable(wrt: x, y)` (also written
 * `@differentiable wrt: x, y`); undefined when it names none (every parameter adc can
 * differentiate), a string saying why when the text starts like that form and is not it.
 */
function wrtOf(t: ts.JSDocTag): readonly string[] | string | undefined {
  const text = (ts.getTextOfJSDocComment(t.comment) ?? "").trim();
  // (Prose after the tag is a comment; a parenthesis or `wrt` starts the form.)
  if (text === "" || !(text.startsWith("(") || /^wrt\b/.test(text))) return undefined;
  const m = /^\(?\s*wrt\s*:?\s*([A-Za-z_$][\w$]*(?:\s*,\s*[A-Za-z_$][\w$]*)*)\s*\)?\s*$/.exec(text);
  return m ? m[1].split(",").map((x) => x.trim()) : `cannot read '${text}'`;
}

export interface Annotated {
  readonly node: FunctionNode;
  /** The name the module calls it by. */
  readonly name: string;
  /**
   * A `const` inside a function (a closure): its derivatives are attached where it is made, right
   * after this statement, with the locals it captures.
   */
  readonly local?: ts.VariableStatement;
  /** `@differentiable(wrt: ...)`: the parameters its derivatives are taken with respect to. */
  readonly wrt?: readonly string[];
}

/** The annotated functions of a module; misplaced tags are reported. */
export function findAnnotated(sf: ts.SourceFile, report: (n: ts.Node, message: string, hint: string) => void): Annotated[] {
  const out: Annotated[] = [];
  const add = (t: ts.JSDocTag, node: FunctionNode, name: string, local?: ts.VariableStatement): void => {
    const wrt = wrtOf(t);
    if (typeof wrt === "string") return report(t, `@differentiable: ${wrt}`, "write @differentiable(wrt: x, y) with parameter names, or @differentiable alone");
    const params = node.parameters.map((p) => (ts.isIdentifier(p.name) ? p.name.text : ""));
    const unknown = wrt?.find((w) => !params.includes(w));
    if (unknown) return report(t, `@differentiable(wrt: ...) names '${unknown}', which is not a parameter of '${name}'`, `its parameters are ${params.filter(Boolean).join(", ")}`);
    out.push({ node, name, ...(wrt ? { wrt } : {}), ...(local ? { local } : {}) });
  };
  forEachNode(sf, (n) => {
    const t = ts.isFunctionDeclaration(n) || ts.isVariableStatement(n) ? tag(n) : undefined;
    if (!t) return;
    if (ts.isFunctionDeclaration(n)) {
      if (!n.name || !ts.isSourceFile(n.parent) || !n.body) report(n, "a @differentiable function must be a named function declared at module level", "declare it at the top of the module");
      else add(t, n, n.name.text);
    } else if (ts.isVariableStatement(n)) {
      for (const d of n.declarationList.declarations) {
        const init = d.initializer;
        // At module level, or a closure declared in a function's body.
        const inBody = ts.isBlock(n.parent) && !ts.isSourceFile(n.parent.parent);
        if (!ts.isIdentifier(d.name) || !init || !(ts.isArrowFunction(init) || ts.isFunctionExpression(init)) || !(n.declarationList.flags & ts.NodeFlags.Const) || !(isModuleScoped(d) || inBody))
          report(d, "a @differentiable const must be a const bound to an arrow or function expression, at module level or in a function's body", "write /** @differentiable */ const f = (x: number) => ...");
        else add(t, init, d.name.text, isModuleScoped(d) ? undefined : n);
      }
    }
  });
  return out;
}

/** The edits that turn a call on a function value into its run-time lookup. */
export function dynamicEdits(d: DynamicSite): { start: number; end: number; text: string }[] {
  const fn = d.fn.getText();
  const call = d.call;
  const argnums = typeof d.argnums === "number" ? `${d.argnums}` : `[${d.argnums.join(", ")}]`;
  if (d.kind === "grad" || d.kind === "valueAndGrad")
    return [{ start: call.getStart(), end: call.getEnd(), text: `${RT}.gradValue(${fn}, ${argnums}, ${d.kind === "valueAndGrad"})` }];
  if (d.kind === "jacrev" || d.kind === "jacfwd" || d.kind === "jacrevInto" || d.kind === "jacfwdInto") return [{ start: call.getStart(), end: call.getEnd(), text: `${RT}.${d.kind}Value(${fn}, ${argnums})` }];
  const api = d.kind === "vjp" ? "vjpValue" : "jvpValue";
  const rest = call.arguments[1];
  if (!rest) return [{ start: call.getStart(), end: call.getEnd(), text: `${RT}.${api}(${fn})` }];
  return [{ start: call.getStart(), end: rest.getStart(), text: `${RT}.${api}(${fn}, ` }];
}
