/**
 * The pipeline shows its IR: `compile(source, { dump })` and `adc build --dump <stage>` print
 * every function after a pass, in adc's own language, and the derivative stages are IR too.
 */
import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { compile, DUMP_STAGES, PIPELINE } from "../compiler/index.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SOURCE = `import { grad, jvp } from "adc";
export function f(x: number, y: number): number {
  let s = 0;
  for (let i = 0; i < 3; i++) s += Math.sin(x * y) * x;
  return s;
}
export const df = grad(f);
export const tf = (x: number) => jvp(f, [x, 2], [1, 0]);
`;

describe("the pipeline", () => {
  it("lists its passes in order, each stage that can be dumped among them", () => {
    const stages = PIPELINE.map((p) => p.stage as string);
    for (const s of DUMP_STAGES) expect(stages).toContain(s);
    expect(stages.indexOf("lower")).toBeLessThan(stages.indexOf("anf"));
    expect(stages.indexOf("reverse")).toBeLessThan(stages.indexOf("cleanup"));
  });

  it("dumps the IR after each stage", () => {
    const at = (stage: (typeof DUMP_STAGES)[number]): string => compile(SOURCE, { fileName: "pipe.ts", dump: stage }).dump ?? "";
    expect(at("lower")).toMatch(/after lower: f\n[\s\S]*s = s \+ Math\.sin\(x \* y\) \* x;/);
    expect(at("anf")).toMatch(/after anf: f \(active: x\)[\s\S]*const _t0 = x \* y;/);
    expect(at("forward")).toMatch(/after forward: f_jvp\n[\s\S]*_t0_dot = y \* x_dot \+ x \* y_dot;/);
    const reverse = at("reverse");
    expect(reverse).toMatch(/after reverse: f_grad[\s\S]*_rt\.tape\.pushF\(_t1\);[\s\S]*\/\/ adjoint of: s \+= Math\.sin\(x \* y\) \* x/);
    const cleaned = at("cleanup");
    expect(cleaned).toMatch(/after cleanup: f_grad/);
    expect(cleaned.split("\n").length).toBeLessThan(reverse.split("\n").length);
    expect(compile(SOURCE, { fileName: "pipe.ts" }).dump).toBeUndefined();
  });

  it("adc build --dump prints the IR; an unknown stage is a usage error", () => {
    const cli = join(root, "dist/cli/main.js");
    const out = join(root, ".vitest-tmp", "dump-out");
    const ok = spawnSync(process.execPath, [cli, "build", "examples/scalar.ts", "--outdir", out, "--dump", "anf"], { cwd: root, encoding: "utf8" });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/\/\/ ---- after anf: f \(active: x, y\)/);
    const bad = spawnSync(process.execPath, [cli, "build", "examples/scalar.ts", "--outdir", out, "--dump", "parse"], { cwd: root, encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--dump must be one of lower, inline, anf, forward, reverse, cleanup/);
  });
});
