/**
 * adc's passes, in the order they run, and the hook that shows the IR after any of them
 * (`adc build --dump <stage>`, or `compile(source, { dump })`).
 *
 * Every pass below takes IR and gives IR (the printer at the end is the only place text is
 * made). build.ts drives them; this list is the map.
 */
import { Code } from "./emit/code.js";
import type { Stmt } from "./ir/ir.js";
import { printStmts } from "./ir/print-stmt.js";
import { RT } from "./emit/names.js";

export const PIPELINE = [
  { stage: "targets", file: "targets.ts, record.ts", does: "finds grad/valueAndGrad/vjp/jvp calls and record blocks, and the functions they name" },
  { stage: "lower", file: "ir/lower.ts", does: "TypeScript to IR, one function at a time; refuses what adc does not differentiate" },
  { stage: "summaries", file: "analysis/summaries.ts", does: "which array parameters each function writes (through calls and parts of objects)" },
  { stage: "inline", file: "ir/inline.ts", does: "small functions returning a number or nothing, substituted at their calls, callees first (per derivative requested)" },
  { stage: "anf", file: "analysis/activity.ts, ir/anf.ts", does: "activity (what carries a derivative), then one operation per active statement" },
  { stage: "fence", file: "analysis/fence.ts", does: "refusals that need activity (aliasing, values that would lose their derivative)" },
  { stage: "forward", file: "diff/forward.ts", does: "tangent version f_jvp, IR to IR" },
  { stage: "reverse", file: "diff/reverse.ts", does: "forward sweep with records and reverse sweep (fused f_grad, split f_fwd/f_rev), IR to IR" },
  { stage: "cleanup", file: "optimize/cleanup.ts", does: "copy propagation, factors of one, dead stores, empty adjoints" },
  { stage: "print", file: "ir/print-stmt.ts, emit/functions.ts, emit/splice.ts", does: "IR to TypeScript, inserted next to the originals, with a source map" },
] as const;

export type Stage = "lower" | "inline" | "anf" | "forward" | "reverse" | "cleanup";
export const DUMP_STAGES: readonly Stage[] = ["lower", "inline", "anf", "forward", "reverse", "cleanup"];

let active: { stage: Stage; out: string[] } | null = null;

/** Runs `f` collecting the IR every function has after `stage`, as text. */
export function withDump<T>(stage: Stage | undefined, f: () => T): { result: T; dump: string } {
  if (!stage) return { result: f(), dump: "" };
  const saved = active;
  active = { stage, out: [] };
  try {
    const result = f();
    return { result, dump: active.out.join("\n\n") };
  } finally {
    active = saved;
  }
}

/** Called by the passes: records `stmts` if `stage` is the one being dumped. */
export function dump(stage: Stage, what: string, stmts: readonly Stmt[]): void {
  if (!active || active.stage !== stage) return;
  const c = new Code();
  c.line(`// ---- after ${stage}: ${what}`);
  printStmts(stmts, c);
  active.out.push(c.toString().split(RT).join("_rt"));
}
