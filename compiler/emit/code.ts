/**
 * A tiny indented-text builder for emitted TypeScript. Every line remembers the source offset of
 * the user's code it comes from (`at` sets it for the lines that follow), so the source map can
 * send each generated line back to the statement being differentiated.
 */
export class Code {
  private readonly lines: string[] = [];
  private readonly origins: (number | undefined)[] = [];
  private depth: number;
  private origin: number | undefined;

  constructor(depth = 0) {
    this.depth = depth;
  }

  /** The source offset the following lines come from (undefined: inherit the enclosing one). */
  at(origin: number | undefined): this {
    this.origin = origin;
    return this;
  }

  line(text: string): this {
    this.lines.push(text === "" ? "" : "  ".repeat(this.depth) + text);
    this.origins.push(this.origin);
    return this;
  }

  /** Opens a block: `head {` and indents. */
  open(head: string): this {
    this.line(head ? `${head} {` : "{");
    this.depth++;
    return this;
  }

  /** Closes a block: dedents and writes `tail` (default `}`). */
  close(tail = "}"): this {
    this.depth--;
    this.line(tail);
    return this;
  }

  /** A line between two blocks at the outer depth: `} else {`. */
  mid(text: string): this {
    this.depth--;
    this.line(text);
    this.depth++;
    return this;
  }

  /** Appends another builder's lines at the current depth (lines it left unplaced get ours). */
  append(other: Code): this {
    other.lines.forEach((l, k) => {
      this.lines.push(l === "" ? "" : "  ".repeat(this.depth) + l);
      this.origins.push(other.origins[k] ?? this.origin);
    });
    return this;
  }

  /** Puts a line before everything written so far (at depth 0 of this builder). */
  prepend(text: string): this {
    this.lines.unshift(text);
    this.origins.unshift(this.origins[0] ?? this.origin);
    return this;
  }

  get isEmpty(): boolean {
    return this.lines.length === 0;
  }

  toString(): string {
    return this.lines.join("\n");
  }

  /** Per line of `toString()`, the source offset it comes from. */
  lineOrigins(): readonly (number | undefined)[] {
    return this.origins;
  }
}

/** Generated text with the source offset of each of its lines. */
export interface Generated {
  readonly text: string;
  readonly origins: readonly (number | undefined)[];
}

export function generated(c: Code): Generated {
  return { text: c.toString(), origins: c.lineOrigins() };
}

/** Several generated pieces, separated by a blank line. */
export function joinGenerated(parts: readonly Generated[]): Generated {
  const origins: (number | undefined)[] = [];
  parts.forEach((p, k) => {
    if (k > 0) origins.push(undefined);
    origins.push(...p.origins);
  });
  return { text: parts.map((p) => p.text).join("\n\n"), origins };
}
