import type { FeedStatus } from '../../schemas/generated.js';
import type { QuoteValue } from '../../protocols/diff/quote-book.js';

/** A feed's status as clients see it under `feeds`: the FeedStatus fields but `feed_id` (the key); unset values absent. */
export type FeedView = Readonly<Record<string, QuoteValue>>;

/** What applying one FeedStatus changed: a merge patch of the feed's view. */
export interface FeedChange {
  readonly feedId: string;
  readonly patch: Readonly<Record<string, QuoteValue | null>>;
}

/**
 * The latest status of every feed, by feed id, for the `feeds` extension of
 * the DIFF protocol. Feeds are few (one per configured upstream), so the
 * board is small and kept whole.
 */
export class FeedBoard {
  private readonly feeds = new Map<string, Record<string, QuoteValue>>();

  /** Applies one FeedStatus; returns the fields that changed, or `undefined` when none did. */
  apply(status: FeedStatus): FeedChange | undefined {
    let view = this.feeds.get(status.feed_id);
    if (view === undefined) this.feeds.set(status.feed_id, (view = {}));
    let patch: Record<string, QuoteValue | null> | undefined;
    for (const [key, value] of Object.entries(status) as [keyof FeedStatus, QuoteValue | null][]) {
      if (key === 'feed_id') continue;
      if (value === null ? !(key in view) : view[key] === value) continue;
      if (value === null) delete view[key];
      else view[key] = value;
      (patch ??= {})[key] = value;
    }
    return patch === undefined ? undefined : { feedId: status.feed_id, patch };
  }

  /** Every feed's view, by feed id. Do not change them. */
  entries(): IterableIterator<[string, FeedView]> {
    return this.feeds.entries();
  }
}
