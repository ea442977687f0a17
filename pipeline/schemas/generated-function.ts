/**
 * Code generated from a schema, and the values it refers to by name (`c0`,
 * `c1`, …, each value once) because it cannot spell them: `Buffer`, the Set
 * of an enum's symbols, a prototype. {@link build} makes the function with
 * those names bound, as avsc builds its own readers and checkers.
 *
 * @example
 * ```ts
 * const generated = new GeneratedFunction();
 * const isBytes = generated.build<(v: unknown) => boolean>(`return (v) => ${generated.constant(Buffer)}.isBuffer(v);`);
 * console.log(isBytes(Buffer.from('x')), isBytes('x'));
 * // Logs: true false
 * ```
 */
export class GeneratedFunction {
  private readonly values: unknown[] = [];

  /** The name the generated code uses for `value`. */
  constant(value: unknown): string {
    let index = this.values.indexOf(value);
    if (index === -1) index = this.values.push(value) - 1;
    return `c${index}`;
  }

  /** Runs `source`, a function body over the constants that returns what it builds, and returns that. */
  build<T>(source: string): T {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from a schema (names checked by the generators), never from input
    const make = new Function(...this.values.map((_value, i) => `c${i}`), source) as (...values: unknown[]) => T;
    return make(...this.values);
  }
}
