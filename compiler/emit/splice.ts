/**
 * Writes the output of one file: the user's text with call sites rewritten and generated
 * functions inserted after the statements that declare their originals, plus the imports the
 * generated code needs. Edits are spliced into the original text once (magic-string), so
 * everything the user wrote keeps its position in the source map.
 */
import MagicString from "magic-string";
import { ts } from "ts-morph";
import { RT } from "./names.js";

export interface Insertion {
  /** Offset after which the text goes (the end of a top-level statement). */
  readonly at: number;
  readonly text: string;
}

export interface SpliceResult {
  readonly code: string;
  readonly map: ReturnType<MagicString["generateMap"]>;
}

/** The import generated code uses, under the name the module chose for it. */
export function runtimeImport(name: string): string {
  return `import * as ${name} from "adc/runtime";`;
}

export function splice(
  sf: ts.SourceFile,
  insertions: readonly Insertion[],
  edits: readonly { start: number; end: number; text: string }[],
  imports: ReadonlyMap<string, ReadonlyMap<string, string>> | undefined,
  runtime = "_rt",
): SpliceResult {
  const s = new MagicString(sf.text);
  // Generated text names the runtime RT until here (names.ts); the module chose `runtime`.
  const named = (t: string): string => t.split(RT).join(runtime);
  for (const e of edits) s.overwrite(e.start, e.end, named(e.text));
  // Group by anchor, keeping the order in which derivatives were generated.
  const byAnchor = new Map<number, string[]>();
  for (const ins of insertions) {
    const l = byAnchor.get(ins.at) ?? [];
    l.push(named(ins.text));
    byAnchor.set(ins.at, l);
  }
  for (const [at, texts] of byAnchor) s.appendLeft(at, "\n\n" + texts.join("\n\n"));
  const header: string[] = [];
  const usesRuntime = insertions.some((i) => i.text.includes(`${RT}.`)) || edits.some((e) => e.text.includes(`${RT}.`));
  if (usesRuntime) header.push(runtimeImport(runtime));
  if (imports)
    for (const [spec, names] of [...imports].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const list = [...names].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, local]) => (name === local ? name : `${name} as ${local}`));
      header.push(`import { ${list.join(", ")} } from ${JSON.stringify(spec)};`);
    }
  if (header.length) {
    const lastImport = [...sf.statements].reverse().find((st) => ts.isImportDeclaration(st));
    if (lastImport) s.appendLeft(lastImport.getEnd(), "\n" + header.join("\n"));
    else s.prepend(header.join("\n") + "\n");
  }
  return { code: s.toString(), map: s.generateMap({ hires: true, source: sf.fileName, includeContent: true }) };
}
