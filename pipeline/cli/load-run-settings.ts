import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { ComponentRegistry } from '../components/component-registry.js';
import { parseFieldValue } from '../config/parse-field-value.js';
import { ConfigError, UsageError } from '../errors.js';
import type { PipelineDefinition, StageOverrides } from '../graph/pipeline.js';
import type { ValidationPolicy } from '../runtime/run-pipeline.js';

/** How `tickflow run` runs a pipeline: from `--config FILE`, then `--set` and the other flags. */
export interface RunSettings {
  readonly validation: ValidationPolicy;
  readonly port: number;
  readonly logLevel: string;
  readonly overrides: StageOverrides;
}

const FILE_KEYS = ['validation', 'port', 'log_level', 'stages'];
export const VALIDATION_POLICIES: readonly ValidationPolicy[] = ['strict', 'boundary'];
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function readConfigFile(path: string): Record<string, unknown> {
  let raw: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ConfigError(`config file ${path}`, [(error as Error).message], { cause: error });
  }
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`config file ${path}`, ['must be a mapping with validation, port, log_level, stages']);
  return raw as Record<string, unknown>;
}

export interface RunFlags {
  readonly config?: string;
  readonly set?: readonly string[];
  readonly validation?: string;
  readonly port?: string;
  readonly logLevel?: string;
}

/**
 * Merges the run config file and the command-line flags. A `--set
 * stage.field=value` is typed by that stage's config spec, so
 * `--set market.rate=50` is a number and `--set market.instruments=A,B` a list.
 */
export function loadRunSettings(flags: RunFlags, definition: PipelineDefinition, registry: ComponentRegistry): RunSettings {
  const file = flags.config === undefined ? {} : readConfigFile(flags.config);
  const problems: string[] = [];
  for (const key of Object.keys(file)) if (!FILE_KEYS.includes(key)) problems.push(`unknown key '${key}'; known keys: ${FILE_KEYS.join(', ')}`);
  const stagesRaw = file['stages'] ?? {};
  if (typeof stagesRaw !== 'object' || stagesRaw === null || Array.isArray(stagesRaw)) problems.push(`'stages' must map stage ids to config`);
  if (problems.length > 0) throw new ConfigError(`config file ${flags.config}`, problems);

  const overrides: Record<string, Record<string, unknown>> = {};
  for (const [stage, config] of Object.entries(stagesRaw as Record<string, unknown>)) overrides[stage] = { ...(config as Record<string, unknown>) };

  const sets = (flags.set ?? []).map((assignment) => {
    const match = /^([a-z][a-z0-9-]*)\.([A-Za-z0-9_]+)=(.*)$/s.exec(assignment);
    if (match === null) throw new UsageError(`--set '${assignment}' must look like STAGE.FIELD=VALUE, e.g. feed-a.rate=50`);
    const [, stage = '', fieldName = '', text = ''] = match;
    return { assignment, stage, fieldName, text };
  });
  if (sets.length > 0) {
    // Built with an entry for every stage --set names, so that a pipeline's optional stages (added when configured) appear.
    const stages = definition.build({ overrides: { ...Object.fromEntries(sets.map((s) => [s.stage, {}])), ...overrides } }).stages;
    for (const { stage: stageId, fieldName, text } of sets) {
      const stage = stages.find((s) => s.id === stageId);
      const spec = stage !== undefined && registry.has(stage.component) ? registry.get(stage.component).spec : {};
      (overrides[stageId] ??= {})[fieldName] = parseFieldValue(spec[fieldName], text);
    }
  }

  const validation = flags.validation ?? file['validation'] ?? 'strict';
  if (!VALIDATION_POLICIES.includes(validation as ValidationPolicy)) {
    throw new UsageError(`--validation must be one of ${VALIDATION_POLICIES.join(', ')}; got '${String(validation)}'`);
  }
  const portText = flags.port ?? file['port'] ?? 9464;
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be an integer from 0 to 65535 (0 picks a free port); got '${String(portText)}'`);
  const logLevel = String(flags.logLevel ?? file['log_level'] ?? 'info');
  if (!LOG_LEVELS.includes(logLevel)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}; got '${logLevel}'`);
  return { validation: validation as ValidationPolicy, port, logLevel, overrides };
}
