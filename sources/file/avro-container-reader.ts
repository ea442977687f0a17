import { inflateRawSync } from 'node:zlib';
import avro from 'avsc';
import { decodeAvroFileHeader, type AvroFileHeader } from './avro-file-header.js';
import { FileChunks } from './file-chunks.js';
import type { InputPosition } from './invalid-input-reporter.js';

const LONG = avro.Type.forSchema('long');

/** An Avro long at `at`: offset -1 when the buffer ends first; value -1 when the bytes are no long JavaScript can hold exactly. */
function decodeLong(buffer: Buffer, at: number): { value: number; offset: number } {
  try {
    return LONG.decode(buffer, at);
  } catch {
    return { value: -1, offset: at + 1 };
  }
}
const SYNC_BYTES = 16;
/** A block inflating to more is refused as damaged (a decompression bomb, or garbage). */
const MAX_INFLATED_BYTES = 256 * 1024 * 1024;
/** Two Avro longs of at most 10 bytes each: a block's record count and byte size. */
const BLOCK_PREFIX_BYTES = 20;

/** One block of records, decompressed. */
export interface AvroBlock {
  /** Records in `data`, as the block header declares. */
  readonly count: number;
  /** The records, encoded back to back in the writer schema. */
  readonly data: Buffer;
  /** 1-based number of the block's first record in the file; `undefined` once damage was skipped and records were lost uncounted. */
  readonly firstRecord: number | undefined;
  /** File offset of the block. */
  readonly byte: number;
}

export interface AvroContainerReaderOptions {
  /** Called for input that is lost: a corrupt or truncated block (count: its declared records, 0 when unknown). */
  readonly onInvalid: (position: InputPosition, reason: string, count: number) => void;
  /** A block declaring more bytes is corrupt. Default 64 MiB. */
  readonly maxBlockBytes?: number;
  /** A longer header is refused. Default 16 MiB. */
  readonly maxHeaderBytes?: number;
  /** Bytes read at a time. Default 256 KiB. */
  readonly chunkBytes?: number;
}

/**
 * Reads an Avro object container file block by block from a chunked read
 * of the file: the header first, then one decompressed block at a time
 * (codecs `null` and `deflate`). Only the current block and the chunk after
 * it are held in memory.
 *
 * Damage is survived where the format allows: a block whose sync marker is
 * wrong, whose header is implausible or that does not inflate is reported
 * and skipped, and reading resumes after the next sync marker; a file that
 * ends inside a block (a torn tail) is reported and ends there.
 */
export class AvroContainerReader {
  private readonly chunks: FileChunks;
  private readonly maxBlockBytes: number;
  private readonly maxHeaderBytes: number;
  private buffer: Buffer = Buffer.alloc(0);
  /** Offset in `buffer` of the next unread byte. */
  private offset = 0;
  /** File offset of `buffer[0]`. */
  private base = 0;
  private eof = false;
  private records = 0;
  /** False once a damaged region was skipped: record numbers from there on are unknown. */
  private numbered = true;
  private header: AvroFileHeader | undefined;

  constructor(
    readonly path: string,
    private readonly options: AvroContainerReaderOptions,
  ) {
    this.chunks = new FileChunks(path, options.chunkBytes);
    this.maxBlockBytes = options.maxBlockBytes ?? 64 * 1024 * 1024;
    this.maxHeaderBytes = options.maxHeaderBytes ?? 16 * 1024 * 1024;
  }

  get bytesRead(): number {
    return this.chunks.position;
  }

  /** Reads and decodes the header; rejects when the file is not an Avro container file or uses a codec other than null and deflate. */
  async open(): Promise<AvroFileHeader> {
    if (this.header !== undefined) return this.header;
    let want = 64;
    // Bounded: `want` doubles each turn up to maxHeaderBytes.
    for (;;) {
      const available = await this.ensure(want);
      const header = decodeAvroFileHeader(this.buffer.subarray(this.offset));
      if (header === 'not-avro') throw new Error('not an Avro container file (it does not start with Obj\\x01)');
      if (header !== undefined) {
        if (header.codec !== 'null' && header.codec !== 'deflate')
          throw new Error(`Avro codec '${header.codec}' is not supported (expected null or deflate)`);
        this.offset += header.length;
        this.header = header;
        return header;
      }
      if (!available) throw new Error('the file ends inside its Avro header');
      if (want >= this.maxHeaderBytes) throw new Error(`the Avro header is longer than ${this.maxHeaderBytes} bytes`);
      want = Math.min(want * 2, this.maxHeaderBytes);
    }
  }

  /** The next block, or `undefined` at the end of the file. Opens the file first if `open()` was not called. */
  async nextBlock(): Promise<AvroBlock | undefined> {
    const header = await this.open();
    // Bounded: every turn either returns or skips past a sync marker further into the file.
    for (;;) {
      await this.ensure(BLOCK_PREFIX_BYTES);
      if (this.offset === this.buffer.length) return undefined;
      const start = this.base + this.offset;
      const count = decodeLong(this.buffer, this.offset);
      const size = count.offset < 0 ? count : decodeLong(this.buffer, count.offset);
      if (size.offset < 0) {
        this.options.onInvalid(
          { byte: start },
          `the file ends inside a block header (${this.buffer.length - this.offset} bytes ignored)`,
          0,
        );
        return this.end();
      }
      // A record takes at least a byte of the block's data (a Tick or an AuditRecord takes dozens): a count beyond that is a claim the bytes cannot hold.
      const mostRecords = header.codec === 'deflate' ? MAX_INFLATED_BYTES : size.value;
      if (count.value < 0 || size.value < 0 || size.value > this.maxBlockBytes || count.value > mostRecords) {
        this.options.onInvalid(
          { byte: start },
          `corrupt block header (count ${count.value}, size ${size.value}); skipping to the next sync marker`,
          0,
        );
        this.numbered = false;
        if (!(await this.skipPastSync(header.sync, this.offset + 1))) return this.end();
        continue;
      }
      const dataStart = size.offset - this.offset;
      const blockBytes = dataStart + size.value + SYNC_BYTES;
      const firstRecord = this.numbered ? this.records + 1 : undefined;
      const at: InputPosition = firstRecord === undefined ? { byte: start } : { record: firstRecord };
      if (!(await this.ensure(blockBytes))) {
        const present = this.buffer.length - this.offset;
        this.options.onInvalid(
          at,
          `the file ends inside a block of ${count.value} records (${present} of ${blockBytes} bytes present)`,
          count.value,
        );
        return this.end();
      }
      const dataAt = this.offset + dataStart;
      const syncAt = dataAt + size.value;
      if (!this.buffer.subarray(syncAt, syncAt + SYNC_BYTES).equals(header.sync)) {
        this.options.onInvalid(
          at,
          `block at byte ${start} does not end in the file's sync marker; skipping to the next one (records after it up to that marker are lost uncounted)`,
          count.value,
        );
        this.numbered = false;
        if (!(await this.skipPastSync(header.sync, this.offset + 1))) return this.end();
        continue;
      }
      const raw = this.buffer.subarray(dataAt, syncAt);
      this.offset = syncAt + SYNC_BYTES;
      let data: Buffer;
      try {
        // Synchronous: a block is small (avsc writes 64 KiB), and a thread-pool round trip per block halves the replay rate.
        data = header.codec === 'deflate' ? inflateRawSync(raw, { maxOutputLength: MAX_INFLATED_BYTES }) : raw;
      } catch (error) {
        this.records += count.value;
        this.options.onInvalid(at, `block at byte ${start} does not inflate: ${(error as Error).message}`, count.value);
        continue;
      }
      if (count.value > data.length) {
        // How many records it really held is unknown, so none is counted, and later records are numbered by byte offset.
        this.options.onInvalid(at, `block at byte ${start} claims ${count.value} records in ${data.length} bytes; skipped`, 0);
        this.numbered = false;
        continue;
      }
      this.records += count.value;
      return { count: count.value, data, firstRecord, byte: start };
    }
  }

  close(): void {
    this.eof = true;
    this.buffer = Buffer.alloc(0);
    this.offset = 0;
    this.chunks.close();
  }

  private end(): undefined {
    this.offset = this.buffer.length;
    return undefined;
  }

  /** Reads until `bytes` unread bytes are buffered; false when the file ends first (what there is stays buffered). */
  private async ensure(bytes: number): Promise<boolean> {
    let have = this.buffer.length - this.offset;
    if (have >= bytes) return true;
    if (this.eof) return false;
    const parts = [this.buffer.subarray(this.offset)];
    // Bounded: each turn adds a chunk, or ends at the end of the file.
    while (have < bytes) {
      const chunk = await this.chunks.read();
      if (chunk === undefined) {
        this.eof = true;
        break;
      }
      parts.push(chunk);
      have += chunk.length;
    }
    this.base += this.offset;
    this.buffer = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, have);
    this.offset = 0;
    return have >= bytes;
  }

  /** Moves past the next sync marker at or after buffer offset `from`; false when there is none before the end of the file. */
  private async skipPastSync(sync: Buffer, from: number): Promise<boolean> {
    let searchFrom = from;
    // Bounded: each turn searches newly read bytes, or ends at the end of the file.
    for (;;) {
      const at = this.buffer.indexOf(sync, searchFrom);
      if (at !== -1) {
        this.offset = at + SYNC_BYTES;
        return true;
      }
      // Keep the last 15 bytes: a marker may straddle two chunks.
      const keep = Math.max(this.offset, this.buffer.length - (SYNC_BYTES - 1));
      this.offset = keep;
      if (!(await this.ensure(this.buffer.length - this.offset + 1))) return false;
      searchFrom = this.offset;
    }
  }
}
