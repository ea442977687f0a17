import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SchemaCatalog } from '../../../pipeline/schemas/schema-catalog.js';
import type { Tick } from '../../../schemas/generated.js';
import type { InputPosition } from '../../../sources/file/invalid-input-reporter.js';
import { NdjsonTickReader } from '../../../sources/file/ndjson-tick-reader.js';
import { makeTick } from '../../support/make-tick.js';
import { tempDir } from './recorded-files.js';

const codec = SchemaCatalog.default().codec('Tick');

describe('NdjsonTickReader', () => {
  let dir: string;
  let remove: () => void;
  let invalid: [InputPosition, string][];

  beforeEach(() => {
    ({ dir, remove } = tempDir());
    invalid = [];
  });
  afterEach(() => remove());

  async function readAll(
    text: string,
    options: { chunkBytes?: number; maxLineBytes?: number } = {},
  ): Promise<{ batches: Tick[][]; reader: NdjsonTickReader }> {
    const path = join(dir, 'ticks.ndjson');
    writeFileSync(path, text);
    const reader = new NdjsonTickReader(path, { codec, onInvalid: (position, reason) => invalid.push([position, reason]), ...options });
    const batches: Tick[][] = [];
    for (let i = 0; i < 100_000; i++) {
      const batch = await reader.next();
      if (batch === undefined) break;
      batches.push(batch);
    }
    return { batches, reader };
  }

  it('splits lines across chunks of any size, multi-byte characters included', async () => {
    const ticks = [makeTick({ feed_id: '上期所-主' }), makeTick({ feed_id: 'ü', sequence: 2 }), makeTick({ feed_id: '€€€', sequence: 3 })];
    const text = `${ticks.map((t) => JSON.stringify(t)).join('\n')}\n`;
    for (const chunkBytes of [1, 2, 3, 7, 64, 1024]) {
      const { batches, reader } = await readAll(text, { chunkBytes });
      expect(batches.flat()).toEqual(ticks);
      expect(reader.bytesRead).toBe(Buffer.byteLength(text));
    }
    expect(invalid).toEqual([]);
  });

  it('skips a line longer than maxLineBytes without keeping it, and counts lines on after it', async () => {
    const tick = makeTick();
    const long = JSON.stringify({ ...tick, instrument_id: 'x'.repeat(5000) });
    const text = [JSON.stringify(tick), long, JSON.stringify({ ...tick, sequence: 2 }), 'oops'].join('\n');
    const { batches } = await readAll(text, { chunkBytes: 100, maxLineBytes: 1000 });
    expect(batches.flat().map((t) => t.sequence)).toEqual([1, 2]);
    expect(invalid.map(([position, reason]) => [position, reason.slice(0, 20)])).toEqual([
      [{ line: 2 }, 'line longer than 100'],
      [{ line: 4 }, 'not JSON: Unexpected'],
    ]);
  });

  it('counts a long last line without a newline once', async () => {
    const { batches } = await readAll(`${JSON.stringify(makeTick())}\n${'y'.repeat(3000)}`, { chunkBytes: 256, maxLineBytes: 1000 });
    expect(batches.flat().length).toBe(1);
    expect(invalid.map(([position]) => position)).toEqual([{ line: 2 }]);
  });

  it('returns nothing more after close', async () => {
    const path = join(dir, 'ticks.ndjson');
    writeFileSync(path, `${JSON.stringify(makeTick())}\n`);
    const reader = new NdjsonTickReader(path, { codec, onInvalid: () => undefined });
    reader.close();
    expect(await reader.next()).toBeUndefined();
  });
});
