/** What the output no longer needs from "adc" once adc's calls became generated code. */
import { ts } from "ts-morph";
import { forEachNode } from "../ast-walk.js";

type Edit = { start: number; end: number; text: string };

/**
 * Edits that drop names imported from "adc" which the output no longer uses (`grad` once every
 * `grad(...)` call became generated code), so `--emit ts` output has no unused imports. A
 * declaration left with no names is removed (its line stays, empty, for the source map).
 */
export function unusedApiImports(sf: ts.SourceFile, edits: readonly Edit[], insertions: readonly string[]): Edit[] {
  const replaced = (n: ts.Node): boolean => edits.some((e) => n.getStart(sf) >= e.start && n.getEnd() <= e.end);
  // Generated code keeps calls the user wrote (isTraining() in a record block's body).
  const generated = [...insertions, ...edits.map((e) => e.text)].join("\n").replace(/\/\/.*$/gm, "");
  const inGenerated = (name: string): boolean => new RegExp(`(?<![\\w$.])${name.replace(/\$/g, "\\$")}(?![\\w$])`).test(generated);
  const out: Edit[] = [];
  for (const st of sf.statements) {
    if (!ts.isImportDeclaration(st) || !ts.isStringLiteral(st.moduleSpecifier) || st.moduleSpecifier.text !== "adc") continue;
    const clause = st.importClause;
    if (!clause || clause.isTypeOnly || clause.name || !clause.namedBindings || !ts.isNamedImports(clause.namedBindings)) continue;
    const elements = clause.namedBindings.elements;
    const used = elements.filter((el) => {
      if (el.isTypeOnly || inGenerated(el.name.text)) return true;
      // Any identifier of that name outside the replaced calls keeps it (`export { np }`, a
      // shadowing local too: keeping an unused name is harmless, dropping a used one is not).
      let live = false;
      forEachNode(sf, (n) => {
        if (n === st) return false;
        if (ts.isIdentifier(n) && n.text === el.name.text && !replaced(n)) {
          live = true;
          return "stop";
        }
      });
      return live;
    });
    if (used.length === elements.length) continue;
    const text = used.length ? `import { ${used.map((el) => el.getText(sf)).join(", ")} } from "adc";` : "";
    out.push({ start: st.getStart(sf), end: st.getEnd(), text });
  }
  return out;
}
