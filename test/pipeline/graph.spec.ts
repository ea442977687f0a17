import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filter, map, type Observable } from 'rxjs';
import type { OperatorDefinition, SinkDefinition } from '../../pipeline/components/component-definition.js';
import { StrategyId, type Signal, type Tick } from '../../schemas/generated.js';
import { describe, expect, it } from 'vitest';
import { ComponentRegistry } from '../../pipeline/components/component-registry.js';
import { ConfigError, GraphError, SchemaMismatchError } from '../../errors/errors.js';
import { loadPipelineFile } from '../../pipeline/graph/load-pipeline-file.js';
import { pipeline } from '../../pipeline/graph/pipeline.js';
import { renderGraph } from '../../pipeline/graph/render-graph.js';
import { runPipeline } from '../../pipeline/runtime/run-pipeline.js';
import { SchemaCatalog } from '../../pipeline/schemas/schema-catalog.js';
import { avroSchemaFiles } from '../../schemas/generated.js';
import { makeTick } from '../support/make-tick.js';
import { collectingSink, mappingOperator, recordsSource } from '../support/test-components.js';

const ticks = recordsSource('ticks', 'Tick', [makeTick()]);
const tickSink = collectingSink('tick-sink', 'Tick', []);
const barSink = collectingSink('bar-sink', 'Bar', []);
const eventSink = collectingSink('event-sink', 'OrderEvent', []);
const anySink = collectingSink('any-sink', 'any', []);
const signalSink = (into: unknown[]) => collectingSink('signal-sink', 'Signal', into);
const tickCopy = mappingOperator('tick-copy', 'Tick', 'Tick', (t) => ({ ...t }));
const registry = () => new ComponentRegistry([ticks, tickSink, barSink, anySink, tickCopy]);

function writeFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickflow-graph-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('graph checks', () => {
  it('accepts a compatible edge and infers record types in code', () => {
    const graph = pipeline('ok', 'compatible', (g) => {
      const t = g.source('market', ticks);
      const rb = g.apply(
        'rb-only',
        t,
        filter((tick) => tick.instrument_id.startsWith('SHFE.rb')),
      );
      g.sink('out', tickSink, {}, g.operator('copy', tickCopy, {}, rb));
    }).build();
    expect(graph.stages.map((s) => s.id)).toEqual(['market', 'rb-only', 'copy', 'out']);
  });

  it('rejects at compile time a stream of another record type', () => {
    pipeline('typed', '', (g) => {
      const bars = g.source('bars', recordsSource('bars', 'Bar', []));
      // @ts-expect-error a Bar stream cannot feed a stage that reads Tick
      g.sink('out', tickSink, {}, bars);
    });
  });

  it('accepts a record written into a union that holds it (OrderFilled -> OrderEvent)', () => {
    const filled = recordsSource('fills', 'OrderFilled', []);
    expect(() => pipeline('union', '', (g) => g.sink('events', eventSink, {}, g.source('fills', filled))).build()).not.toThrow();
  });

  it('rejects an incompatible edge, naming both stages, the edge and the field', () => {
    // A reader schema that evolved from Tick (alias) and added a field without default.
    const tickJson = avroSchemaFiles.find((f) => f.name === 'Tick')?.schema as { fields: unknown[] };
    const evolved = {
      type: 'record',
      name: 'Bar',
      namespace: 'tickflow',
      aliases: ['tickflow.Tick'],
      fields: [...tickJson.fields, { name: 'exchange_id', type: 'string' }],
    };
    const schemas = new SchemaCatalog([...avroSchemaFiles.filter((f) => f.name !== 'Bar'), { name: 'Bar', schema: evolved }]);
    const build = () =>
      pipeline('bad-edge', '', (g) => g.sink('bars-out', barSink, {}, g.source('market', ticks) as never)).build({ schemas });
    expect(build).toThrow(SchemaMismatchError);
    expect(build).toThrow(
      "edge market -> bars-out: stage 'market' writes Tick, stage 'bars-out' reads Bar; field 'exchange_id': reader field 'exchange_id' is missing from the writer and has no default",
    );
  });

  it('rejects a record of another name on an edge', () => {
    const path = writeFile(
      'p.yaml',
      'name: p\nstages:\n  - { id: market, use: ticks }\n  - { id: bars-out, use: bar-sink, from: market }\n',
    );
    expect(() => loadPipelineFile(path, registry()).build()).toThrow(
      /edge market -> bars-out: .*writer record tickflow.Tick is not reader record tickflow.Bar/,
    );
  });

  it('rejects a dangling stage', () => {
    const build = () =>
      pipeline('dangling', '', (g) => {
        g.source('market', ticks);
        g.sink('out', tickSink, {}, g.source('other', ticks));
      }).build();
    expect(build).toThrow(GraphError);
    expect(build).toThrow("dangling stage 'market': its output (Tick) goes to no stage");
  });

  it('rejects a cycle that is not through a feedback edge, and accepts it through one', () => {
    const cyclic = writeFile(
      'c.yaml',
      [
        'name: cyclic',
        'stages:',
        '  - { id: market, use: ticks }',
        '  - { id: a, use: tick-copy, from: [market, b] }',
        '  - { id: b, use: tick-copy, from: a }',
        '  - { id: out, use: tick-sink, from: b }',
      ].join('\n'),
    );
    expect(() => loadPipelineFile(cyclic, registry()).build()).toThrow(/cycle (a -> b -> a|b -> a -> b) is not through a feedback edge/);
    const withFeedback = writeFile(
      'f.yaml',
      [
        'name: feedback',
        'stages:',
        '  - { id: market, use: ticks }',
        '  - { id: a, use: tick-copy, from: market, feedback_from: b }',
        '  - { id: b, use: tick-copy, from: a }',
        '  - { id: out, use: tick-sink, from: b }',
      ].join('\n'),
    );
    const graph = loadPipelineFile(withFeedback, registry()).build();
    expect(graph.stages.find((s) => s.id === 'a')?.inputs).toEqual([
      { from: 'market', feedback: false },
      { from: 'b', feedback: true },
    ]);
  });

  it('closes a cycle in code only through a connected feedback stream', () => {
    const build = (connect: boolean) =>
      pipeline('loop', '', (g) => {
        const back = g.feedback('Tick');
        const a = g.operator('a', tickCopy, {}, [g.source('market', ticks), back]);
        const b = g.operator('b', tickCopy, {}, a);
        if (connect) back.connect(b);
        g.sink('out', tickSink, {}, b);
      }).build();
    expect(build(true).stages.find((s) => s.id === 'a')?.inputs).toEqual([
      { from: 'market', feedback: false },
      { from: 'b', feedback: true },
    ]);
    expect(() => build(false)).toThrow(/feedback stream of Tick is never connected/);
  });

  it('gives an `any` stage the schema of its input', () => {
    const path = writeFile(
      'any.yaml',
      'name: any\nstages:\n  - { id: market, use: ticks }\n  - { id: out, use: any-sink, from: market }\n',
    );
    const out = loadPipelineFile(path, registry())
      .build()
      .stages.find((s) => s.id === 'out');
    expect(out?.kind === 'sink' && out.in).toEqual({ in: 'Tick' });
  });

  it('reports every problem of a definition file at once', () => {
    const path = writeFile(
      'bad.yaml',
      'name: bad\ncolour: red\nstages:\n  - { id: market, use: nope }\n  - { id: out, use: tick-sink, from: market, when: always }\n',
    );
    let error: unknown;
    try {
      loadPipelineFile(path, registry());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      "unknown key 'colour'; known keys: name, description, stages",
      "stage 'market': unknown component 'nope'; known components: any-sink, bar-sink, tick-copy, tick-sink, ticks",
      "stage 'out': unknown key 'when'; known keys: id, use, config, from, feedback_from",
    ]);
  });

  it('rejects stage config problems and config for unknown stages', () => {
    const build = () =>
      pipeline('p', '', (g) => g.sink('out', tickSink, {}, g.source('market', ticks))).build({
        overrides: { markte: { rate: 1 }, market: { rate: 2 } },
      });
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(/stage 'market' \(ticks\): unknown field 'rate'.*\n.*config for unknown stage 'markte'; stages: market, out/);
  });

  it('prints every edge with its schema', () => {
    const graph = pipeline('printed', '', (g) => g.sink('out', tickSink, {}, g.source('market', ticks))).build();
    expect(renderGraph(graph, 'mermaid')).toContain('market -->|"Tick"| out');
    expect(renderGraph(graph, 'dot')).toContain('"market" -> "out" [label="Tick"];');
    expect(JSON.parse(renderGraph(graph, 'json')).edges).toEqual([{ from: 'market', to: 'out', schema: 'Tick', feedback: false }]);
  });
});

describe('g.apply', () => {
  /** A Tick -> Signal operator: the mid price of every tick. */
  const toMid = () =>
    map((t: Tick): Signal => ({
      signal_id: `mid-${t.sequence}`,
      strategy_id: StrategyId('test'),
      instrument_id: t.instrument_id,
      name: 'mid',
      value: ((t.bid_price1 ?? 0) + (t.ask_price1 ?? 0)) / 2,
      ts_event: t.ts_event,
      ts_init: t.ts_recv,
      causation_id: null,
    }));

  it('types an operator that changes the schema by the schema it names, and refuses one that does not name it', () => {
    pipeline('typed-apply', '', (g) => {
      const t = g.source('market', ticks);
      const mids = g.apply('mid', t, toMid(), { out: 'Signal' });
      const same: typeof mids extends { readonly schema: 'Signal' } ? true : false = true;
      expect(same).toBe(true);
      // @ts-expect-error a Tick -> Signal operator must name the schema it writes
      g.apply('unnamed', t, toMid());
      // @ts-expect-error explicit type arguments do not replace the schema the stage is labelled with at run time
      g.apply<'Tick', 'Signal'>('untold', t, toMid());
      // @ts-expect-error the operator writes Signal, not Bar
      g.apply('mislabelled', t, toMid(), { out: 'Bar' });
      // @ts-expect-error the output of a Signal stage cannot feed a stage that reads Tick
      g.sink('ticks-out', tickSink, {}, mids);
      // Named first, so that the line the error is expected on stays one line whatever the formatter does.
      const positiveVolume = filter((tick: Tick) => tick.volume > 0);
      // @ts-expect-error the operator's input must be the input stream's record
      g.apply('wrong-input', mids, positiveVolume);
    });
  });

  it('labels the stage and its edges with the named schema, and checks them when built', () => {
    const graph = pipeline('apply-out', '', (g) =>
      g.sink('signals', signalSink([]), {}, g.apply('mid', g.source('market', ticks), toMid(), { out: 'Signal' })),
    ).build();
    const mid = graph.stages.find((s) => s.id === 'mid');
    expect(mid?.kind === 'operator' && [mid.in, mid.out]).toEqual([{ in: 'Tick' }, 'Signal']);
    expect(JSON.parse(renderGraph(graph, 'json')).edges).toContainEqual({ from: 'mid', to: 'signals', schema: 'Signal', feedback: false });
    const intoTicks = () =>
      pipeline('apply-mismatch', '', (g) =>
        g.sink('ticks-out', tickSink, {}, g.apply('mid', g.source('market', ticks), toMid(), { out: 'Signal' }) as never),
      ).build();
    expect(intoTicks).toThrow(SchemaMismatchError);
    expect(intoTicks).toThrow(/edge mid -> ticks-out: stage 'mid' writes Signal, stage 'ticks-out' reads Tick/);
  });

  it('refuses, naming the stage, an out that is not a schema name (from JavaScript)', () => {
    const build = () =>
      pipeline('apply-bad-out', '', (g) => g.apply('mid', g.source('market', ticks), toMid(), { out: undefined } as never)).build();
    expect(build).toThrow(GraphError);
    expect(build).toThrow("stage 'mid': apply's options.out must name the schema the operator writes, e.g. { out: 'Bar' }; got undefined");
  });

  it('runs: the records it writes reach the next stage, checked against the named schema on strict edges', async () => {
    const received: unknown[] = [];
    const graph = pipeline('apply-run', '', (g) => {
      const market = g.source(
        'market',
        recordsSource('ticks', 'Tick', [makeTick({ sequence: 1 }), makeTick({ sequence: 2, bid_price1: 3500, ask_price1: 3502 })]),
      );
      g.sink('signals', signalSink(received), {}, g.apply('mid', market, toMid(), { out: 'Signal' }));
    }).build();
    const run = runPipeline(graph, { validation: 'strict' });
    expect(await run.done).toEqual({ ok: true, failures: [] });
    expect(received).toMatchObject([
      { signal_id: 'mid-1', value: 3499.5 },
      { signal_id: 'mid-2', value: 3501 },
    ]);
    expect(run.health().stages['mid']).toMatchObject({ records_in: 2, records_out: 2, dropped: 0 });
  });
});

describe('ports and side outputs', () => {
  const quotesAndFeeds = {
    name: 'board',
    kind: 'sink',
    in: { ticks: 'Tick', feeds: 'FeedStatus' },
    description: '',
    spec: {},
    create: () => ({ write: () => undefined, close: async () => undefined }),
  } as const satisfies SinkDefinition<{ ticks: 'Tick'; feeds: 'FeedStatus' }, Record<string, never>>;
  const withStatus = {
    name: 'with-status',
    kind: 'operator',
    in: 'Tick',
    out: 'Tick',
    sideOutputs: { status: 'FeedStatus' },
    description: '',
    spec: {},
    create: () => (s: Observable<Tick>) => s,
  } as const satisfies OperatorDefinition<'Tick', 'Tick', Record<string, never>, { status: 'FeedStatus' }>;
  const portRegistry = () => new ComponentRegistry([ticks, quotesAndFeeds, withStatus, tickSink]);

  it('wires named ports and side outputs in code, checking each edge against its port', () => {
    const graph = pipeline('ports', '', (g) => {
      const merged = g.operator('merge', withStatus, {}, g.source('market', ticks));
      g.sink('board', quotesAndFeeds, {}, { ticks: merged, feeds: merged.side('status') });
    }).build();
    expect(graph.stages.find((s) => s.id === 'board')?.inputs).toEqual([
      { from: 'merge', port: 'ticks', feedback: false },
      { from: 'merge', side: 'status', port: 'feeds', feedback: false },
    ]);
  });

  it('connects a feedback stream into a named port in code', () => {
    const graph = pipeline('port-feedback', '', (g) => {
      const back = g.feedback('Tick');
      const merged = g.operator('merge', withStatus, {}, [g.source('market', ticks), back]);
      back.connect(merged);
      g.sink('board', quotesAndFeeds, {}, { ticks: [merged, back], feeds: merged.side('status') });
    }).build();
    expect(graph.stages.find((s) => s.id === 'board')?.inputs).toContainEqual({
      from: 'merge',
      side: undefined,
      port: 'ticks',
      feedback: true,
    });
  });

  it('wires them from a file, and names a side output or port that does not exist', () => {
    const good = writeFile(
      'ports.yaml',
      'name: ports\nstages:\n  - { id: market, use: ticks }\n  - { id: merge, use: with-status, from: market }\n  - { id: board, use: board, from: { ticks: merge, feeds: merge.status } }\n',
    );
    expect(loadPipelineFile(good, portRegistry()).build().stages).toHaveLength(3);
    const swapped = writeFile(
      'swapped.yaml',
      'name: swapped\nstages:\n  - { id: market, use: ticks }\n  - { id: merge, use: with-status, from: market }\n  - { id: board, use: board, from: { ticks: merge.status, feeds: merge } }\n',
    );
    expect(() => loadPipelineFile(swapped, portRegistry()).build()).toThrow(
      /edge merge.status -> board.ticks: stage 'merge' writes FeedStatus, stage 'board' reads Tick/,
    );
    const noSide = writeFile(
      'noside.yaml',
      'name: noside\nstages:\n  - { id: market, use: ticks }\n  - { id: merge, use: with-status, from: market }\n  - { id: board, use: board, from: { ticks: merge, feeds: merge.health } }\n',
    );
    expect(() => loadPipelineFile(noSide, portRegistry()).build()).toThrow(
      /reads side output 'health' that stage 'merge' does not have; side outputs: status/,
    );
    const badPort = writeFile(
      'badport.yaml',
      'name: badport\nstages:\n  - { id: market, use: ticks }\n  - { id: board, use: board, from: { quotes: market } }\n',
    );
    expect(() => loadPipelineFile(badPort, portRegistry()).build()).toThrow(/'board' has no port 'quotes'; ports: ticks, feeds/);
  });
});

describe('graph checks report every problem in one pass', () => {
  const anyCopy: OperatorDefinition<'any', 'any', Record<string, never>> = {
    name: 'any-copy',
    kind: 'operator',
    in: 'any',
    out: 'any',
    description: 'Test operator any -> any',
    spec: {},
    create: () => (records: Observable<unknown>) => records,
  };
  const tickToBar = mappingOperator('tick-to-bar', 'Tick', 'Bar', () => ({}) as never);
  const anyRegistry = () => new ComponentRegistry([ticks, tickSink, barSink, anySink, tickCopy, anyCopy, tickToBar]);

  it('a schema mismatch is reported together with a dangling stage', () => {
    const path = writeFile(
      'both.yaml',
      [
        'name: both',
        'stages:',
        '  - { id: market, use: ticks }',
        '  - { id: extra, use: tick-copy, from: market }',
        '  - { id: bars, use: tick-to-bar, from: market }',
        '  - { id: out, use: tick-sink, from: bars }',
      ].join('\n'),
    );
    const build = () => loadPipelineFile(path, anyRegistry()).build();
    expect(build).toThrow(GraphError);
    expect(build).toThrow(
      "pipeline 'both': 2 problems:\n" +
        "  - dangling stage 'extra': its output (Tick) goes to no stage; connect it to a sink or remove it\n" +
        "  - edge bars -> out: stage 'bars' writes Bar, stage 'out' reads Tick: writer record tickflow.Bar is not reader record tickflow.Tick",
    );
  });

  it('a graph built in code too: shape problems and mismatches in one GraphError; mismatches alone stay a SchemaMismatchError', () => {
    const both = () =>
      pipeline('both', '', (g) => {
        g.source('market', ticks);
        g.sink('out', tickSink, {}, g.operator('bars', tickToBar, {}, g.source('other', ticks)) as never);
      }).build();
    expect(both).toThrow(GraphError);
    expect(both).toThrow(/dangling stage 'market'.*\n.*edge bars -> out: stage 'bars' writes Bar, stage 'out' reads Tick/);
    const mismatchOnly = () =>
      pipeline('mismatch', '', (g) =>
        g.sink('out', tickSink, {}, g.operator('bars', tickToBar, {}, g.source('market', ticks)) as never),
      ).build();
    expect(mismatchOnly).toThrow(SchemaMismatchError);
  });

  it("names a 'from' that names no stage when it feeds a stage of any schema (a sink, a pass-through), not the schema it cannot tell", () => {
    const intoSink = writeFile(
      'sink.yaml',
      'name: s\nstages:\n  - { id: market, use: ticks }\n  - { id: out, use: any-sink, from: nosuch }\n  - { id: out2, use: tick-sink, from: market }\n',
    );
    expect(() => loadPipelineFile(intoSink, anyRegistry()).build()).toThrow(
      new ConfigError("pipeline 's'", ["stage 'out' reads from unknown stage 'nosuch'; stages: market, out, out2"]).message,
    );
    // The pass-through's own output is then of no known schema either: the sink after it is not blamed.
    const throughCopy = writeFile(
      'copy.yaml',
      'name: c\nstages:\n  - { id: market, use: ticks }\n  - { id: extra, use: any-copy, from: nosuch }\n  - { id: out, use: any-sink, from: [market, extra] }\n',
    );
    expect(() => loadPipelineFile(throughCopy, anyRegistry()).build()).toThrow(
      new ConfigError("pipeline 'c'", ["stage 'extra' reads from unknown stage 'nosuch'; stages: market, extra, out"]).message,
    );
  });

  it('reports the unknown stage with the config problems and a genuine mixed-schema input of the same file', () => {
    const path = writeFile(
      'mixed.yaml',
      [
        'name: m',
        'stages:',
        '  - { id: market, use: ticks }',
        '  - { id: bars, use: tick-to-bar, from: nosuch }',
        '  - { id: out, use: any-sink, from: [bars, market], config: { colour: red } }',
      ].join('\n'),
    );
    const error = (() => {
      try {
        loadPipelineFile(path, anyRegistry()).build();
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('built');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.problems).toEqual([
      "stage 'bars' reads from unknown stage 'nosuch'; stages: market, bars, out",
      "stage 'out' (any-sink): unknown field 'colour'; known fields: (none)",
      "stage 'out' (any-sink) takes any schema on 'in', but its inputs there do not carry one single schema",
    ]);
  });
});
