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
  readonly from: StageInput[];
}

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `market` is a stage's main output, `merge.status` its side output `status`. */
function inputOf(ref: string, feedback: boolean, port: string | undefined): StageInput {
  const dot = ref.indexOf('.');
  const from = dot < 0 ? ref : ref.slice(0, dot);
  return { from, ...(dot < 0 ? {} : { side: ref.slice(dot + 1) }), ...(port === undefined ? {} : { port }), feedback };
}

function refList(value: unknown, where: string, problems: string[]): string[] {
  if (value === undefined) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  problems.push(`${where} must be a stage id (or STAGE.SIDE_OUTPUT) or a list of them, got ${JSON.stringify(value)}`);
  return [];
}

/** `from: a`, `from: [a, b.status]`, or per port: `from: { quotes: a, feeds: [b.status] }`. */
function inputList(value: unknown, feedback: boolean, where: string, problems: string[]): StageInput[] {
  if (isMapping(value)) {
    return Object.entries(value).flatMap(([port, refs]) => refList(refs, `${where}.${port}`, problems).map((r) => inputOf(r, feedback, port)));
  }
  return refList(value, where, problems).map((r) => inputOf(r, feedback, undefined));
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
        from: [...inputList(s['from'], false, `${label}: 'from'`, problems), ...inputList(s['feedback_from'], true, `${label}: 'feedback_from'`, problems)],
      });
    });
  }
  if (problems.length > 0) throw new ConfigError(`pipeline file ${path}`, problems);

  return {
    name: name as string,
    description: description as string,
    build(options: BuildOptions = {}): PipelineGraph {
      const g = new GraphBuilder(name as string, options.overrides, options.env);
      // The schemas of file-defined edges are unknown here; `any` slots resolve in finish() and checkGraph judges every edge.
      const ref = (input: StageInput) => ({ schema: 'Tick' as const, input: (): StageInput => input });
      for (const e of entries) {
        const definition = registry.get(e.use);
        const ported = definition.kind !== 'source' && typeof definition.in === 'object';
        const inputs = ported
          ? Object.fromEntries(Object.keys(definition.in as object).map((port) => [port, e.from.filter((i) => i.port === port).map(ref)]))
          : e.from.map(ref);
        if (ported && e.from.some((i) => i.port === undefined)) {
          throw new ConfigError(`pipeline file ${path}`, [`stage '${e.id}': '${e.use}' reads named ports (${Object.keys(definition.in as object).join(', ')}); give 'from' as a mapping of port to stages`]);
        }
        const unknownPorts = e.from.filter((i) => i.port !== undefined && (!ported || !(i.port in (definition.in as object))));
        if (unknownPorts.length > 0) {
          throw new ConfigError(`pipeline file ${path}`, [`stage '${e.id}': '${e.use}' has no port ${unknownPorts.map((i) => `'${i.port}'`).join(', ')}${ported ? `; ports: ${Object.keys(definition.in as object).join(', ')}` : ' (it reads one schema: give from as a list)'}`]);
        }
        if (definition.kind === 'source') {
          if (e.from.length > 0) throw new ConfigError(`pipeline file ${path}`, [`stage '${e.id}': source '${e.use}' takes no 'from'`]);
          g.source(e.id, definition, e.config);
        } else if (definition.kind === 'operator') {
          g.operator(e.id, definition, e.config, inputs as never);
        } else {
          g.sink(e.id, definition, e.config, inputs as never);
        }
      }
      const graph: PipelineGraph = { name: name as string, description: description as string, stages: g.finish() };
      checkGraph(graph, options.schemas ?? SchemaCatalog.default());
      return graph;
    },
  };
}
