// `npm run demo`: builds every example with adc (as a user would, with `adc build`), then runs
// them in order: the foundation example, the chapter in its five versions, the exercises, and the
// book's next sections (examples/d2l/: linear regression, softmax regression and an MLP from
// scratch, each MXNet style and JAX style).
// Each chapter cell prints its result beside what the chapter printed. The sin plot goes to out/.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "out", "examples");
const run = (args, env = {}) => {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: "inherit", env: { ...process.env, ...env } });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

run([join(root, "dist/cli/main.js"), "build", "examples", "--outdir", out]);
const chapter = readdirSync(join(out, "chapter")).filter((f) => /^\d.*\.js$/.test(f)).sort();
const exercises = readdirSync(join(out, "chapter", "exercises")).filter((f) => f.endsWith(".js")).sort();
const d2l = ["linear-regression", "softmax-regression", "mlp"].flatMap((n) => [`${n}-mxnet.js`, `${n}-jax.js`]);
const programs = [
  join(out, "scalar.js"),
  ...chapter.map((f) => join(out, "chapter", f)),
  ...exercises.map((f) => join(out, "chapter", "exercises", f)),
  ...d2l.map((f) => join(out, "d2l", f)),
];
for (const p of programs) {
  console.log(`\n=== ${p.slice(out.length + 1)} ===`);
  run([p], { ADC_PLOT_DIR: join(root, "out") });
}
