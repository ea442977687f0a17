import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { ComponentRegistry } from '../components/component-registry.js';
import { ConfigError } from '../errors.js';
import { SchemaCatalog } from '../schemas/schema-catalog.js';
import { checkGraph } from './check-graph.js';
import { GraphBuilder } from './graph-builder.js';
import type { BuildOptions, PipelineDefinition } from './pipeline.js';
import type { PipelineGraph, StageInput } from './pipeline-graph.js';

const TOP_KEYS = ['name', 'description', 'stages'];
const STAGE_KEYS = ['id', 'use', 'config', 'from', 'feedback_from'];

interface StageEntry {
  readonly id: string;
  readonly use: string;
  readonly config: Record<string, unknown>;
  readonly from: string[];
  readonly feedbackFrom: string[];
}

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function idList(value: unknown, where: string, problems: string[]): string[] {
  if (value === undefined) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  problems.push(`${where} must be a stage id or a list of stage ids, got ${JSON.stringify(value)}`);
  return [];
}

/**
 * Reads a pipeline definition file (YAML or JSON) that names registered
 * components, their config and their inputs:
 *
 * ```yaml
 * name: ticks-to-file
 * stages:
 *   - { id: market, use: sim, config: { seed: 7 } }
 *   - { id: out, use: ndjson-file, from: market, config: { path: out/ticks.ndjson } }
 * ```
 *
 * Every problem in the file is reported at once in a `ConfigError` that
 * names the file; building the result checks the graph like one built in code.
 */
export function loadPipelineFile(path: string, registry: ComponentRegistry): PipelineDefinition {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`pipeline file ${path}`, [`cannot be read: ${(error as Error).message}`], { cause: error });
  }
  let raw: unknown;
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ConfigError(`pipeline file ${path}`, [`is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(error as Error).message}`], { cause: error });
  }
  const problems: string[] = [];
  if (!isMapping(raw)) throw new ConfigError(`pipeline file ${path}`, ['must be a mapping with name, description and stages']);
  for (const key of Object.keys(raw)) if (!TOP_KEYS.includes(key)) problems.push(`unknown key '${key}'; known keys: ${TOP_KEYS.join(', ')}`);
  const name = raw['name'];
  if (typeof name !== 'string' || name === '') problems.push(`'name' must be a non-empty string`);
  const description = raw['description'] ?? '';
  if (typeof description !== 'string') problems.push(`'description' must be a string`);
  const entries: StageEntry[] = [];
  if (!Array.isArray(raw['stages']) || raw['stages'].length === 0) {
    problems.push(`'stages' must be a non-empty list of stages`);
  } else {
    raw['stages'].forEach((s: unknown, i: number) => {
      const where = `stages[${i}]`;
      if (!isMapping(s)) {
        problems.push(`${where} must be a mapping with id, use, config, from`);
        return;
      }
      const label = typeof s['id'] === 'string' ? `stage '${s['id']}'` : where;
      for (const key of Object.keys(s)) if (!STAGE_KEYS.includes(key)) problems.push(`${label}: unknown key '${key}'; known keys: ${STAGE_KEYS.join(', ')}`);
      if (typeof s['id'] !== 'string') problems.push(`${where}: 'id' must be a string`);
      if (typeof s['use'] !== 'string') problems.push(`${label}: 'use' must name a component`);
      else if (!registry.has(s['use'])) problems.push(`${label}: unknown component '${s['use']}'; known components: ${registry.names().join(', ')}`);
      if (s['config'] !== undefined && !isMapping(s['config'])) problems.push(`${label}: 'config' must be a mapping`);
      entries.push({
        id: String(s['id']),
        use: String(s['use']),
        config: isMapping(s['config']) ? s['config'] : {},
        from: idList(s['from'], `${label}: 'from'`, problems),
        feedbackFrom: idList(s['feedback_from'], `${label}: 'feedback_from'`, problems),
      });
    });
  }
  if (problems.length > 0) throw new ConfigError(`pipeline file ${path}`, problems);

  return {
    name: name as string,
    description: description as string,
    build(options: BuildOptions = {}): PipelineGraph {
      const g = new GraphBuilder(name as string, options.overrides, options.env);
      const ref = (from: string, feedback: boolean) => ({ schema: 'Tick' as const, input: (): StageInput => ({ from, feedback }) });
      for (const e of entries) {
        const definition = registry.get(e.use);
        const inputs = [...e.from.map((f) => ref(f, false)), ...e.feedbackFrom.map((f) => ref(f, true))];
        if (definition.kind === 'source') {
          if (inputs.length > 0) throw new ConfigError(`pipeline file ${path}`, [`stage '${e.id}': source '${e.use}' takes no 'from'`]);
          g.source(e.id, definition, e.config);
        } else if (definition.kind === 'operator') {
          g.operator(e.id, definition, e.config, inputs);
        } else {
          g.sink(e.id, definition, e.config, inputs);
        }
      }
      const graph: PipelineGraph = { name: name as string, description: description as string, stages: g.finish() };
      checkGraph(graph, options.schemas ?? SchemaCatalog.default());
      return graph;
    },
  };
}
