import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Observable, asyncScheduler, filter, from, interval, map, tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { OperatorDefinition, SinkDefinition } from '../../../pipeline/components/component-definition.js';
import { pipeline } from '../../../pipeline/graph/pipeline.js';
import { runPipeline } from '../../../pipeline/runtime/run-pipeline.js';
import type { FeedStatus, Tick } from '../../../schemas/generated.js';
import { makeTick } from '../../support/make-tick.js';
import { collectingSink, mappingOperator, recordsSource } from '../../support/test-components.js';

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

const goodTicks = [1, 2, 3].map((sequence) => makeTick({ sequence }));
const badTick = { ...makeTick({ sequence: 99 }), volume: 'lots' } as unknown as Tick;
const copy = mappingOperator('copy', 'Tick', 'Tick', (t) => ({ ...t }));

describe('runPipeline', () => {
  it('runs a source through an operator to a sink, counting every stage', async () => {
    const received: unknown[] = [];
    const graph = pipeline('p', '', (g) =>
      g.sink(
        'out',
        collectingSink('collect', 'Tick', received),
        {},
        g.operator('copy', copy, {}, g.source('market', recordsSource('ticks', 'Tick', goodTicks))),
      ),
    ).build();
    const run = runPipeline(graph);
    expect(await run.done).toEqual({ ok: true, failures: [] });
    expect(received).toEqual(goodTicks);
    const health = run.health();
    expect(health.state).toBe('stopped');
    expect(health.stages['copy']).toEqual({
      kind: 'operator',
      component: 'copy',
      state: 'completed',
      records_in: 3,
      records_out: 3,
      dropped: 0,
      errors: 0,
    });
    const text = await run.metrics.render();
    expect(text).toContain('tickflow_stage_records_in_total{pipeline="p",stage="copy",component="copy"} 3');
    expect(text).toContain('tickflow_stage_processing_seconds_count{pipeline="p",stage="copy",component="copy"} 3');
    expect(text).toContain('tickflow_process_cpu_seconds_total');
  });

  it("gives every stage the environment the graph was built in as ctx.env, never the process's", async () => {
    const seen: (string | undefined)[] = [];
    const readsEnv = {
      ...recordsSource('ticks', 'Tick', goodTicks),
      create: (_config: unknown, ctx: { env: NodeJS.ProcessEnv }) => (seen.push(ctx.env['FEED_USER'], ctx.env['PATH']), from(goodTicks)),
    };
    const graph = pipeline('p', '', (g) => g.sink('out', collectingSink('collect', 'Tick', []), {}, g.source('market', readsEnv))).build({
      env: { FEED_USER: 'u-1' },
    });
    expect((await runPipeline(graph).done).ok).toBe(true);
    expect(seen).toEqual(['u-1', undefined]);
  });

  it('strict: rejects an invalid record with a clear error, counts it, sends it to the dead letters, and keeps running', async () => {
    const received: unknown[] = [];
    const deadLetters: unknown[] = [];
    const { logger, lines } = capturingLogger();
    const graph = pipeline('p', '', (g) => {
      g.sink(
        'out',
        collectingSink('collect', 'Tick', received),
        {},
        g.operator(
          'copy',
          copy,
          {},
          g.source('market', recordsSource('ticks', 'Tick', [goodTicks[0] as Tick, badTick, goodTicks[1] as Tick])),
        ),
      );
      g.sink('dead', collectingSink('dead', 'DeadLetter', deadLetters), {}, g.deadLetters());
    }).build();
    const run = runPipeline(graph, { logger, validation: 'strict' });
    expect((await run.done).ok).toBe(true);
    expect(received).toEqual([goodTicks[0], goodTicks[1]]);
    expect(deadLetters).toEqual([
      expect.objectContaining({
        stage: 'copy',
        edge: 'market -> copy',
        schema: 'Tick',
        reason: 'field \'volume\' expected long, got string "lots"',
        payload_json: expect.stringContaining('"sequence":99'),
      }),
    ]);
    expect(run.health().stages['copy']?.dropped).toBe(1);
    expect(await run.metrics.render()).toContain(
      'tickflow_stage_records_dropped_total{pipeline="p",stage="copy",component="copy",reason="invalid"} 1',
    );
    expect(lines.find((l) => l['level'] === 40)?.['msg']).toBe(
      'record rejected on edge market -> copy (Tick): field \'volume\' expected long, got string "lots"',
    );
  });

  it('boundary: validates only edges that touch a boundary stage', async () => {
    const inner: unknown[] = [];
    const crossing: unknown[] = [];
    const graph = pipeline('p', '', (g) => {
      const copied = g.operator('copy', copy, {}, g.source('market', recordsSource('ticks', 'Tick', [badTick, goodTicks[0] as Tick])));
      g.sink('in-process', collectingSink('collect', 'Tick', inner), {}, copied);
      g.sink('to-file', collectingSink('file', 'Tick', crossing, { boundary: true }), {}, copied);
    }).build();
    const run = runPipeline(graph, { validation: 'boundary' });
    await run.done;
    expect(inner).toEqual([badTick, goodTicks[0]]);
    expect(crossing).toEqual([goodTicks[0]]);
    expect(run.health().stages['to-file']?.dropped).toBe(1);
  });

  it('logs a failing stage by name and stops the whole pipeline', async () => {
    const { logger, lines } = capturingLogger();
    let sourceUnsubscribed = false;
    const endless = new Observable<Tick>((s) => {
      const id = setInterval(() => s.next(makeTick()), 5);
      return () => {
        sourceUnsubscribed = true;
        clearInterval(id);
      };
    });
    const exploding: OperatorDefinition<'Tick', 'Tick', Record<string, never>> = {
      name: 'exploding',
      kind: 'operator',
      in: 'Tick',
      out: 'Tick',
      description: '',
      spec: {},
      create: () =>
        map((t: Tick) => {
          if (t.sequence === 1) throw new Error('division by zero');
          return t;
        }),
    };
    const graph = pipeline('p', '', (g) =>
      g.sink(
        'out',
        collectingSink('collect', 'Tick', []),
        {},
        g.operator('risk', exploding, {}, g.source('market', recordsSource('ticks', 'Tick', endless))),
      ),
    ).build();
    const run = runPipeline(graph, { logger });
    const result = await run.done;
    expect(result.ok).toBe(false);
    expect(result.failures.map((f) => f.stage)).toEqual(['risk']);
    expect(sourceUnsubscribed).toBe(true);
    expect(run.health().state).toBe('failed');
    expect(lines.find((l) => l['level'] === 50)).toMatchObject({ stage: 'risk', msg: "stage 'risk' failed: division by zero" });
  });

  it('stop() ends the sources and drains to the sinks', async () => {
    const received: unknown[] = [];
    const endless = interval(2, asyncScheduler).pipe(map((i) => makeTick({ sequence: i + 1 })));
    const graph = pipeline('p', '', (g) =>
      g.sink('out', collectingSink('collect', 'Tick', received), {}, g.source('market', recordsSource('ticks', 'Tick', endless))),
    ).build();
    const run = runPipeline(graph);
    await new Promise((r) => setTimeout(r, 30));
    expect(run.health().state).toBe('running');
    const result = await run.stop('test');
    expect(result.ok).toBe(true);
    expect(received.length).toBeGreaterThan(0);
    expect(run.health().stages['out']?.state).toBe('completed');
  });

  it('feeds records back through a feedback edge, and still ends when the sources do', async () => {
    const received: Tick[] = [];
    // b marks first passes with +100 and fed-back records with +1000; only first passes go back to a.
    const mark = mappingOperator('mark', 'Tick', 'Tick', (t) => ({ ...t, sequence: t.sequence + (t.sequence < 100 ? 100 : 1000) }));
    const graph = pipeline('loop', '', (g) => {
      const back = g.feedback('Tick');
      const a = g.operator('a', copy, {}, [g.source('market', recordsSource('ticks', 'Tick', goodTicks)), back]);
      const b = g.operator('b', mark, {}, a);
      back.connect(
        g.apply(
          'first-pass-only',
          b,
          filter((t) => t.sequence < 1000),
        ),
      );
      g.sink('out', collectingSink('collect', 'Tick', received), {}, b);
    }).build();
    const run = runPipeline(graph);
    expect((await run.done).ok).toBe(true);
    expect(received.map((t) => t.sequence).sort((x, y) => x - y)).toEqual([101, 102, 103, 1101, 1102, 1103]);
  });
});

describe('runPipeline with ports and side outputs', () => {
  it('delivers a side output to the port that reads it, and ends when the producer does', async () => {
    const seen: string[] = [];
    const statusOf = (t: Tick): FeedStatus => ({
      feed_id: t.feed_id,
      state: 'UP',
      ts_event: t.ts_event,
      last_tick_ts: t.ts_event,
      lead_count: t.sequence,
      lag_count: 0,
      gap_count: 0,
      drop_count: 0,
      detail: 'tick',
    });
    const withStatus: OperatorDefinition<'Tick', 'Tick', Record<string, never>, { status: 'FeedStatus' }> = {
      name: 'with-status',
      kind: 'operator',
      in: 'Tick',
      out: 'Tick',
      sideOutputs: { status: 'FeedStatus' },
      description: '',
      spec: {},
      create: (_config, ctx) => {
        const status = ctx.sideOutput<FeedStatus>('status');
        return tap((t: Tick) => status.next(statusOf(t)));
      },
    };
    const board: SinkDefinition<{ ticks: 'Tick'; feeds: 'FeedStatus' }, Record<string, never>> = {
      name: 'board',
      kind: 'sink',
      in: { ticks: 'Tick', feeds: 'FeedStatus' },
      description: '',
      spec: {},
      create: () => ({
        write: (port, record) => void seen.push(port === 'ticks' ? `tick ${record.sequence}` : `status ${record.lead_count}`),
        close: async () => undefined,
      }),
    };
    const graph = pipeline('ports', '', (g) => {
      const merged = g.operator('merge', withStatus, {}, g.source('market', recordsSource('ticks', 'Tick', goodTicks)));
      g.sink('board', board, {}, { ticks: merged, feeds: merged.side('status') });
    }).build();
    const run = runPipeline(graph);
    expect((await run.done).ok).toBe(true);
    expect(seen).toEqual(['status 1', 'tick 1', 'status 2', 'tick 2', 'status 3', 'tick 3']);
    expect(run.health().stages['board']?.records_in).toBe(6);
  });

  describe('starting', () => {
    /** A source that never ends by itself, reporting whether it was ever subscribed and whether it was let go. */
    function endlessSource() {
      const seen = { subscribed: false, unsubscribed: false };
      const ticks = new Observable<Tick>((s) => {
        seen.subscribed = true;
        const id = setInterval(() => s.next(makeTick()), 5);
        return () => {
          seen.unsubscribed = true;
          clearInterval(id);
        };
      });
      return { seen, source: recordsSource('endless', 'Tick', ticks) };
    }

    /** A sink that takes an exclusive resource first; `fails` makes the take fail. */
    function exclusiveSink(name: string, log: string[], fails: boolean): SinkDefinition<'Tick', Record<string, never>> {
      return {
        name,
        kind: 'sink',
        in: 'Tick',
        description: '',
        spec: {},
        create: (_config, ctx) => {
          void ctx
            .acquire(
              async () => {
                if (fails) throw new Error(`${name} is taken`);
                log.push(`${name} taken`);
                return name;
              },
              (resource) => void log.push(`${resource} released`),
            )
            .catch(() => undefined);
          return { write: () => void log.push(`${name} wrote`), close: async () => undefined };
        },
      };
    }

    it('a sink whose first write fails ends the sources, and the run', async () => {
      const { seen, source } = endlessSource();
      const failingSink: SinkDefinition<'Tick', Record<string, never>> = {
        name: 'broken-file',
        kind: 'sink',
        in: 'Tick',
        description: '',
        spec: {},
        create: () => ({
          write: () => {
            throw new Error('EEXIST: file already exists, mkdir out');
          },
          close: async () => undefined,
        }),
      };
      const graph = pipeline('p', '', (g) => g.sink('out', failingSink, {}, g.source('market', source))).build();
      const run = runPipeline(graph);
      const result = await run.done;
      expect(result.failures.map((f) => f.stage)).toEqual(['out']);
      expect(seen.unsubscribed).toBe(true);
      expect(run.health().state).toBe('failed');
    });

    it('connects no stage until every stage took its exclusive resources', async () => {
      const log: string[] = [];
      const received: unknown[] = [];
      const graph = pipeline('p', '', (g) => {
        const ticks = g.source('market', recordsSource('ticks', 'Tick', goodTicks));
        g.sink('a', exclusiveSink('a', log, false), {}, ticks);
        g.sink('out', collectingSink('collect', 'Tick', received), {}, ticks);
      }).build();
      const run = runPipeline(graph);
      expect(received).toEqual([]);
      expect((await run.done).ok).toBe(true);
      expect(log.slice(0, 2)).toEqual(['a taken', 'a wrote']);
      expect(received).toEqual(goodTicks);
    });

    it('when one stage cannot take its resource, no stage starts, what the others took is released, and the run fails naming the stage', async () => {
      const { logger, lines } = capturingLogger();
      const log: string[] = [];
      const { seen, source } = endlessSource();
      const graph = pipeline('p', '', (g) => {
        const ticks = g.source('market', source);
        g.sink('first', exclusiveSink('first', log, false), {}, ticks);
        g.sink('second', exclusiveSink('second', log, true), {}, ticks);
      }).build();
      const run = runPipeline(graph, { logger });
      const result = await run.done;
      expect(result.ok).toBe(false);
      expect(result.failures.map((f) => f.stage)).toEqual(['second']);
      expect(seen.subscribed).toBe(false);
      expect(log).toEqual(['first taken', 'first released']);
      const failed = lines.filter((l) => l['level'] === 50).map((l) => l['msg']);
      expect(failed).toEqual(["stage 'second' (second) could not start: second is taken"]);
    });
  });
});
