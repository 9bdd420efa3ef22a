/**
 * Jobs: one generated derivative of one function (a mode and a set of active parameters), and
 * the names its functions have when they are free (ModuleNames then claims them in the module).
 */
import { isDiffTy, type IrFunction } from "./ir/ir.js";

export type JobKind = "primal" | "jvp" | "split" | "grad" | "valueAndGrad" | "vjp" | "jvpPair" | "block" | "hessian" | "gradJvpPair" | "gradVjp" | "jacfwd" | "jacrev" | "jvpLanes";
export interface Job {
  readonly kind: JobKind;
  readonly key: string;
  readonly mask: readonly boolean[];
  readonly wrt?: readonly number[];
  /** grad/valueAndGrad: gradients returned as a tuple (argnums written as a list), even of one. */
  readonly tuple?: boolean;
  /** jacrev, jacfwd: written into a buffer the caller passes (jacrevInto, jacfwdInto). */
  readonly into?: boolean;
  /** hessian, gradJvpPair, gradVjp: the key of the directed tangent function they differentiate. */
  readonly tangent?: string;
}

/** The parameters of the active set in a name (`f_grad_x`), unless it is all of them. */
function suffix(ir: IrFunction, mask: readonly boolean[], nUser = ir.params.length): string {
  const all = ir.params.every((p, i) => mask[i] === (i < nUser && isDiffTy(p.ty)));
  return all ? "" : "_" + ir.params.filter((_, i) => mask[i]).map((p) => p.name).join("_");
}

/** `grad(f)`'s own suffix: none for parameter 0 when it is the only one, else its name. */
function wrtSuffix(ir: IrFunction, wrt: readonly number[], nUser: number): string {
  return suffix(ir, ir.params.map((_, i) => wrt.includes(i)), nUser);
}

/**
 * The names a job's generated functions would have if free: a split pair is `[fwd, rev]`, a
 * record block `[vjp, fwd, rev]`, every other job one name. `captured`: the closure's captured
 * locals, trailing parameters that are never differentiated.
 */
export function jobBases(job: Job, base: string, ir: IrFunction, captured: number): string[] {
  const nUser = job.kind === "primal" ? 0 : ir.params.length - captured;
  switch (job.kind) {
    case "primal":
      // A function adc made (a tangent function), printed itself. Its IR may still be in the
      // making when a recursive callee asks for its name.
      return [base];
    case "jvp":
      return [`${base}_jvp${suffix(ir, job.mask, nUser)}`];
    case "split": {
      const sfx = suffix(ir, job.mask, nUser);
      return [`${base}_fwd${sfx}`, `${base}_rev${sfx}`];
    }
    case "grad":
    case "valueAndGrad": {
      const natural = job.wrt!.every((k, i) => i === 0 || k > job.wrt![i - 1]) && ir.params.every((p, i) => i >= nUser || !isDiffTy(p.ty) || job.mask[i]);
      // A list of one (`grad(f, [0])`) returns a one-element tuple, as JAX does: its own function.
      const sfx = natural && !job.tuple ? "" : "_" + job.wrt!.map((k) => ir.params[k].name).join("_");
      return [`${base}_${job.kind}${sfx}${job.tuple ? "_tuple" : ""}`];
    }
    case "vjp":
      return [`${base}_vjp${suffix(ir, job.mask, nUser)}`];
    case "block":
      return [`${base}_vjp`, `${base}_fwd`, `${base}_rev`];
    case "jvpPair":
      return [`${base}_jvpPair${suffix(ir, job.mask, nUser)}`];
    case "jvpLanes":
      return [`${base}_jvp${suffix(ir, job.mask, nUser)}_lanes`];
    case "hessian":
    case "jacfwd":
    case "jacrev": {
      // The order of argnums is the order of the results (columns): `[1, 0]` is a job of its own.
      const ordered = !job.wrt || job.wrt.every((k, i) => i === 0 || k > job.wrt![i - 1]);
      const sfx = ordered ? suffix(ir, job.mask, nUser) : "_" + job.wrt!.map((k) => ir.params[k].name).join("_");
      return [`${base}_${job.kind}${sfx}${job.tuple ? "_tuple" : ""}${job.into ? "_into" : ""}`];
    }
    case "gradJvpPair":
      return [`${base}_grad${wrtSuffix(ir, job.wrt!, nUser)}_jvpPair`];
    case "gradVjp":
      return [`${base}_grad${wrtSuffix(ir, job.wrt!, nUser)}_vjp`];
  }
}
