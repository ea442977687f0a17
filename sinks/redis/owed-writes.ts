/**
 * What the `redis` sink owes Redis apart from its records, on the current
 * connection: the quote hashes to rewrite in full from the book (a dropped
 * change, a batch lost with its connection, a reconnect), the instruments
 * not yet added to the instruments set, whether the schema the stream
 * entries name is stored, and the hashes whose last write Redis refused.
 */
export class OwedWrites {
  /** Instruments whose hash must be rewritten in full, in the order they became dirty. */
  readonly dirty = new Set<string>();
  /** Instruments not yet added to the instruments set on the current connection. */
  readonly unannounced = new Set<string>();
  /** Instruments whose last quote write Redis refused (not retried): their hash is stale until a rewrite is written. */
  readonly refusedQuotes = new Set<string>();
  /** Whether the schema the stream entries name was stored on the current connection. */
  schemaStored = false;
  private readonly known = new Set<string>();

  /** Whether a batch is owed even with no record waiting. */
  get any(): boolean {
    return this.dirty.size > 0 || this.unannounced.size > 0;
  }

  /** Notes an instrument written to: the first time, it is owed a place in the instruments set. */
  see(instrumentId: string): void {
    if (this.known.has(instrumentId)) return;
    this.known.add(instrumentId);
    this.unannounced.add(instrumentId);
  }

  /**
   * A new connection: the server may have restarted empty, or lost writes
   * whose replies never came, so every hash of `quoted` is rewritten and the
   * set and schema are written again.
   */
  reconnected(quoted: Iterable<string>): void {
    for (const id of quoted) this.dirty.add(id);
    this.schemaStored = false;
    for (const id of this.known) this.unannounced.add(id);
  }
}
