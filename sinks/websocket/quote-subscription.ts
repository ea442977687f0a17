/** What a subscription's clients are owed since one epoch, worked out once for all of them. */
export interface QuoteChangesSince {
  /** The instruments of the subscription that changed, in subscription order. */
  readonly ids: readonly string[];
  /** The DIFF merge patch `{"quotes":{…}}` carrying those changes, as JSON text. */
  readonly quotesPatch: string;
  /** The whole `rtn_data` message of that patch alone, for clients owed nothing else: text for the first, then one Buffer for all. */
  rtnData: string | Buffer | undefined;
}

/** A session waiting for its subscription to change: woken (once) by the seal of the epoch that changes it. */
export interface QuoteWaiter {
  wake(): void;
}

/**
 * One set of instruments, shared by every client subscribed to exactly
 * these (the {@link QuoteFanout} interns them by their sorted ids): what
 * changed for its clients since an epoch is found and encoded once per epoch,
 * not once per client.
 */
export class QuoteSubscription {
  /** The latest epoch in which one of the instruments changed. */
  lastChangedEpoch = 0;
  /** Sessions holding it; the fanout forgets it when the last lets go. */
  holders = 0;
  /** Per `since` epoch, what changed after it up to the latest sealed epoch (emptied by the next seal). */
  readonly changesSince = new Map<number, QuoteChangesSince>();
  /** Sessions with nothing to send until one of the instruments changes: only they are visited when one does. */
  readonly waiters = new Set<QuoteWaiter>();

  constructor(
    /** The sorted ids, comma-joined: the key it is interned by. */
    readonly key: string,
    readonly ids: readonly string[],
  ) {}
}
