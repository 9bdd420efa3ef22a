/**
 * Methods of the program's classes, as differentiated code calls them (`model.forward(X)`,
 * `this.loss(yHat, y)`).
 *
 * A method is differentiated as a function whose first parameter is `this`. Which body runs
 * depends on the receiver's class at run time; adc decides it at compile time from the
 * receiver's static type, and looks `this.m()` up on the class the derivative is made for (a
 * base class's `trainingStep` made for `LinearRegression` calls `LinearRegression`'s `forward`).
 * That is right only if no subclass the program declares overrides the method, so a call a
 * subclass could redirect is refused (the program is read whole: a class adc cannot see cannot
 * reach code it compiles). Type the receiver as the subclass to differentiate its version.
 */
import { ts } from "ts-morph";
import { forEachNode } from "./ast-walk.js";
import { isClassInstance } from "./ir/types.js";

export interface MethodTarget {
  readonly decl: ts.MethodDeclaration;
  /** The receiver's class, which `this` means inside the method. */
  readonly cls: ts.Type;
}

/**
 * A call whose method depends on the receiver's class: one target per class that may be the
 * receiver's, most derived first, each tested with `instanceof` (`name`) but the last, which runs
 * otherwise.
 */
export interface Dispatch {
  /** `at`: where the class is declared (a test before its declaration has run must not throw). */
  readonly cases: readonly (MethodTarget & { readonly name: string; readonly at: number })[];
}

export class Methods {
  private subclassCache: Map<ts.Symbol, ts.ClassLikeDeclaration[]> | undefined;

  constructor(
    private readonly checker: ts.TypeChecker,
    private readonly program: ts.Program,
  ) {}

  /**
   * The method `recv.name` calls (a Dispatch when a subclass declared in the same module
   * overrides it), a message when adc cannot tell or read it, undefined when it is no method of
   * a class of the program.
   */
  resolve(callee: ts.PropertyAccessExpression, recvType: ts.Type): MethodTarget | Dispatch | string | undefined {
    const cls = this.checker.getApparentType(recvType);
    if (!isClassInstance(cls)) return undefined;
    const name = callee.name.text;
    const prop = cls.getProperty(name);
    const decl = prop?.valueDeclaration;
    if (!prop || !decl || !ts.isMethodDeclaration(decl)) return undefined;
    const className = this.checker.typeToString(cls);
    const subs = this.subclasses(cls);
    const overriding = subs.filter((c) => c.members.some((m) => ts.isMethodDeclaration(m) && m.name.getText() === name && hasCode(m)));
    if (!overriding.length) {
      if (!decl.body) return `'${className}.${name}' has no body (it is abstract or an overload), so adc cannot tell which code runs`;
      return { decl, cls };
    }
    // Which body runs depends on the receiver's class: test it, most derived class first. The
    // tests name the classes, so they must be module-level classes of the calling module.
    const file = callee.getSourceFile();
    const far = [...subs, ...(ts.isClassLike(cls.getSymbol()!.valueDeclaration!) ? [cls.getSymbol()!.valueDeclaration as ts.ClassLikeDeclaration] : [])]
      .find((c) => c.getSourceFile() !== file || !ts.isClassDeclaration(c) || !c.name || !ts.isSourceFile(c.parent));
    if (far)
      return `which '${name}' runs depends on the object's class (${overriding.map((c) => c.name?.text ?? "a class expression").join(", ")} ${overriding.length > 1 ? "override" : "overrides"} '${className}.${name}'), and adc can choose only among module-level classes of this module (${far.name?.text ?? "a class expression"} is not one)`;
    const depth = (c: ts.ClassLikeDeclaration): number => this.ancestors(this.checker.getTypeAtLocation(c)).length;
    const candidates = [...subs].sort((a, b) => depth(b) - depth(a)).map((c) => this.checker.getTypeAtLocation(c));
    candidates.push(cls);
    const cases: (MethodTarget & { name: string; at: number })[] = [];
    for (const c of candidates) {
      const d = c.getProperty(name)?.valueDeclaration;
      // (A base method that only throws, `forward() { throw new Error("not implemented") }`, is
      // what an abstract method is in JavaScript: no derivative for it; calling it still throws.)
      if (!d || !ts.isMethodDeclaration(d) || !hasCode(d)) continue;
      cases.push({ decl: d, cls: c, name: c.getSymbol()!.getName(), at: c.getSymbol()!.valueDeclaration!.getStart() });
    }
    if (!cases.length) return `no class that may be the receiver has a body for '${name}'`;
    return { cases };
  }

  /**
   * The name a method's generated functions derive theirs from, and its key variant: `Linear_forward`
   * for its own class, `Module_trainingStep_Linear` for Module's method made for a Linear receiver
   * (a function of its own, since `this.forward()` inside it means Linear's); `Activation_relu`
   * for a static one. Names come from the classes' names (a class expression's is its const's).
   */
  naming(node: ts.MethodDeclaration, thisType: ts.Type | undefined): { base: string; variant?: string; thisType?: ts.Type } {
    if (ts.getCombinedModifierFlags(node) & ts.ModifierFlags.Static) return { base: `${(node.parent as ts.ClassDeclaration).name?.text ?? "Class"}_${node.name.getText()}` };
    const own = this.checker.getTypeAtLocation(node.parent);
    const cls = thisType ?? own;
    const nameOf = (t: ts.Type): string => {
      const d = t.getSymbol()?.valueDeclaration;
      const named = d && ts.isClassLike(d) ? (d.name ?? (ts.isVariableDeclaration(d.parent) ? d.parent.name : undefined)) : undefined;
      return (named && ts.isIdentifier(named) ? named.text : this.checker.typeToString(t)).replace(/[^A-Za-z0-9_$]/g, "_");
    };
    const method = `${nameOf(own)}_${node.name.getText()}`;
    if (cls.getSymbol() === own.getSymbol()) return { base: method, thisType: cls };
    return { base: `${method}_${nameOf(cls)}`, variant: `this=${nameOf(cls)}`, thisType: cls };
  }

  /** `C.m(...)` of a static method of a program class: a plain function (a static call does not dispatch). */
  resolveStatic(callee: ts.PropertyAccessExpression): ts.MethodDeclaration | undefined {
    const decl = this.checker.getSymbolAtLocation(callee.name)?.valueDeclaration;
    if (!decl || !ts.isMethodDeclaration(decl) || !decl.body || decl.getSourceFile().isDeclarationFile) return undefined;
    return ts.getCombinedModifierFlags(decl) & ts.ModifierFlags.Static && ts.isClassDeclaration(decl.parent) && ts.isSourceFile(decl.parent.parent) ? decl : undefined;
  }

  /** `super.m(...)`: the base class's m exactly (no dispatch), run on the same object. */
  resolveSuper(callee: ts.PropertyAccessExpression): ts.MethodDeclaration | string | undefined {
    const decl = this.checker.getSymbolAtLocation(callee.name)?.valueDeclaration;
    if (!decl || !ts.isMethodDeclaration(decl)) return undefined;
    if (!decl.body) return `'super.${callee.name.text}' has no body`;
    return decl;
  }

  /** Every class of the program that extends `cls`, directly or not. */
  private subclasses(cls: ts.Type): ts.ClassLikeDeclaration[] {
    const sym = cls.getSymbol();
    if (!sym) return [];
    if (!this.subclassCache) {
      this.subclassCache = new Map();
      for (const sf of this.program.getSourceFiles()) {
        if (sf.isDeclarationFile) continue;
        forEachNode(sf, (n) => {
          if (!ts.isClassLike(n) || !n.heritageClauses?.length) return;
          for (const base of this.ancestors(this.checker.getTypeAtLocation(n))) {
            const list = this.subclassCache!.get(base) ?? [];
            list.push(n);
            this.subclassCache!.set(base, list);
          }
        });
      }
    }
    return this.subclassCache.get(sym) ?? [];
  }

  /** The symbols of a class's base classes, nearest first. */
  private ancestors(t: ts.Type): ts.Symbol[] {
    const out: ts.Symbol[] = [];
    let cur: ts.Type | undefined = t;
    for (let k = 0; cur && k < 64; k++) {
      const bases: ts.BaseType[] = cur.isClassOrInterface() ? this.checker.getBaseTypes(cur) : [];
      cur = bases[0];
      const s = cur?.getSymbol();
      if (s) out.push(s);
    }
    return out;
  }
}

/** A method with code other than a `throw`: what an abstract method is, written in JavaScript. */
function hasCode(m: ts.MethodDeclaration): boolean {
  if (!m.body) return false;
  const st = m.body.statements;
  return !(st.length === 1 && ts.isThrowStatement(st[0]));
}
