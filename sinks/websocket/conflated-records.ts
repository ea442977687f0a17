import type { QuoteDiff } from '../../schemas/generated.js';
import type { WebsocketInput } from './websocket-books.js';

/** A QuoteDiff built by merging others, which only this holds. */
type MergedDiff = { -readonly [K in keyof QuoteDiff]: K extends 'changes' ? Record<string, null | number | string> : QuoteDiff[K] };

/**
 * The records waiting for one fan-out process while it applies the batch
 * before: quote diffs merged per instrument (later changes win, with the
 * later diff's time and sequence), so that a process that falls behind gets
 * the latest quotes in one batch rather than a backlog; feed statuses and
 * order events kept whole and in order, since every one of them counts.
 *
 * ```
 * in:    -a-b-c-o-d-|      a, c, d: diffs of one instrument; b: of another; o: an order event
 * taken: -----------(oxb)  o first; x: a, c and d merged (d's time and sequence); then b
 * ```
 */
export class ConflatedRecords {
  private quotes = new Map<string, QuoteDiff>();
  /** Diffs merged here, whose `changes` this holds alone: further diffs merge into them in place. */
  private merged = new Map<string, MergedDiff>();
  private others: WebsocketInput[] = [];

  get isEmpty(): boolean {
    return this.quotes.size === 0 && this.others.length === 0;
  }

  add(input: WebsocketInput): void {
    if (input[0] !== 'quotes') {
      this.others.push(input);
      return;
    }
    const diff = input[1];
    const id = diff.instrument_id;
    const mergedDiff = this.merged.get(id);
    if (mergedDiff !== undefined) {
      Object.assign(mergedDiff.changes, diff.changes);
      mergedDiff.ts_event = diff.ts_event;
      mergedDiff.sequence = diff.sequence;
      return;
    }
    const earlier = this.quotes.get(id);
    if (earlier === undefined) {
      this.quotes.set(id, diff);
      return;
    }
    // The diffs came from the pipeline, and other processes hold them too: the merge is a new record.
    const merging: MergedDiff = { ...diff, changes: { ...earlier.changes, ...diff.changes } };
    this.merged.set(id, merging);
    this.quotes.set(id, merging);
  }

  /** Everything waiting, feed statuses and order events first, in order; then empty. */
  take(): WebsocketInput[] {
    const taken = this.others;
    for (const diff of this.quotes.values()) taken.push(['quotes', diff]);
    this.others = [];
    this.quotes = new Map();
    this.merged = new Map();
    return taken;
  }
}
