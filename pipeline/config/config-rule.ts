/**
 * A check of a component's config that one field's type and bounds cannot
 * express: a relation between fields (`down_after_ms` above `stale_after_ms`)
 * or a form (an address, a URL scheme). A definition lists its rules; config
 * validation, `tickflow lint`, `tickflow run`, `tickflow list` and the
 * generated docs all read them from there, so lint accepts what run accepts.
 */
export interface ConfigRule<C> {
  /** The rule in one line, as `list` and the docs show it, e.g. `'down_after_ms' must exceed 'stale_after_ms'`. */
  readonly rule: string;
  /** What breaks the rule in this (otherwise valid) config, one sentence per problem naming the field; none when it holds. */
  problems(config: C): readonly string[];
}
