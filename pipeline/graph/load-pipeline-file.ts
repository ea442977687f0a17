import type { ComponentRegistry } from '../components/component-registry.js';
import { MAX_LISTED_PROBLEMS, capProblems, cutText, quoteValue } from '../config/quote-value.js';
import { MAX_STAGE_ID_LENGTH, MAX_STAGES, depthProblem, readConfigFile, stageIdProblem } from '../config/read-config-file.js';
import { ConfigError } from '../../errors/errors.js';
import { SchemaCatalog } from '../schemas/schema-catalog.js';
import { checkGraph } from './check-graph.js';
import { GraphBuilder } from './graph-builder.js';
import type { BuildOptions, PipelineDefinition } from './pipeline.js';
import { DEAD_LETTERS, type PipelineGraph, type StageInput } from './pipeline-graph.js';

const TOP_KEYS = ['name', 'description', 'stages'];
const STAGE_KEYS = ['id', 'use', 'config', 'from', 'feedback_from'];
/** `market`, or `merge.status` for the side output `status` of stage `merge`. */
const REF_PATTERN = /^[a-z][a-z0-9-]*(\.[A-Za-z0-9_-]+)?$/;

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
  const refs = typeof value === 'string' ? [value] : Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
  if (refs === undefined) {
    problems.push(`${where} must be a stage id (or STAGE.SIDE_OUTPUT) or a list of them, got ${quoteValue(value)}`);
    return [];
  }
  const bad = refs.filter((r) => !REF_PATTERN.test(r) || r.length > 2 * MAX_STAGE_ID_LENGTH + 1);
  if (bad.length > 0) {
    problems.push(`${where} must name stages (lower-case id, or STAGE.SIDE_OUTPUT), got ${quoteValue(bad.length === 1 ? bad[0] : bad)}`);
    return [];
  }
  return refs;
}

/** `from: a`, `from: [a, b.status]`, or per port: `from: { quotes: a, feeds: [b.status] }`. */
function inputList(value: unknown, feedback: boolean, where: string, problems: string[]): StageInput[] {
  if (isMapping(value)) {
    return Object.entries(value).flatMap(([port, refs]) =>
      refList(refs, `${where}.${cutText(port)}`, problems).map((r) => inputOf(r, feedback, port)),
    );
  }
  return refList(value, where, problems).map((r) => inputOf(r, feedback, undefined));
}

/**
 * The inputs that name no stage of the file, in the words `checkGraph`
 * uses, and the stages whose `any` schema cannot resolve because of them:
 * those that read such an input, and those that read from one of them that
 * writes what it reads (`out: any`, as pass-through does; each round adds at
 * least one stage, so at most one round per stage).
 */
function unknownInputs(entries: readonly StageEntry[], registry: ComponentRegistry): { unknown: string[]; misled: string[] } {
  const ids = new Set(entries.map((e) => e.id));
  const list = entries.map((e) => e.id).join(', ');
  const unknown = [
    ...new Set(
      entries.flatMap((e) =>
        e.from
          .filter((i) => i.from !== DEAD_LETTERS && !ids.has(i.from))
          .map((i) => `stage '${e.id}' reads from unknown stage '${i.from}'; stages: ${list}`),
      ),
    ),
  ];
  const byId = new Map(entries.map((e) => [e.id, e]));
  const writesWhatItReads = (id: string): boolean => {
    const use = byId.get(id)?.use;
    const definition = use !== undefined && registry.has(use) ? registry.get(use) : undefined;
    return definition?.kind === 'operator' && definition.out === 'any';
  };
  const misled = new Set(entries.filter((e) => e.from.some((i) => i.from !== DEAD_LETTERS && !ids.has(i.from))).map((e) => e.id));
  for (let grew = misled.size > 0, rounds = 0; grew && rounds < entries.length; rounds++) {
    grew = false;
    for (const e of entries) {
      if (!misled.has(e.id) && e.from.some((i) => misled.has(i.from) && writesWhatItReads(i.from))) {
        misled.add(e.id);
        grew = true;
      }
    }
  }
  return { unknown, misled: [...misled] };
}

/**
 * The problems of values nested deeper than `MAX_VALUE_DEPTH`, each named by
 * its stage and key or field, found before anything else walks the file.
 */
function depthProblems(raw: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const check = (value: unknown, where: string): void => {
    const problem = depthProblem(value, where);
    if (problem !== undefined) problems.push(problem);
  };
  for (const [key, value] of Object.entries(raw)) {
    if (key !== 'stages' || !Array.isArray(value)) {
      check(value, `'${cutText(key)}'`);
      continue;
    }
    value.forEach((s: unknown, i: number) => {
      if (!isMapping(s)) return check(s, `stages[${i}]`);
      const label = stageIdProblem(s['id']) === undefined ? `stage '${s['id'] as string}'` : `stages[${i}]`;
      for (const [stageKey, stageValue] of Object.entries(s)) {
        if (stageKey !== 'config' || !isMapping(stageValue)) check(stageValue, `${label}: '${cutText(stageKey)}'`);
        else for (const [field, fieldValue] of Object.entries(stageValue)) check(fieldValue, `${label}: field '${cutText(field)}'`);
      }
    });
  }
  return problems;
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
 * The file is read within the limits of `readConfigFile` (1 MiB, YAML alias
 * expansions), holds at most `MAX_STAGES` stages, and no value in it may be
 * nested deeper than `MAX_VALUE_DEPTH`; quoted values are cut short.
 */
export function loadPipelineFile(path: string, registry: ComponentRegistry): PipelineDefinition {
  const subject = `pipeline file ${path}`;
  const raw = readConfigFile(path, subject);
  if (!isMapping(raw)) throw new ConfigError(subject, ['must be a mapping with name, description and stages']);
  const stageList = raw['stages'];
  if (Array.isArray(stageList) && stageList.length > MAX_STAGES) {
    throw new ConfigError(subject, [`has ${stageList.length} stages; a definition file may hold at most ${MAX_STAGES}`]);
  }
  const tooDeep = depthProblems(raw);
  if (tooDeep.length > 0) throw new ConfigError(subject, capProblems(tooDeep));

  const problems: string[] = [];
  for (const key of Object.keys(raw))
    if (!TOP_KEYS.includes(key)) problems.push(`unknown key '${cutText(key)}'; known keys: ${TOP_KEYS.join(', ')}`);
  const name = raw['name'];
  if (typeof name !== 'string' || name === '') problems.push(`'name' must be a non-empty string`);
  else if (name.length > MAX_STAGE_ID_LENGTH)
    problems.push(`'name' must be at most ${MAX_STAGE_ID_LENGTH} characters, got '${cutText(name, MAX_STAGE_ID_LENGTH)}'`);
  const description = raw['description'] ?? '';
  if (typeof description !== 'string') problems.push(`'description' must be a string`);
  const entries: StageEntry[] = [];
  if (!Array.isArray(stageList) || stageList.length === 0) {
    problems.push(`'stages' must be a non-empty list of stages`);
  } else {
    stageList.forEach((s: unknown, i: number) => {
      const where = `stages[${i}]`;
      if (!isMapping(s)) {
        problems.push(`${where} must be a mapping with id, use, config, from`);
        return;
      }
      const idProblem = stageIdProblem(s['id']);
      const label = idProblem === undefined ? `stage '${s['id'] as string}'` : where;
      for (const key of Object.keys(s))
        if (!STAGE_KEYS.includes(key)) problems.push(`${label}: unknown key '${cutText(key)}'; known keys: ${STAGE_KEYS.join(', ')}`);
      if (idProblem !== undefined) problems.push(`${where}: 'id' ${idProblem}`);
      if (typeof s['use'] !== 'string') problems.push(`${label}: 'use' must name a component`);
      else if (!registry.has(s['use']))
        problems.push(`${label}: unknown component '${cutText(s['use'])}'; known components: ${registry.names().join(', ')}`);
      if (s['config'] !== undefined && !isMapping(s['config']))
        problems.push(`${label}: 'config' must be a mapping, got ${quoteValue(s['config'])}`);
      entries.push({
        id: String(s['id']),
        use: String(s['use']),
        config: isMapping(s['config']) ? s['config'] : {},
        from: [
          ...inputList(s['from'], false, `${label}: 'from'`, problems),
          ...inputList(s['feedback_from'], true, `${label}: 'feedback_from'`, problems),
        ],
      });
    });
  }
  if (problems.length > 0) throw new ConfigError(subject, capProblems(problems));

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
          throw new ConfigError(`pipeline file ${path}`, [
            `stage '${e.id}': '${e.use}' reads named ports (${Object.keys(definition.in as object).join(', ')}); give 'from' as a mapping of port to stages`,
          ]);
        }
        const unknownPorts = e.from.filter((i) => i.port !== undefined && (!ported || !Object.hasOwn(definition.in as object, i.port)));
        if (unknownPorts.length > 0) {
          throw new ConfigError(`pipeline file ${path}`, [
            `stage '${e.id}': '${e.use}' has no port ${cutText(unknownPorts.map((i) => `'${i.port}'`).join(', '))}${ported ? `; ports: ${Object.keys(definition.in as object).join(', ')}` : ' (it reads one schema: give from as a list)'}`,
          ]);
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
      let stages;
      try {
        stages = g.finish();
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        const { unknown, misled } = unknownInputs(entries, registry);
        // A stage that takes any schema cannot resolve it from a stage that does not exist: name the missing stage instead of the schema it cannot tell.
        const problems = [
          ...unknown,
          ...error.problems.filter((p) => !misled.some((id) => p.startsWith(`stage '${id}' (`) && p.includes(') takes any schema on '))),
        ];
        // Up to MAX_STAGES stages, each with its own list of problems: one message lists a readable number of them.
        if (unknown.length > 0 || problems.length > MAX_LISTED_PROBLEMS) {
          throw new ConfigError(`pipeline '${name as string}'`, capProblems(problems), { cause: error, context: error.context });
        }
        throw error;
      }
      const graph: PipelineGraph = { name: name as string, description: description as string, stages, env: options.env ?? {} };
      checkGraph(graph, options.schemas ?? SchemaCatalog.default());
      return graph;
    },
  };
}
