/**
 * Writes the output of one file: the user's text with call sites rewritten and generated
 * functions inserted after the statements that declare their originals, plus the imports the
 * generated code needs. Edits are spliced into the original text once (magic-string), so
 * everything the user wrote keeps its position in the source map.
 */
import MagicString from "magic-string";
import { ts } from "ts-morph";

export interface Insertion {
  /** Offset after which the text goes (the end of a top-level statement). */
  readonly at: number;
  readonly text: string;
}

export interface SpliceResult {
  readonly code: string;
  readonly map: ReturnType<MagicString["generateMap"]>;
}

export const RUNTIME_IMPORT = 'import * as _rt from "adc/runtime";';

export function splice(
  sf: ts.SourceFile,
  insertions: readonly Insertion[],
  edits: readonly { start: number; end: number; text: string }[],
  imports: ReadonlyMap<string, ReadonlySet<string>> | undefined,
): SpliceResult {
  const s = new MagicString(sf.text);
  for (const e of edits) s.overwrite(e.start, e.end, e.text);
  // Group by anchor, keeping the order in which derivatives were generated.
  const byAnchor = new Map<number, string[]>();
  for (const ins of insertions) {
    const l = byAnchor.get(ins.at) ?? [];
    l.push(ins.text);
    byAnchor.set(ins.at, l);
  }
  for (const [at, texts] of byAnchor) s.appendLeft(at, "\n\n" + texts.join("\n\n"));
  const header: string[] = [];
  const usesRuntime = insertions.some((i) => i.text.includes("_rt.")) || edits.some((e) => e.text.includes("_rt."));
  if (usesRuntime) header.push(RUNTIME_IMPORT);
  if (imports) for (const [spec, names] of [...imports].sort()) header.push(`import { ${[...names].sort().join(", ")} } from ${JSON.stringify(spec)};`);
  if (header.length) {
    const lastImport = [...sf.statements].reverse().find((st) => ts.isImportDeclaration(st));
    if (lastImport) s.appendLeft(lastImport.getEnd(), "\n" + header.join("\n"));
    else s.prepend(header.join("\n") + "\n");
  }
  return { code: s.toString(), map: s.generateMap({ hires: true, source: sf.fileName, includeContent: true }) };
}
