// Printing: numpy's str() layout and float rules followed by the MXNet-style
// shape line. Expected strings are what numpy 2.x prints for the same values
// (the shape line aside).

import { inspect } from "node:util";
import { describe, expect, test } from "vitest";
import { NDArray, np } from "../../../runtime/ndarray/index.js";

/** The value part of the printout, without the "<NDArray ...>" line. */
function body(a: NDArray): string {
  const s = a.toString();
  return s.slice(0, s.lastIndexOf("\n"));
}

describe("printing", () => {
  test("the brief's example: a 2x1 column of integral floats", () => {
    expect(np.array([[0], [1]]).toString()).toBe("[[0.]\n [1.]]\n<NDArray 2x1>");
  });

  test("shape line: dims joined by x, 'scalar' for 0-d", () => {
    expect(np.zeros([2, 3, 4]).toString().endsWith("\n<NDArray 2x3x4>")).toBe(true);
    expect(np.zeros(5).toString().endsWith("\n<NDArray 5>")).toBe(true);
    expect(np.array(1.5).toString()).toBe("1.5\n<NDArray scalar>");
    expect(np.array(4).toString()).toBe("4.\n<NDArray scalar>");
    expect(np.sum(np.ones([2, 2])).toString()).toBe("4.\n<NDArray scalar>");
  });

  test("fixed notation: shortest digits up to 8 decimals, aligned columns", () => {
    expect(body(np.array([0.5, 1, 1.2345679, -3]))).toBe("[ 0.5        1.         1.2345679 -3.       ]");
    expect(body(np.array([1.23456789, 1.234567891, 0.1 + 0.2]))).toBe("[1.23456789 1.23456789 0.3       ]");
    expect(body(np.array([-0, 1]))).toBe("[-0.  1.]");
  });

  test("scientific notation when magnitudes are tiny, huge or far apart", () => {
    expect(body(np.array([1e-5, 1.5e-5, 100]))).toBe("[1.0e-05 1.5e-05 1.0e+02]");
    expect(body(np.array([[1e9, -1], [2, 3]]))).toBe("[[ 1.e+09 -1.e+00]\n [ 2.e+00  3.e+00]]");
    expect(body(np.array([[0.1, 0.25], [1000, -0.003]]))).toBe("[[ 1.0e-01  2.5e-01]\n [ 1.0e+03 -3.0e-03]]");
    expect(body(np.array([1e100, 1e-100]))).toBe("[1.e+100 1.e-100]");
  });

  test("non-finite values", () => {
    expect(body(np.array([NaN, -Infinity, 1.5]))).toBe("[ nan -inf  1.5]");
    expect(body(np.array([1e-5, NaN]))).toBe("[1.e-05    nan]");
  });

  test("bools print as True/False", () => {
    expect(np.greater(np.array([1, 0]), 0.5).toString()).toBe("[ True False]\n<NDArray 2>");
    expect(np.equal(1, 1).toString()).toBe("True\n<NDArray scalar>");
  });

  test("3-D arrays separate blocks with a blank line", () => {
    expect(body(np.arange(24).reshape([2, 3, 4]))).toBe(
      "[[[ 0.  1.  2.  3.]\n  [ 4.  5.  6.  7.]\n  [ 8.  9. 10. 11.]]\n\n" +
        " [[12. 13. 14. 15.]\n  [16. 17. 18. 19.]\n  [20. 21. 22. 23.]]]",
    );
  });

  test("long rows wrap at 75 columns", () => {
    expect(body(np.div(np.arange(30), 7))).toBe(
      "[0.         0.14285714 0.28571429 0.42857143 0.57142857 0.71428571\n" +
        " 0.85714286 1.         1.14285714 1.28571429 1.42857143 1.57142857\n" +
        " 1.71428571 1.85714286 2.         2.14285714 2.28571429 2.42857143\n" +
        " 2.57142857 2.71428571 2.85714286 3.         3.14285714 3.28571429\n" +
        " 3.42857143 3.57142857 3.71428571 3.85714286 4.         4.14285714]",
    );
  });

  test("more than 1000 elements are summarised with ...", () => {
    expect(body(np.arange(1001))).toBe("[   0.    1.    2. ...  998.  999. 1000.]");
    expect(body(np.arange(2000).reshape([40, 50]))).toBe(
      "[[0.000e+00 1.000e+00 2.000e+00 ... 4.700e+01 4.800e+01 4.900e+01]\n" +
        " [5.000e+01 5.100e+01 5.200e+01 ... 9.700e+01 9.800e+01 9.900e+01]\n" +
        " [1.000e+02 1.010e+02 1.020e+02 ... 1.470e+02 1.480e+02 1.490e+02]\n" +
        " ...\n" +
        " [1.850e+03 1.851e+03 1.852e+03 ... 1.897e+03 1.898e+03 1.899e+03]\n" +
        " [1.900e+03 1.901e+03 1.902e+03 ... 1.947e+03 1.948e+03 1.949e+03]\n" +
        " [1.950e+03 1.951e+03 1.952e+03 ... 1.997e+03 1.998e+03 1.999e+03]]",
    );
  });

  test("empty arrays", () => {
    expect(np.zeros([0, 3]).toString()).toBe("[]\n<NDArray 0x3>");
  });

  test("node's inspect and template strings use the same text", () => {
    const a = np.array([[1, 2], [3, 4]]);
    expect(inspect(a)).toBe(a.toString());
    expect(`${a}`).toBe("[[1. 2.]\n [3. 4.]]\n<NDArray 2x2>");
  });
});
