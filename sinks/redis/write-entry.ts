import type { QuoteDiff } from '../../schemas/generated.js';

/** A quote change waiting to be written. */
export interface QuoteEntry {
  readonly kind: 'quote';
  /** Resolves the promise its write returned: once the commands that carry it were answered, or once it was dropped. */
  readonly acknowledge: () => void;
  readonly instrumentId: string;
  /** The change; applied to the book when its batch is planned (or when it is dropped), not before. */
  readonly diff: QuoteDiff;
  /** Counts once against `maxBuffered`. */
  readonly weight: 1;
  /** Estimated bytes of memory it holds. */
  readonly bytes: number;
}

/** A tick waiting to be appended to its stream. */
export interface TickEntry {
  readonly kind: 'tick';
  readonly acknowledge: () => void;
  readonly instrumentId: string;
  /** The tick's stream value (Avro single-object encoding), encoded when it was written, a view of a shared slab: the Tick itself is not kept. */
  readonly body: Buffer;
  readonly weight: 1;
  readonly bytes: number;
}

/**
 * A record the `redis` sink holds from its write until Redis answered the
 * commands that carry it (or it was dropped): what it writes, how it is
 * acknowledged and what it weighs against the buffer's bounds.
 */
export type WriteEntry = QuoteEntry | TickEntry;
