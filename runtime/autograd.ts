/**
 * The imperative API of the chapter (MXNet's attach_grad / record / backward, TensorFlow's
 * GradientTape), run on generated code.
 *
 * The compiler turns each `record(() => { ... })` block into a generated function with its
 * captured NDArrays as inputs and the outer variables it assigns as outputs, and its `vjp`. At
 * run time a block remembers only that: its inputs, its outputs and its pullback (no operation
 * graph). Every output NDArray points at the block that made it. `backward` walks the small graph
 * of blocks newest to oldest (a block can only consume what older blocks made), calls each
 * pullback once with the cotangents of its outputs, and routes input cotangents either to the
 * block that made the input or, for arrays with a gradient attached, into `.grad`.
 *
 * MXNet's rules: attaching a gradient detaches (the array becomes a leaf, for its own backward
 * and for blocks recorded afterwards); `detach()` gives a
 * value with no graph; "write" overwrites `.grad` on every backward, "add" accumulates, "null"
 * drops it; a non-scalar head means the sum (a head of ones). A backward frees the block outputs
 * it went through unless `retainGraph` is set (with the outputs of the same block whose
 * computation overlaps theirs, which the compiler lists), and going through a freed output again
 * is an error that names `retainGraph`.
 */
import { NDArray, autogradHooks, versionOf } from "./ndarray/ndarray.js";
import { accumulate, onesLikeOperand, zerosLikeOperand } from "./ndarray/registry.js";
import type { Operand } from "./ndarray/types.js";
import { checkCotangent } from "./pytree.js";
import { constantInputs } from "./nd-ad.js";
import { attachGrad, blocks, deposits, meta, metaOf as m, type GradReq } from "./autograd-state.js";
export { gradOf, zeroGrad, detach } from "./autograd-state.js";

export { attachGrad, type GradReq };

interface Node {
  readonly block: Block;
  readonly index: number;
}

class Block {
  readonly id = blocks.next++;
  /** Output slots a backward went through without retainGraph. */
  readonly freed: boolean[];
  constructor(
    readonly inputs: readonly unknown[],
    readonly outputs: readonly unknown[],
    readonly pullback: (outBars: (Operand | null)[]) => unknown[],
    readonly tape: GradientTape | null,
    /** Per output, the outputs whose graphs overlap its own (itself only when absent). */
    readonly shares: readonly (readonly number[])[] | null,
    /** The input arrays' assign counts when the block ran (see versionOf). */
    readonly versions: ReadonlyMap<NDArray, number> = new Map(),
  ) {
    this.freed = outputs.map(() => false);
  }
}


let training = false;
let recording = 0;

/** Whether code runs in training mode (inside `record`, unless it passed `{ train: false }`). */
export function isTraining(): boolean {
  return training;
}

/** Whether a record block is running. */
export function isRecording(): boolean {
  return recording > 0;
}

/**
 * `pause(() => ...)` inside compiled code: the body is inlined between these two calls (its values
 * carry no derivative), and code it calls sees the mode pause sets.
 */
const paused: (readonly [boolean, number])[] = [];
export function pauseEnter(train = false): void {
  paused.push([training, recording]);
  training = train;
  recording = 0;
}
export function pauseLeave(): void {
  [training, recording] = paused.pop()!;
}

/** Runs `fn` outside recording and in prediction mode (MXNet's `autograd.pause`). */
export function pause<T>(fn: () => T, options: { train?: boolean } = {}): T {
  const saved = [training, recording] as const;
  training = options.train ?? false;
  recording = 0;
  try {
    return fn();
  } finally {
    [training, recording] = saved;
  }
}

function forEachNd(x: unknown, f: (a: NDArray) => void): void {
  if (x instanceof NDArray) f(x);
  else if (Array.isArray(x)) x.forEach((v) => forEachNd(v, f));
  else if (typeof x === "object" && x !== null && !ArrayBuffer.isView(x)) Object.values(x).forEach((v) => forEachNd(v, f));
}

/**
 * Checks, as a record block starts, the arrays its callees read from outside the block (by name,
 * not as inputs): their derivatives are not recorded, so one that has a gradient attached, or
 * was computed in a record block, would silently get none. `where` names each ("'W', read by net").
 */
export function checkUntracked(values: readonly unknown[], where: readonly string[], tape?: GradientTape | null): void {
  // On a tape, any of them may later be asked for as a source: remember where each was read.
  if (tape) values.forEach((v, k) => forEachNd(v, (a) => tape.untracked.set(a, where[k])));
  values.forEach((v, k) => {
    const tracked = (x: unknown): boolean => {
      if (x instanceof NDArray) {
        const a = meta.get(x);
        return !!a && (a.grad !== undefined || !!a.node);
      }
      if (Array.isArray(x)) return x.some(tracked);
      if (typeof x === "object" && x !== null && !ArrayBuffer.isView(x)) return Object.values(x).some(tracked);
      return false;
    };
    if (tracked(v))
      throw new Error(`adc: record: ${where[k]} from outside the block, has a gradient attached (or comes from a record block), and its derivative would not be recorded: pass it to the function as an argument, or read it in the block itself`);
  });
}

/**
 * Runs a compiled record block: `run` is the block's generated vjp over `inputs`; `assign`
 * stores its outputs into the block's outer variables. Returns what the block returned.
 */
export function record(
  inputs: readonly unknown[],
  run: (...inputs: any[]) => [unknown[], (outBars: (Operand | null)[]) => unknown[]],
  assign: (outputs: unknown[]) => void,
  options: { train?: boolean } = {},
  tape: GradientTape | null = null,
  shares: readonly (readonly number[])[] | null = null,
): void {
  const saved = training;
  training = options.train ?? true;
  recording++;
  try {
    const [outs, pullback] = run(...inputs);
    // Every output needs its own identity to carry its own node.
    const seen = new Set<unknown>(inputs);
    for (const x of inputs) forEachArray(x, null, (a) => seen.add(a));
    const outputs = outs.map((o) => {
      if (o instanceof NDArray && seen.has(o) && !meta.get(o)?.gradReq) return new NDArray(o.data, o.shape, o.dtype);
      seen.add(o);
      return o;
    });
    const block = new Block(inputs, outputs, pullback, tape, shares, ndVersions(inputs));
    outputs.forEach((o, index) => {
      // Arrays that had a gradient attached inside the block are leaves.
      if (o instanceof NDArray && !meta.get(o)?.gradReq) {
        m(o).node = { block, index };
        delete m(o).leafSince;
      }
    });
    tape?.blocks.push(block);
    assign(outputs);
  } finally {
    training = saved;
    recording--;
  }
}

/**
 * Backpropagates from `y` with head gradient `head` (ones by default: a non-scalar y means its
 * sum). Returns the cotangent reaching each requested source (for GradientTape), and stores into
 * `.grad` of every leaf with a gradient attached.
 */
function propagate(y: NDArray, head: NDArray | null, retainGraph: boolean, sources: readonly NDArray[] | null): Map<NDArray, NDArray> {
  if (head !== null) checkCotangent(head, y, "backward(head)");
  const seed = head ?? (onesLikeOperand(y) as NDArray);
  const leafBars = new Map<NDArray, NDArray>();
  const add = (x: NDArray, g: NDArray): void => {
    const prev = leafBars.get(x);
    leafBars.set(x, prev ? (accumulate(prev, g) as NDArray) : g);
  };
  // An array with a gradient attached is a leaf for its own backward: attaching detaches it from
  // what computed it (MXNet's implicit `x = x.detach()`).
  const start = (meta.get(y)?.gradReq ? null : meta.get(y)?.node) as Node | null | undefined;
  /** The block that made input x of block b, unless x was a leaf by then. */
  const producer = (x: NDArray, b: Block): Node | null => {
    const a = meta.get(x);
    if (!a || (a.gradReq && (a.leafSince ?? -1) <= b.id)) return null;
    return (a.node as Node | null | undefined) ?? null;
  };
  if (!start) {
    if (meta.get(y)?.gradReq || sources?.includes(y)) add(y, seed);
    else throw new Error("adc: backward() on an array with no recorded computation: compute it inside record(), or attach a gradient to it");
    return finish(leafBars, sources);
  }
  const cot = new Map<Block, (Operand | null)[]>();
  const slot = (b: Block): (Operand | null)[] => {
    let s = cot.get(b);
    if (!s) cot.set(b, (s = b.outputs.map(() => null)));
    return s;
  };
  slot(start.block)[start.index] = seed;
  // Blocks reachable from y's, newest first: a block only consumes outputs of older blocks.
  const reach = new Set<Block>();
  const stack = [start.block];
  while (stack.length) {
    const b = stack.pop()!;
    if (reach.has(b)) continue;
    reach.add(b);
    for (const input of b.inputs)
      forEachArray(input, null, (i) => {
        const n = producer(i, b);
        if (n) stack.push(n.block);
      });
  }
  const order = [...reach].sort((a, b) => b.id - a.id);
  const saved = deposits.current;
  const deposited = (deposits.current = new Map());
  try {
    for (const b of order) {
      const bars = cot.get(b);
      if (!bars || bars.every((g) => g === null)) continue;
      bars.forEach((g, k) => {
        if (g !== null && b.freed[k])
          throw new Error("adc: backward() through a graph that was already freed by an earlier backward(); pass { retainGraph: true } to the first backward() to go through it again");
      });
      // A source computed by this block (TensorFlow's gradient with respect to an intermediate):
      // its bar is what later blocks sent back, which is the whole derivative only if no other
      // output of the block carries one (the block may have used the source to compute it).
      if (sources)
        b.outputs.forEach((o, k) => {
          if (!(o instanceof NDArray) || !sources.includes(o)) return;
          if (bars.some((g, j) => j !== k && g !== null))
            throw new Error("adc: gradient() with respect to an array computed in the same record() block as other values the target depends on is not supported; record that array in a block of its own, or attach a gradient to it (attachGrad) to make it a leaf");
          if (bars[k] !== null) add(o, bars[k] as NDArray);
        });
      // The block's input arrays whose adjoints go nowhere (data: nothing attached, not made by a
      // block this backward reaches, not a source) are not differentiated (nd-ad.ts).
      const constant = new Set<NDArray>();
      b.inputs.forEach((input) =>
        forEachArray(input, null, (x) => {
          const n = producer(x, b);
          if (!(n && reach.has(n.block)) && !meta.get(x)?.gradReq && !sources?.includes(x)) constant.add(x);
        }),
      );
      const savedConstants = constantInputs.current;
      constantInputs.current = constant;
      checkNdVersions(b.versions, "backward() through a record() block");
      let inBars: unknown[];
      try {
        inBars = b.pullback(bars.map((g, k) => g ?? (b.outputs[k] instanceof NDArray ? (zerosLikeOperand(b.outputs[k] as NDArray) as NDArray) : 0)));
      } finally {
        constantInputs.current = savedConstants;
      }
      // MXNet frees every node the backward went through: the outputs with a cotangent and
      // every output whose computation overlaps theirs.
      if (!retainGraph) bars.forEach((g, k) => g !== null && (b.shares?.[k] ?? [k]).forEach((j) => (b.freed[j] = true)));
      b.inputs.forEach((input, k) =>
        // An input may be an object or list of arrays (a model's parameters): each array's own.
        forEachArray(input, inBars[k], (x, g) => {
          if (!(g instanceof NDArray)) return;
          const n = producer(x, b);
          if (n && reach.has(n.block)) {
            const s = slot(n.block);
            s[n.index] = s[n.index] === null ? g : accumulate(s[n.index], g);
          } else if (meta.get(x)?.gradReq || sources?.includes(x)) add(x, g);
        }),
      );
    }
    for (const [x, g] of deposited) add(x, g);
  } finally {
    deposits.current = saved;
  }
  return finish(leafBars, sources);
}

/** The assign counts of every NDArray in `values` (arrays, objects and lists of them). */
export function ndVersions(values: readonly unknown[]): Map<NDArray, number> {
  const out = new Map<NDArray, number>();
  for (const v of values) forEachArray(v, null, (a) => out.set(a, versionOf(a)));
  return out;
}

/** Throws if an array of `noted` was changed with assign since (its derivative would be wrong). */
export function checkNdVersions(noted: ReadonlyMap<NDArray, number>, what: string): void {
  for (const [a, v] of noted)
    if (versionOf(a) !== v)
      throw new Error(`adc: ${what}: an input array was changed with assign() after the values were recorded, so the derivative would be taken at the new values; record (or call vjp) again after changing it, or change a copy (x.copy())`);
}

/**
 * Calls f on every NDArray in x (an NDArray, or an object or array holding some), with the part
 * of `bar` (an adjoint of the same structure, or null) at the same place.
 */
function forEachArray(x: unknown, bar: unknown, f: (a: NDArray, g: unknown) => void): void {
  if (x instanceof NDArray) f(x, bar);
  else if (Array.isArray(x)) x.forEach((v, k) => forEachArray(v, (bar as unknown[] | null)?.[k] ?? null, f));
  else if (typeof x === "object" && x !== null && !ArrayBuffer.isView(x))
    for (const [k, v] of Object.entries(x)) forEachArray(v, (bar as Record<string, unknown> | null)?.[k] ?? null, f);
}

function finish(leafBars: Map<NDArray, NDArray>, sources: readonly NDArray[] | null): Map<NDArray, NDArray> {
  if (sources) return leafBars;
  for (const [x, g] of leafBars) {
    const a = meta.get(x);
    if (!a?.grad || a.gradReq === "null") continue;
    if (a.gradReq === "add") a.grad.data.set((accumulate(a.grad, g) as NDArray).data);
    else a.grad.data.set(g.data);
  }
  return leafBars;
}

export function backward(y: NDArray, head: NDArray | null = null, options: { retainGraph?: boolean } = {}): void {
  propagate(y, head, options.retainGraph ?? false, null);
}

/** TensorFlow's GradientTape: `record` blocks on it, then `gradient(target, sources)`. */
export class GradientTape {
  readonly blocks: Block[] = [];
  /** Arrays the blocks' callees read from outside the blocks (checkUntracked): not sources. */
  readonly untracked = new Map<NDArray, string>();
  private used = false;
  readonly persistent: boolean;

  constructor(options: { persistent?: boolean } = {}) {
    this.persistent = options.persistent ?? false;
  }

  /** Replaced by compiled code; running it means the program was not compiled. */
  record(_fn: () => void): void {
    throw new Error("adc: GradientTape.record() ran without being compiled. Build this program with `adc build` or the esbuild plugin.");
  }

  /** Kept for TensorFlow users: every array a recorded block reads is watched. */
  watch(_x: NDArray): void {}

  /** d target / d source for each source (zeros where target does not depend on it). */
  gradient(target: NDArray, sources: NDArray): NDArray;
  gradient(target: NDArray, sources: readonly NDArray[]): NDArray[];
  gradient(target: NDArray, sources: NDArray | readonly NDArray[]): NDArray | NDArray[] {
    if (this.used && !this.persistent)
      throw new Error("adc: gradient() can only be called once on a non-persistent GradientTape; create it with { persistent: true } to call it again");
    this.used = true;
    const list = Array.isArray(sources) ? sources : [sources as NDArray];
    for (const s of list) {
      const where = this.untracked.get(s);
      if (where) throw new Error(`adc: gradient(): the source ${where} from outside the tape's block, so its derivative was not recorded: pass it to the function as an argument, or read it in the block itself`);
    }
    const bars = propagate(target, null, true, list);
    const out = list.map((s) => bars.get(s) ?? (zerosLikeOperand(s) as NDArray));
    return Array.isArray(sources) ? out : out[0];
  }
}

// NDArray's backward() reaches this module through a hook, so the class does not import it.
autogradHooks.backward = backward;
