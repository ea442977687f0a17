import type { ConfigOf, ConfigSpec, FieldSpec } from './config-spec.js';

type Options<T> = Omit<FieldSpec<T>, 'type' | 'choices'>;

/** Builders of config fields: `field.integer({ description, default, example, min })`. */
export const field = {
  string: (o: Options<string>): FieldSpec<string> => ({ type: 'string', ...o }),
  integer: (o: Options<number>): FieldSpec<number> => ({ type: 'integer', ...o }),
  number: (o: Options<number>): FieldSpec<number> => ({ type: 'number', ...o }),
  boolean: (o: Options<boolean>): FieldSpec<boolean> => ({ type: 'boolean', ...o }),
  stringList: (o: Options<readonly string[]>): FieldSpec<readonly string[]> => ({ type: 'string[]', ...o }),
  /** A list of records, each checked against `items` (unknown keys rejected, defaults filled, every problem named with its index). */
  records: <const S extends ConfigSpec>(
    items: S,
    o: Omit<Options<readonly ConfigOf<S>[]>, 'example'> & { readonly example: readonly Partial<ConfigOf<S>>[] },
  ): FieldSpec<readonly ConfigOf<S>[]> =>
    // The example shows the fields one usually sets; the rest have defaults.
    ({ type: 'record[]', items, ...o }) as FieldSpec<readonly ConfigOf<S>[]>,
  choice: <const C extends readonly string[]>(choices: C, o: Options<C[number]>): FieldSpec<C[number]> => ({
    type: 'choice',
    choices,
    ...o,
  }),
};
