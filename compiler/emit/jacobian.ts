/**
 * Jacobian entry points (JAX's jacrev and jacfwd), a few calls of generated functions:
 *   f_jacrev   per output entry the fused reverse sweep, seeded with that entry's unit
 *              cotangent, after one forward sweep shared by all when the sweeps record nothing,
 *              else after a forward sweep of its own (direct); for an f that writes its
 *              arguments, f_vjp once and its pullback once per entry
 *   f_jacfwd   f_jvp once per input entry, along each unit direction, straight into the rows
 *              (direct); for an f that writes its arguments, f_jvpPair on copies of the arrays
 *              it writes but the last time (the caller's arrays end as one run leaves them)
 * The runtime (runtime/jacobian.ts) lays the results out as rows of the output entries, each
 * shaped like the input.
 */
import { emitAdjoint } from "../diff/reverse/index.js";
import type { Prepared, Specializer } from "../diff/prepare.js";
import { barInPlace, type IrFunction, type Param, type Stmt } from "../ir/ir.js";
import { forEachExpr, forEachStmt, stmtExprs } from "../ir/walk.js";
import { printExpr, printTy } from "../ir/print.js";
import { printStmts } from "../ir/print-stmt.js";
import { Code, generated, type Generated } from "./code.js";
import { gradText, paramList, sweep, tapeLocals, withLocalTape } from "./functions.js";
import { intoBuffer, sumText } from "./buffer-rows.js";
import { seedRow } from "./row-seed.js";
import { Namer, RT } from "./names.js";

/** The type of f's Jacobian with respect to parameter `x` (runtime/api.ts, JacobianOf). */
function jacobianTy(fn: IrFunction, x: Param): string {
  // With an NDArray on either side: one NDArray, output shape ++ argument shape.
  if (fn.ret.k === "nd" || x.ty.k === "nd") return printTy({ k: "nd" });
  const out = printTy(fn.ret);
  const row = printTy(x.ty);
  if (fn.ret.k === "num") return row;
  return x.ty.k === "num" ? out : `${row}[]`;
}

/** One Jacobian, or a tuple of them (argnums written as a list). */
export function jacobianResultTy(fn: IrFunction, wrt: readonly number[], tuple: boolean): string {
  return tuple ? `[${wrt.map((i) => jacobianTy(fn, fn.params[i])).join(", ")}]` : jacobianTy(fn, fn.params[wrt[0]]);
}

export function emitJacrev(fn: IrFunction, wrt: readonly number[], tuple: boolean, names: { jac: string; vjp: string }): Generated {
  const ty = jacobianResultTy(fn, wrt, tuple);
  const args = fn.params.map((q) => q.name).join(", ");
  const c = new Code().at(fn.pos.start);
  c.open(`export function ${names.jac}(${paramList(fn.params)}): ${ty}`);
  const k = tuple ? `[${wrt.join(", ")}]` : String(wrt[0]);
  c.line(`return ${RT}.jacobianRows(${names.vjp}(${args}), ${k}, [${args}]) as ${ty};`);
  c.close();
  return generated(c);
}

export function emitJacfwd(fn: IrFunction, wrt: readonly number[], tuple: boolean, names: { jac: string; pair: string }, captured: number, written: ReadonlySet<number>): Generated {
  const namer = new Namer(fn.reserved);
  const t = namer.fresh("t", false);
  const last = namer.fresh("last", false);
  const user = fn.params.slice(0, fn.params.length - captured);
  const closed = fn.params.slice(user.length);
  const ty = jacobianResultTy(fn, wrt, tuple);
  const extra = closed.map((q) => `, ${q.name}`).join("");
  // Arrays f writes: each column runs on copies, the very last on the caller's (runtime/jacobian.ts).
  const columns = (i: number, final: boolean): string => {
    const x = fn.params[i];
    const primals = `[${user.map((q, k) => (written.has(k) ? (final ? `${last} ? ${q.name} : ${RT}.copyArrays(${q.name})` : `${RT}.copyArrays(${q.name})`) : q.name)).join(", ")}]`;
    const tangents = `[${user.map((_, k) => (k === i ? t : zeros.get(k) ?? "undefined")).join(", ")}]`;
    return `${RT}.jacobianColumns((${t}: ${printTy(x.ty)}, ${last}: boolean) => ${names.pair}(${primals}, ${tangents}${extra}), ${x.name})`;
  };
  const c = new Code().at(fn.pos.start);
  c.open(`export function ${names.jac}(${paramList(fn.params)}): ${ty}`);
  // With several arguments, the others' tangents are zero while one's columns are made.
  const zeros = new Map<number, string>();
  for (const k of tuple ? wrt : []) {
    const q = fn.params[k];
    if (q.ty.k === "num") zeros.set(k, "0");
    else {
      const z = namer.fresh(`${q.name}_zero`, false);
      c.line(`const ${z} = ${RT}.${q.ty.k === "nd" ? "ndZerosLike" : "zerosLike"}(${q.name});`);
      zeros.set(k, z);
    }
  }
  if (!tuple) c.line(`return ${columns(wrt[0], true)} as ${ty};`);
  else c.line(`return [${wrt.map((i, n) => columns(i, n === wrt.length - 1)).join(", ")}] as ${ty};`);
  c.close();
  return generated(c);
}

/**
 * jacfwd for an f that writes none of its arguments: f_jvp called directly, one unit tangent
 * at a time, its tangent written straight into the rows (no tuples, closures or copies of the
 * arguments per column).
 */
export function emitJacfwdDirect(fn: IrFunction, wrt: readonly number[], tuple: boolean, names: { jac: string; jvp: string }): Generated {
  const namer = new Namer(fn.reserved);
  const ty = jacobianResultTy(fn, wrt, tuple);
  const dots = new Map(wrt.map((k) => [k, namer.fresh(`${fn.params[k].name}_dot`, false)]));
  const args = fn.params.flatMap((q, k) => (dots.has(k) ? [q.name, dots.get(k)!] : [q.name])).join(", ");
  const outTy = printTy(fn.ret);
  const lane = fn.ret.k === "num" ? `${RT}.retF[0]` : `(${RT}.retO[0] as ${outTy})`;
  const c = new Code().at(fn.pos.start);
  c.open(`export function ${names.jac}(${paramList(fn.params)}): ${ty}`);
  for (const k of wrt) {
    const q = fn.params[k];
    c.line(q.ty.k === "num" ? `let ${dots.get(k)} = 0;` : `const ${dots.get(k)} = ${RT}.zerosLike(${q.name});`);
  }
  const results: string[] = [];
  for (const k of wrt) {
    const q = fn.params[k];
    const dot = dots.get(k)!;
    const jac = namer.fresh(`J_${q.name}`, false);
    results.push(jac);
    const jty = jacobianTy(fn, q);
    if (q.ty.k === "num") {
      // One column: the tangent itself, in the output's shape.
      c.line(`${dot} = 1;`);
      c.line(`${names.jvp}(${args});`);
      c.line(`const ${jac}: ${jty} = ${fn.ret.k === "num" ? lane : `${lane}.slice()`};`);
      c.line(`${dot} = 0;`);
      continue;
    }
    const row = q.ty.k === "arr" && q.ty.ctor === "Float64Array" ? (n: string) => `new Float64Array(${n})` : (n: string) => `new Array<number>(${n}).fill(0)`;
    const j = namer.fresh("j", false);
    if (fn.ret.k === "num") {
      // The gradient: one entry per column.
      c.line(`const ${jac}: ${jty} = ${row(`${q.name}.length`)};`);
      c.open(`for (let ${j} = 0; ${j} < ${q.name}.length; ${j}++)`);
      c.line(`${dot}[${j}] = 1;`);
      c.line(`${names.jvp}(${args});`);
      c.line(`${jac}[${j}] = ${lane};`);
      c.line(`${dot}[${j}] = 0;`);
      c.close();
      continue;
    }
    // Rows of the output's entries: column j of each is the tangent along e_j.
    const col = namer.fresh("col", false);
    const i = namer.fresh("i", false);
    c.line(`const ${jac}: ${jty} = [];`);
    c.open(`for (let ${j} = 0; ${j} < ${q.name}.length; ${j}++)`);
    c.line(`${dot}[${j}] = 1;`);
    c.line(`${names.jvp}(${args});`);
    c.line(`const ${col} = ${lane};`);
    c.line(`if (${j} === 0) for (let ${i} = 0; ${i} < ${col}.length; ${i}++) ${jac}.push(${row(`${q.name}.length`)});`);
    c.line(`for (let ${i} = 0; ${i} < ${col}.length; ${i}++) ${jac}[${i}][${j}] = ${col}[${i}];`);
    c.line(`${dot}[${j}] = 0;`);
    c.close();
    // No columns: the output's length from one evaluation.
    c.line(`if (${q.name}.length === 0) for (let ${i} = 0; ${i} < ${names.jvp}(${args}).length; ${i}++) ${jac}.push(${row("0")});`);
  }
  c.line(`return ${tuple ? `[${results.join(", ")}]` : results[0]};`);
  c.close();
  return generated(c);
}

/**
 * jacrevInto / jacfwdInto where the Jacobian comes from jacrev / jacfwd as a tuple (f writes its
 * arguments, or its value does not depend on them): copied into the caller's buffer.
 */
export function emitJacobianInto(fn: IrFunction, wrt: readonly number[], names: { into: string; jac: string }): Generated {
  const namer = new Namer(fn.reserved);
  const J = namer.fresh("J", false);
  const offset = namer.fresh("offset", false);
  const c = new Code().at(fn.pos.start);
  c.open(`export function ${names.into}(${J}: Float64Array, ${offset}: number, ${paramList(fn.params)}): Float64Array`);
  c.line(`return ${RT}.jacobianInto(${J}, ${offset}, ${names.jac}(${fn.params.map((q) => q.name).join(", ")}), [${wrt.map((k) => fn.params[k].name).join(", ")}]);`);
  c.close();
  return generated(c);
}

/**
 * jacfwdInto for an f that writes none of its arguments: f_jvp once per input entry, as in
 * emitJacfwdDirect, each tangent written into its column of the caller's buffer.
 */
export function emitJacfwdInto(fn: IrFunction, wrt: readonly number[], names: { jac: string; jvp: string }): Generated {
  const namer = new Namer(fn.reserved);
  const J = namer.fresh("J", false);
  const offset = namer.fresh("offset", false);
  const n = namer.fresh("n", false);
  const dots = new Map(wrt.map((k) => [k, namer.fresh(`${fn.params[k].name}_dot`, false)]));
  const args = fn.params.flatMap((q, k) => (dots.has(k) ? [q.name, dots.get(k)!] : [q.name])).join(", ");
  const numOut = fn.ret.k === "num";
  const lane = numOut ? `${RT}.retF[0]` : `(${RT}.retO[0] as ${printTy(fn.ret)})`;
  const widths = wrt.map((k) => (fn.params[k].ty.k === "num" ? 1 : `${fn.params[k].name}.length`));
  const c = new Code().at(fn.pos.start);
  c.open(`export function ${names.jac}(${J}: Float64Array, ${offset}: number, ${paramList(fn.params)}): Float64Array`);
  c.line(`const ${n} = ${sumText(widths)};`);
  if (numOut) c.line(`${RT}.jacobianSpace(${J}, ${offset}, 1, ${n});`);
  for (const k of wrt) {
    const q = fn.params[k];
    c.line(q.ty.k === "num" ? `let ${dots.get(k)} = 0;` : `const ${dots.get(k)} = ${RT}.zerosLike(${q.name});`);
  }
  const j = namer.fresh("j", false);
  const i = namer.fresh("i", false);
  wrt.forEach((k, t) => {
    const q = fn.params[k];
    const dot = dots.get(k)!;
    const col = namer.fresh("col", false);
    const first = sumText(widths.slice(0, t));
    const at = (e: string): string => (first === "0" ? `${offset} + ${e}` : `${offset} + ${first} + ${e}`);
    // Column `first + j` of every row: the tangent along e_j.
    const column = (jj: string): void => {
      c.line(`${names.jvp}(${args});`);
      if (numOut) {
        c.line(`${J}[${at(jj)}] = ${lane};`);
        return;
      }
      c.line(`const ${col} = ${lane};`);
      c.line(`${RT}.jacobianSpace(${J}, ${offset}, ${col}.length, ${n});`);
      c.line(`for (let ${i} = 0; ${i} < ${col}.length; ${i}++) ${J}[${at(`${i} * ${n} + ${jj}`)}] = ${col}[${i}];`);
    };
    if (q.ty.k === "num") {
      c.line(`${dot} = 1;`);
      column("0");
      c.line(`${dot} = 0;`);
      return;
    }
    c.open(`for (let ${j} = 0; ${j} < ${q.name}.length; ${j}++)`);
    c.line(`${dot}[${j}] = 1;`);
    column(j);
    c.line(`${dot}[${j}] = 0;`);
    c.close();
  });
  c.line(`return ${J};`);
  c.close();
  return generated(c);
}

/**
 * jacrev for an f that writes none of its arguments, in one function: per output entry, f's
 * reverse sweep seeded with that entry's unit cotangent, fused as in `f_grad` (values stay in
 * locals; the small functions f calls are inlined), the adjoint arrays becoming the rows. Where
 * the sweeps record nothing (straight-line code), one forward sweep serves every row; otherwise
 * each row runs its own, since the reverse sweep consumes the records and restores what it
 * overwrote (sharing would mean copying the tape and the arrays per row, as the vjp route does).
 *
 * `into` (jacrevInto): the rows go into the caller's buffer, m x n row-major from an offset, the
 * arguments' columns side by side; the array adjoints the sweep only indexes accumulate there
 * directly (buffer-rows.ts), so no row is allocated.
 */
export function emitJacrevFused(p: Prepared, spec: Specializer, wrt: readonly number[], tuple: boolean, name: string, into = false): Generated {
  const fn = p.fn;
  const namer = p.namer.clone();
  const numOut = fn.ret.k === "num";
  const ct = numOut ? "1" : namer.fresh("ct", false);
  const adj = emitAdjoint(p, spec, "fused", ct, namer, true);
  const qs = wrt.map((k) => fn.params[k]);
  const swept = sweep(name, p, adj, qs.filter((q) => barInPlace(q.ty)).map((q) => adj.bar(q.name)));
  const buffer = into ? intoBuffer(qs, adj, swept) : undefined;
  const i = adj.namer.fresh("i", false);
  const m = adj.namer.fresh("m", false);
  const seeded = numOut ? { stmts: buffer?.stmts ?? swept, usesCotangent: false } : seedRow(buffer?.stmts ?? swept, ct, i, (b) => adj.namer.fresh(b, false));
  const rev = seeded.stmts;
  const [fwdSweep, revSweep] = withLocalTape([adj.fwd, rev], tapeLocals(adj.namer));
  const out = adj.output ? printExpr(adj.output) : "";
  const c = new Code().at(fn.pos.start);
  if (buffer) {
    c.open(`export function ${name}(${buffer.J}: Float64Array, ${buffer.offset}: number, ${paramList(fn.params)}): Float64Array`);
    c.line(`const ${buffer.n} = ${buffer.width};`);
  } else c.open(`export function ${name}(${paramList(fn.params)}): ${jacobianResultTy(fn, wrt, tuple)}`);
  const grads = qs.map((q) => gradText(p, adj, q));
  const sweeps = (): void => {
    printStmts(adj.hoisted, c);
    c.line("// forward sweep");
    printStmts(fwdSweep, c);
  };
  const reverse = (i: string): void => {
    c.line("// reverse sweep");
    if (buffer) buffer.startRow(c, i);
    for (const q of qs) if (q.ty.k === "arr" && !buffer?.moved.has(adj.bar(q.name))) c.line(`const ${adj.bar(q.name)} = ${RT}.zerosLike(${q.name});`);
    printStmts(revSweep, c);
    if (buffer) buffer.endRow(c, grads);
  };
  if (numOut) {
    // One row: the gradient.
    if (buffer) c.line(`${RT}.jacobianSpace(${buffer.J}, ${buffer.offset}, 1, ${buffer.n});`);
    sweeps();
    reverse("0");
    c.line(`return ${buffer ? buffer.J : tuple ? `[${grads.join(", ")}]` : grads[0]};`);
    c.close();
    return generated(c);
  }
  const rows = new Map(wrt.map((k) => [k, adj.namer.fresh(`J_${fn.params[k].name}`, false)]));
  const isNum = (k: number): boolean => fn.params[k].ty.k === "num";
  // A number parameter's column has one entry per output entry, in the output's type.
  if (!buffer) for (const k of wrt) c.line(isNum(k) ? `let ${rows.get(k)}!: ${printTy(fn.ret)};` : `const ${rows.get(k)}: ${printTy(fn.params[k].ty)}[] = [];`);
  const columns = buffer ? [] : wrt.filter(isNum);
  // (Several number parameters: one statement each, all under the one test.)
  const zeroColumns = (): string => columns.map((k) => `${rows.get(k)} = ${RT}.zerosLike(${out});`).join(" ");
  const makeColumns = (): void => {
    if (columns.length) c.line(`if (${i} === 0) { ${zeroColumns()} }`);
  };
  const row = (guarded: boolean): void => {
    // One cotangent for all the rows, set to the next unit vector each time (the sweep may have
    // changed it).
    if (seeded.usesCotangent) {
      c.line(`if (${i} === 0) ${ct} = ${RT}.zerosLike(${out});`);
      c.line(`else ${ct}.fill(0);`);
      c.line(guarded ? `if (${i} < ${m}) ${ct}[${i}] = 1;` : `${ct}[${i}] = 1;`);
    }
    reverse(i);
  };
  const store = (): void => {
    if (!buffer) wrt.forEach((k, n) => c.line(isNum(k) ? `${rows.get(k)}[${i}] = ${grads[n]};` : `${rows.get(k)}.push(${grads[n]});`));
  };
  const space = (): void => {
    if (buffer) c.line(`${RT}.jacobianSpace(${buffer.J}, ${buffer.offset}, ${m}, ${buffer.n});`);
  };
  if (seeded.usesCotangent) c.line(`let ${ct}!: ${printTy(fn.ret)};`);
  if (replayable(adj.fwd, rev, new Set([...qs.map((q) => adj.bar(q.name)), ct]), buffer?.J)) {
    // Neither sweep records anything or calls another generated function, and the reverse
    // sweep writes only adjoints: it can run again after itself, on the one forward sweep.
    sweeps();
    c.line(`const ${m} = ${out}.length;`);
    space();
    c.open(`for (let ${i} = 0; ${i} < ${m}; ${i}++)`);
    makeColumns();
    row(false);
    store();
    c.close();
    if (columns.length) c.line(`if (${m} === 0) { ${zeroColumns()} }`);
  } else {
    // The output's length is known once f has run: one row per entry. (With no entries, the one
    // run's reverse sweep still runs, with a zero cotangent, to take its records off the tape.)
    // A number parameter the body assigns starts each run from the value passed: the reverse
    // sweep restores only what its own adjoints read.
    const assigned = new Set<string>();
    forEachStmt(adj.fwd, (s) => void (s.k === "assign" && s.target.k === "var" && assigned.add(s.target.name)));
    const passed = fn.params.filter((q) => q.ty.k === "num" && assigned.has(q.name)).map((q) => [q.name, adj.namer.fresh(`${q.name}_in`, false)] as const);
    for (const [q, v] of passed) c.line(`const ${v} = ${q};`);
    // Into a buffer, an output of no entries has no row to write: its records are dropped.
    const mark = buffer ? adj.namer.fresh("mark", false) : "";
    if (buffer) c.line(`const ${mark} = ${RT}.tape.mark();`);
    c.line(`let ${m} = 1;`);
    c.open(`for (let ${i} = 0; ${i} < ${m}; ${i}++)`);
    for (const [q, v] of passed) c.line(`${q} = ${v};`);
    sweeps();
    c.line(`${m} = ${out}.length;`);
    if (buffer) {
      c.open(`if (${m} === 0)`);
      c.line(`${RT}.tape.reset(${mark});`);
      c.line("break;");
      c.close();
      c.line(`if (${i} === 0) ${RT}.jacobianSpace(${buffer.J}, ${buffer.offset}, ${m}, ${buffer.n});`);
      row(false);
    } else {
      makeColumns();
      // (With no entries the run's cotangent stays zero.)
      row(true);
      c.open(`if (${i} < ${m})`);
      store();
      c.close();
    }
    c.close();
  }
  c.line(`return ${buffer ? buffer.J : tuple ? `[${wrt.map((k) => rows.get(k)).join(", ")}]` : rows.get(wrt[0])};`);
  c.close();
  return generated(c);
}

/** Runtime helpers a replayed reverse sweep may call: they allocate or add, and keep no state. */
const STATELESS = new Set(["zerosLike", "addInto"]);

/**
 * Whether the reverse sweep can run more than once after one forward sweep: nothing goes on or
 * comes off the tape (so no variable or element is restored: the reverse sweep's only writes are
 * to adjoints it declares), and no generated callee or other runtime helper is called.
 */
function replayable(fwd: readonly Stmt[], rev: readonly Stmt[], bars: ReadonlySet<string>, buffer?: string): boolean {
  let ok = true;
  for (const list of [fwd, rev])
    forEachStmt(list, (s) => {
      for (const e of stmtExprs(s))
        forEachExpr(e, (x) => {
          if (x.k !== "call") return;
          if (x.fn.k === "derived" || (x.fn.k === "rt" && !STATELESS.has(x.fn.name))) ok = false;
        });
    });
  // What the reverse sweep writes: its own declarations and the parameters' adjoints only (an
  // overwrite undone by its inverse, `i = i - 1`, would leave the next row a different state).
  // (The buffer of jacrevInto holds the rows: each row writes its own.)
  const own = new Set([...bars, ...(buffer ? [buffer] : [])]);
  forEachStmt(rev, (s) => {
    if (s.k === "let") own.add(s.name);
    if (s.k === "loop" && s.counter) own.add(s.counter.name);
  });
  forEachStmt(rev, (s) => {
    if (s.k === "assign" && !own.has(s.target.k === "var" ? s.target.name : s.target.arr)) ok = false;
  });
  return ok;
}
