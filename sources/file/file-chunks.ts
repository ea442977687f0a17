import { open, type FileHandle } from 'node:fs/promises';

/** Bytes read from a file at a time, unless told otherwise. */
const DEFAULT_CHUNK_BYTES = 256 * 1024;

/**
 * Reads one file front to back in chunks, one chunk ahead: while the caller
 * decodes a chunk, the next is already being read, so file IO overlaps with
 * decoding. At most two chunks are held at a time, however large the file.
 *
 * `close()` may be called at any time, also while a read is in flight; the
 * handle is closed once the read returns (Node waits for pending operations
 * on a FileHandle before closing it), and every later `read()` resolves to
 * `undefined`.
 */
export class FileChunks {
  private handle: Promise<FileHandle> | undefined;
  private ahead: Promise<Buffer | undefined> | undefined;
  /** File offset of the next chunk to request from the operating system. */
  private requested = 0;
  private delivered = 0;
  private closed = false;

  constructor(
    readonly path: string,
    readonly chunkBytes: number = DEFAULT_CHUNK_BYTES,
  ) {}

  /** Bytes handed to the caller so far. */
  get position(): number {
    return this.delivered;
  }

  /** The next chunk, or `undefined` at the end of the file or once closed. Rejects with the operating system's error. */
  async read(): Promise<Buffer | undefined> {
    if (this.closed) return undefined;
    let chunk: Buffer | undefined;
    try {
      chunk = await (this.ahead ?? this.fetch());
    } catch (error) {
      // A read cut short by close() is not an error of the file.
      if (this.closed) return undefined;
      this.close();
      throw error;
    }
    this.ahead = undefined;
    if (this.closed || chunk === undefined) {
      this.close();
      return undefined;
    }
    this.delivered += chunk.length;
    // Read ahead only after a full chunk: a short one means the end of the file was reached.
    if (chunk.length === this.chunkBytes) {
      this.ahead = this.fetch();
      // The caller sees the error when it asks for the chunk; until then it must not be an unhandled rejection.
      this.ahead.catch(() => undefined);
    }
    return chunk;
  }

  /** Stops reading and releases the file. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const handle = this.handle;
    this.handle = undefined;
    handle?.then((h) => h.close()).catch(() => undefined);
  }

  private async fetch(): Promise<Buffer | undefined> {
    this.handle ??= open(this.path, 'r');
    const handle = await this.handle;
    const buffer = Buffer.allocUnsafe(this.chunkBytes);
    const position = this.requested;
    this.requested += this.chunkBytes;
    const { bytesRead } = await handle.read(buffer, 0, this.chunkBytes, position);
    if (bytesRead === 0) return undefined;
    return bytesRead < this.chunkBytes ? buffer.subarray(0, bytesRead) : buffer;
  }
}
