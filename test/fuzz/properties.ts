/**
 * The properties every generated program must have, checked in batches.
 *
 * `ProgramChecker.check(sources)` takes module texts (from generator.ts) and returns, per
 * program, the failures found:
 * - "crash": the compiler threw something other than a diagnostic;
 * - "diagnostic": the compiler refused a program in its language (unless the refusal is listed
 *   in ACCEPTED_REFUSALS with the reason it is deliberate; the program then counts as refused);
 * - "nondeterministic": compiling the same build again (files in the other order) changed a byte;
 * - "emit": the generated code does not bundle (a syntax error, a missing import);
 * - "typecheck": the generated TypeScript has a type error under `strict`;
 * - "runtime": the generated code threw while the probe ran;
 * - "numeric": checkProbe (test/helpers/check.ts) found a derivative that disagrees with finite
 *   differences, with the other mode, with grad per parameter, or a wrong valueAndGrad value;
 *   with `order: 2`, checkSecondOrder (test/helpers/check2.ts) a second derivative that disagrees
 *   with finite differences of the gradient or with another second-order mode;
 * - "tape": after the derivatives of a function ran, the runtime's tape was not back where it
 *   started (pushes and pops must balance in every call, docs/design.md);
 * - "generator": the input itself is not a valid program (a bug in the generator, not adc);
 * - "hang": checking the program did not finish (reported by scripts/fuzz.ts, which runs the
 *   checks in child processes with a time limit).
 *
 * Each program is compiled with the probe appended (test/helpers/probe.ts), as fixtures are.
 * A batch is compiled as one build of several modules (one per program) and bundled into one
 * module, which is what makes hundreds of programs a minute possible. The programs of a bundle
 * share one runtime: the tape is checked empty after each function and reset after a throw, so
 * one program cannot disturb the next. Whenever a batch fails as a whole (a throw, a
 * diagnostic, a bundling error), the culprits are found by compiling or bundling them one at a
 * time, so every failure is attributed to the program that caused it. The input programs are
 * type-checked too: an error there is the generator's, not adc's.
 *
 * Files: the programs live in a fresh directory under the OS temp dir (esbuild resolves imports
 * on disk); `dispose()` removes it, and the bundles test/helpers/load.ts wrote for it.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Project } from "ts-morph";
import { ts } from "ts-morph";
import { compileFiles, formatDiagnostic, type Diagnostic } from "../../compiler/index.js";
import { createProject } from "../../compiler/program.js";
import { checkProbe } from "../helpers/check.js";
import { checkSecondOrder } from "../helpers/check2.js";
import { load, type Loaded } from "../helpers/load.js";
import { flat, randomValues } from "../helpers/numeric.js";
import { probeSpecs, probeText, type ProbeFn } from "../helpers/probe.js";

export type FailureKind = "generator" | "crash" | "diagnostic" | "nondeterministic" | "emit" | "typecheck" | "runtime" | "numeric" | "tape" | "hang";

export interface Failure {
  readonly kind: FailureKind;
  readonly message: string;
}

export interface ProgramReport {
  readonly failures: Failure[];
  /** Set when the compiler refused the program for a reason listed in ACCEPTED_REFUSALS. */
  refused?: string;
  /** Whether every checked function gave finite values at the first sample point. */
  finite: boolean;
}

/**
 * Refusals of generated programs that are deliberate (each with the reason). A diagnostic not
 * listed here, on a program the generator produced, is a failure.
 */
export const ACCEPTED_REFUSALS: readonly { readonly code: string; readonly message: RegExp; readonly why: string }[] = [
  {
    code: "ADC1018",
    // Only for a named array. The same refusal of a write into a temporary (an array literal
    // `f([x, x])` or a copy `f([...a])`, reported as 'Array.from(a)') is not accepted: the
    // temporary's writes are invisible after the call, and its hint does not apply.
    message: /writes into the differentiated array '[A-Za-z_$][\w$]*' here/,
    why:
      "a callee that writes a differentiated array, called where the derivative of the write cannot be placed " +
      "(a loop condition, the right operand of && or ||): adc refuses it and asks for the call in a statement " +
      "of its own (fixtures/errors/mutating-call-in-condition); the generator writes such calls",
  },
  {
    code: "ADC1024",
    message: /the loop body assigns a new array to '[^']*', which for\.\.\.of is iterating/,
    why:
      "for...of keeps iterating the array it started with when the body assigns a new one to the variable " +
      "(fixtures/errors/for-of-reassigned-array); adc refuses it and suggests iterating a copy or an index loop",
  },
  {
    code: "ADC1024",
    message: /the callback assigns a new array to '[^']*', which (forEach|map|reduce) is iterating/,
    why:
      "the same for forEach, map and reduce whose callback assigns a new array to the variable they iterate " +
      "(fixtures/errors/foreach-reassigned-array)",
  },
];

export interface CheckOptions {
  /** Sample points per function for checkProbe (default 3). */
  readonly points?: number;
  /** Compile each batch a second time and compare the bytes (default true). */
  readonly determinism?: boolean;
  /** Type-check the generated code (default true). */
  readonly typecheck?: boolean;
  /** Run the numeric checks (default true). */
  readonly numeric?: boolean;
  /**
   * Derivative order to check: 2 also asks for the second derivatives of every function returning
   * a number (test/helpers/check2.ts) and accepts their refusals (ADC1026, default 1).
   */
  readonly order?: number;
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bundleDir = resolve(root, ".vitest-tmp", "bundles");

/** A stable 31-bit hash of a text (the numeric check's seed for a program). */
export function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % 0x7fffffff;
}

function message(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}${e.stack ? "\n" + e.stack.split("\n").slice(1, 6).join("\n") : ""}`;
  return String(e);
}

interface Slot {
  readonly index: number;
  readonly path: string;
  readonly source: string;
  /** The program with its probe (probed again to first order when its second order is refused). */
  text: string;
  specs: ProbeFn[];
  readonly report: ProgramReport;
  output?: string;
}

/** The runtime tape's lane tops (runtime/tape.ts). */
interface TapeView {
  fTop: number;
  iTop: number;
  bTop: number;
  oTop: number;
  o: unknown[];
}

/** What is left on the tape, or "" if it is empty. */
function tapeLevels(t: TapeView): string {
  const parts = (["f", "i", "b", "o"] as const).map((k) => [k, t[`${k}Top`]] as const).filter(([, n]) => n !== 0);
  return parts.map(([k, n]) => `${n} ${k}`).join(", ");
}

/** Empties the tape (after a throw, or before the next function). */
function clearTape(t: TapeView): void {
  t.fTop = t.iTop = t.bTop = t.oTop = 0;
  t.o.length = 0;
}

export class ProgramChecker {
  private readonly dir: string;
  private tcProject: Project | undefined;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), "adc-fuzz-"));
  }

  /** Checks a batch of programs; one report per source, in order. */
  async check(sources: readonly string[], opts: CheckOptions = {}): Promise<ProgramReport[]> {
    const slots: Slot[] = sources.map((source, index) => {
      const path = join(this.dir, `p${index}.ts`);
      const report: ProgramReport = { failures: [], finite: true };
      let specs: ProbeFn[] = [];
      let text = source;
      try {
        specs = probeSpecs(source, path, opts.order ?? 1);
        text = probeText(source, specs);
      } catch (e) {
        report.failures.push({ kind: "generator", message: `the probe cannot read the program: ${message(e)}` });
      }
      if (!specs.length && !report.failures.length) report.failures.push({ kind: "generator", message: "no exported function to check" });
      writeFileSync(path, text);
      return { index, path, source, text, specs, report };
    });
    const order = opts.order ?? 1;
    const compiled = this.compile(slots.filter((s) => !s.report.failures.length), order);
    // A program whose only refusals are of its second derivatives (ADC1026) is still checked to
    // first order, probed again without them.
    const firstOrder = order >= 2 ? slots.filter((s) => s.report.refused && s.report.refused.split("\n").every((l) => l.includes("error ADC1026"))) : [];
    for (const s of firstOrder) {
      s.report.refused = undefined;
      s.specs = probeSpecs(s.source, s.path, 1);
      s.text = probeText(s.source, s.specs);
      writeFileSync(s.path, s.text);
    }
    if (firstOrder.length) compiled.push(...this.compile(firstOrder, 1));
    if (opts.determinism ?? true) this.determinism(compiled);
    if (opts.typecheck ?? true) this.typecheck(compiled, slots);
    // Code with a type error still runs: its numbers are checked too.
    if (opts.numeric ?? true) await this.numeric(compiled, opts.points ?? 3);
    return slots.map((s) => s.report);
  }

  /** Removes the programs' directory and the bundles made from them. */
  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  // ---- compile ------------------------------------------------------------------------------

  private build(slots: readonly Slot[]): { outputs: Map<string, string>; diagnostics: readonly Diagnostic[] } {
    const r = compileFiles(slots.map((s) => s.path), new Map(slots.map((s) => [s.path, s.text])));
    return { outputs: new Map([...r.outputs].map(([f, o]) => [f, o.code])), diagnostics: r.diagnostics };
  }

  /** Compiles the batch; returns the slots that compiled, with their output set. */
  private compile(slots: Slot[], order: number): Slot[] {
    let live = slots;
    for (let round = 0; live.length && round < 4; round++) {
      let r: ReturnType<ProgramChecker["build"]>;
      try {
        r = this.build(live);
      } catch {
        // Find the programs that make the compiler throw, one at a time.
        for (const s of live) {
          try {
            this.build([s]);
          } catch (e) {
            s.report.failures.push({ kind: "crash", message: `the compiler threw: ${message(e)}` });
          }
        }
        live = live.filter((s) => !s.report.failures.length);
        continue;
      }
      if (!r.diagnostics.length) {
        for (const s of live) s.output = r.outputs.get(s.path);
        return live.filter((s) => {
          if (s.output === undefined) s.report.failures.push({ kind: "crash", message: "the compiler returned no output for the program" });
          return s.output !== undefined;
        });
      }
      const byFile = new Map<string, Diagnostic[]>();
      for (const d of r.diagnostics) byFile.set(resolve(d.file), [...(byFile.get(resolve(d.file)) ?? []), d]);
      for (const s of live) {
        const ds = byFile.get(s.path);
        if (!ds) continue;
        const text = ds.map((d) => formatDiagnostic({ ...d, file: "input.ts" }));
        const accepted = ds.every((d) => ACCEPTED_REFUSALS.some((a) => a.code === d.code && a.message.test(d.message)) || (d.code === "ADC1026" && order >= 2));
        if (accepted) s.report.refused = text.join("\n");
        else s.report.failures.push({ kind: "diagnostic", message: `adc refused a program in its language:\n${text.join("\n")}` });
      }
      const before = live.length;
      live = live.filter((s) => !s.report.failures.length && !s.report.refused);
      // A diagnostic in a file outside the batch: attribute by compiling one at a time.
      if (live.length === before) {
        for (const s of live) {
          try {
            const one = this.build([s]);
            if (one.diagnostics.length) s.report.failures.push({ kind: "diagnostic", message: one.diagnostics.map(formatDiagnostic).join("\n") });
          } catch (e) {
            s.report.failures.push({ kind: "crash", message: `the compiler threw: ${message(e)}` });
          }
        }
        live = live.filter((s) => !s.report.failures.length);
      }
    }
    return live;
  }

  /** The same build again, files in the other order: every output byte-identical. */
  private determinism(slots: readonly Slot[]): void {
    if (!slots.length) return;
    let again: Map<string, string>;
    try {
      again = this.build([...slots].reverse()).outputs;
    } catch (e) {
      for (const s of slots) s.report.failures.push({ kind: "nondeterministic", message: `the second compile threw: ${message(e)}` });
      return;
    }
    for (const s of slots) {
      const b = again.get(s.path);
      if (b === s.output) continue;
      const lines1 = (s.output ?? "").split("\n");
      const lines2 = (b ?? "").split("\n");
      const at = lines1.findIndex((l, i) => l !== lines2[i]);
      s.report.failures.push({ kind: "nondeterministic", message: `compiling twice gave different output; first difference at line ${at + 1}:\n- ${lines1[at]}\n+ ${lines2[at]}` });
    }
  }

  // ---- type check ---------------------------------------------------------------------------

  /**
   * Type-checks the inputs (a type error there is the generator's) and the generated code under
   * the compiler's own settings (strict), all programs of the batch in one TypeScript program.
   */
  private typecheck(live: readonly Slot[], all: readonly Slot[]): void {
    const project = (this.tcProject ??= createProject());
    const dir = join(this.dir, "tc");
    for (const sf of project.getSourceFiles()) if (sf.getFilePath().startsWith(dir)) project.removeSourceFile(sf);
    const files: [Slot, "in" | "out", ts.SourceFile][] = [];
    for (const s of all) {
      if (s.report.failures.some((f) => f.kind === "generator")) continue;
      files.push([s, "in", project.createSourceFile(join(dir, `in${s.index}.ts`), s.text, { overwrite: true }).compilerNode]);
    }
    for (const s of live) files.push([s, "out", project.createSourceFile(join(dir, `out${s.index}.ts`), s.output!, { overwrite: true }).compilerNode]);
    const program = project.getProgram().compilerObject;
    for (const [s, which, sf0] of files) {
      const sf = program.getSourceFile(sf0.fileName) ?? sf0;
      const ds = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
      if (!ds.length) continue;
      const text = ds.slice(0, 5).map((d) => {
        const { line, character } = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : { line: 0, character: 0 };
        const src = d.file && d.start !== undefined ? d.file.text.split("\n")[line]?.trim() : "";
        return `(${line + 1},${character + 1}): TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}\n    ${src}`;
      });
      if (which === "in") s.report.failures.push({ kind: "generator", message: `the generated input does not type-check:\n${text.join("\n")}` });
      else s.report.failures.push({ kind: "typecheck", message: `the generated code does not type-check under strict:\n${text.join("\n")}` });
    }
  }

  // ---- numbers ------------------------------------------------------------------------------

  private async numeric(slots: readonly Slot[], points: number): Promise<void> {
    if (!slots.length) return;
    const mods = await this.loadAll(slots);
    for (const s of slots) {
      const loaded = mods.get(s);
      if (!loaded) continue;
      const { mod, tape } = loaded;
      const seed = hash(s.source);
      s.specs.forEach((spec, i) => {
        clearTape(tape);
        try {
          s.report.finite &&= this.finiteAt(mod, spec, seed + i);
          for (const m of checkProbe(mod, spec, seed + i, points)) s.report.failures.push({ kind: "numeric", message: m });
          if (spec.order >= 2) for (const m of checkSecondOrder(mod, spec, seed + i, points)) s.report.failures.push({ kind: "numeric", message: `second order: ${m}` });
          const left = tapeLevels(tape);
          if (left) s.report.failures.push({ kind: "tape", message: `${spec.name}: the tape is not balanced after its derivatives ran (${left} left on it)` });
        } catch (e) {
          s.report.failures.push({ kind: "runtime", message: `${spec.name}: the generated code threw: ${message(e)}` });
        }
      });
      clearTape(tape);
    }
  }

  /**
   * Bundles and imports the batch as one module; a program that breaks bundling is found alone.
   * Each program comes with the tape of the runtime it runs on (shared by the bundle).
   */
  private async loadAll(slots: readonly Slot[]): Promise<Map<Slot, { mod: Loaded; tape: TapeView }>> {
    const out = new Map<Slot, { mod: Loaded; tape: TapeView }>();
    const entry = join(this.dir, "entry.ts");
    const importAll = async (group: readonly Slot[]): Promise<void> => {
      const text = ['export { tape as __tape } from "adc/runtime";', ...group.map((s) => `export * as p${s.index} from "./p${s.index}.ts";`)].join("\n") + "\n";
      const before = this.bundles();
      try {
        const mod = await load(text, entry, new Map(group.map((s) => [s.path, s.output!])));
        for (const s of group) out.set(s, { mod: mod[`p${s.index}`], tape: mod.__tape });
      } finally {
        this.removeNewBundles(before);
      }
    };
    try {
      await importAll(slots);
    } catch {
      for (const s of slots) {
        try {
          await importAll([s]);
        } catch (e) {
          s.report.failures.push({ kind: "emit", message: `the generated code does not bundle: ${message(e)}` });
        }
      }
    }
    return out;
  }

  /** Whether the function is finite at its first sample point (as checkProbe builds arguments). */
  private finiteAt(mod: Loaded, spec: ProbeFn, seed: number): boolean {
    const probe = mod[`__probe_${spec.name}`];
    const kinds = spec.params.map((p) => p.kind);
    const [args] = randomValues(kinds, spec.domain, seed, 1);
    const np = mod.__np;
    const values = args.map((a, i) => {
      const k = kinds[i];
      if (k.k === "nd") return np.reshape(np.array(Array.from(a as Float64Array)), k.shape);
      return typeof a === "number" ? a : a.slice();
    });
    return flat(probe.primal(...values)).every(Number.isFinite);
  }

  private bundles(): Set<string> {
    return new Set(existsSync(bundleDir) ? readdirSync(bundleDir) : []);
  }

  /** Deletes the bundles load() wrote for this checker's programs (they name its directory). */
  private removeNewBundles(before: Set<string>): void {
    if (!existsSync(bundleDir)) return;
    const mark = this.dir.split("/").pop()!;
    for (const f of readdirSync(bundleDir)) {
      if (before.has(f)) continue;
      const p = join(bundleDir, f);
      try {
        if (readFileSync(p, "utf8").includes(mark)) unlinkSync(p);
      } catch {
        // Another process removed it first.
      }
    }
  }
}
