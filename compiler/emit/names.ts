/**
 * How generated text names adc's runtime module, before the module it goes into chooses the
 * actual name (`_rt`, or `_rt1` when the user's module already uses `_rt`): splice.ts replaces
 * it. Made of identifier characters, so the printer treats it as part of a name.
 */
export const RT = "__adc_rt__";

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

/**
 * The names a module's generated code adds at module level: the runtime import, the generated
 * functions that live in the module, and those it imports from other modules of the build. Every
 * identifier the user's file contains is reserved first, so a generated name can neither shadow
 * nor be shadowed by one of the user's names, at any depth (`function f_grad`, `const _rt`).
 */
export class ModuleNames {
  private readonly taken: Set<string>;
  /** The local name of adc's runtime module (`_rt` unless the file uses that name). */
  readonly runtime: string;
  private readonly imported = new Map<string, string>();

  constructor(identifiers: Iterable<string>) {
    this.taken = new Set(identifiers);
    this.runtime = this.claim(["_rt"])[0];
  }

  /**
   * Names that belong together (a split pair `f_fwd`/`f_rev`), as given when all are free, else
   * all with the same numeric suffix (`f_fwd_1`, `f_rev_1`).
   */
  claim(bases: readonly string[]): string[] {
    for (let k = 0; ; k++) {
      const names = bases.map((b) => (k === 0 ? b : `${b}_${k}`));
      if (names.every((n) => !this.taken.has(n))) {
        for (const n of names) this.taken.add(n);
        return names;
      }
    }
  }

  /** The local name under which this module imports `name` from the module `spec`. */
  importAs(spec: string, name: string): string {
    const key = `${spec}\0${name}`;
    let local = this.imported.get(key);
    if (!local) {
      local = this.claim([name])[0];
      this.imported.set(key, local);
    }
    return local;
  }
}
