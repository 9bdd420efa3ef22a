// Printing for the chapter examples: each cell prints its code, its result, and the result the
// chapter printed, so the two can be read side by side. With ADC_CHAPTER_JSON set, each cell also
// prints one JSON line that test/chapter.test.ts compares.
import { NDArray } from "adc";

type Shown = NDArray | number | boolean | string | readonly (NDArray | number | boolean | string)[];

function plain(v: Shown): unknown {
  if (v instanceof NDArray) return v.toArray();
  if (Array.isArray(v)) return v.map((x) => plain(x));
  return v;
}

function text(v: Shown): string {
  if (v instanceof NDArray) return v.toString();
  if (Array.isArray(v)) return `(${v.map((x) => text(x)).join(", ")})`;
  return String(v);
}

/**
 * One notebook cell. `seed` is what the chapter printed (as text), `expected` the same as data;
 * cells whose inputs are random give the chapter's identity as `expected` instead.
 */
export function cell(id: string, code: string, value: Shown, seed?: string, expected?: unknown): void {
  console.log(`\n[${id}] ${code}`);
  console.log(text(value));
  if (seed !== undefined) console.log(`  chapter: ${seed}`);
  if (process.env.ADC_CHAPTER_JSON) console.log(`@cell ${JSON.stringify({ id, value: plain(value), expected: expected ?? null })}`);
}

/** A cell that only runs code (the chapter printed nothing for it). */
export function note(id: string, code: string): void {
  console.log(`\n[${id}] ${code}`);
}
