import { DEAD_LETTERS, type PipelineGraph, type Stage } from './pipeline-graph.js';

export type GraphFormat = 'mermaid' | 'dot' | 'json';
export const GRAPH_FORMATS: readonly GraphFormat[] = ['mermaid', 'dot', 'json'];

interface Edge {
  readonly from: string;
  readonly side?: string;
  readonly to: string;
  readonly port?: string;
  readonly schema: string;
  readonly feedback: boolean;
}

function edgesOf(graph: PipelineGraph): Edge[] {
  const byId = new Map(graph.stages.map((s) => [s.id, s]));
  return graph.stages.flatMap((to) =>
    to.inputs.map((i) => {
      const from = byId.get(i.from);
      const written = from === undefined || from.kind === 'sink' ? undefined : i.side === undefined ? from.out : from.sideOutputs[i.side];
      const schema = i.from === DEAD_LETTERS ? 'DeadLetter' : (written ?? '?');
      return {
        from: i.from,
        ...(i.side === undefined ? {} : { side: i.side }),
        to: to.id,
        ...(i.port === undefined ? {} : { port: i.port }),
        schema,
        feedback: i.feedback,
      };
    }),
  );
}

/** The schema, with the side output and port where the edge uses them: `status: FeedStatus → feeds`. */
const edgeLabel = (e: Edge): string =>
  `${e.side === undefined ? '' : `${e.side}: `}${e.schema}${e.port === undefined ? '' : ` → ${e.port}`}`;
const label = (s: Stage): string => `${s.id}\\n${s.kind} ${s.component}`;
const quoteDot = (text: string): string => `"${text.replace(/"/g, '\\"')}"`;

/** Prints a graph with every edge labelled by its schema, as Mermaid, Graphviz DOT or JSON. */
export function renderGraph(graph: PipelineGraph, format: GraphFormat): string {
  const edges = edgesOf(graph);
  const usesDeadLetters = edges.some((e) => e.from === DEAD_LETTERS);
  switch (format) {
    case 'json':
      return `${JSON.stringify(
        {
          name: graph.name,
          description: graph.description,
          stages: graph.stages.map((s) => ({
            id: s.id,
            kind: s.kind,
            component: s.component,
            in: s.kind === 'source' ? null : s.in,
            out: s.kind === 'sink' ? null : s.out,
            boundary: s.boundary,
            config: s.config,
          })),
          edges,
        },
        null,
        2,
      )}\n`;
    case 'mermaid': {
      const id = (s: string): string => s.replace(/-/g, '_');
      const shape = (s: Stage): string =>
        s.kind === 'source' ? `([${label(s)}])` : s.kind === 'sink' ? `[(${label(s)})]` : `[${label(s)}]`;
      const lines = ['flowchart LR', ...graph.stages.map((s) => `  ${id(s.id)}${shape(s).replace(/\\n/g, '<br/>')}`)];
      if (usesDeadLetters) lines.push(`  ${id(DEAD_LETTERS)}{{${DEAD_LETTERS}}}`);
      for (const e of edges) lines.push(`  ${id(e.from)} ${e.feedback ? '-.->' : '-->'}|"${edgeLabel(e)}"| ${id(e.to)}`);
      return `${lines.join('\n')}\n`;
    }
    case 'dot': {
      const shape = (s: Stage): string => (s.kind === 'source' ? 'invhouse' : s.kind === 'sink' ? 'cylinder' : 'box');
      const lines = [`digraph ${quoteDot(graph.name)} {`, '  rankdir=LR;'];
      for (const s of graph.stages) lines.push(`  ${quoteDot(s.id)} [shape=${shape(s)}, label=${quoteDot(label(s))}];`);
      if (usesDeadLetters) lines.push(`  ${quoteDot(DEAD_LETTERS)} [shape=hexagon];`);
      for (const e of edges)
        lines.push(`  ${quoteDot(e.from)} -> ${quoteDot(e.to)} [label=${quoteDot(edgeLabel(e))}${e.feedback ? ', style=dashed' : ''}];`);
      lines.push('}');
      return `${lines.join('\n')}\n`;
    }
  }
}
