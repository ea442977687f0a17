import type { QuoteEntry, TickEntry, WriteEntry } from './write-entry.js';

/**
 * The commands of one batch that belong to one purpose, `first` to
 * `first + count - 1`: the instruments set and the schema, a full rewrite,
 * or the records of one instrument — its quote changes merged into one hash
 * write (no command when none changed anything), or its ticks in script calls.
 */
export type BatchPart =
  | {
      readonly kind: 'announce';
      readonly members: readonly string[];
      readonly schema: boolean;
      readonly first: number;
      readonly count: number;
    }
  | { readonly kind: 'rewrite'; readonly instrumentId: string; readonly first: number; readonly count: number }
  | {
      readonly kind: 'quotes';
      readonly instrumentId: string;
      readonly entries: readonly QuoteEntry[];
      readonly first: number;
      readonly count: number;
    }
  | {
      readonly kind: 'ticks';
      readonly instrumentId: string;
      readonly entries: readonly TickEntry[];
      readonly first: number;
      readonly count: number;
    };

/** One pipelined round trip of the `redis` sink: its commands by purpose and the records they carry. */
export interface WriteBatch {
  readonly parts: readonly BatchPart[];
  /** The records it carries, in the order they came: what goes back in front, in order, when its connection is lost. */
  readonly entries: readonly WriteEntry[];
  /** Estimated bytes of memory its records hold. */
  readonly bytes: number;
  /** Settles once the batch's replies (or its failure) have been handled. */
  answered: Promise<void>;
}
