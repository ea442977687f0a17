/**
 * Where in its files a replay is: the bytes up to the latest record
 * replayed, as opposed to the bytes read, which run up to ~10,000 records
 * ahead of a paced replay.
 *
 * The reader marks, after each batch, how many records it has read in all
 * and how many bytes that took (`read`); records leave the replay in the
 * order they were read, so the n-th record replayed lies in the batch whose
 * marks enclose n, and its position is interpolated between them
 * (`bytesAt`). Marks already passed are dropped, so it holds only those of
 * the batches read ahead.
 *
 * ```
 * read(300, 256 KiB)  read(600, 512 KiB)
 * bytesAt(0) = 0   bytesAt(150) = 128 KiB   bytesAt(300) = 256 KiB   bytesAt(450) = 384 KiB
 * ```
 */
export class ReplayPosition {
  /** Marks not yet passed, oldest first, from `head` on. */
  private marks: { records: number; bytes: number }[] = [];
  private head = 0;
  /** The latest mark passed: its records are all replayed. */
  private base = { records: 0, bytes: 0 };

  /** After a batch: records read in all, and bytes read in all (both never decrease). */
  read(records: number, bytes: number): void {
    this.marks.push({ records, bytes });
  }

  /** The bytes of the files up to the `records`-th record replayed (records replayed in all). */
  bytesAt(records: number): number {
    // Bounded by the marks held: those of the batches read ahead.
    while (this.head < this.marks.length && (this.marks[this.head] as { records: number }).records <= records) {
      this.base = this.marks[this.head] as { records: number; bytes: number };
      this.head++;
    }
    if (this.head > 64 && this.head * 2 > this.marks.length) {
      this.marks = this.marks.slice(this.head);
      this.head = 0;
    }
    const next = this.marks[this.head];
    if (next === undefined || next.records <= this.base.records) return this.base.bytes;
    return this.base.bytes + ((next.bytes - this.base.bytes) * (records - this.base.records)) / (next.records - this.base.records);
  }
}
