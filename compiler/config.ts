/**
 * The user's tsconfig, read as tsc reads it (`extends`, defaults and all, through the TypeScript
 * API): `-p FILE`, or else the nearest tsconfig.json above the first input. adc takes from it how
 * modules resolve (`paths`, `baseUrl`), where output goes (`outDir`, `rootDir`) and, when no input
 * is named, which files to build (`files`/`include`/`exclude`).
 */
import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ts } from "ts-morph";
import type { UserResolution } from "./program.js";

export interface UserConfig {
  readonly path: string;
  readonly resolution: UserResolution;
  readonly outDir?: string;
  readonly rootDir?: string;
  readonly fileNames: readonly string[];
}

/** The config file `-p` names (a file, or a folder holding tsconfig.json), or the nearest one above the first input. */
export function findConfig(project: string | undefined, inputs: readonly string[]): string | undefined {
  if (project !== undefined) {
    const p = resolve(project);
    return existsSync(p) && statSync(p).isDirectory() ? resolve(p, "tsconfig.json") : p;
  }
  const first = inputs[0] === undefined ? process.cwd() : resolve(inputs[0]);
  const from = existsSync(first) && statSync(first).isDirectory() ? first : dirname(first);
  return ts.findConfigFile(from, ts.sys.fileExists);
}

/** Reads a tsconfig; its errors come back formatted, as tsc prints them. */
export function readConfig(path: string): { config?: UserConfig; errors: string[] } {
  const host: ts.FormatDiagnosticsHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => process.cwd(), getNewLine: () => "\n" };
  const format = (ds: readonly ts.Diagnostic[]): string[] => ds.map((d) => ts.formatDiagnostic(d, host).trimEnd());
  if (!existsSync(path)) return { errors: [`cannot find the tsconfig ${path}`] };
  const read = ts.readConfigFile(path, ts.sys.readFile);
  if (read.error) return { errors: format([read.error]) };
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, dirname(path), undefined, path);
  // "No inputs were found" only matters when the config is what names the inputs; the caller decides.
  const errors = format(parsed.errors.filter((d) => d.code !== 18003));
  const o = parsed.options;
  return {
    errors,
    config: {
      path,
      resolution: { paths: o.paths, baseUrl: o.baseUrl, pathsBasePath: (o as { pathsBasePath?: string }).pathsBasePath ?? dirname(path) },
      outDir: o.outDir,
      rootDir: o.rootDir,
      fileNames: parsed.fileNames,
    },
  };
}

/** Whether a config governs a build of these files: named with -p, or it includes one of them. */
export function governs(config: UserConfig, files: readonly string[], named: boolean): boolean {
  if (named) return true;
  const included = new Set(config.fileNames.map((f) => resolve(f)));
  return files.some((f) => included.has(resolve(f)));
}

/**
 * How a build's imports resolve: through the tsconfig given (`named`), or else the nearest one
 * that includes the roots; undefined when none applies (adc's defaults).
 */
export function resolutionFor(roots: readonly string[], named?: string): UserResolution | undefined {
  const path = findConfig(named, roots);
  const config = path ? readConfig(path).config : undefined;
  return config && governs(config, roots, named !== undefined) ? config.resolution : undefined;
}
