/**
 * Compiler time against input size (issue "Performance round 2": compile time linear in function
 * size and nesting; a 10,000-line differentiated function within 2x of `tsc --noEmit`).
 *
 * Programs are generated: one function of L lines (a recurrence of scalar statements in loops and
 * branches, the shape of numeric code) differentiated by `grad`, and a function with D nested
 * loops around a statement. Each is timed warm in this process (`compileFiles`, medians of a few
 * runs, after a warm-up compile of another program) next to TypeScript's own type check of the
 * same file with the same TypeScript (a fresh Program and its semantic diagnostics, which is the
 * work `tsc --noEmit` does). `SIZES=1000,5000 npm run bench:compile` picks the sizes.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { ts } from "ts-morph";
import { compileFiles, formatDiagnostic } from "../compiler/index.js";
import { createProject } from "../compiler/program.js";
import { machine, table } from "./lib/harness.js";

const dir = mkdtempSync(join(tmpdir(), "adc-compile-bench-"));

/**
 * A function of about `lines` lines in blocks of 7-9: every fourth block a loop, every third a
 * branch. Each block has its own variables, computed from the previous block's: TypeScript's own
 * control-flow analysis gives up on one variable assigned thousands of times in a row (TS2563,
 * "too large for control flow analysis"), which is not what this measures.
 */
function longFunction(lines: number): string {
  const out = ["export function f(x: number, y: number): number {", "  const a0 = x;", "  const b0 = y;"];
  let k = 0;
  for (; out.length < lines; k++) {
    const [a, b, a1, b1] = [`a${k}`, `b${k}`, `a${k + 1}`, `b${k + 1}`];
    out.push(`  let ${a1} = ${a};`, `  let ${b1} = ${b};`);
    const body = [`const u = Math.sin(${a1}) * ${1 + (k % 5)} + ${b1};`, `const v = u * ${a1} - Math.cos(${b1}) * 0.5;`, `${a1} = ${a1} + 0.001 * v;`, `${b1} = ${b1} * 0.999 + 0.001 * u;`];
    if (k % 4 === 0) out.push(`  for (let i = 0; i < 3; i++) {`, ...body.map((l) => "    " + l), "  }");
    else if (k % 3 === 0) out.push(`  if (${a1} > ${b1}) {`, ...body.map((l) => "    " + l), "  } else {", `    ${a1} -= ${b1};`, "  }");
    else out.push("  {", ...body.map((l) => "    " + l), "  }");
  }
  out.push(`  return a${k} * b${k};`, "}");
  return out.join("\n");
}

/** `depth` nested loops (and a branch in each) around one update. */
function nested(depth: number): string {
  const out = ["export function f(x: number): number {", "  let s = x;"];
  for (let d = 0; d < depth; d++) out.push(`${"  ".repeat(d + 1)}for (let i${d} = 0; i${d} < 1; i${d}++) {`, `${"  ".repeat(d + 2)}if (s > -1e9) s = s * 0.5 + Math.sin(s);`);
  out.push(`${"  ".repeat(depth + 1)}s = s * s;`);
  for (let d = depth - 1; d >= 0; d--) out.push(`${"  ".repeat(d + 1)}}`);
  out.push("  return s;", "}");
  return out.join("\n");
}

function write(name: string, fn: string): string {
  const file = join(dir, name);
  writeFileSync(file, `import { grad } from "adc";\n${fn}\nexport const df = grad(f);\n`);
  return file;
}

function timeAdc(file: string): number {
  const t0 = performance.now();
  const r = compileFiles([file]);
  const ms = performance.now() - t0;
  if (r.diagnostics.length) throw new Error(r.diagnostics.map(formatDiagnostic).join("\n"));
  return ms;
}

/**
 * What `tsc --noEmit` does with the file: a fresh Program (adc's own Project settings, `adc`
 * resolved) and the file's diagnostics; adc's runtime, which it imports, is checked as far as the
 * file needs it.
 */
function timeTsc(file: string): number {
  const t0 = performance.now();
  const project = createProject();
  const sf = project.addSourceFileAtPath(file);
  project.resolveSourceFileDependencies();
  const program = project.getProgram().compilerObject;
  const diags = [...program.getSyntacticDiagnostics(sf.compilerNode), ...program.getSemanticDiagnostics(sf.compilerNode)];
  const ms = performance.now() - t0;
  if (diags.length) throw new Error(`${file}: ${ts.flattenDiagnosticMessageText(diags[0].messageText, "\n")}`);
  return ms;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const rounds = Number(process.env.ROUNDS ?? 3);
function measure(file: string): { adc: number; tsc: number } {
  const adc: number[] = [];
  const tsc: number[] = [];
  for (let r = 0; r < rounds; r++) {
    adc.push(timeAdc(file));
    tsc.push(timeTsc(file));
  }
  return { adc: median(adc), tsc: median(tsc) };
}

timeAdc(write("warm.ts", longFunction(200)));
timeTsc(join(dir, "warm.ts"));
const sizes = (process.env.SIZES ?? "1000,5000,10000,20000").split(",").map(Number);
const depths = (process.env.DEPTHS ?? "100,200,400").split(",").map(Number);
const rows = [["input", "adc (ms)", "per 1k lines / per level (ms)", "TypeScript check (ms)", "adc / check"]];
for (const L of sizes) {
  const t = measure(write(`long-${L}.ts`, longFunction(L)));
  rows.push([`${L} lines`, t.adc.toFixed(0), ((t.adc / L) * 1000).toFixed(1), t.tsc.toFixed(0), (t.adc / t.tsc).toFixed(2)]);
}
for (const D of depths) {
  const t = measure(write(`nested-${D}.ts`, nested(D)));
  rows.push([`${D} nested loops`, t.adc.toFixed(0), (t.adc / D).toFixed(2), t.tsc.toFixed(0), (t.adc / t.tsc).toFixed(2)]);
}
rmSync(dir, { recursive: true, force: true });
console.log(`# adc compile time (${machine()}; medians of ${rounds})\n`);
console.log(table(rows));
