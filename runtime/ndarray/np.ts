// The `np` namespace: creation functions, every registry op as a function
// (numpy's positional argument order; JS numbers accepted as operands),
// np.linalg.norm and np.random. Each member is the very function the
// registry entry holds as `primal`, so the compiler may call either.

import { add, sub, mul, div, pow, maximum, minimum } from "./ops/binary.js";
import { neg, square, exp, log, log1p, sqrt, sin, cos, tanh, sigmoid, relu, abs, sign } from "./ops/unary.js";
import {
  greater, less, greaterEqual, lessEqual, equal, notEqual, all, any, allclose, where,
} from "./ops/compare.js";
import { sum, mean, max, min, prod } from "./ops/reduce.js";
import { variance, std } from "./ops/moments.js";
import { logsumexp, softmax, logSoftmax } from "./ops/softmax.js";
import { clip } from "./ops/clip.js";
import { dot, matmul, norm } from "./ops/linalg.js";
import { reshape, transpose, expandDims, squeeze, copy, astype } from "./ops/shape.js";
import { slice, index, item } from "./ops/indexing.js";
import { take, pick } from "./ops/gather.js";
import { argmax, argmin, oneHot } from "./ops/discrete.js";
import { concat, stack } from "./ops/join.js";
import { array, arange, zeros, ones, full, eye, linspace, zerosLike, onesLike } from "./creation.js";
import { random } from "./random.js";
import { draws } from "./draws.js";

export const np = Object.freeze({
  // creation
  array, arange, zeros, ones, full, eye, linspace, zerosLike, onesLike,
  // elementwise
  add, sub, mul, div, pow, neg, square, exp, log, log1p, sqrt, sin, cos, tanh, sigmoid, relu, abs,
  sign, maximum, minimum, where, clip,
  // reductions
  sum, mean, max, min, prod, var: variance, std, logsumexp, argmax, argmin,
  // along an axis
  softmax, logSoftmax,
  // linear algebra
  dot, matmul, linalg: Object.freeze({ norm }),
  // shape and indexing
  transpose, reshape, expandDims, squeeze, concat, stack, slice, index, item, copy, astype,
  take, pick, oneHot,
  // comparisons and logic
  greater, less, greaterEqual, lessEqual, equal, notEqual, all, any, allclose,
  random: Object.freeze({ ...random, ...draws }),
});

export type Np = typeof np;
