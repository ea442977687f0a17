import type { QuoteBook, QuoteChange, QuotePatch, QuoteValue } from '../../protocols/diff/quote-book.js';
import type { MarketData } from './action-session.js';
import { QuoteSubscription, type QuoteChangesSince } from './quote-subscription.js';

/**
 * Epochs whose patches are kept. A client further behind gets the complete
 * quote of each changed instrument rather than the patches merged: one text
 * per instrument and change, shared by every client that far behind, where
 * merged patches would differ per client (and after that many ticks most
 * fields have changed anyway).
 */
const DEFAULT_HISTORY = 8;

/** The changes of one sealed epoch: per instrument, the merge patch of everything that changed in it. */
interface SealedEpoch {
  readonly epoch: number;
  readonly patches: ReadonlyMap<string, QuotePatch>;
}

/**
 * The quote side of the WebSocket fan-out: every quote change is merged once
 * into the open epoch's patch of its instrument, whatever the number of
 * clients. Sessions read from here when they send: {@link seal} closes the
 * open epoch, and each session remembers the epoch it was last sent through.
 * What a subscription's clients are owed since an epoch is worked out and
 * serialized once per (subscription, epoch) and shared by every client in
 * that position, so the work of a tick no longer grows with the clients, and
 * a client's memory no longer holds a pending patch of its own.
 *
 * ```
 * ticks:  -a-b--a---b-a--|   changes of instruments a and b, merged into the open epoch
 * seal:   ------s-------s|   flushes: epochs 1 and 2, each holding a and b
 * X:      ------x-------x|   a client that peeks at every flush: one frame per epoch
 * Y:      --------------y|   one that peeks once: epochs 1 and 2 merged, one frame
 * ```
 */
export class QuoteFanout {
  private epoch = 0;
  private open = new Map<string, Record<string, QuoteValue | null>>();
  /** The last `history` sealed epochs, epoch e at e % history. */
  private readonly sealed: (SealedEpoch | undefined)[];
  /** Per instrument, the epoch it last changed in. */
  private readonly lastChanged = new Map<string, number>();
  private readonly subscriptions = new Map<string, QuoteSubscription>();
  private readonly holdersOf = new Map<string, Set<QuoteSubscription>>();
  /** Per `since` epoch and instrument, the `"id":{patch}` member text, for the current epoch. */
  private readonly members = new Map<number, Map<string, string>>();
  /** Subscriptions holding changes worked out for the current epoch: emptied at the next seal, so that no stale frames stay behind. */
  private cachedSubscriptions: QuoteSubscription[] = [];
  /** Per instrument, its action-protocol market_data message, until it changes. */
  private readonly marketData = new Map<string, Buffer>();
  /** Per instrument, its whole and its complete quote as members of a `quotes` object, until it changes ({@link quoteMember}). */
  private readonly wholeMembers = new Map<string, string>();
  private readonly completeMembers = new Map<string, string>();

  constructor(
    readonly book: QuoteBook,
    private readonly history = DEFAULT_HISTORY,
  ) {
    this.sealed = new Array<SealedEpoch | undefined>(history);
  }

  /** The epoch sealed last; sessions start from it. */
  get currentEpoch(): number {
    return this.epoch;
  }

  /** True when changes wait in the open epoch: a flush would seal them. */
  get hasOpenChanges(): boolean {
    return this.open.size > 0;
  }

  /** Merges a book change into the open epoch. */
  changed(change: QuoteChange): void {
    const id = change.instrumentId;
    const patch = this.open.get(id);
    // A new instrument travels whole, so that clients subscribed before it appeared get all of it.
    if (patch === undefined) this.open.set(id, { ...(change.isNew ? this.book.quote(id) : change.patch) });
    else Object.assign(patch, change.patch);
    this.marketData.delete(id);
    this.wholeMembers.delete(id);
    this.completeMembers.delete(id);
  }

  /** Closes the open epoch when it holds changes, and returns the latest epoch. */
  seal(): number {
    if (this.open.size === 0) return this.epoch;
    const epoch = ++this.epoch;
    const patches = this.open;
    this.open = new Map();
    this.sealed[epoch % this.history] = { epoch, patches };
    for (const id of patches.keys()) {
      this.lastChanged.set(id, epoch);
      const holders = this.holdersOf.get(id);
      if (holders === undefined) continue;
      for (const subscription of holders) {
        subscription.lastChangedEpoch = epoch;
        for (const waiter of subscription.waiters) waiter.wake();
        subscription.waiters.clear();
      }
    }
    this.members.clear();
    for (const subscription of this.cachedSubscriptions) subscription.changesSince.clear();
    this.cachedSubscriptions = [];
    return epoch;
  }

  /**
   * The shared subscription to exactly `ids` (any order, no duplicates),
   * letting go of `previous`. Every call must be matched by a {@link release}
   * (or by passing it as `previous`).
   */
  subscribe(ids: Iterable<string>, previous?: QuoteSubscription): QuoteSubscription {
    const sorted = [...ids].sort();
    const key = sorted.join(',');
    let subscription = this.subscriptions.get(key);
    if (subscription === undefined) {
      subscription = new QuoteSubscription(key, sorted);
      for (const id of sorted) {
        subscription.lastChangedEpoch = Math.max(subscription.lastChangedEpoch, this.lastChanged.get(id) ?? 0);
        let holders = this.holdersOf.get(id);
        if (holders === undefined) this.holdersOf.set(id, (holders = new Set()));
        holders.add(subscription);
      }
      this.subscriptions.set(key, subscription);
    }
    subscription.holders++;
    if (previous !== undefined) this.release(previous);
    return subscription;
  }

  /** A session let go of `subscription`. */
  release(subscription: QuoteSubscription): void {
    if (--subscription.holders > 0) return;
    this.subscriptions.delete(subscription.key);
    for (const id of subscription.ids) {
      const holders = this.holdersOf.get(id);
      holders?.delete(subscription);
      if (holders?.size === 0) this.holdersOf.delete(id);
    }
  }

  /** What changed in `subscription` after epoch `since` up to the latest sealed epoch; undefined when nothing did. */
  changesSince(subscription: QuoteSubscription, since: number): QuoteChangesSince | undefined {
    if (subscription.lastChangedEpoch <= since) return undefined;
    if (subscription.changesSince.size === 0) this.cachedSubscriptions.push(subscription);
    let changes = subscription.changesSince.get(since);
    if (changes === undefined) {
      const ids: string[] = [];
      const members: string[] = [];
      for (const id of subscription.ids) {
        if ((this.lastChanged.get(id) ?? 0) <= since) continue;
        ids.push(id);
        members.push(this.member(id, since));
      }
      changes = { ids, quotesPatch: `{"quotes":{${members.join(',')}}}`, rtnData: undefined };
      subscription.changesSince.set(since, changes);
    }
    return changes;
  }

  /**
   * The `rtn_data` message carrying `changes` alone: text for the first
   * client it goes to, and encoded once into a Buffer that every further
   * client shares. A frame that goes to one client only stays text: a Buffer
   * of its own would be one more external allocation for the collector.
   */
  rtnData(changes: QuoteChangesSince): string | Buffer {
    const message = changes.rtnData;
    if (message === undefined) return (changes.rtnData = `{"aid":"rtn_data","data":[${changes.quotesPatch}]}`);
    return typeof message === 'string' ? (changes.rtnData = Buffer.from(message)) : message;
  }

  /** The action protocol's `market_data` message of an instrument: its complete quote, encoded once per change. */
  marketDataMessage(id: string): Buffer | undefined {
    let message = this.marketData.get(id);
    if (message === undefined) {
      const quote = this.book.completeQuote(id);
      if (quote === undefined) return undefined;
      message = Buffer.from(JSON.stringify({ action: 'market_data', instrument_id: id, quote } satisfies MarketData));
      this.marketData.set(id, message);
    }
    return message;
  }

  /**
   * `"id":{…}`: the instrument's whole quote (set values: what a new
   * subscriber gets), or its complete one (every key, null where unset: what
   * replaces an older quote a client holds), as a member of a `quotes`
   * object, built once per change.
   */
  quoteMember(id: string, complete: boolean): string {
    const cache = complete ? this.completeMembers : this.wholeMembers;
    let text = cache.get(id);
    if (text === undefined) {
      text = `${JSON.stringify(id)}:${JSON.stringify((complete ? this.book.completeQuote(id) : this.book.quote(id)) ?? {})}`;
      cache.set(id, text);
    }
    return text;
  }

  /** How many quote values the fan-out holds in its open and kept epochs: its memory cost, the same for 1 client or 10,000. */
  retainedValueCount(): number {
    let count = 0;
    for (const patch of this.open.values()) count += Object.keys(patch).length;
    for (const sealed of this.sealed) {
      for (const patch of sealed?.patches.values() ?? []) count += Object.keys(patch).length;
    }
    return count;
  }

  /** `"id":{…}`: what changed in the instrument after `since`, as a member of the `quotes` object, built once per epoch. */
  private member(id: string, since: number): string {
    if (since < this.epoch - this.history) return this.quoteMember(id, true);
    let byId = this.members.get(since);
    if (byId === undefined) this.members.set(since, (byId = new Map<string, string>()));
    let text = byId.get(id);
    if (text === undefined) {
      text = `${JSON.stringify(id)}:${JSON.stringify(this.patchSince(id, since))}`;
      byId.set(id, text);
    }
    return text;
  }

  /** The merge patch taking a client from epoch `since` (within the kept epochs) to now: their patches in order. */
  private patchSince(id: string, since: number): QuotePatch {
    if (since === this.epoch - 1) return this.sealed[this.epoch % this.history]?.patches.get(id) ?? {};
    const merged: Record<string, QuoteValue | null> = {};
    for (let epoch = since + 1; epoch <= this.epoch; epoch++) {
      const patch = this.sealed[epoch % this.history]?.patches.get(id);
      if (patch !== undefined) Object.assign(merged, patch);
    }
    return merged;
  }
}
