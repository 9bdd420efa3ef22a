/**
 * Fixture tests. Each folder under fixtures/ with an `input.ts` is one case:
 * - `output.ts` (and `<module>.output.ts` for other modules the build changes): the expected
 *   generated code, compared exactly; compiling twice must give the same bytes;
 * - beside every snapshot, the numeric check (test/helpers/check.ts) on every exported function,
 *   and under fixtures/higher the second-order check (test/helpers/check2.ts) too;
 * - or `errors.txt`: the expected diagnostics, one per line in tsc's format, and no output.
 * `npm run test:accept` rewrites expected files; read each diff before committing it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { compileFiles, formatDiagnostic } from "../compiler/index.js";
import { CODES } from "../compiler/diagnostics.js";
import { checkProbe } from "./helpers/check.js";
import { checkSecondOrder } from "./helpers/check2.js";
import { load } from "./helpers/load.js";
import { probeSpecs, probeText } from "./helpers/probe.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const fixtures = join(root, "fixtures");

function cases(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (!statSync(p).isDirectory()) continue;
    if (existsSync(join(p, "input.ts"))) out.push(p);
    else out.push(...cases(p));
  }
  return out;
}

const all = cases(fixtures);

function outputName(file: string): string {
  return basename(file) === "input.ts" ? "output.ts" : basename(file).replace(/\.ts$/, ".output.ts");
}

function relToRoot(d: string): string {
  return relative(root, d).split("\\").join("/");
}

describe.each(all.map((d) => [relative(fixtures, d), d]))("%s", (_name, dir) => {
  const input = join(dir, "input.ts");
  const expectsErrors = existsSync(join(dir, "errors.txt")) || relative(fixtures, dir).startsWith("errors");

  if (expectsErrors) {
    it("reports the expected diagnostics and emits nothing", async () => {
      const r = compileFiles([input]);
      expect(r.diagnostics.length).toBeGreaterThan(0);
      expect(r.outputs.size).toBe(0);
      const text = r.diagnostics.map((d) => formatDiagnostic({ ...d, file: relToRoot(d.file) })).join("\n") + "\n";
      await expect(text).toMatchFileSnapshot(join(dir, "errors.txt"));
    });
    return;
  }

  it("generates the expected code, deterministically", async () => {
    const r = compileFiles([input]);
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    const again = compileFiles([input]);
    for (const [file, out] of r.outputs) {
      expect(again.outputs.get(file)?.code).toBe(out.code);
      if (dirname(file) !== dir) continue;
      await expect(out.code).toMatchFileSnapshot(join(dir, outputName(file)));
    }
  });

  it("has derivatives that agree with finite differences and with each other", async () => {
    const source = readFileSync(input, "utf8");
    // Every function of fixtures/higher is checked to second order as well.
    const specs = probeSpecs(source, input, relative(fixtures, dir).startsWith("higher") ? 2 : 1);
    expect(specs.length, "a fixture must export at least one function to check").toBeGreaterThan(0);
    const r = compileFiles([input], new Map([[input, probeText(source, specs)]]));
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    const compiled = new Map([...r.outputs].map(([f, o]) => [f, o.code]));
    const mod = await load(compiled.get(input)!, input, compiled);
    const failures = specs.flatMap((s, i) => [...checkProbe(mod, s, 1000 + i), ...(s.order >= 2 ? checkSecondOrder(mod, s, 2000 + i) : [])]);
    expect(failures).toEqual([]);
  });
});

describe("fixture folders", () => {
  it("refuse with every diagnostic code in the catalogue, each in some fixtures/errors case", () => {
    const seen = new Set<string>();
    for (const dir of all) if (existsSync(join(dir, "errors.txt"))) for (const m of readFileSync(join(dir, "errors.txt"), "utf8").matchAll(/error (ADC\d+)/g)) seen.add(m[1]);
    expect(Object.keys(CODES).filter((c) => !seen.has(c))).toEqual([]);
  });

  it("have no orphaned expected files", () => {
    // Every folder, including one that lost its input.ts (which `cases` would not list).
    const folders = (dir: string): string[] => [dir, ...readdirSync(dir).map((n) => join(dir, n)).filter((p) => statSync(p).isDirectory()).flatMap(folders)];
    for (const dir of folders(fixtures)) {
      if (existsSync(join(dir, "errors.txt"))) expect(existsSync(join(dir, "input.ts")), `${relative(fixtures, dir)}/errors.txt has no input.ts`).toBe(true);
      for (const f of readdirSync(dir)) {
        if (!f.endsWith(".output.ts") && f !== "output.ts") continue;
        const src = f === "output.ts" ? "input.ts" : f.replace(/\.output\.ts$/, ".ts");
        expect(existsSync(join(dir, src)), `${relative(fixtures, dir)}/${f} has no ${src}`).toBe(true);
      }
    }
  });
});
