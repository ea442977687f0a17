import { ConfigError } from '../errors.js';
import type { ConfigOf, ConfigSpec, FieldSpec } from './config-spec.js';
import { parseFieldValue } from './parse-field-value.js';

function checkValue(name: string, spec: FieldSpec<unknown>, value: unknown): string | undefined {
  const got = spec.secret === true ? 'got a value that is not shown (secret)' : `got ${JSON.stringify(value)}`;
  switch (spec.type) {
    case 'string':
      return typeof value === 'string' ? undefined : `'${name}' must be a string, ${got}`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `'${name}' must be true or false, ${got}`;
    case 'string[]':
      return Array.isArray(value) && value.every((v) => typeof v === 'string') ? undefined : `'${name}' must be a list of strings, ${got}`;
    case 'choice':
      return spec.choices?.includes(value as string) ? undefined : `'${name}' must be one of ${spec.choices?.join(', ')}, ${got}`;
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value) || (spec.type === 'integer' && !Number.isInteger(value))) {
        return `'${name}' must be ${spec.type === 'integer' ? 'an integer' : 'a number'}, ${got}`;
      }
      if (spec.min !== undefined && value < spec.min) return `'${name}' must be at least ${spec.min}, ${got}`;
      if (spec.max !== undefined && value > spec.max) return `'${name}' must be at most ${spec.max}, ${got}`;
      return undefined;
    }
  }
}

/**
 * Validates raw config against a component's spec: rejects unknown keys,
 * checks every value, fills defaults (and secrets from their environment
 * variable) and reports every problem in one `ConfigError` naming `subject`.
 */
export function validateConfig<S extends ConfigSpec>(subject: string, spec: S, raw: unknown, env: NodeJS.ProcessEnv = {}): ConfigOf<S> {
  const problems: string[] = [];
  if (raw !== undefined && (typeof raw !== 'object' || raw === null || Array.isArray(raw))) {
    throw new ConfigError(subject, [`config must be a mapping of field names to values, got ${JSON.stringify(raw)}`]);
  }
  const given = (raw ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!(key in spec)) {
      const known = Object.keys(spec);
      problems.push(`unknown field '${key}'; known fields: ${known.length > 0 ? known.join(', ') : '(none)'}`);
    }
  }
  const config: Record<string, unknown> = {};
  for (const [name, fieldSpec] of Object.entries(spec)) {
    let value = given[name];
    if (value === undefined && fieldSpec.env !== undefined && env[fieldSpec.env] !== undefined) value = parseFieldValue(fieldSpec, env[fieldSpec.env] as string);
    if (value === undefined) value = fieldSpec.default;
    if (value === undefined) {
      problems.push(`missing required field '${name}' (${fieldSpec.description}; e.g. ${JSON.stringify(fieldSpec.example)})`);
      continue;
    }
    const problem = checkValue(name, fieldSpec, value);
    if (problem !== undefined) problems.push(problem);
    config[name] = value;
  }
  if (problems.length > 0) throw new ConfigError(subject, problems);
  return config as ConfigOf<S>;
}
