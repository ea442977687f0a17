import { ConfigError } from '../../errors/errors.js';
import type { ConfigOf, ConfigSpec, FieldSpec } from './config-spec.js';
import { parseFieldValue } from './parse-field-value.js';
import { capProblems, cutText, quoteValue } from './quote-value.js';

function checkValue(name: string, spec: FieldSpec<unknown>, value: unknown, problems: string[]): unknown {
  const got = spec.secret === true ? 'got a value that is not shown (secret)' : `got ${quoteValue(value)}`;
  const fail = (problem: string): unknown => {
    problems.push(problem);
    return value;
  };
  switch (spec.type) {
    case 'string':
      return typeof value === 'string' ? value : fail(`'${name}' must be a string, ${got}`);
    case 'boolean':
      return typeof value === 'boolean' ? value : fail(`'${name}' must be true or false, ${got}`);
    case 'string[]':
      return Array.isArray(value) && value.every((v) => typeof v === 'string')
        ? value
        : fail(`'${name}' must be a list of strings, ${got}`);
    case 'choice':
      return spec.choices?.includes(value as string) ? value : fail(`'${name}' must be one of ${spec.choices?.join(', ')}, ${got}`);
    case 'record[]':
      if (!Array.isArray(value)) return fail(`'${name}' must be a list of records, ${got}`);
      return value.map((item, index) => collectConfig(`${name}[${index}].`, spec.items ?? {}, item, {}, problems));
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value) || (spec.type === 'integer' && !Number.isInteger(value))) {
        return fail(`'${name}' must be ${spec.type === 'integer' ? 'an integer' : 'a number'}, ${got}`);
      }
      if (spec.min !== undefined && value < spec.min) return fail(`'${name}' must be at least ${spec.min}, ${got}`);
      if (spec.max !== undefined && value > spec.max) return fail(`'${name}' must be at most ${spec.max}, ${got}`);
      return value;
    }
  }
}

/**
 * The problems of one field's value against its spec, each naming the field
 * `name` (none when the value fits): what `validateConfig` reports for that
 * field, e.g. for one `--set STAGE.FIELD=VALUE`.
 */
export function fieldProblems(name: string, spec: FieldSpec<unknown>, value: unknown): string[] {
  const problems: string[] = [];
  checkValue(name, spec, value, problems);
  return problems;
}

/** Checks one mapping against a spec, pushing every problem (field names prefixed with `path`, e.g. `fronts[1].`) onto `problems`. */
function collectConfig(path: string, spec: ConfigSpec, raw: unknown, env: NodeJS.ProcessEnv, problems: string[]): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  if (raw !== undefined && (typeof raw !== 'object' || raw === null || Array.isArray(raw))) {
    problems.push(
      `${path === '' ? 'config' : `'${path.slice(0, -1)}'`} must be a mapping of field names to values, got ${quoteValue(raw)}`,
    );
    return config;
  }
  const given = (raw ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    // Own keys only: `toString` or `__proto__` are not fields just because every object inherits them.
    if (!Object.hasOwn(spec, key)) {
      const known = Object.keys(spec);
      problems.push(`unknown field '${path}${cutText(key)}'; known fields: ${known.length > 0 ? known.join(', ') : '(none)'}`);
    }
  }
  for (const [name, fieldSpec] of Object.entries(spec)) {
    let value = given[name];
    if (value === undefined && fieldSpec.env !== undefined && env[fieldSpec.env] !== undefined)
      value = parseFieldValue(fieldSpec, env[fieldSpec.env] as string);
    if (value === undefined) value = fieldSpec.default;
    if (value === undefined) {
      problems.push(`missing required field '${path}${name}' (${fieldSpec.description}; e.g. ${quoteValue(fieldSpec.example)})`);
      continue;
    }
    config[name] = checkValue(`${path}${name}`, fieldSpec, value, problems);
  }
  return config;
}

/**
 * Validates raw config against a component's spec: rejects unknown keys,
 * checks every value, fills defaults (and secrets from their environment
 * variable) and reports every problem in one `ConfigError` naming `subject`.
 * Lists of records are checked item by item the same way, their problems
 * named with the item's index (`fronts[1].front_addr`). Numbers are checked
 * against the field's `min` and `max`. A quoted value or key is cut short
 * (`quoteValue`), and at most `MAX_LISTED_PROBLEMS` problems are listed.
 */
export function validateConfig<S extends ConfigSpec>(subject: string, spec: S, raw: unknown, env: NodeJS.ProcessEnv = {}): ConfigOf<S> {
  if (raw !== undefined && (typeof raw !== 'object' || raw === null || Array.isArray(raw))) {
    throw new ConfigError(subject, [`config must be a mapping of field names to values, got ${quoteValue(raw)}`]);
  }
  const problems: string[] = [];
  const config = collectConfig('', spec, raw, env, problems);
  if (problems.length > 0) throw new ConfigError(subject, capProblems(problems));
  return config as ConfigOf<S>;
}
