import { SchemaCatalog } from '../schemas/schema-catalog.js';
import { checkGraph } from './check-graph.js';
import { GraphBuilder } from './graph-builder.js';
import type { PipelineGraph } from './pipeline-graph.js';

/** Per-stage config that replaces what the pipeline's code or file sets (from `--config` and `--set`). */
export type StageOverrides = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

export interface BuildOptions {
  readonly overrides?: StageOverrides;
  /** Where secret fields are read from when not configured. */
  readonly env?: NodeJS.ProcessEnv;
  readonly schemas?: SchemaCatalog;
}

/** A named pipeline: builds a checked graph on demand. */
export interface PipelineDefinition {
  readonly name: string;
  readonly description: string;
  build(options?: BuildOptions): PipelineGraph;
}

/**
 * Defines a pipeline in code. `compose` adds stages through the builder;
 * `build()` runs it and checks the resulting graph.
 *
 * @example
 * ```ts
 * export const ticksToFile = pipeline('ticks-to-file', 'Sim ticks to NDJSON', (g) => {
 *   g.sink('out', ndjsonFileSink, { path: 'out/ticks.ndjson' }, g.source('market', simSource, { seed: 1 }));
 * });
 * console.log(ticksToFile.build().stages.map((s) => s.id).join(' '));
 * // Logs: market out
 * ```
 */
export function pipeline(name: string, description: string, compose: (g: GraphBuilder) => void): PipelineDefinition {
  return {
    name,
    description,
    build(options: BuildOptions = {}): PipelineGraph {
      const builder = new GraphBuilder(name, options.overrides, options.env);
      compose(builder);
      const graph: PipelineGraph = { name, description, stages: builder.finish(), env: options.env ?? {} };
      checkGraph(graph, options.schemas ?? SchemaCatalog.default());
      return graph;
    },
  };
}
