import { open, type FileHandle } from 'node:fs/promises';
import avro from 'avsc';
import { SchemaCatalog } from '../../pipeline/schemas/schema-catalog.js';
import { avroContainer, type HeaderRead } from './avro-container.js';

/** Smallest encoded AuditRecord: four one-byte varints and the two hashes. */
const MIN_RECORD_BYTES = 4 + 64;
const CHUNK_BYTES = 1 << 20;

/** A block as read from the file: complete and framed by the sync marker, or the reason it is not. */
export type BlockRead =
  | { readonly kind: 'block'; readonly offset: number; readonly end: number; readonly count: number; readonly data: Buffer }
  | { readonly kind: 'truncated'; readonly offset: number; readonly detail: string }
  | { readonly kind: 'corrupt'; readonly offset: number; readonly detail: string };

let auditFingerprint: string | undefined;
function isAuditSchema(schemaJson: string): boolean {
  auditFingerprint ??= SchemaCatalog.default().type('AuditRecord').fingerprint().toString('hex');
  try {
    return (
      avro.Type.forSchema(JSON.parse(schemaJson) as avro.Schema)
        .fingerprint()
        .toString('hex') === auditFingerprint
    );
  } catch {
    return false;
  }
}

/**
 * Reads an audit file block by block without holding it in memory: the
 * header (checked to be an Avro container of `tickflow.AuditRecord` with
 * codec `null`), then each block's framing. A block is only handed out
 * whole and followed by the file's sync marker; otherwise the reader says
 * why (`truncated`: the file ends inside it; `corrupt`: the framing or the
 * sync marker is wrong) and stops.
 *
 * @example
 * ```ts
 * import { AuditTrailWriter } from './audit-trail-writer.js';
 * // A small trail to read: three records of 2025-01-03.
 * const trail = await AuditTrailWriter.open({ dir: 'out/audit', rotate: 'daily', maxFileBytes: 256 << 20, logger: ctx.logger });
 * await trail.append([1, 2, 3].map((n) => ({ tsInit: 1_735_822_800_000_000 + n, recordType: 'tickflow.Tick', payload: Buffer.from([n]) })));
 * await trail.close();
 * const reader = await AuditFileReader.open('out/audit/audit-000001-20250103.avro');
 * const header = await reader.header();
 * if (header.kind === 'ok') for await (const block of reader.blocks(header.header.end, header.header.sync)) console.log(block.kind, block.offset);
 * await reader.close();
 * // Logs: block 1068   (one block of three records, right after the header)
 * ```
 */
export class AuditFileReader {
  private buf: Buffer = Buffer.alloc(0);
  private bufStart = 0;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    /** Size of the file when it was opened; later growth is not read. */
    readonly size: number,
  ) {}

  static async open(path: string): Promise<AuditFileReader> {
    const handle = await open(path, 'r');
    try {
      return new AuditFileReader(path, handle, (await handle.stat()).size);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** The header, also `invalid` when it is a container of another schema or a compressed one. */
  async header(): Promise<HeaderRead> {
    // Bounded: the window doubles up to 2 MiB, past the header parser's 1 MiB limit.
    for (let length = 64 * 1024; length <= 2 << 20; length *= 2) {
      const read = avroContainer.decodeHeader(await this.readAt(0, length));
      if (read.kind === 'incomplete' && length < this.size && length < 2 << 20) continue;
      if (read.kind !== 'ok') return read;
      const codec = read.header.meta.get('avro.codec')?.toString('utf8') ?? 'null';
      if (codec !== 'null') return { kind: 'invalid', reason: `codec '${codec}'; audit files are written uncompressed ('null')` };
      const schema = read.header.meta.get('avro.schema');
      if (schema === undefined || !isAuditSchema(schema.toString('utf8')))
        return { kind: 'invalid', reason: 'its schema is not tickflow.AuditRecord' };
      return read;
    }
    return { kind: 'invalid', reason: 'header larger than 1 MiB' };
  }

  /** The blocks from `offset` (a block start, e.g. the header's end) to the end of the file, or to the first bad one. */
  async *blocks(offset: number, sync: Buffer): AsyncGenerator<BlockRead> {
    // Bounded: every block read moves `offset` forward by at least its sync marker; any other outcome returns.
    while (offset < this.size) {
      const head = await this.window(offset, 2 * avroContainer.MAX_LONG_BYTES);
      const countRead = avroContainer.readLong(head, 0);
      const sizeRead = countRead === undefined ? undefined : avroContainer.readLong(head, countRead[1]);
      if (countRead === undefined || sizeRead === undefined) {
        yield {
          kind: 'truncated',
          offset,
          detail: `the file ends inside the block's count and size (${this.size - offset} bytes after the last complete block)`,
        };
        return;
      }
      const count = countRead[0];
      const [size, afterSize] = sizeRead;
      if (!Number.isSafeInteger(count) || count <= 0 || !Number.isSafeInteger(size) || size < count * MIN_RECORD_BYTES) {
        yield { kind: 'corrupt', offset, detail: `bad block framing (count ${count}, size ${size})` };
        return;
      }
      const dataStart = offset + afterSize;
      const end = dataStart + size + avroContainer.SYNC_SIZE;
      if (end > this.size) {
        yield {
          kind: 'truncated',
          offset,
          detail: `the file ends inside a block of ${count} records (${this.size - offset} of its ${end - offset} bytes present)`,
        };
        return;
      }
      const block = await this.window(dataStart, size + avroContainer.SYNC_SIZE);
      if (!block.subarray(size).equals(sync)) {
        yield { kind: 'corrupt', offset, detail: `the block of ${count} records is not followed by the file's sync marker` };
        return;
      }
      yield { kind: 'block', offset, end, count, data: block.subarray(0, size) };
      offset = end;
    }
  }

  /**
   * Where the last block starts, found from the end of the file: the file
   * must end with its sync marker, and the block starts after the marker
   * before it (or at `headerEnd`). `undefined` when the file does not end
   * with its sync marker or is too short to hold a block. A marker that
   * happens to occur inside record data misleads it; callers check the block
   * it points to and fall back to a full scan.
   */
  async lastBlockOffset(headerEnd: number, sync: Buffer): Promise<number | undefined> {
    if (this.size < headerEnd + 2 + MIN_RECORD_BYTES + avroContainer.SYNC_SIZE) return undefined;
    if (!(await this.readAt(this.size - avroContainer.SYNC_SIZE, avroContainer.SYNC_SIZE)).equals(sync)) return undefined;
    // Bounded: the window grows 4× a round, so it reaches the header within 26 rounds for any file below 2^53 bytes.
    for (let length = 64 * 1024, round = 0; round < 30; length *= 4, round++) {
      const start = Math.max(headerEnd, this.size - length);
      const window = await this.readAt(start, this.size - start);
      // A marker strictly before the final one ends where the last block starts.
      const at = window.lastIndexOf(sync, window.length - avroContainer.SYNC_SIZE - 1);
      if (at >= 0) return start + at + avroContainer.SYNC_SIZE;
      if (start === headerEnd) return headerEnd;
    }
    return undefined;
  }

  /** Up to `length` bytes from `offset` (fewer at the end of the file), in a buffer of their own. */
  async readAt(offset: number, length: number): Promise<Buffer> {
    const wanted = Math.max(0, Math.min(length, this.size - offset));
    const out = Buffer.alloc(wanted);
    let filled = 0;
    // Bounded: each read returns at least one byte or ends the loop.
    while (filled < wanted) {
      const { bytesRead } = await this.handle.read(out, filled, wanted - filled, offset + filled);
      if (bytesRead === 0) return out.subarray(0, filled);
      filled += bytesRead;
    }
    return out;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  /** `length` bytes from `offset` (fewer at the end), read ahead in 1 MiB chunks; a new buffer per refill, so earlier views stay valid. */
  private async window(offset: number, length: number): Promise<Buffer> {
    const end = Math.min(offset + length, this.size);
    if (offset < this.bufStart || end > this.bufStart + this.buf.length) {
      this.buf = await this.readAt(offset, Math.max(end - offset, CHUNK_BYTES));
      this.bufStart = offset;
    }
    return this.buf.subarray(offset - this.bufStart, end - this.bufStart);
  }
}
