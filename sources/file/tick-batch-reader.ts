import type { Tick } from '../../schemas/generated.js';

/**
 * The ticks of one recorded file, a batch at a time. Each format has its
 * reader; the file source pulls batches only as fast as its consumers take
 * them, so no reader ever holds more than a few chunks of its file.
 *
 * Input that cannot be replayed (a malformed line, a record that fails the
 * Tick schema, a corrupt block) is not in any batch: the reader reports it
 * to the `onInvalid` callback it was built with and carries on.
 */
export interface TickBatchReader {
  /** The file being read. */
  readonly path: string;
  /** Bytes of the file read so far, for progress. */
  readonly bytesRead: number;
  /**
   * The next batch of ticks in file order (possibly empty when a whole chunk
   * was invalid), or `undefined` after the last. Rejects when the file
   * cannot be read, or is not what its format promised.
   */
  next(): Promise<Tick[] | undefined>;
  /** Stops reading and releases the file; idempotent, safe while `next()` is pending. */
  close(): void;
}
