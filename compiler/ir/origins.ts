/**
 * Where inlined code came from. Statements and expressions inlined from another file are placed
 * at the call (ir/inline.ts): their positions must be offsets in the caller's file, which source
 * maps and quoted statements read. A refusal found in them (analysis/fence.ts) should still name
 * the line the user wrote, so each relocated position object remembers the original file and
 * offsets. Transformations copy nodes but keep their position objects, so the link survives.
 */
import type { Code, DiagnosticSink } from "../diagnostics.js";
import type { Pos } from "./ir.js";

export interface SourcePos {
  readonly file: string;
  readonly start: number;
  readonly end: number;
}

const origins = new WeakMap<Pos, SourcePos>();

/** The text of each file code was inlined from (a source map of the caller lists it). */
const texts = new Map<string, string>();

/** A position at `at` (in the caller's file) for code that was at `from` in `file` (whose text is `text`). */
export function relocated(at: Pos, from: Pos, file: string, text?: string): Pos {
  const p: Pos = { start: at.start, end: at.end };
  // Code inlined twice (a callee's callee) keeps the place it was first written.
  origins.set(p, origins.get(from) ?? { file, start: from.start, end: from.end });
  if (text !== undefined) texts.set(file, text);
  return p;
}

/**
 * Source offsets in generated code are numbers in the caller's file; a place in another file
 * (code inlined from it) is a negative handle, which the source map resolves (emit/splice.ts).
 */
const handles = new Map<string, number>();
const places: { readonly file: string; readonly start: number }[] = [];

/** The offset a generated line maps to: `pos.start`, or the handle of where inlined code was written. */
export function mapOffset(pos: Pos): number {
  const o = origins.get(pos);
  if (!o || !texts.has(o.file)) return pos.start;
  const key = `${o.file}:${o.start}`;
  let h = handles.get(key);
  if (h === undefined) {
    places.push({ file: o.file, start: o.start });
    h = -places.length;
    handles.set(key, h);
  }
  return h;
}

/** The file, offset and file text a negative handle stands for. */
export function placeOf(handle: number): { readonly file: string; readonly start: number; readonly text: string } | undefined {
  const p = places[-handle - 1];
  return p && { ...p, text: texts.get(p.file)! };
}

/** Reports a diagnostic at a node of `file`'s code, or where the node's code was written if it was inlined from elsewhere. */
export function reportAtOrigin(sink: DiagnosticSink, file: string): (code: Code, e: { readonly pos: Pos }, message: string, hint?: string) => void {
  return (code, e, message, hint) => {
    const o = origins.get(e.pos);
    sink.report(code, o?.file ?? file, o?.start ?? e.pos.start, o?.end ?? e.pos.end, message, hint);
  };
}
