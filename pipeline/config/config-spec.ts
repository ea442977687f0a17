/** The value types a config field can have. */
export type FieldType = 'string' | 'integer' | 'number' | 'boolean' | 'string[]' | 'choice' | 'record[]';

/** One config field of a component: its type, default, description and an example. */
export interface FieldSpec<T> {
  readonly type: FieldType;
  readonly description: string;
  readonly example: T;
  /** Absent means the field is required. */
  readonly default?: T;
  readonly choices?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  /** Never logged; may be read from the named environment variable when not configured. */
  readonly secret?: boolean;
  readonly env?: string;
  /** The fields of each item of a `record[]` field, validated like a component's own. */
  readonly items?: ConfigSpec;
}

/** A component's config fields by name. */
export type ConfigSpec = Readonly<Record<string, FieldSpec<unknown>>>;

/** The validated config object a spec describes. */
export type ConfigOf<S extends ConfigSpec> = { readonly [K in keyof S]: S[K] extends FieldSpec<infer T> ? T : never };

/** Config as a user writes it: every field may be left to its default, the fields of each record in a list too. */
export type ConfigInput<S extends ConfigSpec> = {
  readonly [K in keyof S]?: S[K] extends FieldSpec<infer T>
    ? T extends readonly (infer R)[]
      ? R extends object
        ? readonly Partial<R>[]
        : T
      : T
    : never;
};
