/**
 * The chapter, cell by cell: builds examples/ with the adc CLI (as `npm run demo` does), runs every
 * chapter file and exercise with Node, and checks each printed cell against the value the chapter
 * printed (for cells with random inputs, against the chapter's identity, such as a.grad == d / a).
 * The sin plot must exist, hold cos within 1e-12 (a cell), and render.
 */
import { Resvg } from "@resvg/resvg-js";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
mkdirSync(join(root, ".vitest-tmp"), { recursive: true });
const tmp = mkdtempSync(join(root, ".vitest-tmp", "chapter-"));
const out = join(tmp, "examples");
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

beforeAll(() => {
  const r = spawnSync(process.execPath, [join(root, "dist/cli/main.js"), "build", "examples", "--outdir", out], { cwd: root, encoding: "utf8" });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
}, 60_000);

interface Cell {
  id: string;
  value: unknown;
  expected: unknown;
}

function runCells(file: string): Cell[] {
  const r = spawnSync(process.execPath, [file], { cwd: root, encoding: "utf8", env: { ...process.env, ADC_CHAPTER_JSON: "1", ADC_PLOT_DIR: tmp } });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return r.stdout.split("\n").filter((l) => l.startsWith("@cell ")).map((l) => JSON.parse(l.slice(6)) as Cell);
}

/** Same structure; numbers within 1e-9 (relative), booleans equal. */
function same(a: unknown, b: unknown): boolean {
  if (typeof a === "number" && typeof b === "number") return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  return a === b;
}

const chapterFiles = readdirSync(join(root, "examples/chapter")).filter((f) => /^\d.*\.ts$/.test(f)).sort();
const exerciseFiles = readdirSync(join(root, "examples/chapter/exercises")).filter((f) => f.endsWith(".ts")).sort();

describe("the chapter", () => {
  it.each(chapterFiles)("%s prints every cell as the chapter did", (f) => {
    const cells = runCells(join(out, "chapter", f.replace(/\.ts$/, ".js")));
    const source = readFileSync(join(root, "examples/chapter", f), "utf8");
    // Every cell in the source printed, each matching the chapter where the chapter printed a value.
    expect(cells.length).toBe((source.match(/\bcell\(/g) ?? []).length);
    for (const c of cells) if (c.expected !== null) expect(same(c.value, c.expected), `${c.id}: ${JSON.stringify(c.value)} vs ${JSON.stringify(c.expected)}`).toBe(true);
  });

  it.each(exerciseFiles)("exercise %s", (f) => {
    const cells = runCells(join(out, "chapter", "exercises", f.replace(/\.ts$/, ".js")));
    expect(cells.length).toBeGreaterThan(0);
    for (const c of cells) {
      if (c.expected === null) continue;
      if (typeof c.expected === "boolean" && !Array.isArray(c.value) && typeof c.value !== "boolean") expect(c.expected, c.id).toBe(true);
      else expect(same(c.value, c.expected), `${c.id}: ${JSON.stringify(c.value)} vs ${JSON.stringify(c.expected)}`).toBe(true);
    }
  });

  it("backward twice names retainGraph", () => {
    const [first] = runCells(join(out, "chapter", "exercises", "2-backward-twice.js"));
    expect(String(first.value)).toMatch(/retainGraph/);
  });

  it("the sin plot exists and renders", () => {
    const svg = join(tmp, "sin-and-derivative.svg");
    expect(existsSync(svg)).toBe(true);
    const png = new Resvg(readFileSync(svg, "utf8")).render();
    expect(png.width).toBeGreaterThan(300);
    expect(png.height).toBeGreaterThan(200);
    // Two curves (paths) and a legend naming the derivative.
    const text = readFileSync(svg, "utf8");
    expect((text.match(/mark-line role-mark/g) ?? []).length).toBe(2);
    expect(text).toContain("computed by adc");
  });
});
