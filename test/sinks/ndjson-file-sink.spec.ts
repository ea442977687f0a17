import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncScheduler, from, lastValueFrom, tap, toArray, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { StageError } from '../../errors/errors.js';
import { validateConfig } from '../../pipeline/config/validate-config.js';
import { DEFAULT_PORT } from '../../pipeline/graph/pipeline-graph.js';
import { sinkStage } from '../../pipeline/runtime/sink-stage.js';
import type { SchemaName } from '../../pipeline/schemas/schema-catalog.js';
import { pipeline } from '../../pipeline/graph/pipeline.js';
import { runPipeline } from '../../pipeline/runtime/run-pipeline.js';
import { SimMarket } from '../../sources/sim-market.js';
import { simSource } from '../../sources/sim-source.js';
import { ndjsonFileSink } from '../../sinks/ndjson-file-sink.js';
import { testContext } from '../support/test-context.js';

/** Runs the sink on `records` with `config`, as the runner does (its input of `schema` when given); resolves with its acknowledgements. */
function write(config: Record<string, unknown>, records: Observable<unknown>, schema?: SchemaName): Promise<unknown[]> {
  const ctx = testContext(asyncScheduler, ndjsonFileSink, { stage: 'out' });
  const writer = ndjsonFileSink.create(
    validateConfig('ndjson-file', ndjsonFileSink.spec, config),
    schema === undefined ? ctx : { ...ctx, inputSchemas: { [DEFAULT_PORT]: schema } },
  );
  return lastValueFrom(
    sinkStage(writer, (error) => {
      throw error;
    })({ [DEFAULT_PORT]: records }).pipe(toArray()),
  );
}

describe('ndjsonFileSink', () => {
  it('writes one line per record, in batches, acknowledging each record once its batch is written', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ndjson-')), 'deep', 'out.ndjson');
    const records = Array.from({ length: 5 }, (_, i) => ({ i, bytes: { type: 'Buffer', data: [i] } }));
    expect(await write({ path, batch_size: 2 }, from(records))).toEqual(records);
    expect(
      readFileSync(path, 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual(records.map((r) => ({ ...r, bytes: Buffer.from([r.i]).toString('base64') })));
  });

  it('writes real Buffers as base64 wherever they are (a field, an array, a nested record), and flat records as plain JSON', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ndjson-')), 'out.ndjson');
    const bytes = Buffer.from([1, 2, 3]);
    const records = [{ flat: 1, name: 'a', none: null }, { payload: bytes }, { blocks: [bytes, bytes] }, { inner: { hash: bytes, n: 2 } }];
    await write({ path }, from(records));
    expect(readFileSync(path, 'utf8').trimEnd().split('\n')).toEqual([
      '{"flat":1,"name":"a","none":null}',
      '{"payload":"AQID"}',
      '{"blocks":["AQID","AQID"]}',
      '{"inner":{"hash":"AQID","n":2}}',
    ]);
  });

  it('writes records of its input schema as JSON.stringify does, in order with those the generated writer refuses', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ndjson-')), 'out.ndjson');
    const market = new SimMarket({
      instruments: ['SHFE.rb2501', 'SHFE.au2502'],
      seed: 9,
      start: 1_735_822_800_000_000,
      tickIntervalMs: 500,
      feedId: 'a',
      latencyUs: 0,
    });
    const ticks: unknown[] = Array.from({ length: 2_500 }, () => market.next());
    // Keys in another order and an optional field left out: JSON.stringify writes those, as it always did.
    const { instrument_id, ...rest } = ticks[10] as Record<string, unknown>;
    ticks[10] = { ...rest, instrument_id };
    const { close: _close, ...withoutClose } = ticks[11] as Record<string, unknown>;
    ticks[11] = withoutClose;
    expect(await write({ path, batch_size: 1000 }, from(ticks), 'Tick')).toEqual(ticks);
    expect(readFileSync(path, 'utf8')).toBe(ticks.map((t) => `${JSON.stringify(t)}\n`).join(''));
  });

  it('writes buffers of its input schema as base64, as without the schema', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ndjson-')), 'out.ndjson');
    const record = {
      seq: 1,
      ts_init: 2,
      record_type: 'Tick',
      payload: Buffer.from([1, 2, 3]),
      prev_hash: Buffer.alloc(32, 1),
      hash: Buffer.alloc(32, 2),
    };
    await write({ path }, from([record]), 'AuditRecord');
    const expected = JSON.stringify({
      ...record,
      payload: 'AQID',
      prev_hash: Buffer.alloc(32, 1).toString('base64'),
      hash: Buffer.alloc(32, 2).toString('base64'),
    });
    expect(readFileSync(path, 'utf8')).toBe(`${expected}\n`);
  });

  it('writes each tick of a pipeline run (its input schema from the graph) as JSON.stringify does', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ndjson-')), 'out.ndjson');
    const seen: unknown[] = [];
    const graph = pipeline('ndjson', '', (g) => {
      const ticks = g.source('market', simSource, { rate: 0, count: 3_000 });
      g.sink(
        'out',
        ndjsonFileSink,
        { path },
        g.apply(
          'seen',
          ticks,
          tap((t) => void seen.push(t)),
        ),
      );
    }).build();
    const run = runPipeline(graph, { validation: 'boundary' });
    expect((await run.done).ok).toBe(true);
    expect(seen).toHaveLength(3_000);
    expect(readFileSync(path, 'utf8')).toBe(seen.map((t) => `${JSON.stringify(t)}\n`).join(''));
  });

  it('creates an empty file when there is no record, and appends when asked', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ndjson-')), 'out.ndjson');
    expect(await write({ path }, from([]))).toEqual([]);
    expect(readFileSync(path, 'utf8')).toBe('');
    await write({ path, append: true }, from([{ a: 1 }]));
    await write({ path, append: true }, from([{ a: 2 }]));
    expect(readFileSync(path, 'utf8')).toBe('{"a":1}\n{"a":2}\n');
  });

  it('fails the stage, naming it and the file, when the file cannot be written', async () => {
    const error = await write({ path: '/dev/full' }, from([{ a: 1 }])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StageError);
    expect(error).toMatchObject({
      message: expect.stringMatching(/^ndjson-file: cannot write \/dev\/full: .*ENOSPC/),
      context: { stage: 'out', path: '/dev/full' },
    });
  });

  it('fails the stage when the directory of the file cannot be made', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ndjson-')), 'a-file');
    writeFileSync(file, '');
    await expect(write({ path: join(file, 'out.ndjson') }, from([{ a: 1 }]))).rejects.toThrow(
      /^ndjson-file: cannot write .*a-file\/out\.ndjson: .*(EEXIST|ENOTDIR)/,
    );
  });
});
