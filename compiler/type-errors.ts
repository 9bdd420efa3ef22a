/**
 * When adc refuses something in a file that does not type-check, tsc's own errors inside the
 * functions adc read come with the refusal: where TypeScript could not type an expression (an
 * unknown name, a function too large for its control-flow analysis, TS2563) the checker answers
 * `any`, and adc's refusal of it alone would point the user at the wrong problem. Only on this
 * error path: a full type check of a file costs about as much as adc's own work on it.
 */
import { ts } from "ts-morph";
import type { DiagnosticSink } from "./diagnostics.js";
import type { FnInfo } from "./tangents.js";

export function typeErrorsBehindRefusals(sink: DiagnosticSink, program: ts.Program, sourceFile: (file: string) => ts.SourceFile | undefined, fns: readonly FnInfo[]): void {
  const refused = new Set(sink.list.filter((d) => d.code.startsWith("ADC")).map((d) => d.file));
  for (const file of refused) {
    const sf = sourceFile(file);
    if (!sf) continue;
    const read = fns.filter((f) => f.sf === sf).map((f) => [f.node.getStart(), f.node.getEnd()] as const);
    for (const d of program.getSemanticDiagnostics(sf)) {
      // (A global the compile's libraries do not declare, `console` or `process` without the
      // DOM or Node's types: no refusal comes from it.)
      if (ENVIRONMENT_NAMES.has(d.code)) continue;
      const at = d.start ?? -1;
      if (!read.some(([a, b]) => at >= a && at < b)) continue;
      sink.reportTs(d.code, file, at, at + (d.length ?? 0), ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    }
  }
}

/** Cannot find name 'console' (change the lib), 'process'/'require' (install @types/node), and their variants. */
const ENVIRONMENT_NAMES = new Set([2580, 2581, 2582, 2583, 2584, 2591, 2592, 2593]);
