/**
 * The table of common subexpressions that A-normal form reuses (ir/anf.ts): the temporary holding
 * each pure operation, by the operation's text, until a variable it reads is assigned.
 *
 * Entries are indexed by the variables they read, so an assignment costs what it removes rather
 * than a scan of the whole table (a long straight-line function keeps thousands of entries). A
 * nested scope (a branch) sees the enclosing entries and undoes its own changes when it ends,
 * through a log of what it changed, instead of copying the table on entry.
 */
export interface CseEntry {
  readonly name: string;
  readonly reads: ReadonlySet<string>;
}

export class CseTable {
  private readonly byText = new Map<string, CseEntry>();
  /** Texts of entries reading each variable; may hold texts since replaced (checked on use). */
  private readonly byRead = new Map<string, Set<string>>();
  /** Undo steps since the innermost open scope began (empty outside scopes). */
  private readonly log: (() => void)[] = [];
  private readonly marks: number[] = [];

  isEmpty(): boolean {
    return this.byText.size === 0;
  }

  get(text: string): CseEntry | undefined {
    return this.byText.get(text);
  }

  set(text: string, entry: CseEntry): void {
    this.putEntry(text, entry);
    for (const r of entry.reads) {
      let texts = this.byRead.get(r);
      if (!texts) {
        this.byRead.set(r, (texts = new Set()));
        this.undo(() => this.byRead.delete(r));
      }
      if (!texts.has(text)) {
        texts.add(text);
        const t = texts;
        this.undo(() => t.delete(text));
      }
    }
  }

  /** Drops every entry that reads one of `assigned`. */
  forget(assigned: Iterable<string>): void {
    for (const v of assigned) {
      const texts = this.byRead.get(v);
      if (!texts) continue;
      this.byRead.delete(v);
      this.undo(() => this.byRead.set(v, texts));
      for (const text of texts) if (this.byText.get(text)?.reads.has(v)) this.putEntry(text, undefined);
    }
  }

  /** Runs `f` in a scope whose changes to the table are undone when it ends. */
  scoped<T>(f: () => T): T {
    this.marks.push(this.log.length);
    try {
      return f();
    } finally {
      const mark = this.marks.pop()!;
      while (this.log.length > mark) this.log.pop()!();
    }
  }

  private putEntry(text: string, entry: CseEntry | undefined): void {
    const old = this.byText.get(text);
    if (entry) this.byText.set(text, entry);
    else this.byText.delete(text);
    this.undo(() => (old ? this.byText.set(text, old) : this.byText.delete(text)));
  }

  private undo(step: () => void): void {
    if (this.marks.length) this.log.push(step);
  }
}
