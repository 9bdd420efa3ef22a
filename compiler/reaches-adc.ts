/**
 * Whether a build's entry points can need adc at all, decided from the files' text alone, so the
 * bundler plugins load neither the compiler nor TypeScript for a build that does not use adc
 * (loading them costs about a second). adc changes only modules that import "adc" (or adc/...)
 * or carry a `@differentiable` tag; such a module is part of the build when an entry reaches it
 * through local imports.
 *
 * The scan follows relative imports. It answers "maybe" (compile as usual) whenever it cannot be
 * sure: a file mentions adc or @differentiable anywhere (even in a comment), or an import names
 * neither a relative path, a Node builtin nor a package found in a node_modules folder (a
 * tsconfig `paths` alias, which only the compiler resolves). Nothing here imports ts-morph.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, resolve } from "node:path";

const MENTIONS_ADC = /["'`]adc(?:\/[^"'`]*)?["'`]|@differentiable/;
const SPECIFIERS = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["']([^"']+)["']/g;
const SOURCE = /\.[cm]?[jt]sx?$/;

export function mayNeedAdc(roots: readonly string[]): boolean {
  const seen = new Set<string>();
  const work = [...roots];
  while (work.length) {
    const file = work.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      return true; // let the compiler report it
    }
    if (MENTIONS_ADC.test(text)) return true;
    for (const m of text.matchAll(SPECIFIERS)) {
      const spec = m[1];
      if (spec.startsWith(".") || spec.startsWith("/")) {
        const target = localFile(resolve(dirname(file), spec));
        if (target) work.push(target);
      } else if (!isBuiltin(spec) && !isPackage(spec, dirname(file))) return true;
    }
  }
  return false;
}

const BUILTINS = new Set(builtinModules);

function isBuiltin(spec: string): boolean {
  return spec.startsWith("node:") || BUILTINS.has(spec.split("/")[0]);
}

/** The source file a relative import names, as TypeScript's bundler resolution finds it. */
function localFile(path: string): string | undefined {
  const candidates = [path];
  const js = /\.([cm]?)js(x?)$/.exec(path);
  if (js) candidates.push(path.slice(0, -js[0].length) + `.${js[1]}ts${js[2]}`);
  for (const ext of [".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"]) candidates.push(path + ext, join(path, "index" + ext));
  return candidates.find((c) => SOURCE.test(c) && isFile(c));
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Whether a bare specifier names a package installed in a node_modules folder above `from`. */
function isPackage(spec: string, from: string): boolean {
  const parts = spec.split("/");
  const name = spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "node_modules", name))) return true;
    if (dirname(dir) === dir) return false;
  }
}
