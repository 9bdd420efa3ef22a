/**
 * A tiny indented-text builder for emitted TypeScript.
 */
export class Code {
  private readonly lines: string[] = [];
  private depth: number;

  constructor(depth = 0) {
    this.depth = depth;
  }

  line(text: string): this {
    this.lines.push(text === "" ? "" : "  ".repeat(this.depth) + text);
    return this;
  }

  /** Opens a block: `head {` and indents. */
  open(head: string): this {
    this.line(`${head} {`);
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

  /** Appends another builder's lines at the current depth. */
  append(other: Code): this {
    for (const l of other.lines) this.lines.push(l === "" ? "" : "  ".repeat(this.depth) + l);
    return this;
  }

  /** Puts a line before everything written so far (at depth 0 of this builder). */
  prepend(text: string): this {
    this.lines.unshift(text);
    return this;
  }

  get isEmpty(): boolean {
    return this.lines.length === 0;
  }

  toString(): string {
    return this.lines.join("\n");
  }
}
