/**
 * adc/runtime: what generated code imports (as `_rt`). Small and dependency-free; it never
 * imports the compiler.
 */
export { tape, Tape } from "./tape.js";
export type { TapeMark, TapeSegment } from "./tape.js";
export { retF, retO, zerosLike, addInto, EMPTY_F64 } from "./scratch.js";
