/**
 * Which outputs of a record block share computation: MXNet's `backward()` frees every node of the
 * graph it goes through, so after `z.backward()` a `y.backward()` fails when y's computation is
 * part of z's, whether or not y and z were recorded in one block. At run time a block is a single
 * pullback, so the compiler tells it, per output, which outputs' graphs overlap that output's
 * graph: the block-local variables each output depends on where derivatives flow (detach and
 * stopGradient cut), flow-insensitively (a variable reassigned in the block counts all its
 * definitions, so the answer errs towards overlap).
 */
import type { IrFunction } from "../ir/ir.js";
import { forEachStmt } from "../ir/walk.js";
import { diffReads } from "./activity.js";

/** For each output k, the outputs j (k included) whose graphs overlap k's. */
export function sharedOutputs(fn: IrFunction): number[][] {
  const outputs = fn.outputs ?? [];
  const inputs = new Set(fn.params.map((q) => q.name));
  const deps = new Map<string, Set<string>>();
  const dep = (v: string): Set<string> => deps.get(v) ?? deps.set(v, new Set()).get(v)!;
  forEachStmt(fn.body, (s) => {
    const target = s.k === "let" ? s.name : s.k === "assign" ? (s.target.k === "var" ? s.target.name : s.target.arr) : undefined;
    if (target === undefined) return;
    // Only where a derivative flows: `u = y.detach()` does not put y in u's graph.
    if (s.k === "let" && s.init) diffReads(s.init, (v) => dep(target).add(v));
    if (s.k === "assign") diffReads(s.value, (v) => dep(target).add(v));
  });
  const slice = (root: string): Set<string> => {
    const seen = new Set<string>();
    const work = [root];
    while (work.length) {
      const v = work.pop()!;
      if (seen.has(v)) continue;
      seen.add(v);
      for (const w of deps.get(v) ?? []) work.push(w);
    }
    // Inputs are other blocks' outputs or leaves: overlaps there are the other block's to free.
    for (const v of inputs) if (!deps.has(v)) seen.delete(v);
    return seen;
  };
  const slices = outputs.map(slice);
  return slices.map((a) => slices.flatMap((b, j) => ([...a].some((v) => b.has(v)) ? [j] : [])));
}
