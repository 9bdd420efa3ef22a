/**
 * Checks rendered shapes (shape-render.ts) in batches: compiles them as one build, bundles them
 * into one module, and runs each shape's properties (shape-checks.ts). A report's failures are:
 * - "generator": the rendered shape does not type-check under strict (a bug of the fuzzer, not adc);
 * - "crash": the compiler threw;
 * - "diagnostic": adc refused the shape, and neither the shape (`ShapeCase.accept`, e.g. a write
 *   into one array passed twice) nor the fuzzer (ACCEPTED_REFUSALS in properties.ts) accepts it;
 * - "emit": the generated code does not bundle;
 * - "runtime": the module threw while loading, or a derivative threw where no error is expected;
 * - "numeric": a property of the shape failed (its name is the failure's `property`);
 * - "tape": the runtime's tape was not empty after the shape's checks.
 *
 * A `Plant` breaks adc on purpose, for the teeth tests: text edits of runtime files (the bundle
 * gets the edited copy), an edit of the generated code, or a patch applied to the loaded bundle
 * (for example to a prototype) that `prepare` returns the undo of.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ts, type Project } from "ts-morph";
import { compileFiles, formatDiagnostic, type Diagnostic } from "../../compiler/index.js";
import { createProject } from "../../compiler/program.js";
import { load, type Loaded } from "../helpers/load.js";
import { ACCEPTED_REFUSALS, hash } from "./properties.js";
import { checkArgnums, checkPart, checkPullback, checkRecord, checkScope, checkTarget, checkTwice } from "./shape-checks.js";
import type { Ctx } from "./shape-values.js";
import type { ShapeCase, ShapeKind } from "./shapes.js";

export interface ShapeFailure {
  readonly kind: "generator" | "crash" | "diagnostic" | "emit" | "runtime" | "numeric" | "tape";
  readonly property: string;
  readonly message: string;
}

export interface ShapeReport {
  readonly kind: ShapeKind;
  readonly what: string;
  readonly failures: ShapeFailure[];
  /** The accepted refusal, when adc refused the shape and that is a right answer. */
  refused?: string;
  /** Comparisons that ran (shape-checks.ts `Ctx.checked`): 0 means the shape checked nothing. */
  checks: number;
}

export interface Plant {
  /** Edits of runtime source files (paths from the repository root, e.g. "runtime/pytree.ts"). */
  readonly runtime?: Readonly<Record<string, (text: string) => string>>;
  /** An edit of each module's generated code. */
  readonly output?: (code: string) => string;
  /** A patch of the loaded bundle (its runtime is exported as `__rt`); returns the undo. */
  readonly prepare?: (bundle: Loaded) => () => void;
}

export interface ShapeCheckOptions {
  /** Random points per function (default 2). */
  readonly points?: number;
  readonly plant?: Plant;
  /** Type-check the rendered shapes first (default true). */
  readonly typecheck?: boolean;
}

/** What a failure is, without numbers: the shape, the kind and the property. */
export function shapeSignature(kind: ShapeKind, f: ShapeFailure): string {
  return `${kind}:${f.kind}:${f.property}`;
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bundleDir = resolve(root, ".vitest-tmp", "bundles");

function message(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}${e.stack ? "\n" + e.stack.split("\n").slice(1, 4).join("\n") : ""}` : String(e);
}

interface Slot {
  readonly index: number;
  readonly path: string;
  readonly c: ShapeCase;
  readonly report: ShapeReport;
  output?: string;
}

export class ShapeChecker {
  private readonly dir = mkdtempSync(join(tmpdir(), "adc-shapes-"));
  private project: Project | undefined;

  async check(cases: readonly ShapeCase[], opts: ShapeCheckOptions = {}): Promise<ShapeReport[]> {
    const slots: Slot[] = cases.map((c, index) => {
      const path = join(this.dir, `p${index}.ts`);
      writeFileSync(path, c.source);
      return { index, path, c, report: { kind: c.kind, what: c.what, failures: [], checks: 0 } };
    });
    if (opts.typecheck ?? true) this.typecheck(slots);
    const live = this.compile(slots.filter((s) => !s.report.failures.length));
    if (opts.plant?.output) for (const s of live) s.output = opts.plant.output(s.output!);
    await this.run(live, opts);
    return slots.map((s) => s.report);
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The rendered modules must type-check (strict), all in one TypeScript program. */
  private typecheck(slots: readonly Slot[]): void {
    const project = (this.project ??= createProject());
    for (const sf of project.getSourceFiles()) project.removeSourceFile(sf);
    const files = slots.map((s) => [s, project.createSourceFile(join(this.dir, "tc", `p${s.index}.ts`), s.c.source, { overwrite: true }).compilerNode] as const);
    const program = project.getProgram().compilerObject;
    for (const [s, sf0] of files) {
      const sf = program.getSourceFile(sf0.fileName) ?? sf0;
      const ds = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
      if (!ds.length) continue;
      const text = ds.slice(0, 3).map((d) => {
        const { line } = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : { line: 0 };
        return `(${line + 1}): TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}\n    ${d.file?.text.split("\n")[line]?.trim() ?? ""}`;
      });
      s.report.failures.push({ kind: "generator", property: `TS${ds[0].code}`, message: `the rendered shape does not type-check:\n${text.join("\n")}` });
    }
  }

  private build(slots: readonly Slot[]): { outputs: Map<string, string>; diagnostics: readonly Diagnostic[] } {
    const r = compileFiles(slots.map((s) => s.path), new Map(slots.map((s) => [s.path, s.c.source])));
    return { outputs: new Map([...r.outputs].map(([f, o]) => [f, o.code])), diagnostics: r.diagnostics };
  }

  /** Compiles the batch; refusals are sorted into accepted and failures; returns what compiled. */
  private compile(slots: Slot[]): Slot[] {
    let live = slots;
    for (let round = 0; live.length && round < 4; round++) {
      let r: ReturnType<ShapeChecker["build"]>;
      try {
        r = this.build(live);
      } catch {
        for (const s of live) {
          try {
            this.build([s]);
          } catch (e) {
            s.report.failures.push({ kind: "crash", property: "compiler", message: `the compiler threw: ${message(e)}` });
          }
        }
        live = live.filter((s) => !s.report.failures.length);
        continue;
      }
      if (!r.diagnostics.length) {
        for (const s of live) s.output = r.outputs.get(s.path);
        return live.filter((s) => s.output !== undefined);
      }
      const byFile = new Map<string, Diagnostic[]>();
      for (const d of r.diagnostics) byFile.set(resolve(d.file), [...(byFile.get(resolve(d.file)) ?? []), d]);
      const before = live.length;
      for (const s of live) {
        const ds = byFile.get(s.path);
        if (!ds) continue;
        const text = ds.map((d) => formatDiagnostic({ ...d, file: "input.ts" })).join("\n");
        const ok = ds.every((d) => s.c.accept.some((a) => a.code === d.code && d.message.includes(a.message)) || ACCEPTED_REFUSALS.some((a) => a.code === d.code && a.message.test(d.message)));
        if (ok) s.report.refused = text;
        else s.report.failures.push({ kind: "diagnostic", property: ds[0].code, message: `adc refused the shape:\n${text}` });
      }
      live = live.filter((s) => !s.report.failures.length && !s.report.refused);
      if (live.length === before) {
        for (const s of live) s.report.failures.push({ kind: "diagnostic", property: "elsewhere", message: r.diagnostics.map(formatDiagnostic).join("\n") });
        return [];
      }
    }
    return live;
  }

  /** Bundles the compiled shapes (one at a time if the batch fails to load) and checks each. */
  private async run(slots: readonly Slot[], opts: ShapeCheckOptions): Promise<void> {
    const overrides = new Map<string, string>();
    for (const [file, edit] of Object.entries(opts.plant?.runtime ?? {})) {
      const path = resolve(root, file);
      const text = readFileSync(path, "utf8");
      const edited = edit(text);
      if (edited === text) throw new Error(`the planted edit of ${file} changed nothing`);
      overrides.set(path, edited);
    }
    const load1 = async (group: readonly Slot[]): Promise<void> => {
      const entry = join(this.dir, "entry.ts");
      const text = ['export * as __rt from "adc/runtime";', ...group.map((s) => `export * as p${s.index} from "./p${s.index}.ts";`)].join("\n") + "\n";
      const before = new Set(existsSync(bundleDir) ? readdirSync(bundleDir) : []);
      let bundle: Loaded;
      try {
        bundle = await load(text, entry, new Map([...overrides, ...group.map((s) => [s.path, s.output!] as [string, string])]));
      } finally {
        this.removeNewBundles(before);
      }
      const undo = opts.plant?.prepare?.(bundle);
      try {
        for (const s of group) this.checkOne(s, bundle[`p${s.index}`], bundle.__rt, opts.points ?? 2);
      } finally {
        undo?.();
      }
    };
    if (!slots.length) return;
    try {
      await load1(slots);
    } catch {
      for (const s of slots) {
        try {
          await load1([s]);
        } catch (e) {
          const loadErr = /Build failed|Transform failed/.test(String(e));
          s.report.failures.push({ kind: loadErr ? "emit" : "runtime", property: "load", message: `${loadErr ? "the generated code does not bundle" : "the module threw while loading"}: ${message(e)}` });
        }
      }
    }
  }

  private checkOne(s: Slot, mod: Loaded, rt: Loaded, points: number): void {
    const t = rt.tape;
    const clear = (): void => {
      t.fTop = t.iTop = t.bTop = t.oTop = 0;
      t.o.length = 0;
    };
    clear();
    const c = s.c;
    const ctx: Ctx = {
      np: rt.np,
      seed: hash(c.source),
      points,
      fail: (property, msg) => s.report.failures.push({ kind: "numeric", property, message: `[${c.kind}] ${msg}` }),
      checked: (n = 1) => void (s.report.checks += n),
    };
    try {
      if (c.kind === "scope") checkScope(mod, c, ctx);
      else for (const target of c.targets) checkTarget(mod, target, ctx);
      if (c.twice) checkTwice(mod, c.twice, ctx);
      if (c.pullback) checkPullback(mod, c.pullback, ctx);
      if (c.argnums) checkArgnums(mod, c.argnums, ctx);
      if (c.record) checkRecord(mod, c.record, ctx);
      if (c.part) checkPart(mod, c.part, ctx);
      const left = (["f", "i", "b", "o"] as const).filter((k) => t[`${k}Top`] !== 0).map((k) => `${t[`${k}Top`]} ${k}`);
      if (left.length) s.report.failures.push({ kind: "tape", property: "balanced", message: `the tape is not empty after the checks (${left.join(", ")})` });
    } catch (e) {
      s.report.failures.push({ kind: "runtime", property: "threw", message: `[${c.kind}] the generated code threw: ${message(e)}` });
    } finally {
      clear();
    }
  }

  /** Deletes the bundles load() wrote for this checker's shapes (they name its directory). */
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
