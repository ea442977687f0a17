import { open, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { avroSchemaFiles } from '../../schemas/generated.js';
import { avroContainer } from './avro-container.js';
import { syncDirectory } from './sync-directory.js';

/** How the hash is defined, kept in every file's header so the files explain themselves. */
const HASH_DEFINITION =
  'tickflow audit chain v1: hash = SHA-256 of the Avro binary encoding of (seq, ts_init, record_type, payload, prev_hash), i.e. of the record without its last 32 bytes; prev_hash of seq 1 = 32 zero bytes';

let headerMeta: ReadonlyMap<string, Buffer> | undefined;
function meta(): ReadonlyMap<string, Buffer> {
  if (headerMeta === undefined) {
    const schema = avroSchemaFiles.find((f) => f.name === 'AuditRecord')?.schema;
    headerMeta = new Map([
      ['avro.schema', Buffer.from(JSON.stringify(schema), 'utf8')],
      ['avro.codec', Buffer.from('null', 'utf8')],
      ['tickflow.audit.hash', Buffer.from(HASH_DEFINITION, 'utf8')],
    ]);
  }
  return headerMeta;
}

/** Writes `buffers` back to back at `position`, with as few calls as the kernel allows (one, in practice). */
async function writeFully(handle: FileHandle, buffers: readonly Buffer[], position: number): Promise<void> {
  let rest = buffers.filter((b) => b.length > 0);
  let total = 0;
  for (const b of rest) total += b.length;
  let written = 0;
  // Bounded: each write moves forward or throws; regular files take a whole write in practice.
  for (let round = 0; rest.length > 0 && round < 1000; round++) {
    let { bytesWritten } = await handle.writev(rest, position + written);
    written += bytesWritten;
    // Drop what went out: whole buffers, then the written part of the next.
    let i = 0;
    while (i < rest.length && bytesWritten >= (rest[i] as Buffer).length) bytesWritten -= (rest[i++] as Buffer).length;
    rest = rest.slice(i);
    if (bytesWritten > 0 && rest.length > 0) rest[0] = (rest[0] as Buffer).subarray(bytesWritten);
  }
  if (written < total) throw new Error(`short write: ${written} of ${total} bytes`);
}

/**
 * Appends blocks of encoded AuditRecords to one Avro object container
 * file. Each `appendBlock` is one write of the whole block (count, size,
 * records, sync marker) at the end of the file, gathered from the records'
 * buffers without a copy, then `fdatasync`; it resolves only when the
 * block is on disk. A new file's header goes out
 * with its first block, in the same write, and the directory is synced
 * after it, so a file never exists on disk without a record, except torn.
 *
 * @example
 * ```ts
 * import { randomBytes } from 'node:crypto';
 * import { mkdirSync } from 'node:fs';
 * import { AuditChain, type AuditEntry } from './audit-chain.js';
 * import { avroContainer } from './avro-container.js';
 * mkdirSync('out/audit', { recursive: true });
 * const entries: AuditEntry[] = [1, 2].map((n) => ({ tsInit: 1_735_822_800_000_000 + n, recordType: 'tickflow.Tick', payload: Buffer.from([n]) }));
 * const file = await AuditFileWriter.create('out/audit/audit-000001-20250103.avro', randomBytes(avroContainer.SYNC_SIZE));
 * await file.appendBlock(entries.length, new AuditChain().encode(entries).bytes); // header and block in one write, then fdatasync
 * console.log(file.name, file.records);
 * await file.close();
 * // Logs: audit-000001-20250103.avro 2
 * ```
 */
export class AuditFileWriter {
  private pendingHeader: Buffer | undefined;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly sync: Buffer,
    private end: number,
    private count: number,
    header: Buffer | undefined,
  ) {
    this.pendingHeader = header;
  }

  /** The schema's JSON, codec and hash definition that every audit file's header carries. */
  static headerMeta(): ReadonlyMap<string, Buffer> {
    return meta();
  }

  /** Creates `path`, which must not exist; nothing is written before the first block. */
  static async create(path: string, sync: Buffer): Promise<AuditFileWriter> {
    const handle = await open(path, 'wx');
    return new AuditFileWriter(path, handle, sync, 0, 0, avroContainer.encodeHeader(meta(), sync));
  }

  /** Opens an existing file, already checked and cut back to `end` (the end of its last good block), to append to it. */
  static async reopen(path: string, sync: Buffer, end: number, records: number): Promise<AuditFileWriter> {
    const handle = await open(path, 'r+');
    return new AuditFileWriter(path, handle, sync, end, records, undefined);
  }

  get name(): string {
    return basename(this.path);
  }

  /** Bytes in the file, counting the header once it is written. */
  get size(): number {
    return this.end;
  }

  /** Bytes the file will have after a block of `blockBytes` record bytes. */
  sizeAfter(count: number, blockBytes: number): number {
    return (
      this.end +
      (this.pendingHeader?.length ?? 0) +
      avroContainer.longSize(count) +
      avroContainer.longSize(blockBytes) +
      blockBytes +
      avroContainer.SYNC_SIZE
    );
  }

  /** Records in the file. */
  get records(): number {
    return this.count;
  }

  /**
   * Writes one block of `count` records (`records`: their bytes, back to
   * back, in one buffer or gathered from several) in one write and waits for
   * `fdatasync`. One block per write: were a write to hold two, a power
   * failure could keep the second and lose pages of the first, and recovery
   * would find an intact block after a damaged one (not a torn tail).
   */
  async appendBlock(count: number, records: Buffer | readonly Buffer[]): Promise<void> {
    const parts: Buffer[] = this.pendingHeader === undefined ? [] : [this.pendingHeader];
    const prefixAt = parts.length;
    let recordBytes = 0;
    for (const part of Buffer.isBuffer(records) ? [records] : records) {
      parts.push(part);
      recordBytes += part.length;
    }
    parts.splice(prefixAt, 0, avroContainer.encodeBlockPrefix(count, recordBytes));
    parts.push(this.sync);
    let size = 0;
    for (const part of parts) size += part.length;
    const header = this.pendingHeader;
    await writeFully(this.handle, parts, this.end);
    await this.handle.datasync();
    if (header !== undefined) {
      // Without it a crash could lose the new file's directory entry, synced data and all.
      await syncDirectory(dirname(this.path));
      this.pendingHeader = undefined;
    }
    this.end += size;
    this.count += count;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
