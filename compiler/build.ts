/**
 * The pipeline, on one screen:
 *
 *   find targets   adc API calls in the build's files (targets.ts)
 *   lower          each function reached, to IR; unsupported syntax is refused here (ir/lower.ts)
 *   summarize      which array parameters each function writes (analysis/summaries.ts)
 *   request        each call site becomes jobs and the edit that calls them (requests.ts);
 *                  derivatives of derivatives first make tangent functions (tangents.ts)
 *   for each derivative requested, once per (function, mode, active parameters):
 *     analyze      activity, then A-normal form (diff/prepare.ts); fence what activity rules out
 *     differentiate  forward (diff/forward.ts) or reverse (diff/reverse.ts), asking for the
 *                  derivatives of callees, which joins them to the queue
 *   emit           each job's functions (emit-job.ts), next to their originals, call sites
 *                  rewritten (emit/splice.ts)
 *
 * Nothing is emitted if anything was refused.
 */
import { forEachNode } from "./ast-walk.js";
import type { Project, SourceFile } from "ts-morph";
import { ts } from "ts-morph";
import { deepestNesting, isStackOverflow, tooDeepDiagnostics } from "./depth.js";
import { DiagnosticSink, Refusal, sortDiagnostics, type Code, type Diagnostic } from "./diagnostics.js";
import { fence } from "./analysis/fence.js";
import { computeMutations, fnKey, returnedParts, type Mutations } from "./analysis/summaries.js";
import type { NdInfo } from "./analysis/activity.js";
import { prepare, type Prepared, type Specializer } from "./diff/prepare.js";
import { capturesOf, closureCaptures, findRecordSites, valueSymbol, type Capture } from "./record.js";
import { splice, type Insertion, type SpliceResult } from "./emit/splice.js";
import type { FnId } from "./ir/ir.js";
import { reportAtOrigin } from "./ir/origins.js";
import { lowerFunction, type FunctionNode, type LowerEnv } from "./ir/lower/index.js";
import { forEachExpr, forEachStmt, stmtExprs } from "./ir/walk.js";
import { adcExportName, customOf, findCallSites, functionOf, userCallee, type CallSite, type DynamicSite } from "./targets.js";
import { dynamicEdits, findAnnotated } from "./annotated.js";
import { ndInfo, ndOpOf } from "./rules/ndarray.js";
import { ModuleNames } from "./emit/names.js";
import { dump } from "./pipeline.js";
import { jobBases, type Job } from "./jobs.js";
import { enclosingScope, isModuleScoped, topLevelStatement } from "./scopes.js";
import { generated, type Generated } from "./emit/code.js";
import { printFunction } from "./ir/print-stmt.js";
import { emitJob } from "./emit-job.js";
import { Tangents, type FnInfo } from "./tangents.js";
import { Requests } from "./requests.js";
import { InnerGrads } from "./inner-grads.js";
import { Methods } from "./methods.js";
import { localModules, relativeSpecifier } from "./module-graph.js";
import { typeErrorsBehindRefusals } from "./type-errors.js";
import { unusedApiImports } from "./emit/api-imports.js";
import { CustomFunctions } from "./custom-functions.js";

export interface BuildResult {
  /** Transformed text of every file that changed, keyed by file name. */
  readonly outputs: ReadonlyMap<string, SpliceResult>;
  readonly diagnostics: readonly Diagnostic[];
  /** Every local module the build read (the roots and what they import), to refresh next time. */
  readonly modules: readonly string[];
}

export function build(project: Project, roots: readonly SourceFile[]): BuildResult {
  try {
    return new Build(project, roots.map((r) => r.compilerNode)).run();
  } catch (err) {
    // TypeScript's parser or binder overflowed on one of the files (tsc crashes the same way).
    if (!isStackOverflow(err)) throw err;
    return tooDeep(project, roots);
  }
}

/** The build of a program TypeScript could not read: where its files are nested deepest. */
function tooDeep(project: Project, roots: readonly SourceFile[]): BuildResult {
  const files = project.getSourceFiles().filter((f) => !f.isDeclarationFile() && !f.isInNodeModules());
  const diagnostics = tooDeepDiagnostics(files.map((f) => ({ path: f.getFilePath(), text: f.getFullText() })));
  return { outputs: new Map(), diagnostics, modules: roots.map((r) => r.getFilePath()) };
}

class Build {
  private readonly checker: ts.TypeChecker;
  private readonly program: ts.Program;
  private readonly sink: DiagnosticSink;
  private readonly fns = new Map<string, FnInfo>();
  private readonly names = new Map<string, Map<string, string>>(); // file -> name -> fn key
  private inlineCount = new Map<string, number>();
  private readonly insertions = new Map<string, Insertion[]>();
  /** Each job's generated names, claimed in its function's module when first asked for. */
  private readonly claimed = new Map<string, string[]>();
  private readonly moduleNames = new Map<string, ModuleNames>();
  /** file -> module specifier -> generated name -> the name it is imported as. */
  private readonly imports = new Map<string, Map<string, Map<string, string>>>();
  private readonly edits = new Map<string, { start: number; end: number; text: string }[]>();
  private readonly prepared = new Map<string, Prepared>();
  private readonly queue: Job[] = [];
  private mutations: Mutations = new Map();
  private readonly innerGrads: InnerGrads;
  private readonly methods: Methods;
  private readonly custom: CustomFunctions;
  private readonly requests = new Requests({
    fn: (key) => this.fns.get(key)!,
    register: (node, anonymous, aux) => this.register(node, anonymous, undefined, aux),
    isBroken: (key) => this.broken.has(key),
    enqueue: (job) => this.enqueue(job),
    importName: (file, f, name) => this.importName(file, f, name),
    edit: (file, start, end, text) => this.edit(file, start, end, text),
    refuse: (code, file, n, message, hint) => this.refuse(code, file, n, message, hint),
    refreshMutations: () => this.refreshMutations(),
    tangent: (key, mask, unit, base) => this.tangents.of(key, mask, unit, base),
    typeText: (n) => this.checker.typeToString(this.checker.getTypeAtLocation(n)),
    sameModuleVariable: (at, file, name) => {
      // The module-level variable `name` of `file`, if the same binding is what `name` means at `at`.
      const sf = this.program.getSourceFile(file);
      if (!sf || at.getSourceFile() !== sf) return false;
      const decl = sf.statements.flatMap((st) => (ts.isVariableStatement(st) ? [...st.declarationList.declarations] : [])).find((d) => ts.isIdentifier(d.name) && d.name.text === name);
      const here = this.checker.getSymbolsInScope(at, ts.SymbolFlags.Variable).find((x) => x.name === name);
      return !!decl && !!here?.declarations?.includes(decl);
    },
  });
  private readonly tangents = new Tangents({
    info: (key) => this.fns.get(key)!,
    add: (key, file, base, make) => {
      const info = this.fns.get(key);
      if (info) return info;
      const made = make(this.uniqueName(file, base, key));
      this.fns.set(key, made);
      return made;
    },
    prepare: (key, mask) => this.prepareFor(key, mask),
    specializer: (f) => this.specializer(f),
    report: (f, pos, message) => this.sink.report("ADC1026", f.sf.fileName, pos.start, pos.end, message),
    primalName: (caller, callee) => this.primalName(this.fns.get(caller)!.sf.fileName, callee),
    ruleOf: (f) => this.custom.ruleOf(f),
  });

  constructor(
    project: Project,
    private readonly roots: readonly ts.SourceFile[],
  ) {
    this.checker = project.getTypeChecker().compilerObject;
    this.innerGrads = new InnerGrads({
      checker: this.checker,
      tangents: this.tangents,
      fn: (key) => this.fns.get(key),
      primalName: (file, key) => this.primalName(file, key),
      refreshMutations: () => this.refreshMutations(),
      mutations: (key) => this.mutations.get(key),
      refuse: (code, file, n, message, hint) => this.refuse(code, file, n, message, hint),
    });
    this.program = project.getProgram().compilerObject;
    this.methods = new Methods(this.checker, this.program);
    this.custom = new CustomFunctions({
      checker: this.checker,
      fns: this.fns,
      uniqueName: (file, base, key) => this.uniqueName(file, base, key),
      register: (node) => this.register(node),
      capturesFor: (f) => this.capturesFor(f),
      info: (id) => this.info(id),
      refuse: (code, file, n, message, hint) => this.refuse(code, file, n, message, hint),
      enqueue: (job) => this.enqueue(job),
      importName: (file, f, name) => this.importName(file, f, name),
      mutations: (key) => this.mutations.get(key),
      resultActive: (key, mask) => this.resultActive(key, mask),
      insert: (f, text) => this.insert(f, text),
      edit: (file, start, end, text) => this.edit(file, start, end, text),
      isBroken: (key) => this.broken.has(key),
      tangent: (key, mask, unit, base) => this.tangents.of(key, mask, unit, base),
      refreshMutations: () => this.refreshMutations(),
      lower: (f) => (this.lowerReachable(f), this.refreshMutations(), this.findBroken()),
    });
    this.sink = new DiagnosticSink((file, offset) => {
      const sf = project.getSourceFile(file)?.compilerNode;
      if (!sf) return { line: 1, column: 1 };
      const lc = sf.getLineAndCharacterOfPosition(offset);
      return { line: lc.line + 1, column: lc.character + 1 };
    });
  }

  run(): BuildResult {
    // A syntax error is reported as tsc reports it; nothing else of that file is read.
    const modules = this.modules();
    for (const sf of modules) for (const d of this.program.getSyntacticDiagnostics(sf)) this.sink.reportTs(d.code, sf.fileName, d.start ?? 0, (d.start ?? 0) + (d.length ?? 0), ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    if (this.sink.hasErrors) return this.result(false);
    // Find targets and lower everything they reach.
    const sites: CallSite[] = [];
    const dynamicSites: DynamicSite[] = [];
    for (const sf of modules) sites.push(...findCallSites(sf, this.checker, this.sink, sf.fileName, (d) => dynamicSites.push(d)));
    // `@differentiable` functions: derivatives made and attached whether or not a call names them.
    const annotated = modules.flatMap((sf) => findAnnotated(sf, (n, message, hint) => this.refuse("ADC1016", sf.fileName, n, message, hint)));
    for (const a of annotated) {
      const f = this.register(a.node);
      this.capturesFor(f);
      this.lowerReachable(f);
    }
    for (const site of sites) {
      const f = this.register(site.fnNode, undefined, undefined, site.hasAux);
      this.capturesFor(f);
      this.lowerReachable(f);
      // (`grad(g)` of `const g = checkpoint(h)`: h is what gets differentiated.)
      const target = site.custom && this.custom.functions(site.custom).target;
      if (target) this.lowerReachable(target);
    }
    const records = this.moduleList.flatMap((sf) => findRecordSites(sf, this.checker).map((site) => ({ site, captures: capturesOf(site.cb, this.checker) })));
    for (const r of records) this.lowerReachable(this.register(r.site.cb, "_record"), r.captures);
    this.innerGrads.resolve();
    this.refreshMutations();
    // Functions refused while lowering, and those that call them, get no derivatives; the others
    // still go through every later check, so one refusal does not hide the rest.
    this.findBroken();

    for (const site of sites) this.requests.site(site);
    for (const d of dynamicSites) for (const e of dynamicEdits(d)) this.edit(d.call.getSourceFile().fileName, e.start, e.end, e.text);
    for (const a of annotated) this.custom.attach(this.register(a.node), a.name, a.wrt, a.local);
    for (const r of records) this.requests.record(r.site, r.captures);
    while (this.queue.length) this.runJob(this.queue.shift()!);
    return this.result(!this.sink.hasErrors);
  }

  /** The roots and every local module they import, transitively, in a stable order. */
  private modules(): ts.SourceFile[] {
    this.moduleList = localModules(this.roots, this.checker, this.program, this.sink);
    return this.moduleList;
  }

  private moduleList: ts.SourceFile[] = [];

  private result(ok: boolean): BuildResult {
    if (!ok) typeErrorsBehindRefusals(this.sink, this.program, (file) => this.sourceFile(file), [...this.fns.values()]);
    const outputs = new Map<string, SpliceResult>();
    if (ok) {
      const files = new Set([...this.insertions.keys(), ...this.edits.keys()]);
      for (const file of [...files].sort()) {
        const sf = this.sourceFile(file);
        outputs.set(file, splice(sf, this.insertions.get(file) ?? [], [...(this.edits.get(file) ?? []), ...this.unusedApiImports(sf)], this.imports.get(file), this.namesOf(file).runtime));
      }
    }
    return { outputs, diagnostics: sortDiagnostics(this.sink.list), modules: this.moduleList.map((m) => m.fileName) };
  }

  /** Edits that drop names imported from "adc" which the output no longer uses (emit/api-imports.ts). */
  private unusedApiImports(sf: ts.SourceFile): { start: number; end: number; text: string }[] {
    return unusedApiImports(sf, this.edits.get(sf.fileName) ?? [], (this.insertions.get(sf.fileName) ?? []).map((i) => i.text));
  }

  private sourceFile(file: string): ts.SourceFile {
    for (const f of this.fns.values()) if (f.sf.fileName === file) return f.sf;
    return this.moduleList.find((r) => r.fileName === file) ?? this.roots.find((r) => r.fileName === file)!;
  }

  // ---- functions --------------------------------------------------------------------------

  /** The function's record, giving it a module-unique name to derive generated names from. */
  private register(node: FunctionNode, anonymous = "_lambda", thisType?: ts.Type, aux = false): FnInfo {
    // `grad(f)` of a customVjp/customJvp f: the function that calls it stands for it.
    if (ts.isCallExpression(node as ts.Node)) {
      const call = node as unknown as ts.CallExpression;
      let decl: ts.Node = call.parent;
      while (ts.isParenthesizedExpression(decl) || ts.isAsExpression(decl)) decl = decl.parent;
      const custom = ts.isVariableDeclaration(decl) ? customOf(decl.name as ts.Identifier, this.checker) : undefined;
      if (!custom) throw new Error("a customVjp/customJvp call without its const");
      return this.custom.functions(custom).caller;
    }
    const sf = node.getSourceFile();
    // A method is made once per receiver class (`this.forward()` in a base class's method calls
    // the subclass's forward); for its own class the key is the declaration's.
    const method = ts.isMethodDeclaration(node) ? this.methods.naming(node, thisType) : undefined;
    let variant = method?.variant;
    let base = method?.base;
    if (method) thisType = method.thisType;
    // `grad(f, { hasAux: true })`: f lowered with its `[value, aux]` returns split (its own record).
    if (aux) variant = "aux";
    const key = fnKey({ file: sf.fileName, pos: node.getStart(), name: "", variant });
    let info = this.fns.get(key);
    if (info) return info;
    // (A method is named by its class, above.)
    if (base === undefined) {
      if (ts.isFunctionDeclaration(node) && node.name) base = node.name.text;
      else if (ts.isVariableDeclaration(node.parent) && ts.isIdentifier(node.parent.name)) base = node.parent.name.text;
      else {
        const counter = `${sf.fileName}\0${anonymous}`;
        const k = this.inlineCount.get(counter) ?? 0;
        this.inlineCount.set(counter, k + 1);
        base = `${anonymous}${k}`;
      }
    }
    const id: FnId = { file: sf.fileName, pos: node.getStart(), name: this.uniqueName(sf.fileName, aux ? `${base}_aux` : base, key), ...(variant ? { variant } : {}) };
    info = { id, node, sf, thisType, ...(aux ? { aux } : {}) };
    this.fns.set(key, info);
    return info;
  }

  /** `base`, or `base_2`, ...: a name no other function of the file derives generated names from. */
  private uniqueName(file: string, base: string, key: string): string {
    const taken = this.names.get(file) ?? new Map<string, string>();
    this.names.set(file, taken);
    let name = base;
    for (let k = 2; taken.has(name) && taken.get(name) !== key; k++) name = `${base}_${k}`;
    taken.set(name, key);
    return name;
  }

  /**
   * A function declared inside another function reads the enclosing function's locals (and those
   * the local helpers it calls read) as trailing parameters; undefined for module-level functions.
   */
  private capturesFor(f: FnInfo): readonly Capture[] | undefined {
    if (f.captures !== undefined || this.capturing.has(f)) return f.captures;
    const outer = enclosingScope(f.node);
    if (!outer) return undefined;
    this.capturing.add(f);
    try {
      f.captures = closureCaptures(f.node, outer, this.checker, (n, message, hint) => this.refuse("ADC1016", f.sf.fileName, n, message, hint), (node) =>
        this.capturesFor(this.register(node as FunctionNode)) ?? []);
    } finally {
      this.capturing.delete(f);
    }
    return f.captures;
  }

  private readonly capturing = new Set<FnInfo>();

  /** Lowers `start` and every function it calls; a record block's captures are its inputs and outputs. */
  private lowerReachable(start: FnInfo, captures?: readonly Capture[]): void {
    const work = [start];
    while (work.length) {
      const f = work.pop()!;
      if (f.ir !== undefined) continue;
      f.ir = null;
      // A function a derivative inside f differentiates is lowered too.
      const reach = (node: FunctionNode): FnInfo => {
        const info = this.register(node);
        this.capturesFor(info);
        if (info.ir === undefined) work.push(info);
        return info;
      };
      const env: LowerEnv = {
        checker: this.checker,
        sink: this.sink,
        file: f.sf.fileName,
        resolveMethod: (callee, recvType) => {
          const staticMethod = this.methods.resolveStatic(callee);
          if (staticMethod) {
            const info = this.register(staticMethod);
            if (info.ir === undefined) work.push(info);
            return { static: info.id };
          }
          const m = callee.expression.kind === ts.SyntaxKind.SuperKeyword ? undefined : this.methods.resolve(callee, recvType);
          if (typeof m === "string") return m;
          const reachMethod = (decl: ts.MethodDeclaration, cls: ts.Type): FnId => {
            const info = this.register(decl, undefined, cls);
            if (info.ir === undefined) work.push(info);
            return info.id;
          };
          if (callee.expression.kind === ts.SyntaxKind.SuperKeyword) {
            const decl = this.methods.resolveSuper(callee);
            if (decl === undefined || typeof decl === "string") return decl;
            return reachMethod(decl, f.thisType ?? recvType);
          }
          if (!m) return undefined;
          if ("cases" in m) return { cases: m.cases.map((c) => ({ cls: c.name, fn: reachMethod(c.decl, c.cls), at: c.at })) };
          return reachMethod(m.decl, m.cls);
        },
        thisType: f.thisType,
        aux: f.aux,
        resolveUser: (written) => {
          const callee = userCallee(written, this.checker);
          if (!callee) return undefined;
          const custom = customOf(callee, this.checker);
          if (custom) {
            const made = this.custom.functions(custom);
            if (made.target && made.target.ir === undefined) work.push(made.target);
            return made.rule.id;
          }
          const target = functionOf(callee, this.checker);
          if (typeof target === "string") return undefined;
          const info = this.register(target);
          this.capturesFor(info);
          if (info.ir === undefined) work.push(info);
          return info.id;
        },
        calleeCaptures: (id) => (this.info(id).captures ?? []).map((c) => c.ident).filter(ts.isIdentifier),
        derivativeCall: (callee) => this.innerGrads.call(callee, f.sf.fileName, reach),
        derivativePair: (call) => this.innerGrads.pair(call, f.sf.fileName, reach),
        isAdcApi: (callee, name) => adcExportName(callee, this.checker) === name,
        ndOp: (e) => ndOpOf(e, this.checker),
        captures: f === start && captures ? captures : f.captures,
        closure: !(f === start && captures) && !!f.captures,
      };
      try {
        f.ir = lowerFunction(f.node, f.id, env);
        dump("lower", f.id.name, f.ir.body);
        if (!(f === start && captures) && !f.captures) this.checkCaptures(f);
      } catch (err) {
        if (!(err instanceof Refusal)) this.internal(f, err);
      }
    }
  }

  /** Generated code lives at module level, so a function may not read locals of an enclosing function. */
  private checkCaptures(f: FnInfo): void {
    const outer = enclosingScope(f.node);
    if (!outer) return;
    const visit = (n: ts.Node): void => {
      if (ts.isIdentifier(n)) {
        const decl = valueSymbol(n, this.checker)?.valueDeclaration;
        if (decl && decl.getSourceFile() === f.sf && decl.pos >= outer.pos && decl.end <= outer.end && !(decl.pos >= f.node.pos && decl.end <= f.node.end) && !isModuleScoped(decl))
          this.refuse("ADC1016", f.sf.fileName, n, `the differentiated function reads '${n.text}' from the enclosing function`, "declare the function at module level and pass the value as an argument");
      }
    };
    forEachNode(f.node, visit);
  }

  private refuse(code: Code, file: string, n: ts.Node, message: string, hint?: string): void {
    this.sink.report(code, file, n.getStart(), n.getEnd(), message, hint);
  }

  private internal(f: FnInfo, err: unknown): void {
    if (isStackOverflow(err)) {
      const { depth, offset } = deepestNesting(f.node.getText(f.sf));
      const at = f.node.getStart(f.sf) + offset;
      this.sink.report("ADC1027", f.sf.fileName, at, at + 1, `this function is nested ${depth} levels deep here, more than adc can differentiate`, "split deep expressions or blocks into smaller functions or statements");
      return;
    }
    const msg = err instanceof Error ? err.message : String(err);
    this.sink.report("ADC1001", f.sf.fileName, f.node.getStart(), f.node.getStart() + 1, `adc could not differentiate this function (internal error: ${msg})`, "please report this program");
  }

  private info(id: FnId): FnInfo {
    return this.fns.get(fnKey(id))!;
  }

  // ---- requests ---------------------------------------------------------------------------

  /** Keys of functions that did not lower, or call one that did not. */
  private readonly broken = new Set<string>();

  private findBroken(): void {
    for (const [k, f] of this.fns) if (!f.ir) this.broken.add(k);
    // A checkpoint, or an inner gradient, is broken when the function it is made from is.
    for (const [k, f] of this.fns) if ([f.ir?.custom?.target, f.ir?.custom?.of].some((on) => on && this.broken.has(fnKey(on)))) this.broken.add(k);
    for (let changed = true; changed; ) {
      changed = false;
      for (const [k, f] of this.fns) {
        if (this.broken.has(k) || !f.ir) continue;
        forEachStmt(f.ir.body, (s) => {
          for (const e of stmtExprs(s))
            forEachExpr(e, (x) => {
              if (x.k === "call" && x.fn.k === "user" && this.broken.has(fnKey(x.fn.fn)) && !this.broken.has(k)) {
                this.broken.add(k);
                changed = true;
              }
            });
        });
      }
    }
  }

  private refreshMutations(): void {
    this.mutations = computeMutations(new Map([...this.fns].filter(([, g]) => g.ir).map(([k, g]) => [k, g.ir!])));
  }

  /** The name under which code in `file` calls the made function `key` itself (printed on request). */
  private primalName(file: string, key: string): string {
    return this.importName(file, this.fns.get(key)!, this.enqueue({ kind: "primal", key, mask: [] })[0]);
  }

  private edit(file: string, start: number, end: number, text: string): void {
    const list = this.edits.get(file) ?? [];
    list.push({ start, end, text });
    this.edits.set(file, list);
  }

  /** The name a generated function has in `file`, importing it if it lives in another module. */
  private importName(file: string, f: FnInfo, name: string): string {
    if (f.sf.fileName === file) return name;
    const spec = this.specifierFor(file, f.sf);
    const m = this.imports.get(file) ?? new Map<string, Map<string, string>>();
    const names = m.get(spec) ?? new Map<string, string>();
    const local = this.namesOf(file).importAs(spec, name);
    names.set(name, local);
    m.set(spec, names);
    this.imports.set(file, m);
    return local;
  }

  /** The module-level names of a file's generated code, every identifier of the file reserved. */
  private namesOf(file: string): ModuleNames {
    let n = this.moduleNames.get(file);
    if (!n) {
      const ids = new Set<string>();
      forEachNode(this.sourceFile(file), (x) => void (ts.isIdentifier(x) && ids.add(x.text)));
      this.moduleNames.set(file, (n = new ModuleNames(ids)));
    }
    return n;
  }

  /** How `file` imports `target`: its own module specifier, or a relative one (through a barrel). */
  private specifierFor(file: string, target: ts.SourceFile): string {
    const sf = this.sourceFile(file);
    for (const st of sf.statements) {
      if (!ts.isImportDeclaration(st) || !ts.isStringLiteral(st.moduleSpecifier)) continue;
      const sym = this.checker.getSymbolAtLocation(st.moduleSpecifier);
      const decl = sym?.valueDeclaration ?? sym?.declarations?.[0];
      if (decl && decl.getSourceFile() === target) return st.moduleSpecifier.text;
    }
    return relativeSpecifier(sf, target.fileName);
  }

  /** The job's generated names in its function's module (claimed once); queues the job the first time. */
  private enqueue(job: Job): string[] {
    const f0 = this.fns.get(job.key)!;
    const bases = jobBases(job, f0.id.name, f0.ir!, f0.captures?.length ?? 0);
    const f = this.fns.get(job.key)!;
    const id = `${job.key}\0${bases.join(",")}`;
    let names = this.claimed.get(id);
    if (!names) {
      names = this.namesOf(f.sf.fileName).claim(bases);
      this.claimed.set(id, names);
      this.queue.push(job);
    }
    return names;
  }

  private prepareFor(key: string, mask: readonly boolean[]): Prepared {
    const pk = `${key}|${mask.map((b) => (b ? 1 : 0)).join("")}`;
    let p = this.prepared.get(pk);
    if (!p) {
      const f = this.fns.get(key)!;
      const ir = f.ir!;
      const active = new Set(ir.params.filter((_, i) => mask[i]).map((q) => q.name));
      p = prepare(ir, active, this.specializer(f));
      // The function as differentiated: with the small callees inlined into it (whose own
      // derivatives are then never made, so their refusals must be found here).
      fence(p.fn, p.isVaried, p.isActive, reportAtOrigin(this.sink, f.sf.fileName), (id) => this.mutations.get(fnKey(id)), (id) => returnedParts(this.mutations, fnKey(id)));
      this.prepared.set(pk, p);
    }
    return p;
  }

  private resultActive(key: string, mask: readonly boolean[]): boolean {
    // (A custom rule's result carries the derivative its rule gives.)
    const custom = this.fns.get(key)?.ir?.custom;
    if (custom?.target) return this.resultActive(fnKey(custom.target), mask);
    if (custom) return mask.some(Boolean);
    const p = this.prepareFor(key, mask);
    let active = false;
    forEachStmt(p.body, (s) => {
      if (s.k === "return" && s.value && p.isActiveAtom(s.value)) active = true;
    });
    return active;
  }

  /** What the differentiators of `from` use to reach other functions' derivatives. */
  private specializer(from: FnInfo): Specializer {
    const file = from.sf.fileName;
    return {
      callee: (id) => this.info(id).ir!,
      jvpName: (id, mask) => this.importName(file, this.info(id), this.enqueue({ kind: "jvp", key: fnKey(id), mask })[0]),
      splitNames: (id, mask) => {
        const [fwd, rev] = this.enqueue({ kind: "split", key: fnKey(id), mask });
        return { fwd: this.importName(file, this.info(id), fwd), rev: this.importName(file, this.info(id), rev) };
      },
      resultActive: (id, mask) => this.resultActive(fnKey(id), mask),
      mutations: this.mutations,
      nd: ndInfo as NdInfo,
    };
  }

  private runJob(job: Job): void {
    const f = this.fns.get(job.key)!;
    const before = this.sink.list.length;
    try {
      if (job.kind === "primal" && !f.ir?.custom) {
        const ir = f.ir;
        if (!ir) return;
        this.insert(f, generated(printFunction({ name: this.enqueue(job)[0], params: ir.params, ret: ir.ret, body: ir.body, pos: ir.pos })));
        return;
      }
      if (f.ir?.custom) return this.insert(f, this.custom.job(job, f));
      const p = this.prepareFor(job.key, job.mask);
      if (this.sink.list.length > before) return;
      const text = emitJob(job, f, p, {
        enqueue: (j) => this.enqueue(j),
        fn: (key) => this.fns.get(key)!,
        specializer: () => this.specializer(f),
        resultActive: () => this.resultActive(job.key, job.mask),
        written: this.mutations.get(job.key) ?? new Set<number>(),
      });
      this.insert(f, text);
    } catch (err) {
      if (!(err instanceof Refusal)) this.internal(f, err);
    }
  }

  /** Generated code goes after the top-level statement that holds its function. */
  private insert(f: FnInfo, text: Generated): void {
    const anchor = topLevelStatement(f.node);
    const list = this.insertions.get(f.sf.fileName) ?? [];
    list.push({ at: anchor.getEnd(), text: text.text, origins: text.origins });
    this.insertions.set(f.sf.fileName, list);
  }
}
