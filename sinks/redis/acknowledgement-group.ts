/**
 * One promise for the writes that go out together (about a batch, on both
 * ports), resolved once every one of them is acknowledged — written, or
 * dropped — with their records in the order written: the acknowledgements
 * of a sink that sets `acknowledgesBatches`. The sink returns the same
 * promise from each of those writes, so the runner keeps a count for the
 * group rather than an entry per record, and no promise, executor or
 * resolving function is made per record.
 *
 * Writes join the group while it is open; `seal()` closes it (the writer
 * seals its group when a batch leaves), and the promise resolves when it is
 * sealed and its last record is acknowledged. Records are acknowledged in
 * any order; they are handed back in the order they joined.
 *
 * @example
 * ```ts
 * const group = new AcknowledgementGroup();
 * group.join('a');
 * group.join('b');
 * void group.promise.then((records) => console.log(records));
 * group.seal();
 * group.acknowledgeOne();
 * group.acknowledgeOne();
 * // Logs: [ 'a', 'b' ]
 * ```
 */
export class AcknowledgementGroup {
  readonly promise: Promise<readonly unknown[]>;
  private readonly records: unknown[] = [];
  /** Records joined and not acknowledged yet. */
  private remaining = 0;
  private sealed = false;
  private resolve!: (records: readonly unknown[]) => void;

  constructor() {
    this.promise = new Promise<readonly unknown[]>((resolve) => (this.resolve = resolve));
  }

  /** Whether writes may still join. */
  get open(): boolean {
    return !this.sealed;
  }

  /** Records that joined. */
  get size(): number {
    return this.records.length;
  }

  /** Counts one more record in the group; returns its promise. */
  join(record: unknown): Promise<readonly unknown[]> {
    this.records.push(record);
    this.remaining++;
    return this.promise;
  }

  /** One record of the group was written or dropped. */
  acknowledgeOne(): void {
    if (--this.remaining === 0 && this.sealed) this.resolve(this.records);
  }

  /** No more records join; resolves now if every one is acknowledged already. */
  seal(): void {
    if (this.sealed) return;
    this.sealed = true;
    if (this.remaining === 0) this.resolve(this.records);
  }
}
