import type { QuoteBook, QuoteChange, QuoteValue } from '../../protocols/diff/quote-book.js';
import type { QuoteDiff } from '../../schemas/generated.js';
import type { QuoteEntry } from './write-entry.js';

/** The Tick field a QuoteDiff's event time travels in, within its changes. */
const TS_EVENT = 'ts_event';

/**
 * One instrument's quote changes of one batch, applied to the book as they
 * are planned and merged into one patch of the hash: the latest value of
 * each field (null: unset), DIFF names.
 *
 * Consecutive QuoteDiffs that carry their `ts_event` (as quote-diff's do)
 * are applied as one: the book ends the same as applying them one by one
 * would (every field at its last value, the quote's time at the last
 * `ts_event`), so the book costs a little per instrument and batch rather
 * than per record. One that does not carry it takes its time from the
 * record, only if it changes something, so it is applied on its own.
 */
export class BatchQuoteChanges {
  readonly entries: QuoteEntry[] = [];
  /** What the changes applied so far did to the hash, merged; undefined while they changed nothing. */
  private merged: Record<string, QuoteValue | null> | undefined;
  /** `changes` of a run of QuoteDiffs not applied to the book yet, Tick names, the later value of a field winning. */
  private changes: Record<string, null | number | string> | undefined;
  /** The last QuoteDiff of that run. */
  private last: QuoteDiff | undefined;
  private isNew = false;

  constructor(private readonly book: QuoteBook) {}

  /** Adds a change of the instrument, in the order they came. */
  add(entry: QuoteEntry): void {
    this.entries.push(entry);
    const { diff } = entry;
    const { changes } = diff;
    if (typeof changes[TS_EVENT] !== 'number') {
      this.applyRun();
      this.merge(this.book.apply(diff));
      return;
    }
    const run = (this.changes ??= {});
    for (const field in changes) run[field] = changes[field] as null | number | string;
    this.last = diff;
  }

  /**
   * Applies what is left to the book and says what to write: `whole` when
   * the instrument was new to the book (its hash is written in full, so that
   * fields a previous run left go), else the merged patch, undefined when
   * nothing changed.
   */
  finish(): { readonly whole: boolean; readonly patch: Readonly<Record<string, QuoteValue | null>> | undefined } {
    this.applyRun();
    return { whole: this.isNew, patch: this.merged };
  }

  /** Applies the run of unapplied changes to the book as one QuoteDiff. */
  private applyRun(): void {
    const { changes, last } = this;
    if (changes === undefined || last === undefined) return;
    this.changes = undefined;
    this.last = undefined;
    this.merge(this.book.apply({ instrument_id: last.instrument_id, ts_event: last.ts_event, sequence: last.sequence, changes }));
  }

  private merge(change: QuoteChange | undefined): void {
    if (change === undefined) return;
    if (change.isNew) this.isNew = true;
    const merged = (this.merged ??= {});
    for (const field in change.patch) merged[field] = change.patch[field] as QuoteValue | null;
  }
}
