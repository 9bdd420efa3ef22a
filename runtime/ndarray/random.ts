// np.random: a seedable generator written from the published algorithms.
//   - xoshiro128** (Blackman & Vigna, 2018) produces 32-bit words; its 128-bit
//     state must never be all zero, which splitmix32 seeding guarantees in practice.
//   - splitmix32 expands a 32-bit seed into the four state words.
//   - a double in [0, 1) takes 53 random bits from two words.
//   - normals come from the Box-Muller transform; the second value of each
//     pair is cached and dropped on reseed so seed(n) fully determines output.
// Like numpy, the global generator starts from an unpredictable seed until
// np.random.seed is called.

import { NDArray } from "./ndarray.js";
import { sizeOf, toShape, emptyShape, type Shape } from "./layout.js";

function splitmix32(x: number): [next: number, out: number] {
  const next = (x + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return [next, (z ^ (z >>> 15)) >>> 0];
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export class Xoshiro128 {
  private readonly s = new Uint32Array(4);
  private spare: number | null = null;

  constructor(seed: number) {
    this.seed(seed);
  }

  /** A generator with the given raw state words (not all zero); for reproducing reference vectors. */
  static fromState(words: readonly [number, number, number, number]): Xoshiro128 {
    if (words.every((w) => (w >>> 0) === 0)) throw new RangeError("xoshiro128** state must not be all zero");
    const g = new Xoshiro128(0);
    for (let i = 0; i < 4; i++) g.s[i] = words[i] >>> 0;
    return g;
  }

  seed(seed: number): void {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`seed must be an integer in [0, 2**32), got ${seed}`);
    }
    let x = seed | 0;
    for (let i = 0; i < 4; i++) {
      const [next, out] = splitmix32(x);
      x = next;
      this.s[i] = out;
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
    this.spare = null;
  }

  /** Next 32-bit unsigned word. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  nextDouble(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal via Box-Muller. */
  nextNormal(): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return z;
    }
    const u1 = 1 - this.nextDouble(); // (0, 1], so log is finite
    const u2 = this.nextDouble();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }
}

const shared = new Xoshiro128(Math.floor(Math.random() * 0x100000000));

/** The generator np.random.seed seeds, for the draws in draws.ts. */
export function sharedGenerator(): Xoshiro128 {
  return shared;
}

/** An array of `size` (no size or null: 0-d, as numpy's None) filled by draw(). */
export function sized(size: number | readonly number[] | null | undefined, draw: () => number): NDArray {
  const shape: Shape = size === undefined || size === null ? emptyShape : toShape(size, "size");
  const data = new Float64Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = draw();
  return new NDArray(data, shape);
}

export function seed(n: number): void {
  shared.seed(n);
}

/** Samples of N(loc, scale^2); no size gives a 0-d array. */
export function normal(loc = 0, scale = 1, size?: number | readonly number[]): NDArray {
  return sized(size, () => loc + scale * shared.nextNormal());
}

/** Samples of U[low, high); no size gives a 0-d array. */
export function uniform(low = 0, high = 1, size?: number | readonly number[]): NDArray {
  return sized(size, () => low + (high - low) * shared.nextDouble());
}

/** The dimensions as given, `rand(5, 4)`, or as one list, `rand([5, 4])` (the shape other creators take). */
function dims(args: readonly (number | readonly number[])[]): readonly number[] {
  return args.length === 1 && Array.isArray(args[0]) ? (args[0] as readonly number[]) : (args as readonly number[]);
}

/** numpy's rand(d0, d1, ...): samples of U[0, 1) of that shape; no dimensions give a 0-d array. */
export function rand(shape: readonly number[]): NDArray;
export function rand(...shape: number[]): NDArray;
export function rand(...shape: (number | readonly number[])[]): NDArray {
  return sized(dims(shape), () => shared.nextDouble());
}

/** numpy's randn(d0, d1, ...): standard normal samples of that shape (or randn([d0, d1])). */
export function randn(shape: readonly number[]): NDArray;
export function randn(...shape: number[]): NDArray;
export function randn(...shape: (number | readonly number[])[]): NDArray {
  return sized(dims(shape), () => shared.nextNormal());
}

export const random = { seed, normal, uniform, rand, randn };
