import type { QuoteDiff } from '../../schemas/generated.js';
import type { AcknowledgementGroup } from './acknowledgement-group.js';

/** A quote change waiting to be written. */
export interface QuoteEntry {
  readonly kind: 'quote';
  /** The group whose promise its write returned: acknowledged once the commands that carry it were answered, or once it was dropped. */
  readonly group: AcknowledgementGroup;
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
  readonly group: AcknowledgementGroup;
  readonly instrumentId: string;
  /**
   * The slab holding the tick's stream value (Avro single-object encoding),
   * encoded when it was written, from `start` to `end`: the Tick itself is
   * not kept, nor a Buffer made per value.
   */
  readonly slab: Buffer;
  readonly start: number;
  readonly end: number;
  readonly weight: 1;
  readonly bytes: number;
}

/**
 * A record the `redis` sink holds from its write until Redis answered the
 * commands that carry it (or it was dropped): what it writes, how it is
 * acknowledged and what it weighs against the buffer's bounds.
 */
export type WriteEntry = QuoteEntry | TickEntry;
