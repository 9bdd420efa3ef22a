/**
 * The ts-morph Project adc reads programs with. One Project is kept alive and reused (loading
 * ts-morph and the standard library costs most of a compile; later compiles take
 * milliseconds). The `adc` and `adc/runtime` modules resolve to adc's own sources or
 * declarations wherever adc is installed, so the checker knows the API whatever the user's setup.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Project, ts } from "ts-morph";

const here = dirname(fileURLToPath(import.meta.url));

/** runtime/api.ts in a source checkout, dist/runtime/api.d.ts in an installed package. */
export function runtimeFile(name: string): string {
  const dir = resolve(here, "..", "runtime");
  for (const ext of [".ts", ".d.ts"]) {
    const f = join(dir, name + ext);
    if (existsSync(f)) return f;
  }
  throw new Error(`adc: cannot find runtime/${name} next to the compiler (${dir})`);
}

export function createProject(): Project {
  return new Project({
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      allowImportingTsExtensions: true,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      lib: ["lib.es2022.d.ts"],
      types: [],
      paths: { adc: [runtimeFile("api")], "adc/runtime": [runtimeFile("index")] },
    },
    skipAddingFilesFromTsConfig: true,
    skipFileDependencyResolution: true,
  });
}

let shared: Project | undefined;

/** The process-wide Project (created on first use). */
export function sharedProject(): Project {
  return (shared ??= createProject());
}
