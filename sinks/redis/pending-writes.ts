/**
 * A FIFO of records waiting to be written, with the totals of their weights
 * (commands) and of their estimated sizes (bytes of memory) kept up to date,
 * so the sink can bound what it holds both ways and drop the oldest first.
 * `shift` is O(1) amortized: taken slots are cleared for the garbage
 * collector and the array is compacted once half of it is taken.
 */
export class PendingWrites<E extends { readonly weight: number; readonly bytes: number }> {
  private items: (E | undefined)[] = [];
  private head = 0;
  private totalWeight = 0;
  private totalBytes = 0;

  /** Records held. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** Sum of the weights of the records held. */
  get weight(): number {
    return this.totalWeight;
  }

  /** Sum of the estimated sizes of the records held, in bytes. */
  get bytes(): number {
    return this.totalBytes;
  }

  push(entry: E): void {
    this.items.push(entry);
    this.totalWeight += entry.weight;
    this.totalBytes += entry.bytes;
  }

  /** The oldest record, removed; `undefined` when empty. */
  shift(): E | undefined {
    if (this.head >= this.items.length) return undefined;
    const entry = this.items[this.head] as E;
    this.items[this.head++] = undefined;
    this.totalWeight -= entry.weight;
    this.totalBytes -= entry.bytes;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return entry;
  }

  /**
   * Puts records back, in their order, after the first `after` held: a
   * batch that did not reach Redis goes first next time, behind the records
   * of an earlier lost batch already put back.
   */
  insertAt(after: number, entries: readonly E[]): void {
    if (entries.length === 0) return;
    const held = this.items.slice(this.head);
    const at = Math.min(after, held.length);
    this.items = [...held.slice(0, at), ...entries, ...held.slice(at)];
    this.head = 0;
    for (const entry of entries) {
      this.totalWeight += entry.weight;
      this.totalBytes += entry.bytes;
    }
  }
}
