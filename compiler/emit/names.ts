/**
 * The one place generated names come from. Names are deterministic (counters, never random),
 * avoid every identifier the function's text already uses, and follow one scheme:
 * `x_dot` tangents, `x_bar` adjoints, `_t0` temporaries, `_br0` branch records, `_n0` trip counts.
 */
export class Namer {
  private readonly taken: Set<string>;
  private readonly counters = new Map<string, number>();
  private readonly derived = new Map<string, string>();

  constructor(reserved: Iterable<string>) {
    this.taken = new Set(reserved);
  }

  /** A new name `base0`, `base1`, ... (or `base` itself when `numbered` is false and it is free). */
  fresh(base: string, numbered = true): string {
    if (!numbered && !this.taken.has(base)) {
      this.taken.add(base);
      return base;
    }
    let k = this.counters.get(base) ?? 0;
    let name: string;
    do name = `${base}${k++}`;
    while (this.taken.has(name));
    this.counters.set(base, k);
    this.taken.add(name);
    return name;
  }

  /** An independent copy (used to re-run an emitter with the same starting names). */
  clone(): Namer {
    const n = new Namer(this.taken);
    for (const [k, v] of this.counters) n.counters.set(k, v);
    for (const [k, v] of this.derived) n.derived.set(k, v);
    return n;
  }

  /** Marks a name as used (a user variable that keeps its name). */
  reserve(name: string): void {
    this.taken.add(name);
  }

  /** The tangent of variable `v`: `v_dot`, the same name every time it is asked for. */
  dot(v: string): string {
    return this.derive(v, "_dot");
  }

  /** The adjoint of variable `v`: `v_bar`. */
  bar(v: string): string {
    return this.derive(v, "_bar");
  }

  private derive(v: string, suffix: string): string {
    const key = v + suffix;
    let name = this.derived.get(key);
    if (!name) {
      name = key;
      for (let k = 1; this.taken.has(name); k++) name = `${key}${k}`;
      this.taken.add(name);
      this.derived.set(key, name);
    }
    return name;
  }
}
