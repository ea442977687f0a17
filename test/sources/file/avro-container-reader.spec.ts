import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import avro from 'avsc';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SchemaCatalog } from '../../../pipeline/schemas/schema-catalog.js';
import { AvroContainerReader, type AvroBlock } from '../../../sources/file/avro-container-reader.js';
import type { InputPosition } from '../../../sources/file/invalid-input-reporter.js';
import { simTicks, tempDir, writeAvroTicks } from './recorded-files.js';

const tickType = SchemaCatalog.default().type('Tick');

describe('AvroContainerReader', () => {
  let dir: string;
  let remove: () => void;
  let invalid: [InputPosition, string, number][];

  beforeEach(() => {
    ({ dir, remove } = tempDir());
    invalid = [];
  });
  afterEach(() => remove());

  const reader = (path: string, chunkBytes?: number) =>
    new AvroContainerReader(path, { onInvalid: (p, r, c) => invalid.push([p, r, c]), chunkBytes });

  async function blocks(r: AvroContainerReader): Promise<AvroBlock[]> {
    const all: AvroBlock[] = [];
    for (let i = 0; i < 100_000; i++) {
      const block = await r.nextBlock();
      if (block === undefined) return all;
      all.push(block);
    }
    return all;
  }

  it('reads the header and numbered blocks, with chunks smaller than a block', async () => {
    const path = join(dir, 'ticks.avro');
    await writeAvroTicks(path, simTicks(300), { blockSize: 4096 });
    const r = reader(path, 1000);
    expect((await r.open()).type.name).toBe('tickflow.Tick');
    const all = await blocks(r);
    expect(all.reduce((n, b) => n + b.count, 0)).toBe(300);
    expect(all.map((b) => b.firstRecord)).toEqual(all.map((_, i) => all.slice(0, i).reduce((n, b) => n + b.count, 1)));
    expect(r.bytesRead).toBe(readFileSync(path).length);
    expect(invalid).toEqual([]);
  });

  it('refuses a file that is not an Avro container file, and a codec other than null and deflate', async () => {
    const text = join(dir, 'ticks.ndjson');
    writeFileSync(text, '{}\n');
    await expect(reader(text).open()).rejects.toThrow(/not an Avro container file/);
    const snappy = join(dir, 'snappy.avro');
    const encoder = new avro.streams.BlockEncoder(tickType, {
      codec: 'snappy',
      codecs: { snappy: (buf: Buffer, cb: (e: Error | null, b?: Buffer) => void) => cb(null, buf) },
    });
    const chunks: Buffer[] = [];
    encoder.on('data', (c: Buffer) => chunks.push(c));
    await new Promise((resolve) => {
      encoder.on('end', resolve);
      encoder.end(simTicks(1)[0]);
    });
    writeFileSync(snappy, Buffer.concat(chunks));
    await expect(reader(snappy).open()).rejects.toThrow(/Avro codec 'snappy' is not supported \(expected null or deflate\)/);
  });

  it('reports a file that ends inside its header', async () => {
    const path = join(dir, 'ticks.avro');
    await writeAvroTicks(path, simTicks(1));
    writeFileSync(path, readFileSync(path).subarray(0, 200));
    await expect(reader(path).open()).rejects.toThrow(/the file ends inside its Avro header/);
  });

  it('skips a block with an implausible header to the next sync marker, then numbers records by byte offset', async () => {
    const path = join(dir, 'ticks.avro');
    await writeAvroTicks(path, simTicks(200), { blockSize: 4096 });
    const bytes = readFileSync(path);
    const sync = bytes.subarray(bytes.length - 16);
    const endOfHeader = bytes.indexOf(sync) + 16;
    bytes[endOfHeader] = 0x01; // record count -1
    writeFileSync(path, bytes);
    const all = await blocks(reader(path));
    expect(all.length).toBeGreaterThan(3);
    expect(all.every((b) => b.firstRecord === undefined && b.byte > endOfHeader)).toBe(true);
    expect(invalid).toEqual([
      [{ byte: endOfHeader }, expect.stringMatching(/^corrupt block header \(count -1, size \d+\); skipping to the next sync marker$/), 0],
    ]);
  });

  it('skips a deflate block that does not inflate, counting its records, and reads on', async () => {
    const path = join(dir, 'ticks.avro');
    await writeAvroTicks(path, simTicks(300), { codec: 'deflate', blockSize: 4096 });
    const bytes = readFileSync(path);
    const sync = bytes.subarray(bytes.length - 16);
    const endOfHeader = bytes.indexOf(sync) + 16;
    const long = avro.Type.forSchema('long');
    const count = long.decode(bytes, endOfHeader);
    const size = long.decode(bytes, count.offset);
    bytes[size.offset] = 0xff; // a deflate block of the reserved type
    writeFileSync(path, bytes);
    const all = await blocks(reader(path));
    expect(all[0]?.firstRecord).toBe(count.value + 1);
    expect(all.reduce((n, b) => n + b.count, 0)).toBe(300 - count.value);
    expect(invalid).toEqual([[{ record: 1 }, expect.stringMatching(/^block at byte \d+ does not inflate: /), count.value]]);
  });

  it('skips a block that claims more records than its bytes can hold, counting none of the claim', async () => {
    const path = join(dir, 'ticks.avro');
    await writeAvroTicks(path, simTicks(200), { blockSize: 4096 });
    const bytes = readFileSync(path);
    const sync = bytes.subarray(bytes.length - 16);
    const endOfHeader = bytes.indexOf(sync) + 16;
    const long = avro.Type.forSchema('long');
    const count = long.decode(bytes, endOfHeader);
    // The first block's count becomes 2^50, the rest of the file unchanged.
    writeFileSync(path, Buffer.concat([bytes.subarray(0, endOfHeader), long.toBuffer(2 ** 50), bytes.subarray(count.offset)]));
    const all = await blocks(reader(path));
    expect(all.reduce((n, b) => n + b.count, 0)).toBe(200 - count.value);
    expect(all.every((b) => b.firstRecord === undefined)).toBe(true);
    expect(invalid).toEqual([
      [
        { byte: endOfHeader },
        expect.stringMatching(/^corrupt block header \(count 1125899906842624, size \d+\); skipping to the next sync marker$/),
        0,
      ],
    ]);
  });

  it('skips a deflate block whose inflated bytes cannot hold the records it claims', async () => {
    const path = join(dir, 'ticks.avro');
    await writeAvroTicks(path, simTicks(200), { codec: 'deflate', blockSize: 4096 });
    const bytes = readFileSync(path);
    const sync = bytes.subarray(bytes.length - 16);
    const endOfHeader = bytes.indexOf(sync) + 16;
    const long = avro.Type.forSchema('long');
    const count = long.decode(bytes, endOfHeader);
    writeFileSync(path, Buffer.concat([bytes.subarray(0, endOfHeader), long.toBuffer(10_000_000), bytes.subarray(count.offset)]));
    const all = await blocks(reader(path));
    expect(all.reduce((n, b) => n + b.count, 0)).toBe(200 - count.value);
    expect(invalid).toEqual([
      [{ record: 1 }, expect.stringMatching(/^block at byte \d+ claims 10000000 records in \d+ bytes; skipped$/), 0],
    ]);
    expect(all[0]?.firstRecord).toBeUndefined();
  });

  it('stops at the end of the file when no sync marker follows a damaged block', async () => {
    const path = join(dir, 'ticks.avro');
    await writeAvroTicks(path, simTicks(100), { blockSize: 1_000_000 });
    const bytes = readFileSync(path);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0xff;
    writeFileSync(path, bytes);
    expect(await blocks(reader(path, 512))).toEqual([]);
    expect(invalid).toEqual([[{ record: 1 }, expect.stringMatching(/does not end in the file's sync marker/), 100]]);
  });
});
