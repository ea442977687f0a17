import type { Type } from 'avsc';

/**
 * The named functions a generator writes beside its main code, one per type
 * that needs one (a record, a union, an array …): each made once and called
 * by name wherever its type appears, in order of first use so that nested
 * ones take the next names. A type met again while its own function is
 * being made (a recursive schema) gets none, and the generator leaves that
 * schema to avsc.
 *
 * @example
 * ```ts
 * import avro from 'avsc';
 * const helpers = new GeneratedHelpers('w', 'v');
 * const type = avro.Type.forSchema({ type: 'array', items: 'int' });
 * console.log(helpers.nameOf(type, () => 'return true;'), helpers.nameOf(type, () => 'unused'), helpers.texts);
 * // Logs: w0 w0 [ 'function w0(v) {\nreturn true;\n}' ]
 * ```
 */
export class GeneratedHelpers {
  /** The functions' texts, in the order their names were taken. */
  readonly texts: string[] = [];
  private readonly names = new Map<Type, string>();
  private readonly generating = new Set<Type>();

  /**
   * @param prefix What each function's name starts with, before its index (`w` for `w0`, `w1` …).
   * @param parameters The functions' parameter list (`v`, or none).
   */
  constructor(
    private readonly prefix: string,
    private readonly parameters: string,
  ) {}

  /**
   * The name of `t`'s function, made from `bodyOf(t)` the first time; undefined
   * when `bodyOf` gives none or `t` is being made already (recursion).
   */
  nameOf(t: Type, bodyOf: (t: Type) => string | undefined): string | undefined {
    const known = this.names.get(t);
    if (known !== undefined) return known;
    if (this.generating.has(t)) return undefined;
    this.generating.add(t);
    const index = this.texts.length;
    this.texts.push(''); // reserved, so nested functions take the next names
    const body = bodyOf(t);
    this.generating.delete(t);
    if (body === undefined) return undefined;
    const name = `${this.prefix}${index}`;
    this.texts[index] = `function ${name}(${this.parameters}) {\n${body}\n}`;
    this.names.set(t, name);
    return name;
  }
}
