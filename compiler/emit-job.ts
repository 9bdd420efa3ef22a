/**
 * Emitting one job (jobs.ts): the mode's emitter for the prepared function, asking for the other
 * jobs it calls (a vjp calls its split pair, a Jacobian its jvp or split pair, a Hessian the
 * gradient of the tangent function).
 */
import type { Prepared, Specializer } from "./diff/prepare.js";
import { joinGenerated, type Generated } from "./emit/code.js";
import { emitBlockVjp, emitFused, emitJvp, emitJvpPair, emitSplit, emitVjp } from "./emit/functions.js";
import { emitGradJvpPair, emitGradVjp, emitHessian } from "./emit/higher.js";
import { emitJacfwd, emitJacfwdDirect, emitJacfwdInto, emitJacobianInto, emitJacrev, emitJacrevFused, jacobianResultTy } from "./emit/jacobian.js";
import type { Job } from "./jobs.js";
import type { IrFunction } from "./ir/ir.js";
import { emitJacfwdLanes, emitJvpLanes, laneFunction, lanesFor } from "./emit/jacfwd-lanes.js";
import type { FnInfo } from "./tangents.js";

export interface JobContext {
  /** The job's generated names, queued the first time. */
  enqueue(job: Job): string[];
  fn(key: string): FnInfo;
  specializer(): Specializer;
  /** Whether the function's result carries a derivative for the job's active set. */
  resultActive(): boolean;
  /** The parameters the function writes into. */
  readonly written: ReadonlySet<number>;
}

export function emitJob(job: Job, f: FnInfo, p: Prepared, ctx: JobContext): Generated {
  const names = ctx.enqueue(job);
  const name = names[0];
  const captured = f.captures?.length ?? 0;
  const ir = f.ir!;
  switch (job.kind) {
    case "jvp":
      return emitJvp(p, ctx.specializer(), name);
    case "split":
      return emitSplit(p, ctx.specializer(), { fwd: names[0], rev: names[1] }, ctx.resultActive());
    case "grad":
    case "valueAndGrad":
      return emitFused(p, ctx.specializer(), name, job.wrt!.map((k) => ir.params[k]), job.kind === "valueAndGrad", !!job.tuple);
    case "vjp": {
      const [fwd, rev] = ctx.enqueue({ kind: "split", key: job.key, mask: job.mask });
      return emitVjp(p, { fwd, rev, vjp: name }, ctx.resultActive(), ctx.written, captured);
    }
    case "block": {
      const [, fwd, rev] = names;
      return joinGenerated([emitSplit(p, ctx.specializer(), { fwd, rev }, false), emitBlockVjp(p, { fwd, rev, vjp: name })]);
    }
    case "jvpPair": {
      const [jvp] = ctx.enqueue({ kind: "jvp", key: job.key, mask: job.mask });
      return emitJvpPair(p, { jvp, pair: name }, ctx.written, captured);
    }
    case "jacrev": {
      // Fused sweeps per row unless f writes its arguments (then through vjp's copies).
      // (NDArray Jacobians go through f_vjp and the runtime, runtime/jacobian.ts.)
      const nd = ndJacobian(job, ir);
      if (!nd && !ctx.written.size && ctx.resultActive()) return emitJacrevFused(p, ctx.specializer(), job.wrt!, !!job.tuple, name, !!job.into);
      if (job.into) return emitJacobianInto(ir, job.wrt!, { into: name, jac: ctx.enqueue({ kind: "jacrev", key: job.key, mask: job.mask, wrt: job.wrt, tuple: true })[0] });
      const [vjp] = ctx.enqueue({ kind: "vjp", key: job.key, mask: job.mask });
      return emitJacrev(ir, job.wrt!, !!job.tuple, { jac: name, vjp });
    }
    case "jvpLanes":
      return emitJvpLanes(p, ctx.specializer(), name);
    case "jacfwd": {
      // All directions LANES at a time where f_jvp splits into lanes (jacfwd-lanes.ts).
      const nd = ndJacobian(job, ir);
      if (!nd && !ctx.written.size && laneFunction(p, ctx.specializer(), name)) {
        const [lanes] = ctx.enqueue({ kind: "jvpLanes", key: job.key, mask: job.mask });
        return emitJacfwdLanes(ir, job.wrt!, !!job.tuple, !!job.into, lanesFor(p.activeParams), { jac: name, lanes }, jacobianResultTy(ir, job.wrt!, !!job.tuple));
      }
      if (!nd && !ctx.written.size) {
        const [jvp] = ctx.enqueue({ kind: "jvp", key: job.key, mask: job.mask });
        if (job.into) return emitJacfwdInto(ir, job.wrt!, { jac: name, jvp });
        return emitJacfwdDirect(ir, job.wrt!, !!job.tuple, { jac: name, jvp });
      }
      if (job.into) return emitJacobianInto(ir, job.wrt!, { into: name, jac: ctx.enqueue({ kind: "jacfwd", key: job.key, mask: job.mask, wrt: job.wrt, tuple: true })[0] });
      const [pair] = ctx.enqueue({ kind: "jvpPair", key: job.key, mask: job.mask });
      return emitJacfwd(ir, job.wrt!, !!job.tuple, { jac: name, pair }, captured, ctx.written);
    }
    case "hessian":
    case "gradJvpPair":
    case "gradVjp":
      return emitOfGrad(job, f, name, ctx);
    case "primal":
      throw new Error("a primal job is printed, not emitted");
  }
}

/** A Jacobian with an NDArray on either side (made by the runtime from f_vjp or f_jvpPair). */
function ndJacobian(job: Job, ir: IrFunction): boolean {
  return ir.ret.k === "nd" || job.wrt!.some((k) => ir.params[k].ty.k === "nd");
}

/**
 * The entry points of tangents.ts's second derivatives: grad(f) itself, and gradients of the
 * directed tangent function T(f), whose parameters are f's with a direction after each directed one.
 */
function emitOfGrad(job: Job, f: FnInfo, name: string, ctx: JobContext): Generated {
  const i = job.wrt![0];
  const ir = f.ir!;
  const t = ctx.fn(job.tangent!);
  const directed = new Set(ir.params.flatMap((_, k) => ((job.kind === "gradJvpPair" ? job.mask[k] : k === i) ? [k] : [])));
  // Where parameter k of f sits among T(f)'s parameters.
  const at = (k: number): number => k + [...directed].filter((d) => d < k).length;
  const gradOfT = (wrt: number[], tuple = false): string => ctx.enqueue({ kind: "grad", key: job.tangent!, mask: t.ir!.params.map((_, k) => wrt.includes(k)), wrt, tuple })[0];
  const grad = (): string => ctx.enqueue({ kind: "grad", key: job.key, mask: ir.params.map((_, k) => k === i), wrt: [i] })[0];
  const captured = f.captures?.length ?? 0;
  if (job.kind === "hessian") return emitHessian(ir, i, { hessian: name, hvp: gradOfT([at(i)]) }, ctx.written);
  if (job.kind === "gradJvpPair") return emitGradJvpPair(ir, i, directed, { pair: name, grad: grad(), hvp: gradOfT([at(i)]) }, captured, ctx.written);
  const wrt = ir.params.flatMap((_, k) => (job.mask[k] ? [k] : []));
  return emitGradVjp(ir, i, wrt, { vjp: name, grad: grad(), hvp: gradOfT(wrt.map(at), wrt.length > 1) }, captured, ctx.written);
}
