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

/** A position at `at` (in the caller's file) for code that was at `from` in `file`. */
export function relocated(at: Pos, from: Pos, file: string): Pos {
  const p: Pos = { start: at.start, end: at.end };
  // Code inlined twice (a callee's callee) keeps the place it was first written.
  origins.set(p, origins.get(from) ?? { file, start: from.start, end: from.end });
  return p;
}

/** Reports a diagnostic at a node of `file`'s code, or where the node's code was written if it was inlined from elsewhere. */
export function reportAtOrigin(sink: DiagnosticSink, file: string): (code: Code, e: { readonly pos: Pos }, message: string, hint?: string) => void {
  return (code, e, message, hint) => {
    const o = origins.get(e.pos);
    sink.report(code, o?.file ?? file, o?.start ?? e.pos.start, o?.end ?? e.pos.end, message, hint);
  };
}
