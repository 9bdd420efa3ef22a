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

/** `adc` and `adc/runtime` resolve to adc itself, whatever the user's node_modules hold. */
const ADC_PATHS = { adc: [runtimeFile("api")], "adc/runtime": [runtimeFile("index")] };

/** What adc takes from a user's tsconfig: how module names resolve (`paths`, `baseUrl`). */
export interface UserResolution {
  readonly paths?: Readonly<Record<string, readonly string[]>>;
  readonly baseUrl?: string;
  /** The tsconfig's folder, which `paths` are relative to when there is no baseUrl. */
  readonly pathsBasePath?: string;
}

/**
 * Makes the Project resolve module names as the user's tsconfig does (or as with no tsconfig).
 * Set before every build, so one build's settings never leak into the next in a long-lived process.
 */
export function applyResolution(project: Project, user: UserResolution = {}): void {
  const current = project.compilerOptions.get();
  const paths = { ...(user.paths ?? {}), ...ADC_PATHS };
  const same = JSON.stringify([current.paths, current.baseUrl, current.pathsBasePath]) === JSON.stringify([paths, user.baseUrl, user.pathsBasePath]);
  if (!same) project.compilerOptions.set({ paths, baseUrl: user.baseUrl, pathsBasePath: user.pathsBasePath } as never);
}

export function createProject(): Project {
  return new Project({
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      allowImportingTsExtensions: true,
      // (So that a .tsx module resolves; its JSX is left for the user's own build to compile.)
      jsx: ts.JsxEmit.Preserve,
      resolveJsonModule: true,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      lib: ["lib.es2022.d.ts"],
      types: [],
      paths: ADC_PATHS,
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

/**
 * Drops the process-wide Project. A build that could not find a module leaves that failed
 * resolution in the Project for every file that has not changed since; when the module comes
 * back (written again, a watcher's rebuild), only a new Project finds it.
 */
export function forgetSharedProject(): void {
  shared = undefined;
}
