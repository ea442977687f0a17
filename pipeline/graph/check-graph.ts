import { GraphError, SchemaMismatchError } from '../../errors/errors.js';
import { checkSchemaResolution } from '../schemas/check-schema-resolution.js';
import type { SchemaCatalog, SchemaName } from '../schemas/schema-catalog.js';
import { DEAD_LETTERS, DEFAULT_PORT, type PipelineGraph, type Stage, type StageInput } from './pipeline-graph.js';

/** The schema an input's producer writes, or a problem when the producer or its side output does not exist. */
function writerOf(input: StageInput, byId: ReadonlyMap<string, Stage>): SchemaName | undefined {
  if (input.from === DEAD_LETTERS) return 'DeadLetter';
  const from = byId.get(input.from);
  if (from === undefined || from.kind === 'sink') return undefined;
  return input.side === undefined ? from.out : from.sideOutputs[input.side];
}

const edgeName = (input: StageInput, to: string): string =>
  `${input.from}${input.side === undefined ? '' : `.${input.side}`} -> ${to}${input.port === undefined ? '' : `.${input.port}`}`;

/** A cycle among the non-feedback edges, as a list of stage ids, or undefined. */
function findCycle(stages: readonly Stage[]): string[] | undefined {
  const byId = new Map(stages.map((s) => [s.id, s]));
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'visiting') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'visiting');
    path.push(id);
    for (const input of byId.get(id)?.inputs ?? []) {
      if (input.feedback || !byId.has(input.from)) continue;
      const cycle = visit(input.from);
      if (cycle !== undefined) return cycle;
    }
    path.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const s of stages) {
    const cycle = visit(s.id);
    if (cycle !== undefined) return cycle.reverse();
  }
  return undefined;
}

/**
 * The build-time checks of a graph: every input names a stage, sources read
 * nothing and other stages read something, no stage's output goes nowhere,
 * cycles only through feedback edges, and every edge's writer schema
 * resolves to its reader's schema. Throws `GraphError` listing every shape
 * problem and every schema mismatch with them, or, when the shape is right,
 * `SchemaMismatchError` naming both stages, the edge and the field.
 */
export function checkGraph(graph: PipelineGraph, catalog: SchemaCatalog): void {
  const problems: string[] = [];
  const byId = new Map(graph.stages.map((s) => [s.id, s]));
  const consumed = new Set<string>();

  for (const stage of graph.stages) {
    if (stage.kind === 'source' && stage.inputs.length > 0) problems.push(`source '${stage.id}' cannot have inputs`);
    if (stage.kind !== 'source' && !stage.inputs.some((i) => !i.feedback))
      problems.push(`${stage.kind} '${stage.id}' has no input other than feedback`);
    for (const input of stage.inputs) {
      if (input.side === undefined) consumed.add(input.from);
      const from = byId.get(input.from);
      if (input.from !== DEAD_LETTERS && from === undefined) {
        problems.push(`stage '${stage.id}' reads from unknown stage '${input.from}'; stages: ${graph.stages.map((s) => s.id).join(', ')}`);
      } else if (from !== undefined && from.kind === 'sink') {
        problems.push(`stage '${stage.id}' reads from sink '${input.from}', which has no output`);
      } else if (from !== undefined && input.side !== undefined && writerOf(input, byId) === undefined) {
        problems.push(
          `stage '${stage.id}' reads side output '${input.side}' that stage '${input.from}' does not have; side outputs: ${Object.keys(from.sideOutputs).join(', ') || '(none)'}`,
        );
      }
      if (stage.kind !== 'source' && !((input.port ?? DEFAULT_PORT) in stage.in)) {
        problems.push(`stage '${stage.id}' has no input port '${input.port ?? DEFAULT_PORT}'; ports: ${Object.keys(stage.in).join(', ')}`);
      }
    }
  }
  for (const stage of graph.stages) {
    if (stage.kind !== 'sink' && !consumed.has(stage.id)) {
      problems.push(`dangling stage '${stage.id}': its output (${stage.out}) goes to no stage; connect it to a sink or remove it`);
    }
  }
  const cycle = findCycle(graph.stages);
  if (cycle !== undefined) {
    problems.push(`cycle ${cycle.join(' -> ')} is not through a feedback edge; declare the edge that closes it as feedback`);
  }
  // Schemas are judged even when the shape is wrong, so that one pass reports every problem: an edge whose producer is missing has no writer to judge.
  const mismatches: string[] = [];
  for (const stage of graph.stages) {
    if (stage.kind === 'source') continue;
    for (const input of stage.inputs) {
      const writer = writerOf(input, byId);
      const reader = stage.in[input.port ?? DEFAULT_PORT];
      if (writer === undefined || reader === undefined) continue;
      const problem = checkSchemaResolution(catalog.type(writer), catalog.type(reader));
      if (problem !== undefined) {
        mismatches.push(
          `edge ${edgeName(input, stage.id)}: stage '${input.from}' writes ${writer}, stage '${stage.id}' reads ${reader}` +
            `${problem.path === '' ? '' : `; field '${problem.path}'`}: ${problem.reason}`,
        );
      }
    }
  }
  if (problems.length > 0) {
    const all = [...problems, ...mismatches];
    throw new GraphError(
      `pipeline '${graph.name}': ${all.length === 1 ? all[0] : `${all.length} problems:\n${all.map((p) => `  - ${p}`).join('\n')}`}`,
      {
        context: { pipeline: graph.name },
      },
    );
  }
  if (mismatches.length > 0) {
    throw new SchemaMismatchError(`pipeline '${graph.name}': ${mismatches.join('\n')}`, { context: { pipeline: graph.name } });
  }
}
