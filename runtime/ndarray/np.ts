// The `np` namespace: creation functions, every registry op as a function
// (numpy's positional argument order; JS numbers accepted as operands),
// np.linalg.norm and np.random. Each member is the very function the
// registry entry holds as `primal`, so the compiler may call either.

import { add, sub, mul, div, pow, maximum, minimum } from "./ops/binary.js";
import { neg, square, exp, log, sqrt, sin, cos, tanh, sigmoid, relu, abs } from "./ops/unary.js";
import {
  greater, less, greaterEqual, lessEqual, equal, notEqual, all, any, allclose, where,
} from "./ops/compare.js";
import { sum, mean, max, min } from "./ops/reduce.js";
import { dot, matmul, norm } from "./ops/linalg.js";
import { reshape, transpose, expandDims, squeeze, copy } from "./ops/shape.js";
import { slice, index, item } from "./ops/indexing.js";
import { concat, stack } from "./ops/join.js";
import { array, arange, zeros, ones, full, eye, linspace, zerosLike, onesLike } from "./creation.js";
import { random } from "./random.js";

export const np = Object.freeze({
  // creation
  array, arange, zeros, ones, full, eye, linspace, zerosLike, onesLike,
  // elementwise
  add, sub, mul, div, pow, neg, square, exp, log, sqrt, sin, cos, tanh, sigmoid, relu, abs,
  maximum, minimum, where,
  // reductions
  sum, mean, max, min,
  // linear algebra
  dot, matmul, linalg: Object.freeze({ norm }),
  // shape and indexing
  transpose, reshape, expandDims, squeeze, concat, stack, slice, index, item, copy,
  // comparisons and logic
  greater, less, greaterEqual, lessEqual, equal, notEqual, all, any, allclose,
  random: Object.freeze(random),
});

export type Np = typeof np;
