// Exercise 5: plot sin(x) and its derivative computed by adc, without using that sin' = cos.
// The derivative comes from grad of sum(sin(x)) over a grid (each element's derivative lands in
// its own slot); the plot is drawn by Vega-Lite and written as an SVG file.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as vega from "vega";
import * as vegaLite from "vega-lite";
import { grad, np, NDArray } from "adc";
import { cell } from "../cells.js";

const sinSum = (x: NDArray): number => np.sum(np.sin(x)).item();
const x = np.linspace(-2 * Math.PI, 2 * Math.PI, 401);
const dx = grad(sinSum)(x);

let worst = 0;
for (let i = 0; i < x.size; i++) worst = Math.max(worst, Math.abs(dx.data[i] - Math.cos(x.data[i])));
cell("ex5.1", "max |d sin(x)/dx - cos(x)| over [-2π, 2π]", worst, "0 (within 1e-12)", worst <= 1e-12);

const values: { x: number; y: number; curve: string }[] = [];
for (let i = 0; i < x.size; i++) {
  values.push({ x: x.data[i], y: Math.sin(x.data[i]), curve: "f(x) = sin(x)" });
  values.push({ x: x.data[i], y: dx.data[i], curve: "df/dx, computed by adc" });
}
const spec = vegaLite.compile({
  $schema: "https://vega.github.io/schema/vega-lite/v5.json",
  title: "sin(x) and its derivative computed by adc",
  width: 460,
  height: 260,
  data: { values },
  mark: { type: "line", strokeWidth: 2 },
  encoding: {
    x: { field: "x", type: "quantitative", title: "x" },
    y: { field: "y", type: "quantitative", title: "" },
    color: { field: "curve", type: "nominal", title: null, legend: { labelLimit: 400, orient: "bottom" } },
    strokeDash: { field: "curve", type: "nominal", title: null },
  },
}).spec;
const svg = await new vega.View(vega.parse(spec), { renderer: "none" }).toSVG();
const dir = process.env.ADC_PLOT_DIR ?? "out";
mkdirSync(dir, { recursive: true });
const file = join(dir, "sin-and-derivative.svg");
writeFileSync(file, svg);
cell("ex5.2", `plot written to ${file}`, `${svg.length} bytes of SVG`);
