/**
 * The tape: growable typed stacks that an adjoint's forward sweep pushes onto and its reverse
 * sweep pops from. One lane per kind of record, so no value is boxed:
 *   f: float64 values overwritten in the forward sweep and needed by the reverse sweep
 *   i: int32 trip counts and saved integers
 *   b: uint8 branch records
 *   o: object references (arrays, NDArrays) overwritten and needed later
 * Invariants: pushes and pops are balanced per call, so a fused gradient leaves the tape as it
 * found it and nested or re-entrant gradients stack cleanly. A `vjp` pullback that must outlive
 * the call moves its segment off the tape (`cut`) and puts it back when called (`paste`).
 * Lanes grow by doubling and are never shrunk, so a warm tape allocates nothing per push.
 */
import { isNdArray } from "./ndarray/brand.js";

/** A copied-out tape segment, owned by one pullback. */
export interface TapeSegment {
  readonly f: Float64Array;
  readonly i: Int32Array;
  readonly b: Uint8Array;
  /** Object records, with arrays and plain objects copied as the forward sweep left them. */
  readonly o: unknown[];
}

/** Lane tops at one moment; `cut` copies everything pushed since. */
export interface TapeMark {
  readonly f: number;
  readonly i: number;
  readonly b: number;
  readonly o: number;
}

export class Tape {
  f = new Float64Array(1024);
  fTop = 0;
  i = new Int32Array(256);
  iTop = 0;
  b = new Uint8Array(256);
  bTop = 0;
  o: unknown[] = [];
  oTop = 0;

  pushF(x: number): void {
    if (this.fTop === this.f.length) this.growF(this.fTop + 1);
    this.f[this.fTop++] = x;
  }
  popF(): number {
    return this.f[--this.fTop];
  }
  /**
   * Room for k more floats above `top`, for generated code that keeps the float lane in locals
   * (compiler/optimize/local-tape.ts): records the top, grows the lane, and returns it.
   */
  reserveF(top: number, k: number): Float64Array {
    this.fTop = top;
    if (top + k > this.f.length) this.growF(top + k);
    return this.f;
  }
  /** The float lane, doubled until it holds `need` values (the one place it grows). */
  growF(need: number): void {
    let n = Math.max(1024, this.f.length);
    while (n < need) n *= 2;
    this.f = grow(this.f, new Float64Array(n));
  }
  pushI(x: number): void {
    if (this.iTop === this.i.length) this.i = grow(this.i, new Int32Array(this.i.length * 2));
    this.i[this.iTop++] = x;
  }
  popI(): number {
    return this.i[--this.iTop];
  }
  pushB(x: boolean): void {
    if (this.bTop === this.b.length) this.b = grow(this.b, new Uint8Array(this.b.length * 2));
    this.b[this.bTop++] = x ? 1 : 0;
  }
  popB(): boolean {
    return this.b[--this.bTop] === 1;
  }
  pushO(x: unknown): void {
    this.o[this.oTop++] = x;
  }
  popO<T>(): T {
    const x = this.o[--this.oTop] as T;
    this.o[this.oTop] = undefined; // let the reference go
    return x;
  }

  /**
   * Saves a whole Float64Array (a loop's scratch array at the start of an iteration). Separate
   * from pushArray so each stays monomorphic: V8 shares one method's type feedback among all
   * callers.
   */
  pushF64(a: Float64Array): void {
    const n = a.length;
    if (this.fTop + n > this.f.length) this.growF(this.fTop + n);
    const f = this.f;
    const top = this.fTop;
    for (let k = 0; k < n; k++) f[top + k] = a[k];
    this.fTop = top + n;
  }
  /** Restores a Float64Array saved by pushF64. */
  popF64(a: Float64Array): void {
    const n = a.length;
    const top = (this.fTop -= n);
    const f = this.f;
    for (let k = 0; k < n; k++) a[k] = f[top + k];
  }
  /** pushF64 for a number[]. */
  pushArray(a: number[]): void {
    const n = a.length;
    if (this.fTop + n > this.f.length) this.growF(this.fTop + n);
    const f = this.f;
    const top = this.fTop;
    for (let k = 0; k < n; k++) f[top + k] = a[k];
    this.fTop = top + n;
  }
  /** Restores a number[] saved by pushArray. */
  popArray(a: number[]): void {
    const n = a.length;
    const top = (this.fTop -= n);
    const f = this.f;
    for (let k = 0; k < n; k++) a[k] = f[top + k];
  }

  mark(): TapeMark {
    return { f: this.fTop, i: this.iTop, b: this.bTop, o: this.oTop };
  }
  /** Copies out everything pushed since `m` and pops it, leaving the tape as it was at `m`. */
  cut(m: TapeMark): TapeSegment {
    // The values the records refer to as they are now: arrays and plain objects are copied (a
    // parameter object's parts, a captured model's number fields), so later changes by the
    // caller do not reach the pullback.
    const o = snapshot(this.o.slice(m.o, this.oTop));
    const seg: TapeSegment = {
      f: this.f.slice(m.f, this.fTop),
      i: this.i.slice(m.i, this.iTop),
      b: this.b.slice(m.b, this.bTop),
      o,
    };
    this.reset(m);
    return seg;
  }
  /**
   * Pushes a cut segment back, so the reverse sweep that belongs to it can pop it. The reverse
   * sweep gets fresh copies of the arrays and objects the segment saved: it rolls arrays back as
   * it goes, and it reaches values only through the tape, so the caller's arrays (the function's
   * arguments, the array it returned) never change and a second call finds what the first did.
   */
  paste(seg: TapeSegment): void {
    const o = snapshot(seg.o);
    for (let k = 0; k < seg.f.length; k++) this.pushF(seg.f[k]);
    for (let k = 0; k < seg.i.length; k++) this.pushI(seg.i[k]);
    for (let k = 0; k < seg.b.length; k++) this.pushB(seg.b[k] === 1);
    for (let k = 0; k < o.length; k++) this.pushO(o[k]);
  }
  /** Drops everything above `m` (used when a sweep is abandoned by an exception). */
  reset(m: TapeMark): void {
    this.fTop = m.f;
    this.iTop = m.i;
    this.bTop = m.b;
    for (let k = m.o; k < this.oTop; k++) this.o[k] = undefined;
    this.oTop = m.o;
  }
  /** Bytes currently held by records (what the docs quote per loop iteration). */
  bytesInUse(): number {
    return this.fTop * 8 + this.iTop * 4 + this.bTop + this.oTop * 8;
  }
}

/**
 * Copies of the values: number arrays and Float64Arrays copied, plain objects and arrays of
 * other things copied field by field; NDArrays (immutable) and other objects kept. One value
 * reached twice gets one copy.
 */
function snapshot(values: readonly unknown[]): unknown[] {
  const copies = new Map<unknown, unknown>();
  const copy = (x: unknown): unknown => {
    if (typeof x !== "object" || x === null || isNdArray(x)) return x;
    if (copies.has(x)) return copies.get(x);
    if (x instanceof Float64Array) {
      const y = x.slice();
      copies.set(x, y);
      return y;
    }
    if (ArrayBuffer.isView(x)) return x;
    const plain = Array.isArray(x) || Object.getPrototypeOf(x) === Object.prototype || Object.getPrototypeOf(x) === null;
    if (!plain) return x;
    const y: Record<string, unknown> = Array.isArray(x) ? ([] as unknown as Record<string, unknown>) : {};
    copies.set(x, y);
    for (const [k, v] of Object.entries(x)) y[k] = copy(v);
    return y;
  };
  return values.map(copy);
}

function grow<T extends Float64Array | Int32Array | Uint8Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

/** The process-wide tape that generated code uses. */
export const tape = new Tape();
