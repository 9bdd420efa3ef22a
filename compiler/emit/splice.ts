/**
 * Writes the output of one file: the user's text with call sites rewritten and generated
 * functions inserted after the statements that declare their originals, plus the imports the
 * generated code needs, and its source map. The user's text keeps a mapping at every token; each
 * generated line maps to the user statement it was generated from (Code.at), so a throw inside a
 * derivative points at the statement being differentiated.
 */
import { encode, type SourceMapSegment } from "@jridgewell/sourcemap-codec";
import { ts } from "ts-morph";
import { RT } from "./names.js";
import { placeOf } from "../ir/origins.js";

export interface Insertion {
  /** Offset after which the text goes (the end of a top-level statement). */
  readonly at: number;
  readonly text: string;
  /** Per line of `text`, the source offset it comes from (the statement being differentiated). */
  readonly origins?: readonly (number | undefined)[];
}

/**
 * A version 3 source map: the user's file (and its text) first, then each file whose code was
 * inlined into this one's derivatives.
 */
export class SourceMap {
  readonly version = 3;
  readonly names: string[] = [];
  constructor(
    readonly sources: string[],
    readonly sourcesContent: string[],
    readonly mappings: string,
  ) {}
  toString(): string {
    return JSON.stringify({ version: this.version, sources: this.sources, sourcesContent: this.sourcesContent, names: this.names, mappings: this.mappings });
  }
  toUrl(): string {
    return `data:application/json;charset=utf-8;base64,${Buffer.from(this.toString()).toString("base64")}`;
  }
}

export interface SpliceResult {
  readonly code: string;
  readonly map: SourceMap;
}

/** The import generated code uses, under the name the module chose for it. */
export function runtimeImport(name: string): string {
  return `import * as ${name} from "adc/runtime";`;
}

/** Text added at an offset of the original, with the source offset of each of its lines. */
interface Added {
  readonly text: string;
  readonly origins: readonly (number | undefined)[];
}

type Edit = { readonly start: number; readonly end: number; readonly text: string };

export function splice(
  sf: ts.SourceFile,
  insertions: readonly Insertion[],
  edits: readonly { start: number; end: number; text: string }[],
  imports: ReadonlyMap<string, ReadonlyMap<string, string>> | undefined,
  runtime = "_rt",
): SpliceResult {
  const source = sf.text;
  // Generated text names the runtime RT until here (names.ts); the module chose `runtime`.
  const named = (t: string): string => t.split(RT).join(runtime);
  const header: string[] = [];
  const usesRuntime = insertions.some((i) => i.text.includes(`${RT}.`)) || edits.some((e) => e.text.includes(`${RT}.`));
  if (usesRuntime) header.push(runtimeImport(runtime));
  if (imports)
    for (const [spec, names] of [...imports].sort(([a], [b]) => compare(a, b))) {
      const list = [...names].sort(([a], [b]) => compare(a, b)).map(([name, local]) => (name === local ? name : `${name} as ${local}`));
      header.push(`import { ${list.join(", ")} } from ${JSON.stringify(spec)};`);
    }

  // What goes in front of each offset: generated functions (grouped by anchor, in the order they
  // were generated) after the statement that ends there, then the header after the last import.
  const added = new Map<number, Added[]>();
  const add = (at: number, a: Added): void => void (added.get(at) ?? added.set(at, []).get(at)!).push(a);
  const byAnchor = new Map<number, Insertion[]>();
  for (const ins of insertions) (byAnchor.get(ins.at) ?? byAnchor.set(ins.at, []).get(ins.at)!).push(ins);
  for (const [at, list] of byAnchor) {
    const origins: (number | undefined)[] = [undefined, undefined];
    list.forEach((ins, k) => {
      if (k > 0) origins.push(undefined);
      const lines = ins.text.split("\n").length;
      for (let j = 0; j < lines; j++) origins.push(ins.origins?.[j] ?? at);
    });
    add(at, { text: "\n\n" + list.map((i) => named(i.text)).join("\n\n"), origins });
  }
  let prefix: Added | null = null;
  if (header.length) {
    const lastImport = [...sf.statements].reverse().find((st) => ts.isImportDeclaration(st));
    if (lastImport) add(lastImport.getEnd(), { text: "\n" + header.join("\n"), origins: [] });
    else prefix = { text: header.join("\n") + "\n", origins: [] };
  }

  const out = new Output(source);
  if (prefix) out.generated(prefix);
  // An edit inside the range another edit replaces is dropped: `grad((t) => grad(h)(t))` is
  // replaced whole, inner call and all.
  const inside = (e: Edit, o: Edit): boolean => o !== e && o.start <= e.start && e.start < o.end && e.end <= o.end;
  const sorted = [...edits].sort((a, b) => a.start - b.start || b.end - a.end).filter((e, _, all) => !all.some((o) => inside(e, o) && !inside(o, e)));
  let pos = 0;
  const flushAdded = (at: number): void => {
    for (const a of added.get(at) ?? []) out.generated(a);
    added.delete(at);
  };
  const copyTo = (end: number): void => {
    // Added text whose offset falls inside the copied range goes at its offset.
    for (const at of [...added.keys()].filter((k) => k >= pos && k < end).sort((a, b) => a - b)) {
      out.original(pos, at);
      pos = at;
      flushAdded(at);
    }
    out.original(pos, end);
    pos = end;
  };
  for (const e of sorted) {
    copyTo(e.start);
    flushAdded(e.start);
    out.edit(named(e.text), e.start);
    pos = e.end;
  }
  copyTo(source.length);
  flushAdded(source.length);
  return { code: out.code(), map: new SourceMap([sf.fileName, ...out.others.keys()], [source, ...[...out.others.values()].map((o) => o.text)], encode(out.lines)) };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The output text and its decoded mappings, built front to back. */
class Output {
  private readonly parts: string[] = [];
  readonly lines: SourceMapSegment[][] = [[]];
  private column = 0;
  private readonly lineStarts: number[];

  constructor(private readonly source: string) {
    this.lineStarts = lineStarts(source);
  }

  code(): string {
    return this.parts.join("");
  }


  /** Other files mapped to (code inlined from them), in order of first use: source 1, 2, ... */
  readonly others = new Map<string, { readonly index: number; readonly text: string; readonly lineStarts: number[] }>();

  private map(offset: number): void {
    const place = offset < 0 ? placeOf(offset) : undefined;
    if (place) {
      let o = this.others.get(place.file);
      if (!o) this.others.set(place.file, (o = { index: this.others.size + 1, text: place.text, lineStarts: lineStarts(place.text) }));
      const [line, col] = locate(o.lineStarts, Math.min(place.start, place.text.length));
      this.lines[this.lines.length - 1].push([this.column, o.index, line, col]);
      return;
    }
    const [line, col] = locate(this.lineStarts, Math.min(Math.max(0, offset), this.source.length));
    this.lines[this.lines.length - 1].push([this.column, 0, line, col]);
  }

  private write(text: string): void {
    this.parts.push(text);
    const nl = text.lastIndexOf("\n");
    if (nl < 0) this.column += text.length;
    else {
      for (let k = 0; k < text.length; k++) if (text.charCodeAt(k) === 10) this.lines.push([]);
      this.column = text.length - nl - 1;
    }
  }

  /** Source text [start, end), mapped at every token and line start. */
  original(start: number, end: number): void {
    const token = /[\w$]+|[^\s\w$]|\n/g;
    token.lastIndex = start;
    let at = start;
    for (let m = token.exec(this.source); m && m.index < end; m = token.exec(this.source)) {
      this.write(this.source.slice(at, m.index));
      at = m.index;
      if (m[0] !== "\n") this.map(at);
    }
    this.write(this.source.slice(at, end));
  }

  /** A rewritten call site: every line maps to the call. */
  edit(text: string, origin: number): void {
    text.split("\n").forEach((l, k) => {
      if (k > 0) this.write("\n");
      this.map(origin);
      this.write(l);
    });
  }

  /** Generated lines, each mapped (at its first non-blank column) to where it comes from. */
  generated(a: Added): void {
    a.text.split("\n").forEach((l, k) => {
      if (k > 0) this.write("\n");
      const indent = l.length - l.trimStart().length;
      const origin = a.origins[k];
      if (l.trim() !== "" && origin !== undefined) {
        this.write(l.slice(0, indent));
        this.map(origin);
        this.write(l.slice(indent));
      } else this.write(l);
    });
  }
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let k = 0; k < text.length; k++) if (text.charCodeAt(k) === 10) starts.push(k + 1);
  return starts;
}

/** [line, column] of a source offset, given the offsets where lines start. */
function locate(starts: readonly number[], offset: number): [number, number] {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return [lo, offset - starts[lo]];
}
