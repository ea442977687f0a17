import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncScheduler, from, lastValueFrom, toArray, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { StageError } from '../../errors/errors.js';
import { validateConfig } from '../../pipeline/config/validate-config.js';
import { DEFAULT_PORT } from '../../pipeline/graph/pipeline-graph.js';
import { sinkStage } from '../../pipeline/runtime/sink-stage.js';
import { ndjsonFileSink } from '../../sinks/ndjson-file-sink.js';
import { testContext } from '../support/test-context.js';

/** Runs the sink on `records` with `config`, as the runner does; resolves with its acknowledgements. */
function write(config: Record<string, unknown>, records: Observable<unknown>): Promise<unknown[]> {
  const writer = ndjsonFileSink.create(
    validateConfig('ndjson-file', ndjsonFileSink.spec, config),
    testContext(asyncScheduler, ndjsonFileSink, { stage: 'out' }),
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
