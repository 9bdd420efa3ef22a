/**
 * The command line, run as a user runs it: `node dist/cli/main.js` (built by `npm test`'s
 * pretest step). Exit codes, help, diagnostics, that nothing is written on error, that inputs
 * are never overwritten, and that the output runs.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "dist/cli/main.js");
// Outputs go inside the package, so `import "adc/runtime"` resolves by self-reference.
const work = join(root, ".vitest-tmp");
mkdirSync(work, { recursive: true });
const tmp = mkdtempSync(join(work, "cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function adc(args: string[], cwd = root) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("adc command line", () => {
  it("prints help and version, exit 0", () => {
    const h = adc(["--help"]);
    expect(h.code).toBe(0);
    expect(h.out).toContain("Usage: adc build");
    const v = adc(["--version"]);
    expect(v.code).toBe(0);
    expect(v.out.trim()).toBe(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version);
  });

  it("exits 2 on usage errors", () => {
    expect(adc([]).code).toBe(2);
    expect(adc(["frobnicate"]).code).toBe(2);
    expect(adc(["build", "examples/scalar.ts"]).code).toBe(2); // no --outdir
    expect(adc(["build", "--outdir", tmp]).code).toBe(2); // no inputs
    expect(adc(["build", "examples/scalar.ts", "--outdir", tmp, "--emit", "wasm"]).code).toBe(2);
    expect(adc(["build", "examples/scalar.ts", "--outdir", tmp, "--nope"]).code).toBe(2);
    expect(adc(["build", "no/such/file.ts", "--outdir", tmp]).code).toBe(2);
  });

  it("builds an example whose output runs and prints the gradients", () => {
    const out = join(tmp, "js");
    const r = adc(["build", "examples/scalar.ts", "--outdir", out]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const js = join(out, "scalar.js");
    expect(existsSync(js)).toBe(true);
    const printed = execFileSync(process.execPath, [js], { encoding: "utf8" });
    // df/dx and df/dy of the example at (1.5, 2), checked against finite differences in test/api.test.ts.
    expect(printed).toMatch(/df\/dx, df\/dy {10}= 4\.0098491\d* 3\.38692562\d*\n/);
  });

  it("--emit ts writes the transformed TypeScript; --sourcemap writes maps", () => {
    const out = join(tmp, "ts");
    expect(adc(["build", "examples/scalar.ts", "--outdir", out, "--emit", "ts", "--sourcemap"]).code).toBe(0);
    const ts = readFileSync(join(out, "scalar.ts"), "utf8");
    expect(ts).toContain("export function f_grad_x(x: number, y: number): number");
    expect(existsSync(join(out, "scalar.ts.map"))).toBe(true);
  });

  it("--bundle writes one file that runs from any folder", () => {
    const out = join(tmp, "bundle");
    expect(adc(["build", "examples/scalar.ts", "--outdir", out, "--bundle"]).code).toBe(0);
    const elsewhere = mkdtempSync(join(tmpdir(), "adc-run-"));
    try {
      const printed = execFileSync(process.execPath, [join(out, "scalar.js")], { encoding: "utf8", cwd: elsewhere });
      expect(printed).toMatch(/df\/dx, df\/dy {10}= 4\.0098491\d* /);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it("prints diagnostics like tsc, exits 1 and writes nothing", () => {
    const src = join(tmp, "bad");
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, "bad.ts"), 'import { grad } from "adc";\nfunction f(x: number): number {\n  return Math.random() * x;\n}\nexport const g = grad(f);\n');
    const out = join(tmp, "bad-out");
    const r = adc(["build", src, "--outdir", out]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.ts\(3,10\): error ADC1003: Math\.random\(\) in a differentiated computation - /);
    expect(existsSync(out)).toBe(false);
  });

  it("never writes over an input file", () => {
    const src = join(tmp, "same");
    mkdirSync(src, { recursive: true });
    const file = join(src, "m.ts");
    const text = 'import { grad } from "adc";\nexport function f(x: number): number { return x * x; }\nexport const g = grad(f);\n';
    writeFileSync(file, text);
    const r = adc(["build", src, "--outdir", src, "--emit", "ts"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("refusing to write");
    expect(readFileSync(file, "utf8")).toBe(text);
  });

  it("never writes over an input through a symlink, nor two inputs into one output, nor past a file where a folder goes; and then writes nothing", () => {
    const base = join(tmp, "safety");
    const src = join(base, "src");
    mkdirSync(join(src, "sub"), { recursive: true });
    const text = 'import { grad } from "adc";\nexport function f(x: number): number { return x * x; }\nexport const g = grad(f);\n';
    writeFileSync(join(src, "a.ts"), text);
    writeFileSync(join(src, "sub", "c.ts"), text);
    symlinkSync(src, join(base, "link"));
    const viaLink = adc(["build", src, "--outdir", join(base, "link"), "--emit", "ts"]);
    expect(viaLink.code).toBe(2);
    expect(viaLink.err).toMatch(/refusing to write .*a\.ts: it is an input file/);
    expect(readFileSync(join(src, "a.ts"), "utf8")).toBe(text);

    const blocked = join(base, "out-blocked");
    mkdirSync(blocked);
    writeFileSync(join(blocked, "sub"), "not a folder");
    const r = adc(["build", src, "--outdir", blocked]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/sub is not a folder/);
    expect(readdirSync(blocked)).toEqual(["sub"]);

    writeFileSync(join(src, "a.mts"), "export const z = 1;\n");
    const twice = adc(["build", src, "--outdir", join(base, "out-twice")]);
    expect(twice.code).toBe(2);
    expect(twice.err).toMatch(/a\.mts and .*a\.ts would both be written to .*a\.js/);
    expect(existsSync(join(base, "out-twice"))).toBe(false);
  });
});
