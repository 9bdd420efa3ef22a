/**
 * Models as classes (issue 17, item 2): fields holding numbers, arrays and NDArrays; methods that
 * read `this` and call each other; `grad`/`valueAndGrad` of a loss over a model object, whose
 * gradient is an object of the same class and field shape; `record` blocks inside methods with
 * attached parameters in fields; inheritance as the book uses it (a base `Module` whose
 * `trainingStep` calls `this.forward`, overridden by subclasses), `super` calls, and models
 * holding models. Every gradient is checked against central finite differences, and the two
 * styles (valueAndGrad, record/backward) against each other.
 */
import { describe, expect, it } from "vitest";
import { compile, compileFiles } from "../compiler/index.js";
import { formatDiagnostic } from "../compiler/index.js";
import { load } from "./helpers/load.js";
import { strictErrors } from "./helpers/strict.js";
import { ts } from "ts-morph";
import { createProject } from "../compiler/program.js";
import { fdGradient, flatten } from "./helpers/pytree.js";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

function expectClose(got: readonly number[], want: readonly number[], rtol = 1e-6, atol = 1e-8): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, k) => expect(Math.abs(g - want[k]), `entry ${k}: ${g} vs ${want[k]}`).toBeLessThanOrEqual(atol + rtol * Math.abs(want[k])));
}

const numbersAndArrays = `
import { grad, valueAndGrad } from "adc";

export class Poly {
  constructor(public bias: number, public coeffs: number[], public scale: Float64Array, public name: string) {}
  at(x: number): number {
    let s = this.bias;
    for (let i = 0; i < this.coeffs.length; i++) s += this.coeffs[i] * x ** (i + 1);
    return s * this.scale[0] + Math.sin(this.scale[1] * x);
  }
  loss(xs: number[], ys: number[]): number {
    let l = 0;
    for (let i = 0; i < xs.length; i++) {
      const d = this.at(xs[i]) - ys[i];
      l += d * d;
    }
    return l / xs.length;
  }
}

export function polyLoss(p: Poly, xs: number[], ys: number[]): number {
  return p.loss(xs, ys);
}
export const dModel = grad((p: Poly, xs: number[], ys: number[]) => p.loss(xs, ys));
export const dInputs = grad(polyLoss, 1);
export const both = valueAndGrad(polyLoss);
`;

const inheritance = `
import { np, record, valueAndGrad, NDArray } from "adc";

export class Module {
  forward(X: NDArray): NDArray {
    throw new Error("forward is not implemented");
  }
  loss(yHat: NDArray, y: NDArray): NDArray {
    const d = np.sub(yHat, np.reshape(y, yHat.shape));
    return np.mean(np.mul(d, d));
  }
  trainingStep(X: NDArray, y: NDArray): NDArray {
    return this.loss(this.forward(X), y);
  }
  /** The MXNet style: gradients land in the attached parameters' .grad. */
  step(X: NDArray, y: NDArray): number {
    let l: NDArray = np.zeros([]);
    record(() => {
      l = this.trainingStep(X, y);
    });
    l.backward();
    return l.item();
  }
}

export class Linear extends Module {
  constructor(public w: NDArray, public b: NDArray) {
    super();
  }
  forward(X: NDArray): NDArray {
    return np.add(np.dot(X, this.w), this.b);
  }
}

export class TanhLinear extends Linear {
  forward(X: NDArray): NDArray {
    return np.tanh(super.forward(X));
  }
}

export class TwoLayer extends Module {
  constructor(public l1: Linear, public l2: Linear, public gain: number) {
    super();
  }
  forward(X: NDArray): NDArray {
    const h = np.relu(this.l1.forward(X));
    return np.mul(this.l2.forward(h), this.gain);
  }
}

export function stepLoss(m: Module, X: NDArray, y: NDArray): number {
  return m.trainingStep(X, y).item();
}
export const jaxStyle = valueAndGrad((m: Module, X: NDArray, y: NDArray) => m.trainingStep(X, y));
export const linearOnly = valueAndGrad((m: Linear, X: NDArray, y: NDArray) => m.trainingStep(X, y));
export { np };
`;

describe("classes: fields, methods, this", () => {
  it("grad of a loss over a model object gives a model-shaped gradient, right by finite differences", async () => {
    const m = await load(compile(numbersAndArrays, { fileName: "poly.ts" }).code, "poly.ts");
    const fresh = (): unknown[] => [new m.Poly(0.3, [0.5, -0.25, 0.125], new Float64Array([1.5, 0.7]), "p"), [0.1, -0.4, 0.9, 1.3], [0.2, 0.1, -0.5, 0.8]];
    const [p, xs, ys] = fresh() as [any, number[], number[]];
    const g = m.dModel(p, xs, ys);
    // The gradient is a Poly (its methods work), with every field: numbers, arrays, and the
    // name copied as it is.
    expect(g).toBeInstanceOf(m.Poly);
    expect(g.name).toBe("p");
    expect(g.coeffs).toHaveLength(3);
    expect(g.scale).toBeInstanceOf(Float64Array);
    expectClose(flatten([g.bias, g.coeffs, g.scale]), fdGradient(m.polyLoss, fresh, 0));
    expectClose(m.dInputs(p, xs, ys), fdGradient(m.polyLoss, fresh, 1));
    const [value, g2] = m.both(p, xs, ys);
    expect(value).toBeCloseTo(m.polyLoss(p, xs, ys), 14);
    expectClose(flatten([g2.bias, g2.coeffs, g2.scale]), flatten([g.bias, g.coeffs, g.scale]), 1e-14);
    // The user's object is unchanged.
    expect(p.coeffs).toEqual([0.5, -0.25, 0.125]);
  });

  it("inheritance: the subclass's forward runs in the base class's trainingStep, in both styles", async () => {
    const m = await load(compile(inheritance, { fileName: "module.ts" }).code, "module.ts");
    const np = m.np;
    const X = np.array([[0.5, -1, 2], [1.5, 0.25, -0.5], [-1, 1, 0.3], [0.2, 0.4, -0.8]]);
    const y = np.array([0.3, -0.2, 0.5, 0.1]);
    const linear = (seed: number): any => new m.Linear(np.array([[0.1 * seed], [-0.2], [0.3]]), np.array([0.05 * seed]));
    const tanhLinear = (): any => new m.TanhLinear(np.array([[0.2], [0.1], [-0.3]]), np.array([0.1]));
    const twoLayer = (): any => new m.TwoLayer(new m.TanhLinear(np.array([[0.3, -0.2], [0.1, 0.4], [-0.5, 0.2]]), np.array([0.1, -0.1])), new m.Linear(np.array([[0.7], [-0.6]]), np.array([0.2])), 1.5);
    for (const [name, make] of [["Linear", () => linear(1)], ["TanhLinear", tanhLinear], ["TwoLayer", twoLayer]] as const) {
      const model = make();
      const [value, g] = m.jaxStyle(model, X, y);
      expect(value, name).toBeCloseTo(m.stepLoss(model, X, y), 14);
      expect(Object.getPrototypeOf(g), name).toBe(Object.getPrototypeOf(model));
      const fd = fdGradient(m.stepLoss, () => [make(), X, y], 0);
      expectClose(flatten(g), fd);
      // The MXNet style: attach every NDArray field, record, backward; the .grads are the same.
      const attached = make();
      const params: any[] = [];
      const collect = (o: any): void => {
        for (const v of Object.values(o)) {
          if (v instanceof np.array([0]).constructor) params.push(v);
          else if (typeof v === "object" && v !== null) collect(v);
        }
      };
      collect(attached);
      for (const p of params) p.attachGrad();
      const l = attached.step(X, y);
      expect(l, name).toBeCloseTo(value, 14);
      const ndLeaves = flatten(params.map((p) => p.grad));
      const jaxNd: number[] = [];
      const collectGrad = (o: any): void => {
        for (const v of Object.values(o) as any[]) {
          if (v instanceof np.array([0]).constructor) jaxNd.push(...v.data);
          else if (typeof v === "object" && v !== null) collectGrad(v);
        }
      };
      collectGrad(g);
      expectClose(ndLeaves, jaxNd, 1e-12);
    }
    // Typed as the subclass, the call needs no choice.
    const [v2, g2] = m.linearOnly(linear(2), X, y);
    expect(v2).toBeCloseTo(m.stepLoss(linear(2), X, y), 14);
    expectClose(flatten(g2), fdGradient(m.stepLoss, () => [linear(2), X, y], 0));
  });

  it("the choice among subclasses is a branch in the generated code, and the choice is by instanceof; the output type-checks under strict", () => {
    const r = compile(inheritance, { fileName: "module.ts" });
    expect(r.diagnostics).toEqual([]);
    const project = createProject();
    const out = project.createSourceFile("/virtual/module-out.ts", r.code);
    expect(out.getPreEmitDiagnostics().map((d) => ts.flattenDiagnosticMessageText(d.getMessageText() as string | ts.DiagnosticMessageChain, "\n"))).toEqual([]);
    expect(r.code).toContain("instanceof TanhLinear");
    expect(r.code).toContain("export function Linear_forward_TanhLinear_fwd");
    expect(r.code).not.toContain("Module_trainingStep_Module");
  });
});

const superCalls = `
import { grad, jvp } from "adc";
export class Base {
  constructor(public k: number) {}
  offset(): number { return 1.5 * this.k; }
  f(x: number): number { return x * x; }
}
export class Derived extends Base {
  offset(): number { return 2; }
  f(x: number): number { return Math.sin(x) * super.f(x) + super.offset() * x; }
}
export function value(d: Derived, x: number): number { return d.f(x); }
export class Activation {
  static softsign(x: number): number { return x / (1 + Math.abs(x)); }
}
export function value2(d: Derived, x: number): number { return Activation.softsign(d.f(x)) * d.k; }
export const dx2 = grad(value2, 1);
export const dx = grad(value, 1);
export const dModel = grad(value, 0);
export const tangent = (d: Derived, x: number, t: number) => jvp(value, [d, x], [new Derived(0), t]);
`;

describe("classes: super calls and static methods", () => {
  it("super.m() runs the base's method on the same object, differentiated or called as it is; a static method is a plain function", async () => {
    const r = compile(superCalls, { fileName: "super.ts" });
    expect(r.diagnostics).toEqual([]);
    // Differentiating with respect to x only, super.offset() is a constant: the base's method on
    // the same object, called as written or (being small) inlined with `this` the object.
    expect(r.code).toMatch(/Base\.prototype\.offset\.call\(d\)|= 1\.5 \* d\.k;/);
    const m = await load(r.code, "super.ts");
    const d = new m.Derived(0.7);
    const x = 0.9;
    const want = Math.cos(x) * x * x + Math.sin(x) * 2 * x + 1.5 * 0.7;
    expect(m.dx(d, x)).toBeCloseTo(want, 12);
    expect(m.dModel(d, x).k).toBeCloseTo(1.5 * x, 12);
    expect(m.tangent(d, x, 1)[1]).toBeCloseTo(want, 12);
    // A static method is a plain function: softsign'(u) = 1 / (1 + |u|)^2.
    const u = m.value(d, x);
    expect(m.dx2(d, x)).toBeCloseTo((1 / (1 + Math.abs(u)) ** 2) * want * 0.7, 12);
  });
});

describe("classes: an arrow inside a method, differentiated, reading this", () => {
  it("reads the method's object as a captured value; grad and jvp; the output type-checks under strict", async () => {
    const source = `
      import { grad, jvp } from "adc";
      export class Phys {
        constructor(public k: number, public w: number[]) {}
        energy(y: number): number { return this.k * y * y + this.w[0] * y; }
        force(x: number): number { return grad((y: number) => this.energy(y) + this.k * Math.sin(y))(x); }
        tangent(x: number): number { return jvp((y: number) => this.energy(y) * this.w[1], [x], [1])[1]; }
      }
    `;
    const r = compile(source, { fileName: "arrow-this.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(strictErrors({ "arrow-this-in.ts": source, "arrow-this-out.ts": r.code })).toEqual([]);
    const m = await load(r.code, "arrow-this.ts");
    const p = new m.Phys(2, [0.5, 3]);
    expect(p.force(3)).toBeCloseTo(2 * 2 * 3 + 0.5 + 2 * Math.cos(3), 13);
    expect(p.tangent(3)).toBeCloseTo((2 * 2 * 3 + 0.5) * 3, 13);
  });
});

describe("classes: subclasses chosen at run time, in generated TypeScript", () => {
  it("fields of the chosen subclass are read and accumulated through base-typed variables; the output type-checks under strict", async () => {
    const source = `
      import { grad } from "adc";
      export abstract class Layer { abstract forward(x: number): number; }
      export function loss(ls: Layer[], x: number): number {
        let h = x;
        for (const l of ls) h = l.forward(h);
        return h;
      }
      export class Sq extends Layer { constructor(public a: number) { super(); } forward(x: number): number { return this.a * x * x; } }
      export class Lin extends Layer { constructor(public a: number, private b: number) { super(); } forward(x: number): number { return this.a * x + this.b; } }
      export const dx = grad(loss, 1), dls = grad(loss, 0), ddx = grad(grad(loss, 1), 1);
    `;
    const r = compile(source, { fileName: "subclass-fields.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(strictErrors({ "subclass-fields-in.ts": source, "subclass-fields-out.ts": r.code })).toEqual([]);
    const m = await load(r.code, "subclass-fields.ts");
    const ls = [new m.Sq(2), new m.Lin(3, 0.5)];
    // h1 = 2 x^2, h2 = 3 h1 + 0.5: d/dx = 12 x, d2 = 12; d/da(Sq) = 3 x^2, d/da(Lin) = h1, d/db = 1.
    expect(m.dx(ls, 0.3)).toBeCloseTo(12 * 0.3, 13);
    expect(m.ddx(ls, 0.3)).toBeCloseTo(12, 12);
    const g = m.dls(ls, 0.3);
    expect([g[0].a, g[1].a, g[1].b]).toEqual([expect.closeTo(0.27, 13), expect.closeTo(0.18, 13), 1]);
  });
});

describe("classes: private and protected members", () => {
  it("derivative code (outside the class) reads them, and the output type-checks under strict", async () => {
    const source = `
      import { grad } from "adc";
      export class Model {
        private w: number;
        protected b: number;
        constructor(w: number, b: number) { this.w = w; this.b = b; }
        out(x: number): number { return Math.tanh(this.w * x + this.b); }
      }
      export const dx = grad((m: Model, x: number) => m.out(x) * m.out(x), 1);
      export const dm = grad((m: Model, x: number) => m.out(x) * m.out(x), 0);
    `;
    const r = compile(source, { fileName: "private-in.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(strictErrors({ "private-in.ts": source, "private-out.ts": r.code })).toEqual([]);
    const m = await load(r.code, "private-in.ts");
    const [w, b, x] = [0.5, 0.1, 0.3];
    const y = Math.tanh(w * x + b);
    const d = 2 * y * (1 - y * y);
    expect(m.dx(new m.Model(w, b), x)).toBeCloseTo(d * w, 14);
    const g = m.dm(new m.Model(w, b), x);
    expect([g.w, g.b]).toEqual([expect.closeTo(d * x, 14), expect.closeTo(d, 14)]);
  });
});

describe("classes: where they are declared", () => {
  it("a subclass declared below the gradient's use: the derivative called before that declaration runs picks the base's method, after it the subclass's", async () => {
    const r = compile(`
      import { grad } from "adc";
      class Base {
        constructor(public k: number) {}
        energy(x: number): number { return this.k * x * x; }
      }
      const dE = grad((b: Base, x: number) => b.energy(x), 1);
      export const early = dE(new Base(3), 2);
      class Sub extends Base {
        energy(x: number): number { return this.k * x ** 4; }
      }
      export const late = [dE(new Base(3), 2), dE(new Sub(1), 1)];
    `, { fileName: "late-subclass.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    const m = await load(r.code, "late-subclass.ts");
    expect(m.early).toBe(12);
    expect(m.late).toEqual([12, 4]);
  });

  it("a model class imported from another module, in both styles; a class expression held by a const", async () => {
    const dir = resolve(".vitest-tmp", "classes-import");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "model.ts"), `import { np, NDArray } from "adc";
export class Linear {
  constructor(public w: NDArray, public b: NDArray) {}
  forward(X: NDArray): NDArray { return np.add(np.dot(X, this.w), this.b); }
  loss(X: NDArray, y: NDArray): NDArray { const d = np.sub(this.forward(X), y); return np.mean(np.mul(d, d)); }
}
`);
    writeFileSync(join(dir, "main.ts"), `import { np, NDArray, valueAndGrad, record, grad } from "adc";
import { Linear } from "./model.js";
export { np, Linear };
export const jax = valueAndGrad((m: Linear, X: NDArray, y: NDArray) => m.loss(X, y));
export function mxnet(m: Linear, X: NDArray, y: NDArray): number {
  let l: NDArray = np.zeros([]);
  record(() => { l = m.loss(X, y); });
  l.backward();
  return l.item();
}
const Scaled = class { k = 2; f(x: number): number { return this.k * x * x * x; } };
export const dScaled = grad((s: InstanceType<typeof Scaled>, x: number) => s.f(x), 1);
export const scaled = () => new Scaled();
`);
    const r = compileFiles([join(dir, "main.ts")]);
    expect(r.diagnostics.map((d) => formatDiagnostic(d))).toEqual([]);
    const model = r.outputs.get(join(dir, "model.ts"))!;
    expect(model.code).toContain("export function Linear_loss_fwd");
    const m = await load(r.outputs.get(join(dir, "main.ts"))!.code, join(dir, "main.ts"), new Map([[join(dir, "model.ts"), model.code]]));
    const X = m.np.array([[1, 2], [3, 4], [-1, 0.5]]);
    const y = m.np.array([[1], [2], [0]]);
    const make = (): any => new m.Linear(m.np.array([[0.1], [0.2]]), m.np.array([0.3]));
    const [l, g] = m.jax(make(), X, y);
    const fd = fdGradient((mm: any) => mm.loss(X, y).item(), () => [make()], 0);
    expectClose(flatten(g), fd);
    const attached = make();
    attached.w.attachGrad();
    attached.b.attachGrad();
    expect(m.mxnet(attached, X, y)).toBeCloseTo(l, 14);
    expectClose(flatten([attached.w.grad, attached.b.grad]), flatten(g), 1e-13);
    expect(m.dScaled(m.scaled(), 1.5)).toBeCloseTo(2 * 3 * 1.5 ** 2, 12);
  });
});

describe("classes: what adc refuses, and why", () => {
  const diagnostics = (source: string): string[] => compile(source, { fileName: "m.ts" }).diagnostics.map((d) => formatDiagnostic(d));

  it("a method passed as a value names the arrow to write", () => {
    const d = diagnostics(`import { grad } from "adc";
class Model { w = 2; loss(x: number): number { return this.w * x * x; } }
const model = new Model();
export const g = grad(model.loss);`);
    expect(d.join("\n")).toContain("differentiate an arrow that calls it on the object, e.g. (m: Model, x) => m.loss(x)");
  });

  it("an override in another module cannot be chosen at compile time", () => {
    const dir = resolve(".vitest-tmp", "classes-modules");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "base.ts"), `export class Base {
  constructor(public w: number) {}
  f(x: number): number { return this.w * x; }
  g(x: number): number { return this.f(x) * x; }
}
`);
    writeFileSync(join(dir, "main.ts"), `import { grad } from "adc";
import { Base } from "./base.js";
export class Sub extends Base {
  f(x: number): number { return this.w * x * x; }
}
export const dg = grad((b: Base, x: number) => b.g(x), 1);
`);
    const r = compileFiles([join(dir, "main.ts")]);
    expect(r.outputs.size).toBe(0);
    const text = r.diagnostics.map((d) => formatDiagnostic(d)).join("\n");
    expect(text).toMatch(/base\.ts\(4,\d+\): error ADC1002: which 'f' runs depends on the object's class \(Sub overrides 'Base\.f'\)/);
  });

  it("private members (#x): derivative code lives outside the class", () => {
    const d = diagnostics(`import { grad } from "adc";
class P { #k = 2; w = 3; #twice(x: number): number { return 2 * x; } f(x: number): number { return this.#k * this.w * x; } g(x: number): number { return this.#twice(x) * this.w; } }
export const d = grad((p: P, x: number) => p.f(x), 1);
export const e = grad((p: P, x: number) => p.g(x), 1);`).join("\n");
    expect(d).toContain("m.ts(2,100): error ADC1012: the private member '#k' cannot be read by derivative code");
    expect(d).toContain("error ADC1012: the private method '#twice' cannot be called by derivative code");
  });

  it("this outside a method, and an abstract method with no subclass body", () => {
    expect(diagnostics(`import { grad } from "adc";
export function f(this: { w: number }, x: number): number { return this.w * x; }
export const df = grad(f);`).join("\n")).toContain("'this' is supported in class methods");
    expect(diagnostics(`import { grad } from "adc";
abstract class Shape { abstract area(s: number): number; twice(s: number): number { return 2 * this.area(s); } }
export const d = grad((m: Shape, s: number) => m.twice(s), 1);`).join("\n")).toContain("has no body");
  });
});
