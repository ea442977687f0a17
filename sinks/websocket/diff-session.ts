import type { JsonValue } from '../../protocols/diff/apply-merge-patch.js';
import { ClientErrorCode, type ClientError } from './client-error.js';
import type { FeedBoard, FeedChange } from './feed-board.js';
import type { QuoteBook, QuoteValue } from '../../protocols/diff/quote-book.js';
import type { QuoteFanout } from './quote-fanout.js';
import type { QuoteSubscription, QuoteWaiter } from './quote-subscription.js';
import { TradeBook, type TradeEntityChange, type TradeSection, type TradeValue } from './trade-book.js';

/** A merge patch as it travels: values, nested objects, null to delete. */
type Patch = { [key: string]: JsonValue };

/**
 * What a client is owed for one trade entity: null to delete it (the client
 * holds it), or values to merge, with whether the client already holds an
 * older version (and so must get nulls for keys no longer set).
 */
type PendingEntity = null | { readonly values: Record<string, TradeValue | null>; readonly clientHas: boolean };

/** Pending trade entities of one account, by section and key. */
type PendingAccount = Map<TradeSection, Map<string, PendingEntity>>;

/** The instruments of a `subscribe_quote` ins_list: comma-separated, blanks trimmed, duplicates and empty entries dropped. */
function parseInsList(insList: string): string[] {
  const ids = new Set<string>();
  for (const part of insList.split(',')) {
    const id = part.trim();
    if (id !== '') ids.add(id);
  }
  return [...ids];
}

/**
 * What one DIFF-protocol client (tqsdk, QuantAxis) has been promised and not
 * yet been sent. Pure state, no sockets: the connection feeds it messages and
 * book changes, and sends what {@link takeMessage} returns.
 *
 * Quotes come from the shared {@link QuoteFanout}: the session remembers
 * only the epoch it was last sent through and its (shared) subscription, so
 * a client that does not peek costs nothing per change, and clients in the
 * same position get the same encoded frame. What is the client's own (the
 * echo of `ins_list`, whole quotes of newly subscribed instruments, nulls for
 * dropped ones, feed status, trade state) travels as a first patch before
 * the shared one, which DIFF applies in order.
 *
 * Trade state (orders, positions, denials of every account, from the
 * {@link TradeBook}) travels under `trade.<account>.<section>.<key>` and is
 * kept per entity. An entity created and deleted between two messages is
 * never sent; one the client holds and that is deleted becomes null; so the
 * pending trade patch is bounded by what the book holds plus what the client
 * last got.
 *
 * ```
 * client:  subscribe_quote(A,B)  peek ─────────── peek ─────────── peek
 * server:                         rtn_data[{ins_list,quotes:{A:{…}}},{mdhis_more_data:false}]
 *          A changes ×1000 ──────────────────────────▶ rtn_data[{quotes:{A:{merged}}}]
 *                                                            (held until a change) ▶ …
 * ```
 */
export class DiffSession {
  private subscribed: ReadonlySet<string> = new Set();
  private subscription: QuoteSubscription;
  /** The fan-out epoch whose quote changes the client has been sent. */
  private sentEpoch: number;
  private pendingInsList: string | undefined;
  /**
   * The client's own quotes (from subscription changes): the whole quote, the
   * complete one (every key, null where unset: the client may hold an older
   * quote of it), or null to delete it.
   */
  private readonly pendingQuotes = new Map<string, 'whole' | 'complete' | null>();
  /** Who waits on the subscription for a change, while it does. */
  private parked: QuoteWaiter | undefined;
  private readonly pendingFeeds = new Map<string, Record<string, QuoteValue | null>>();
  /** Per account, section and key: what the client is owed of the trade state. Accounts with nothing pending are absent. */
  private readonly pendingTrade = new Map<string, PendingAccount>();
  private peekHeld = false;
  private snapshotSent = false;
  private readonly book: QuoteBook;

  constructor(
    private readonly fanout: QuoteFanout,
    feeds: FeedBoard,
    /** Where orders, positions and denials come from; none by default (a session of quotes and feeds only). */
    private readonly trade: TradeBook = new TradeBook(),
  ) {
    this.book = fanout.book;
    this.subscription = fanout.subscribe([]);
    // Quotes the client will subscribe to come whole (pendingQuotes); changes before now are none of its business.
    this.sentEpoch = fanout.seal();
    // The first rtn_data is the full snapshot: every feed's status and the whole trade state so far.
    for (const [feedId, view] of feeds.entries()) this.pendingFeeds.set(feedId, { ...view });
    for (const { accountId, section, key, view } of trade.entities())
      this.pendingSection(accountId, section).set(key, { values: { ...view }, clientHas: false });
  }

  /** The instruments of the last accepted `subscribe_quote`, known to the book or not. */
  get subscriptions(): ReadonlySet<string> {
    return this.subscribed;
  }

  /** True while a peek_message is held, waiting for something to send. */
  get isPeekHeld(): boolean {
    return this.peekHeld;
  }

  /**
   * `subscribe_quote`: replaces the subscription with the instruments of
   * `insList`. The next rtn_data echoes `insList` verbatim as the root's
   * `ins_list`, carries the full quote of each newly subscribed instrument the
   * book knows, and null for each dropped one the client may hold. Instruments
   * the book does not know yet stay subscribed and arrive when they appear.
   * Returns an error, and changes nothing, when the list names more than
   * `maxSubscriptions` instruments.
   */
  subscribeQuote(insList: string, maxSubscriptions: number): ClientError | undefined {
    const ids = parseInsList(insList);
    if (ids.length > maxSubscriptions) {
      return {
        code: ClientErrorCode.TOO_MANY_SUBSCRIPTIONS,
        message: `ins_list names ${ids.length} instruments; at most ${maxSubscriptions} may be subscribed on this connection; subscription unchanged`,
      };
    }
    const next = new Set(ids);
    for (const id of this.subscribed) {
      // The client holds a quote only for an instrument the book knows; null deletes it there.
      if (!next.has(id) && this.book.has(id)) this.pendingQuotes.set(id, null);
    }
    for (const id of next) {
      if (this.subscribed.has(id) || !this.book.has(id)) continue;
      // A pending null means the client still holds an older quote of this instrument: send one that replaces every key.
      this.pendingQuotes.set(id, this.pendingQuotes.get(id) === null ? 'complete' : 'whole');
    }
    this.unpark();
    this.subscribed = next;
    this.subscription = this.fanout.subscribe(next, this.subscription);
    this.pendingInsList = insList;
    return undefined;
  }

  /** `peek_message`: the client is ready for the next rtn_data; it is answered by {@link takeMessage} as soon as there is something to send. */
  peekMessage(): void {
    this.peekHeld = true;
  }

  /** Nothing to send now: `waiter` is woken when one of the subscribed instruments changes. */
  park(waiter: QuoteWaiter): void {
    this.parked = waiter;
    this.subscription.waiters.add(waiter);
  }

  /** The client is gone: its shared subscription is let go. */
  dispose(): void {
    this.unpark();
    this.fanout.release(this.subscription);
    this.subscription = this.fanout.subscribe([]);
  }

  private unpark(): void {
    if (this.parked !== undefined) this.subscription.waiters.delete(this.parked);
    this.parked = undefined;
  }

  /** Merges a feed's status change into the pending patch; every DIFF client gets every feed. */
  feedChanged(change: FeedChange): void {
    const pending = this.pendingFeeds.get(change.feedId);
    if (pending === undefined) this.pendingFeeds.set(change.feedId, { ...change.patch });
    else Object.assign(pending, change.patch);
  }

  /** Merges trade entity changes into the pending patch; every DIFF client gets every account. */
  tradeChanged(changes: readonly TradeEntityChange[]): void {
    for (const change of changes) {
      const { accountId, section, key } = change;
      const entities = this.pendingSection(accountId, section);
      const pending = entities.get(key);
      if (change.patch === null) {
        // Never sent: forget it. Otherwise the client holds a version: delete it there.
        if (pending !== undefined && pending !== null && !pending.clientHas) this.forget(accountId, section, key);
        else entities.set(key, null);
      } else if (pending === undefined) {
        // The client has everything before this change (a new entity: nothing), so this change on top is enough.
        entities.set(key, { values: { ...change.patch }, clientHas: !change.isNew });
      } else if (pending === null || (change.isNew && pending.clientHas)) {
        // The client holds an older entity under this key: replace every key of it.
        entities.set(key, { values: { ...(this.trade.completeView(accountId, section, key) ?? change.patch) }, clientHas: true });
      } else {
        Object.assign(pending.values, change.patch);
      }
    }
  }

  /** True when an rtn_data may carry something (the first one always does); quote changes not sealed yet count, wherever they are. */
  hasPending(): boolean {
    return this.hasOwnPending() || this.fanout.hasOpenChanges || this.subscription.lastChangedEpoch > this.sentEpoch;
  }

  /**
   * The rtn_data to send now, as text or encoded, or `undefined` when no peek is held or
   * nothing is pending. Taking it answers the peek and empties the pending
   * patch. The first one after connect ends with `{"mdhis_more_data": false}`:
   * the snapshot is complete. A client owed only quote changes gets the frame
   * shared by every client of its subscription in its position.
   */
  takeMessage(): string | Buffer | undefined {
    if (!this.peekHeld) return undefined;
    const epoch = this.fanout.seal();
    const shared = this.fanout.changesSince(this.subscription, this.sentEpoch);
    const own = this.hasOwnPending() ? this.ownPatch() : undefined;
    if (own === undefined && shared === undefined) return undefined;
    this.sentEpoch = epoch;
    this.peekHeld = false;
    if (own === undefined && shared !== undefined) return this.fanout.rtnData(shared);
    const parts = [own];
    if (shared !== undefined) parts.push(shared.quotesPatch);
    if (!this.snapshotSent) parts.push('{"mdhis_more_data":false}');
    this.snapshotSent = true;
    return `{"aid":"rtn_data","data":[${parts.join(',')}]}`;
  }

  /** True when the client is owed something of its own: the snapshot, the ins_list echo, quotes of a subscription change, feeds, trade. */
  private hasOwnPending(): boolean {
    return (
      !this.snapshotSent ||
      this.pendingInsList !== undefined ||
      this.pendingQuotes.size > 0 ||
      this.pendingFeeds.size > 0 ||
      this.pendingTrade.size > 0
    );
  }

  /** The client's own patch as JSON text, emptying what it is owed of its own. Whole quotes are the fan-out's, encoded once per change for every client. */
  private ownPatch(): string {
    const members: string[] = [];
    if (this.pendingInsList !== undefined) members.push(`"ins_list":${JSON.stringify(this.pendingInsList)}`);
    if (this.pendingQuotes.size > 0 || !this.snapshotSent) {
      const quotes: string[] = [];
      for (const [id, owed] of this.pendingQuotes) {
        quotes.push(owed === null ? `${JSON.stringify(id)}:null` : this.fanout.quoteMember(id, owed === 'complete'));
      }
      members.push(`"quotes":{${quotes.join(',')}}`);
    }
    if (this.pendingFeeds.size > 0) members.push(`"feeds":${JSON.stringify(Object.fromEntries(this.pendingFeeds))}`);
    if (this.pendingTrade.size > 0) members.push(`"trade":${JSON.stringify(this.tradePatch())}`);
    this.pendingInsList = undefined;
    this.pendingQuotes.clear();
    this.pendingFeeds.clear();
    this.pendingTrade.clear();
    return `{${members.join(',')}}`;
  }

  /**
   * How many values the client's own pending patch holds (feed and trade
   * fields, one per quote owed from a subscription change, one per deletion):
   * its memory cost. Quote changes are held once for all clients by the fan-out.
   */
  pendingValueCount(): number {
    let count = this.pendingQuotes.size;
    for (const feed of this.pendingFeeds.values()) count += Object.keys(feed).length;
    for (const sections of this.pendingTrade.values()) {
      for (const entities of sections.values()) {
        for (const entity of entities.values()) count += entity === null ? 1 : Object.keys(entity.values).length;
      }
    }
    return count;
  }

  /** The pending entities of one section of one account, created empty when missing. */
  private pendingSection(accountId: string, section: TradeSection): Map<string, PendingEntity> {
    let sections = this.pendingTrade.get(accountId);
    if (sections === undefined) this.pendingTrade.set(accountId, (sections = new Map<TradeSection, Map<string, PendingEntity>>()));
    let entities = sections.get(section);
    if (entities === undefined) sections.set(section, (entities = new Map<string, PendingEntity>()));
    return entities;
  }

  /** Drops a pending entity, and its section and account when they hold nothing more. */
  private forget(accountId: string, section: TradeSection, key: string): void {
    const sections = this.pendingTrade.get(accountId);
    const entities = sections?.get(section);
    if (sections === undefined || entities === undefined) return;
    entities.delete(key);
    if (entities.size === 0) sections.delete(section);
    if (sections.size === 0) this.pendingTrade.delete(accountId);
  }

  /** The `trade` root of the next rtn_data: account → section → key → values, or null to delete. */
  private tradePatch(): Patch {
    const trade: Patch = {};
    for (const [accountId, sections] of this.pendingTrade) {
      const account: Patch = {};
      for (const [section, entities] of sections) {
        if (entities.size === 0) continue;
        const entries: Patch = {};
        for (const [key, entity] of entities) entries[key] = entity === null ? null : entity.values;
        account[section] = entries;
      }
      trade[accountId] = account;
    }
    return trade;
  }
}
