import { builtinComponents } from '../builtin-components.js';
import { UsageError } from '../../errors/errors.js';
import { GRAPH_FORMATS, renderGraph, type GraphFormat } from '../../pipeline/graph/render-graph.js';
import type { CliCommand } from '../cli-command.js';
import { resolvePipeline } from '../resolve-pipeline.js';

/** `tickflow graph NAME --format mermaid|dot|json`. */
export const graphCommand: CliCommand = {
  name: 'graph',
  summary: 'Print a pipeline graph with every edge labelled by its schema.',
  usage: 'NAME|FILE [--format mermaid|dot|json]',
  options: { format: { type: 'string', short: 'f', default: 'mermaid' } },
  optionHelp: { format: `Output format: ${GRAPH_FORMATS.join(', ')} (default mermaid)` },
  async run(args, io) {
    const format = String(args.values['format']);
    if (!GRAPH_FORMATS.includes(format as GraphFormat))
      throw new UsageError(`--format must be one of ${GRAPH_FORMATS.join(', ')}; got '${format}'`);
    if (args.positionals.length > 1)
      throw new UsageError(`expected one pipeline, got ${args.positionals.length}: ${args.positionals.join(' ')}`);
    const graph = resolvePipeline(args.positionals[0], builtinComponents()).build({ env: io.env });
    io.out(renderGraph(graph, format as GraphFormat));
    return 0;
  },
};
