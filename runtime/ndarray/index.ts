// Public surface of the NDArray runtime. Importing the class through here (or
// through np/registry) is equivalent; ndarray.ts and the ops form an import
// cycle that is safe from any entry point (see ndarray.ts).

export { NDArray } from "./ndarray.js";
export { np, type Np } from "./np.js";
export {
  ndOps,
  ndMethodAliases,
  accumulate,
  zerosLikeOperand,
  onesLikeOperand,
  unbroadcast,
} from "./registry.js";
export { creationNames, type ArrayInput } from "./creation.js";
export { broadcastTo } from "./operand.js";
export { broadcastShapes } from "./layout.js";
export { Xoshiro128 } from "./random.js";
export type { NdOp, Operand, DType, Nested, OpReturn } from "./types.js";
export type { Shape } from "./layout.js";
export type { Axis } from "./ops/axes.js";
export type { Indices } from "./ops/gather.js";
