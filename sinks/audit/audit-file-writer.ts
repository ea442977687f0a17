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

async function writeFully(handle: FileHandle, buffer: Buffer, position: number): Promise<void> {
  let written = 0;
  // Bounded: each write moves forward or throws; regular files take a whole write in practice.
  for (let round = 0; written < buffer.length && round < 1000; round++) {
    const { bytesWritten } = await handle.write(buffer, written, buffer.length - written, position + written);
    written += bytesWritten;
  }
  if (written < buffer.length) throw new Error(`short write: ${written} of ${buffer.length} bytes`);
}

/**
 * Appends blocks of encoded AuditRecords to one Avro object container
 * file. Each `appendBlock` is one write of the whole block (count, size,
 * records, sync marker) at the end of the file, then `fdatasync`; it
 * resolves only when the block is on disk. A new file's header goes out
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

  /** Writes one block of `count` records (`recordBytes`, back to back) in one write and waits for `fdatasync`. */
  async appendBlock(count: number, recordBytes: Buffer): Promise<void> {
    const parts = [avroContainer.encodeBlockPrefix(count, recordBytes.length), recordBytes, this.sync];
    const header = this.pendingHeader;
    if (header !== undefined) parts.unshift(header);
    const block = Buffer.concat(parts);
    await writeFully(this.handle, block, this.end);
    await this.handle.datasync();
    if (header !== undefined) {
      // Without it a crash could lose the new file's directory entry, synced data and all.
      await syncDirectory(dirname(this.path));
      this.pendingHeader = undefined;
    }
    this.end += block.length;
    this.count += count;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
