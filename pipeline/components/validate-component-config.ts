import { ConfigError } from '../../errors/errors.js';
import type { ConfigOf, ConfigSpec } from '../config/config-spec.js';
import { validateConfig } from '../config/validate-config.js';
import type { ConfigRule } from '../config/config-rule.js';

/** What {@link validateComponentConfig} reads of a definition. */
export interface ValidatedBy<S extends ConfigSpec> {
  readonly name: string;
  readonly spec: S;
  readonly validate?: readonly ConfigRule<ConfigOf<S>>[];
}

/**
 * A component's config as its definition accepts it: every field by the
 * spec, then the definition's rules (which see only a config whose fields
 * are valid). The graph builder, and so `lint` and `run`, check a stage this
 * way; so may a test or a library user that calls `create` directly.
 *
 * @throws {ConfigError} Naming every problem, under `subject`.
 */
export function validateComponentConfig<S extends ConfigSpec>(
  definition: ValidatedBy<S>,
  raw: unknown,
  env: NodeJS.ProcessEnv = {},
  subject = definition.name,
): ConfigOf<S> {
  const config = validateConfig(subject, definition.spec, raw, env);
  const problems = (definition.validate ?? []).flatMap((rule) => rule.problems(config));
  if (problems.length > 0) throw new ConfigError(subject, problems, { context: { component: definition.name } });
  return config;
}
