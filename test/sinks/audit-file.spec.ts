import {
  appendFileSync,
  existsSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import avro from 'avsc';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { AuditIntegrityError } from '../../errors/errors.js';
import { AuditChain } from '../../sinks/audit/audit-chain.js';
import { AuditFileReader, type BlockRead } from '../../sinks/audit/audit-file-reader.js';
import { AuditFileWriter } from '../../sinks/audit/audit-file-writer.js';
import { readAuditFileEnds } from '../../sinks/audit/read-audit-file-ends.js';
import { recoverAuditDir } from '../../sinks/audit/recover-audit-dir.js';
import { scanAuditFile } from '../../sinks/audit/scan-audit-file.js';
import { auditFiles, decodeFile, memoryLogger, tickEntries, tmp, writeTrail } from '../support/audit-harness.js';

const silent = pino({ level: 'silent' });
const SYNC = Buffer.alloc(16, 0xab);

/** A file of `blocks` blocks of `perBlock` records, seq 1…, written by AuditFileWriter; returns its path and each block's end offset. */
async function writeFile(dir: string, blocks: number, perBlock: number): Promise<{ path: string; ends: number[] }> {
  const path = join(dir, 'audit-000001-20250103.avro');
  const writer = await AuditFileWriter.create(path, SYNC);
  const chain = new AuditChain();
  const ends: number[] = [];
  for (let b = 0; b < blocks; b++) {
    await writer.appendBlock(perBlock, chain.encode(tickEntries(b * perBlock + 1, (b + 1) * perBlock)).bytes);
    ends.push(writer.size);
  }
  await writer.close();
  return { path, ends };
}

async function blocksOf(path: string): Promise<BlockRead[]> {
  const reader = await AuditFileReader.open(path);
  try {
    const header = await reader.header();
    if (header.kind !== 'ok') throw new Error(header.kind);
    const out: BlockRead[] = [];
    for await (const block of reader.blocks(header.header.end, header.header.sync)) out.push(block);
    return out;
  } finally {
    await reader.close();
  }
}

/** Flips one byte inside the payload of the record with `hash`. */
function alterPayloadOf(path: string, hash: Buffer): void {
  const bytes = readFileSync(path);
  const at = bytes.indexOf(hash) - 32 - 5; // 5 bytes before prev_hash: inside the payload
  bytes[at] = (bytes[at] as number) ^ 0x01;
  writeFileSync(path, bytes);
}

describe('AuditFileWriter', () => {
  it('writes nothing before the first block, then header and block in one write; avsc reads the file', async () => {
    const dir = tmp();
    const path = join(dir, 'audit-000001-20250103.avro');
    const writer = await AuditFileWriter.create(path, SYNC);
    expect(statSync(path).size).toBe(0);
    const probe = await open(path, 'r');
    const proto = Object.getPrototypeOf(probe) as { write: (...args: unknown[]) => unknown; writev: (...args: unknown[]) => unknown };
    await probe.close();
    // Header, block prefix, records and sync marker are gathered from their buffers into one writev.
    const writes = vi.spyOn(proto, 'write');
    const gatheredWrites = vi.spyOn(proto, 'writev');
    try {
      const { bytes, records } = new AuditChain().encode(tickEntries(1, 3));
      await writer.appendBlock(3, bytes);
      expect(writes).toHaveBeenCalledTimes(0);
      expect(gatheredWrites).toHaveBeenCalledTimes(1);
      expect(writer.size).toBe(statSync(path).size);
      expect(writer.records).toBe(3);
      await writer.close();
      expect((await decodeFile(path)).map((r) => r.hash.toString('hex'))).toEqual(records.map((r) => r.hash.toString('hex')));
    } finally {
      writes.mockRestore();
      gatheredWrites.mockRestore();
    }
  });

  it('refuses to create a file that exists, and reopens one to append at its end', async () => {
    const dir = tmp();
    const { path, ends } = await writeFile(dir, 1, 2);
    await expect(AuditFileWriter.create(path, SYNC)).rejects.toThrow(/EEXIST/);
    const writer = await AuditFileWriter.reopen(path, SYNC, ends[0] as number, 2);
    const chain = new AuditChain();
    chain.encode(tickEntries(1, 2));
    await writer.appendBlock(2, chain.encode(tickEntries(3, 4)).bytes);
    await writer.close();
    expect((await decodeFile(path)).map((r) => r.seq)).toEqual([1, 2, 3, 4]);
  });
});

describe('AuditFileReader', () => {
  it('reads blocks with their offsets and record counts, and finds the last block from the end', async () => {
    const { path, ends } = await writeFile(tmp(), 4, 3);
    const blocks = await blocksOf(path);
    expect(blocks.map((b) => [b.kind, b.kind === 'block' ? b.count : 0, b.kind === 'block' ? b.end : 0])).toEqual(
      ends.map((end) => ['block', 3, end]),
    );
    const reader = await AuditFileReader.open(path);
    const header = await reader.header();
    if (header.kind !== 'ok') throw new Error('bad header');
    expect(await reader.lastBlockOffset(header.header.end, header.header.sync)).toBe(ends[2]);
    await reader.close();
  });

  it('stops at a block the file ends inside (truncated) or whose sync marker is wrong (corrupt)', async () => {
    const { path, ends } = await writeFile(tmp(), 3, 2);
    truncateSync(path, (ends[2] as number) - 7);
    expect((await blocksOf(path)).map((b) => [b.kind, b.offset])).toEqual([
      ['block', expect.any(Number)],
      ['block', ends[0]],
      ['truncated', ends[1]],
    ]);
    const bytes = readFileSync(path).subarray(0, ends[1]);
    const last = (ends[1] as number) - 1;
    bytes[last] = (bytes[last] as number) ^ 0xff;
    writeFileSync(path, bytes);
    expect((await blocksOf(path)).map((b) => b.kind)).toEqual(['block', 'corrupt']);
  });

  it('rejects the header of another schema or a compressed container', async () => {
    const dir = tmp();
    const other = join(dir, 'other.avro');
    await new Promise<void>((resolve) => {
      const encoder = avro.createFileEncoder(
        other,
        avro.Type.forSchema({ type: 'record', name: 'X', fields: [{ name: 'a', type: 'int' }] }),
      );
      encoder.end({ a: 1 }, resolve);
    });
    await new Promise((r) => setTimeout(r, 50));
    const reader = await AuditFileReader.open(other);
    expect(await reader.header()).toMatchObject({ kind: 'invalid', reason: expect.stringMatching(/not tickflow.AuditRecord/) });
    await reader.close();
  });
});

describe('scanAuditFile', () => {
  it('checks every record of a clean file', async () => {
    const { path, ends } = await writeFile(tmp(), 3, 4);
    const scan = await scanAuditFile(path, { seq: 0, hash: AuditChain.genesisHash() });
    expect(scan).toMatchObject({ records: 12, goodEnd: ends[2], problem: undefined, torn: false });
    expect([scan.first?.seq, scan.last?.seq]).toEqual([1, 12]);
  });

  it('calls a tail the file ends inside, or garbage after the last block, torn; the good end is the last whole block', async () => {
    const dir = tmp();
    const { path, ends } = await writeFile(dir, 3, 4);
    truncateSync(path, (ends[2] as number) - 10);
    expect(await scanAuditFile(path)).toMatchObject({ records: 8, goodEnd: ends[1], torn: true, problem: { kind: 'truncated', seq: 9 } });
    truncateSync(path, ends[1]);
    appendFileSync(path, Buffer.alloc(4096)); // a file extended with zeros by a crash
    expect(await scanAuditFile(path)).toMatchObject({ records: 8, goodEnd: ends[1], torn: true, problem: { kind: 'corrupt', seq: 9 } });
  });

  it('calls damage torn only at the end: an altered last block is torn, an altered middle block is not', async () => {
    const dir = tmp();
    const { path } = await writeFile(dir, 3, 4);
    const records = await decodeFile(path);
    const original = readFileSync(path);
    alterPayloadOf(path, (records[10] as { hash: Buffer }).hash);
    expect(await scanAuditFile(path)).toMatchObject({ records: 8, torn: true, problem: { kind: 'altered', seq: 11 } });
    writeFileSync(path, original);
    alterPayloadOf(path, (records[5] as { hash: Buffer }).hash);
    expect(await scanAuditFile(path)).toMatchObject({ records: 4, torn: false, problem: { kind: 'altered', seq: 6 } });
  });
});

describe('readAuditFileEnds', () => {
  it('reads the first and last records by the ends of the file; a cut file gets a full scan that names the seq', async () => {
    const { path, ends } = await writeFile(tmp(), 5, 3);
    const whole = await readAuditFileEnds(path);
    expect([whole.first?.seq, whole.last?.seq, whole.problem]).toEqual([1, 15, undefined]);
    truncateSync(path, (ends[3] as number) + 5);
    expect((await readAuditFileEnds(path)).problem).toMatchObject({ kind: 'truncated', seq: 13 });
  });
});

describe('recoverAuditDir', () => {
  it('starts an empty trail at seq 0 from the genesis hash, creating the directory', async () => {
    const dir = join(tmp(), 'a', 'b');
    expect(await recoverAuditDir(dir, silent)).toMatchObject({ seq: 0, hash: Buffer.alloc(32), current: undefined, nextIndex: 1 });
    expect(existsSync(dir)).toBe(true);
  });

  it('continues a clean trail after its last record, in its newest file', async () => {
    const dir = tmp();
    await writeTrail(dir, 50, { blockSize: 5, maxFileBytes: 4000 });
    const files = auditFiles(dir);
    expect(files.length).toBeGreaterThan(2);
    const recovery = await recoverAuditDir(dir, silent);
    expect(recovery).toMatchObject({
      seq: 50,
      nextIndex: files.length + 1,
      repairs: [],
      current: { path: join(dir, files.at(-1) as string), index: files.length },
    });
  });

  it('cuts a torn tail back to the last good block, keeps the cut bytes aside, syncs, and warns with what was cut', async () => {
    const dir = tmp();
    await writeTrail(dir, 30, { blockSize: 10 });
    const [name] = auditFiles(dir);
    const path = join(dir, name as string);
    const size = statSync(path).size;
    truncateSync(path, size - 100);
    const { logger, lines } = memoryLogger();
    const recovery = await recoverAuditDir(dir, logger);
    expect(recovery.seq).toBe(20);
    const cutAt = statSync(path).size;
    expect(recovery.repairs).toEqual([{ file: path, offset: cutAt, bytes: size - 100 - cutAt, savedAs: `${path}.torn-${cutAt}` }]);
    expect(readFileSync(`${path}.torn-${cutAt}`).length).toBe(size - 100 - cutAt);
    const warning = lines.find((l) => l['level'] === 40);
    expect(warning).toMatchObject({
      file: name,
      offset: cutAt,
      last_good_seq: 20,
      msg: expect.stringMatching(/cut a torn tail of \d+ bytes .* after seq 20/),
    });
    expect((await decodeFile(path)).at(-1)?.seq).toBe(20);
  });

  it('removes a newest file left without a complete record, and the next file reuses its index', async () => {
    const dir = tmp();
    await writeTrail(dir, 40, { blockSize: 10, maxFileBytes: 4000 });
    const files = auditFiles(dir);
    const newest = join(dir, files.at(-1) as string);
    const bytes = readFileSync(newest);
    writeFileSync(newest, bytes.subarray(0, 40)); // torn inside the header
    const recovery = await recoverAuditDir(dir, silent);
    expect(recovery.nextIndex).toBe(files.length);
    expect(auditFiles(dir)).toEqual(files.slice(0, -1));
    expect(readdirSync(dir)).toContain(`${files.at(-1)}.torn-0`);
    expect(recovery.seq).toBe(Number((await decodeFile(join(dir, files.at(-2) as string))).at(-1)?.seq));
  });

  it('refuses to start when an older file is damaged, naming the file and seq', async () => {
    const dir = tmp();
    await writeTrail(dir, 60, { blockSize: 10, maxFileBytes: 4000 });
    const [first] = auditFiles(dir);
    const path = join(dir, first as string);
    truncateSync(path, statSync(path).size - 3);
    const error = await recoverAuditDir(dir, silent).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuditIntegrityError);
    expect((error as Error).message).toMatch(new RegExp(`refusing to start: truncated file: seq \\d+ in ${first}`));
  });

  it('refuses when a middle block of the newest file is damaged (complete blocks follow: not a torn tail)', async () => {
    const dir = tmp();
    await writeTrail(dir, 30, { blockSize: 10 });
    const [name] = auditFiles(dir);
    const path = join(dir, name as string);
    alterPayloadOf(path, ((await decodeFile(path))[14] as { hash: Buffer }).hash);
    await expect(recoverAuditDir(dir, silent)).rejects.toThrow(new RegExp(`altered record: seq 15 in ${name}`));
  });

  it('refuses when a file is missing between two others, or when a file does not continue the chain', async () => {
    const dir = tmp();
    await writeTrail(dir, 60, { blockSize: 10, maxFileBytes: 4000 });
    const files = auditFiles(dir);
    const second = join(dir, files[1] as string);
    const aside = `${second}.bak`;
    renameSync(second, aside);
    await expect(recoverAuditDir(dir, silent)).rejects.toThrow(/the file with index 2 is missing/);
    renameSync(aside, second);
    // Swap in a first file whose chain ends elsewhere: the second file's first record no longer links.
    const other = tmp();
    await writeTrail(other, 12, { blockSize: 4, maxFileBytes: 4000 });
    unlinkSync(join(dir, files[0] as string));
    writeFileSync(join(dir, files[0] as string), readFileSync(join(other, auditFiles(other)[0] as string)));
    await expect(recoverAuditDir(dir, silent)).rejects.toThrow(
      new RegExp(`refusing to start: (missing|altered|inserted) record: seq \\d+ in ${files[1]}`),
    );
  });
});
