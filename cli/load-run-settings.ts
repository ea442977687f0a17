import type { ComponentRegistry } from '../pipeline/components/component-registry.js';
import type { ConfigSpec } from '../pipeline/config/config-spec.js';
import { parseFieldValue } from '../pipeline/config/parse-field-value.js';
import { capProblems, cutText, quoteValue } from '../pipeline/config/quote-value.js';
import { MAX_STAGES, depthProblem, readConfigFile, stageIdProblem } from '../pipeline/config/read-config-file.js';
import { fieldProblems } from '../pipeline/config/validate-config.js';
import { ConfigError, TickflowError, UsageError } from '../errors/errors.js';
import type { PipelineDefinition, StageOverrides } from '../pipeline/graph/pipeline.js';
import type { Stage } from '../pipeline/graph/pipeline-graph.js';
import type { ValidationPolicy } from '../pipeline/runtime/run-pipeline.js';

/** How `tickflow run` runs a pipeline: from `--config FILE`, then `--set` and the other flags. */
export interface RunSettings {
  readonly validation: ValidationPolicy;
  readonly port: number;
  readonly logLevel: string;
  readonly overrides: StageOverrides;
  /** `--control-tokens-file`, else the run config's `control_tokens_file`: control tokens for the control endpoints. */
  readonly controlTokensFile: string | undefined;
}

const FILE_KEYS = ['validation', 'port', 'log_level', 'control_tokens_file', 'stages'];
export const VALIDATION_POLICIES: readonly ValidationPolicy[] = ['strict', 'boundary'];
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A flag's or setting's value in a message: text in quotes, anything else as JSON; cut short either way. */
const shown = (value: unknown): string => (typeof value === 'string' ? `'${cutText(value)}'` : quoteValue(value));

/**
 * The run config file at `path`, read within the limits of `readConfigFile`,
 * its shape checked: known keys, at most `MAX_STAGES` stages, each a mapping
 * under a stage id, no value nested deeper than `MAX_VALUE_DEPTH`.
 */
function readRunConfigFile(path: string): {
  readonly file: Record<string, unknown>;
  readonly stages: Record<string, Record<string, unknown>>;
} {
  const subject = `config file ${path}`;
  const raw = readConfigFile(path, subject);
  if (raw === null || raw === undefined) return { file: {}, stages: {} };
  if (!isMapping(raw)) throw new ConfigError(subject, ['must be a mapping with validation, port, log_level, stages']);
  const problems: string[] = [];
  const check = (problem: string | undefined): void => void (problem !== undefined && problems.push(problem));
  for (const [key, value] of Object.entries(raw)) {
    if (!FILE_KEYS.includes(key)) problems.push(`unknown key '${cutText(key)}'; known keys: ${FILE_KEYS.join(', ')}`);
    else if (key !== 'stages' || !isMapping(value)) check(depthProblem(value, `'${key}'`));
  }
  const stagesRaw = raw['stages'] ?? {};
  const stages: [string, Record<string, unknown>][] = [];
  if (!isMapping(stagesRaw)) {
    problems.push(`'stages' must map stage ids to config, got ${quoteValue(stagesRaw)}`);
  } else {
    const ids = Object.keys(stagesRaw);
    if (ids.length > MAX_STAGES)
      throw new ConfigError(subject, [`configures ${ids.length} stages; a config file may configure at most ${MAX_STAGES}`]);
    for (const id of ids) {
      const idProblem = stageIdProblem(id);
      if (idProblem !== undefined) {
        problems.push(`'stages': a stage id ${idProblem}`);
        continue;
      }
      const config = stagesRaw[id] ?? {};
      if (!isMapping(config)) {
        problems.push(`stage '${id}': config must be a mapping of field names to values, got ${quoteValue(config)}`);
        continue;
      }
      for (const [field, value] of Object.entries(config)) check(depthProblem(value, `stage '${id}': field '${cutText(field)}'`));
      stages.push([id, { ...config }]);
    }
  }
  if (problems.length > 0) throw new ConfigError(subject, capProblems(problems));
  return { file: raw, stages: Object.fromEntries(stages) };
}

/**
 * The stages of `definition` and their components, with the optional stages
 * that appear when `ids` are configured (a pipeline adds some only when
 * asked to), or undefined when the pipeline does not build without further
 * config (a required field left to `--set`). Builds with empty config for
 * each id: at most two builds, and one more per id when one of them is
 * unknown.
 */
function stagesOf(definition: PipelineDefinition, ids: readonly string[], env: NodeJS.ProcessEnv): ReadonlyMap<string, string> | undefined {
  const attempt = (configured: readonly string[]): readonly Stage[] | undefined => {
    try {
      return definition.build({ overrides: Object.fromEntries(configured.map((id) => [id, {}])), env }).stages;
    } catch (error) {
      if (error instanceof TickflowError) return undefined;
      throw error;
    }
  };
  const components = new Map<string, string>();
  const add = (stages: readonly Stage[]): void => stages.forEach((s) => components.set(s.id, s.component));
  const all = attempt(ids);
  if (all !== undefined) {
    add(all);
    return components;
  }
  // One of the ids names no stage (or the pipeline does not build at all): find the stages without it.
  const base = attempt([]);
  if (base === undefined) return undefined;
  add(base);
  for (const id of ids) if (!components.has(id)) add(attempt([id]) ?? []);
  return components;
}

export interface RunFlags {
  readonly config?: string;
  readonly set?: readonly string[];
  readonly validation?: string;
  readonly port?: string;
  readonly logLevel?: string;
  readonly controlTokensFile?: string;
}

/**
 * Merges the run config file and the command-line flags. A `--set
 * stage.field=value` is typed by that stage's config spec, so
 * `--set market.rate=50` is a number and `--set market.instruments=A,B` a list,
 * and checked against it: an unknown stage, an unknown field or a bad value
 * is a `UsageError` naming the `--set STAGE.FIELD`, every one at once.
 */
export function loadRunSettings(
  flags: RunFlags,
  definition: PipelineDefinition,
  registry: ComponentRegistry,
  env: NodeJS.ProcessEnv = {},
): RunSettings {
  const { file, stages: overrides } = flags.config === undefined ? { file: {}, stages: {} } : readRunConfigFile(flags.config);

  const sets = (flags.set ?? []).map((assignment) => {
    const match = /^([a-z][a-z0-9-]*)\.([A-Za-z0-9_]+)=(.*)$/s.exec(assignment);
    if (match === null) throw new UsageError(`--set '${cutText(assignment)}' must look like STAGE.FIELD=VALUE, e.g. feed-a.rate=50`);
    const [, stage = '', fieldName = '', text = ''] = match;
    const idProblem = stageIdProblem(stage);
    if (idProblem !== undefined) throw new UsageError(`--set '${cutText(assignment)}': the stage id ${idProblem}`);
    return { assignment, stage, fieldName, text };
  });
  if (sets.length > 0) {
    const stages = stagesOf(definition, [...new Set(sets.map((s) => s.stage))], env);
    const problems: string[] = [];
    for (const { stage: stageId, fieldName, text } of sets) {
      const label = `--set ${stageId}.${cutText(fieldName)}`;
      const component = stages?.get(stageId);
      // The registry holds definitions of every spec (typed `any` there); each one's spec is a ConfigSpec.
      const spec = component !== undefined && registry.has(component) ? (registry.get(component).spec as ConfigSpec) : {};
      const fieldSpec = Object.hasOwn(spec, fieldName) ? spec[fieldName] : undefined;
      const value = parseFieldValue(fieldSpec, text);
      const tooDeep = depthProblem(value, label);
      if (tooDeep !== undefined) {
        problems.push(tooDeep);
        continue;
      }
      // Without the list of stages (the pipeline does not build without its --set values), the build that follows judges them.
      if (stages !== undefined) {
        if (component === undefined) {
          problems.push(`${label}: unknown stage '${stageId}'; stages of pipeline '${definition.name}': ${[...stages.keys()].join(', ')}`);
          continue;
        }
        const subject = `stage '${stageId}' (${component})`;
        if (fieldSpec === undefined) {
          const known = Object.keys(spec);
          problems.push(
            `${label}: ${subject}: unknown field '${cutText(fieldName)}'; known fields: ${known.length > 0 ? known.join(', ') : '(none)'}`,
          );
          continue;
        }
        problems.push(...fieldProblems(fieldName, fieldSpec, value).map((p) => `${label}: ${subject}: ${p}`));
      }
      // defineProperty, so that a field named `__proto__` is rejected as unknown rather than swallowed.
      Object.defineProperty((overrides[stageId] ??= {}), fieldName, { value, enumerable: true, writable: true, configurable: true });
    }
    if (problems.length === 1) throw new UsageError(problems[0] as string);
    if (problems.length > 1)
      throw new UsageError(
        `${problems.length} problems with --set:\n${capProblems(problems)
          .map((p) => `  - ${p}`)
          .join('\n')}`,
      );
  }

  const validation = flags.validation ?? file['validation'] ?? 'strict';
  if (!VALIDATION_POLICIES.includes(validation as ValidationPolicy)) {
    throw new UsageError(`--validation must be one of ${VALIDATION_POLICIES.join(', ')}; got ${shown(validation)}`);
  }
  const portText = flags.port ?? file['port'] ?? 9464;
  const port = typeof portText === 'number' || (typeof portText === 'string' && /^\d{1,5}$/.test(portText)) ? Number(portText) : Number.NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be an integer from 0 to 65535 (0 picks a free port); got ${shown(portText)}`);
  const logLevel = flags.logLevel ?? file['log_level'] ?? 'info';
  if (typeof logLevel !== 'string' || !LOG_LEVELS.includes(logLevel))
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}; got ${shown(logLevel)}`);
  const controlTokensFile = flags.controlTokensFile ?? file['control_tokens_file'];
  if (controlTokensFile !== undefined && (typeof controlTokensFile !== 'string' || controlTokensFile === '')) {
    throw new UsageError(`control_tokens_file must be the path of a file of control tokens; got ${shown(controlTokensFile)}`);
  }
  return { validation: validation as ValidationPolicy, port, logLevel, overrides, controlTokensFile };
}
