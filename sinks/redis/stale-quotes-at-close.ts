import type { QuoteBook } from '../../protocols/diff/quote-book.js';
import type { OwedWrites } from './owed-writes.js';
import type { PendingWrites } from './pending-writes.js';
import type { WriteBatch } from './write-batch.js';
import type { WriteEntry } from './write-entry.js';

/** What the `redis` sink leaves undone when its close timeout passes. */
export interface UnwrittenAtClose {
  /** Every record not written: those of the batches Redis did not answer, then those still queued, in order. */
  readonly unwritten: readonly WriteEntry[];
  /** Quote hashes that lack a change the sink holds, a full rewrite it owes, or whose last write Redis refused. */
  readonly stale: number;
  /** Hashes apart from those that the sink cannot confirm (see {@link staleQuotesAtClose}). */
  readonly unconfirmed: number;
  /** Of those, hashes written by a batch Redis did not answer. */
  readonly unanswered: number;
  /** Redis was reachable once and is not at the end. */
  readonly unreachable: boolean;
}

/**
 * Takes every record not written out of the queue (applying its quote
 * changes to the book) and counts the quote hashes left stale — they lack
 * a change the sink holds, or a full rewrite it owes (a first quote, a
 * dropped change, a reconnect), or Redis refused their last write — and,
 * apart, how many it cannot confirm: those of a batch Redis did not answer,
 * and, when Redis is unreachable at the end, every other hash (it holds
 * what was last written, unless Redis lost it meanwhile). Clears what is
 * owed: nothing more will be written.
 */
export function staleQuotesAtClose(state: {
  readonly inFlight: readonly WriteBatch[];
  readonly pending: PendingWrites<WriteEntry>;
  readonly book: QuoteBook;
  readonly owed: OwedWrites;
  readonly unreachable: boolean;
}): UnwrittenAtClose {
  const { inFlight, pending, book, owed, unreachable } = state;
  const unwritten: WriteEntry[] = [];
  const stale = new Set([...owed.dirty, ...owed.refusedQuotes]);
  const unanswered = new Set<string>();
  for (const batch of inFlight) {
    for (const part of batch.parts) {
      if (part.kind === 'rewrite' || (part.kind === 'quotes' && part.count > 0)) unanswered.add(part.instrumentId);
    }
    unwritten.push(...batch.entries);
  }
  for (let entry = pending.shift(); entry !== undefined; entry = pending.shift()) {
    unwritten.push(entry);
    // Its hash lacks the change if applying it changes the book (a change queued again after a lost batch is in the book already).
    if (entry.kind === 'quote' && book.apply(entry.diff) !== undefined) stale.add(entry.instrumentId);
  }
  for (const id of stale) unanswered.delete(id);
  const unconfirmed = new Set(unanswered);
  if (unreachable) for (const id of book.instruments()) if (!stale.has(id)) unconfirmed.add(id);
  owed.dirty.clear();
  owed.unannounced.clear();
  return { unwritten, stale: stale.size, unconfirmed: unconfirmed.size, unanswered: unanswered.size, unreachable };
}
