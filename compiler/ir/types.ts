/**
 * Classifies TypeScript types into the few kinds adc distinguishes (ir.Ty), using the checker.
 */
import { ts } from "ts-morph";
import { BOOL, F64, ND, NUM, NUMARR, VOID, type Ty } from "./ir.js";

/** `readonly number[]`: a number array that generated code, like the user's, never writes. */
const RO_NUMARR: Ty = { k: "arr", ctor: "Array", ro: true };

export function classifyType(t: ts.Type, checker: ts.TypeChecker, depth = 0): Ty {
  // A type parameter is what it is constrained to (`<T extends number>`: a number).
  if (t.flags & ts.TypeFlags.TypeParameter && !isThisType(t)) {
    const c = checker.getBaseConstraintOfType(t);
    if (c && c !== t && !(c.flags & ts.TypeFlags.Unknown)) return classifyType(c, checker, depth + 1);
  }
  const f = t.flags;
  if (f & ts.TypeFlags.NumberLike) return NUM;
  // Recursive types (`type Tree = Tree[]`) stop here.
  if (depth > 8) return { k: "other", text: checker.typeToString(t) };
  if (f & ts.TypeFlags.BooleanLike) return BOOL;
  if (f & (ts.TypeFlags.Void | ts.TypeFlags.Undefined)) return VOID;
  if (t.isUnion()) {
    const kinds = t.types.map((m) => classifyType(m, checker, depth + 1));
    if (kinds.every((k) => k.k === kinds[0].k && k.k !== "arr" && k.k !== "obj" && k.k !== "other")) return kinds[0];
    return { k: "other", text: checker.typeToString(t, undefined, ts.TypeFormatFlags.NoTruncation) };
  }
  const sym = t.getSymbol() ?? t.aliasSymbol;
  const name = sym?.getName();
  if (name === "Float64Array") return F64;
  if (name === "NDArray") return ND;
  if (checker.isArrayType(t)) {
    const [elem] = checker.getTypeArguments(t as ts.TypeReference);
    const e = elem && classifyType(elem, checker, depth + 1);
    if (e?.k === "num") return name === "ReadonlyArray" ? RO_NUMARR : NUMARR;
    if (e && (e.k === "arr" || e.k === "nd" || e.k === "obj" || e.k === "list")) return { k: "list", elem: e, text: checker.typeToString(t, undefined, ts.TypeFormatFlags.NoTruncation) };
  }
  if (checker.isTupleType(t)) {
    // A tuple of numbers ([number, number]) is, at run time, a number array of that length (its
    // derivatives are typed number[] in generated code).
    const elems = checker.getTypeArguments(t as ts.TypeReference);
    if (elems.length && elems.every((e) => classifyType(e, checker, depth + 1).k === "num")) return (t as ts.TupleTypeReference).target.readonly ? RO_NUMARR : NUMARR;
    // A tuple of NDArrays ([w, b] as const): a list of them, as NDArray[] is.
    if (elems.length && elems.every((e) => classifyType(e, checker, depth + 1).k === "nd")) return { k: "list", elem: ND, text: checker.typeToString(t, undefined, ts.TypeFormatFlags.NoTruncation) };
  }
  if (isClassInstance(t)) {
    // A class instance (a model): its data fields are the parts, as a pytree; methods live on
    // the prototype and are code, not state.
    const fields: [string, Ty][] = [];
    for (const p of t.getProperties()) {
      if (!isDataField(p)) continue;
      fields.push([p.getName(), classifyType(checker.getTypeOfSymbol(p), checker, depth + 1)]);
    }
    // (Inside a method `this` has the polymorphic type `this`; generated code names the class.)
    const shown = t.flags & ts.TypeFlags.TypeParameter ? checker.getApparentType(t) : t;
    // (Even with no fields: a base class's subclasses may add them, and a gradient of the base
    // type has the fields of the object it is taken at.)
    return { k: "obj", fields, text: checker.typeToString(shown) };
  }
  if (f & ts.TypeFlags.Object && !(t as ts.ObjectType).getCallSignatures().length && !checker.isArrayType(t) && !checker.isTupleType(t)) {
    const props = t.getProperties();
    // (A mapped type's properties, `Readonly<P>`, are declared by P's.)
    const declOf = (p: ts.Symbol): ts.Declaration | undefined => p.valueDeclaration ?? p.declarations?.[0];
    // (`{ w, b }` declares its properties by shorthand.)
    if (props.length > 0 && props.every((p) => { const d = declOf(p); return !!d && (ts.isPropertySignature(d) || ts.isPropertyAssignment(d) || ts.isShorthandPropertyAssignment(d)); })) {
      const fields: [string, Ty][] = [];
      for (const p of props) {
        const pt = checker.getTypeOfSymbol(p);
        fields.push([p.getName(), classifyType(pt, checker, depth + 1)]);
      }
      return { k: "obj", fields, text: checker.typeToString(t) };
    }
  }
  return { k: "other", text: checker.typeToString(t, undefined, ts.TypeFormatFlags.NoTruncation) };
}

export function sameTy(a: Ty, b: Ty): boolean {
  if (a.k !== b.k) return false;
  if (a.k === "arr" && b.k === "arr") return a.ctor === b.ctor;
  if (a.k === "list" && b.k === "list") return sameTy(a.elem, b.elem);
  return true;
}

/** The instance type of a class written in the program (not a built-in such as Map). */
export function isClassInstance(t: ts.Type): boolean {
  const sym = t.getSymbol();
  if (!sym || !(sym.flags & ts.SymbolFlags.Class)) return false;
  const decl = sym.valueDeclaration ?? sym.declarations?.[0];
  return !!decl && ts.isClassLike(decl) && !decl.getSourceFile().isDeclarationFile;
}

/** A field that holds state: a property declaration or a constructor parameter property, not a method or accessor. */
export function isDataField(p: ts.Symbol): boolean {
  const d = p.valueDeclaration;
  if (!d) return false;
  if (ts.isParameter(d)) return true;
  if (!ts.isPropertyDeclaration(d) || ts.isPrivateIdentifier(d.name)) return false;
  const isStatic = ts.getCombinedModifierFlags(d) & ts.ModifierFlags.Static;
  return !isStatic && !(d.initializer && (ts.isArrowFunction(d.initializer) || ts.isFunctionExpression(d.initializer)));
}

/** The polymorphic `this` of a class (a type parameter too), which stays the class. */
function isThisType(t: ts.Type): boolean {
  return !!(t as { isThisType?: boolean }).isThisType;
}
