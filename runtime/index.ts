/**
 * adc/runtime: what generated code imports (as `_rt`). Small and dependency-free; it never
 * imports the compiler.
 */
export { tape, Tape } from "./tape.js";
export type { TapeMark, TapeSegment } from "./tape.js";
export { retF, retO, zerosLike, addInto, EMPTY_F64 } from "./scratch.js";
export { zerosF64 } from "./alloc.js";
export { NDArray } from "./ndarray/ndarray.js";
export { np } from "./ndarray/np.js";
export { ndPrimal, ndJvp, ndVjp, ndVjpNum, ndVjpInto, ndAcc, ndOrZeros, ndZerosLike, scalarSeed } from "./nd-ad.js";
export { barOf, fillBar, addTree, copyArrays, type Bar } from "./pytree.js";
export { checkCotangent } from "./cotangent.js";
export { keepArrays, restoreArrays, checkDistinct } from "./arrays.js";
export { hessianOfNd, jacobianRows, jacobianColumns, jacobianInto, jacobianSpace, jacobianIndexError, jacobianFromBlock } from "./jacobian.js";
export { record, GradientTape, isTraining, checkUntracked, pauseEnter, pauseLeave, ndVersions, checkNdVersions } from "./autograd.js";
export { checkGrads } from "./check.js";
export { customVjpOf, customJvpOf, customJvpTranspose, zeroTangent } from "./custom.js";
export { attachDerivatives, instanceOfLate, gradValue, vjpValue, jvpValue, jacrevValue, jacfwdValue, jacrevIntoValue, jacfwdIntoValue } from "./dynamic.js";
