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

function tagged(n: ts.Node): boolean {
  return ts.getJSDocTags(n).some((t) => t.tagName.text === "differentiable");
}

/** The annotated functions of a module, with the name the module calls each by; misplaced tags are reported. */
export function findAnnotated(sf: ts.SourceFile, report: (n: ts.Node, message: string, hint: string) => void): { node: FunctionNode; name: string }[] {
  const out: { node: FunctionNode; name: string }[] = [];
  forEachNode(sf, (n) => {
    if (ts.isFunctionDeclaration(n) && tagged(n)) {
      if (!n.name || !ts.isSourceFile(n.parent) || !n.body) report(n, "a @differentiable function must be a named function declared at module level", "declare it at the top of the module");
      else out.push({ node: n, name: n.name.text });
    } else if (ts.isVariableStatement(n) && tagged(n)) {
      for (const d of n.declarationList.declarations) {
        const init = d.initializer;
        if (!ts.isIdentifier(d.name) || !init || !(ts.isArrowFunction(init) || ts.isFunctionExpression(init)) || !(n.declarationList.flags & ts.NodeFlags.Const) || !isModuleScoped(d))
          report(d, "a @differentiable const must be a module-level const bound to an arrow or function expression", "write /** @differentiable */ const f = (x: number) => ...");
        else out.push({ node: init, name: d.name.text });
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
  if (d.kind === "jacrev" || d.kind === "jacfwd") return [{ start: call.getStart(), end: call.getEnd(), text: `${RT}.${d.kind}Value(${fn}, ${argnums})` }];
  const api = d.kind === "vjp" ? "vjpValue" : "jvpValue";
  const rest = call.arguments[1];
  if (!rest) return [{ start: call.getStart(), end: call.getEnd(), text: `${RT}.${api}(${fn})` }];
  return [{ start: call.getStart(), end: rest.getStart(), text: `${RT}.${api}(${fn}, ` }];
}
