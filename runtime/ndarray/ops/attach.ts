// The op generated code uses for `u.attachGrad()` inside a record block: the value passes
// through unchanged; in the reverse sweep the cotangent reaching it is deposited into u's
// gradient instead of flowing further back (attaching detaches, as in MXNet). Not a method:
// `NDArray.attachGrad` is the user-facing call; this entry is what compiled blocks call.
import { NDArray } from "../ndarray.js";
import { attachGrad, deposits, type GradReq } from "../../autograd-state.js";
import { add } from "./binary.js";
import type { NdOp } from "../types.js";

export const attachGradOp: NdOp = {
  name: "attachGrad",
  diff: [0],
  method: false,
  returns: "ndarray",
  primal: (x: NDArray, req?: GradReq) => {
    attachGrad(x, req);
    return x;
  },
  jvp: (_i, t) => t,
  vjp: (_i, g, args, out) => {
    const d = deposits.current;
    if (d && out instanceof NDArray && g instanceof NDArray) {
      const prev = d.get(out);
      d.set(out, prev ? add(prev, g) : g);
    }
    const x = args[0] as NDArray;
    return new NDArray(new Float64Array(x.size), x.shape);
  },
};

export const attachOps: readonly NdOp[] = [attachGradOp];
