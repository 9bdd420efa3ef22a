/**
 * Zeroed Float64Arrays for adjoints and tangents, cut from shared slabs when they are small.
 *
 * Why: on Node 20, `new Float64Array(n)` for more than 8 entries (64 bytes, the most V8 keeps on
 * its heap) allocates an ArrayBuffer of its own outside the heap, and that costs 1.3-2.4 µs per
 * array in a loop that makes them (`node` on this machine: 55 ns for 2 entries, 1,340 ns for 9,
 * 1,500 ns for 11). A gradient of a small function makes several such arrays per call (one
 * adjoint per array parameter), so they cost more than the arithmetic: one row of the bundle
 * adjustment Jacobian spent a third of its time in them. A view on an existing buffer costs
 * 60-90 ns.
 *
 * Arrays of 9 to 64 entries are views on a SLAB_BYTES buffer, carved in order and never reused
 * (a fresh slab is zero, so every view is zero); bigger arrays are allocated as usual. The price,
 * as with Node's pool for small Buffers: an array shares its `.buffer` with its neighbours
 * (`byteOffset` is not 0), and while any view of a slab is alive the whole slab is.
 */
const SLAB_BYTES = 16384;
const SMALL_BYTES = 512;
/** Up to this size V8 keeps a typed array's elements on its heap, which is cheaper than a view. */
const ON_HEAP_BYTES = 64;

let slab = new ArrayBuffer(SLAB_BYTES);
let used = 0;

/** A zeroed Float64Array of n entries. */
export function zerosF64(n: number): Float64Array {
  const bytes = n * 8;
  if (bytes > SMALL_BYTES || bytes <= ON_HEAP_BYTES) return new Float64Array(n);
  if (used + bytes > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    used = 0;
  }
  const a = new Float64Array(slab, used, n);
  used += bytes;
  return a;
}
