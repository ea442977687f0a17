import { hash } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AuditRecord } from '../../schemas/generated.js';
import { AuditBlock } from './audit-block.js';
import { AuditChain, type AuditEntry } from './audit-chain.js';
import { auditFileName } from './audit-file-name.js';
import { AuditFileWriter } from './audit-file-writer.js';
import { auditTradingDay } from './audit-trading-day.js';
import { recoverAuditDir, type AuditRecovery } from './recover-audit-dir.js';

/** Where and how an audit trail is written. */
export interface AuditTrailOptions {
  readonly dir: string;
  /** `daily`: a new file when the trading day of ts_init changes; `size`: only by size. */
  readonly rotate: 'daily' | 'size';
  /** A new file before a block would take the current one past this many bytes (both modes); a single larger block gets a file of its own. */
  readonly maxFileBytes: number;
  readonly logger: Logger;
}

/**
 * A file's sync marker, derived from its name and the hash its chain starts
 * from instead of drawn at random (Avro only needs it unlikely to occur in
 * the data), so that the same records at the same times give the same
 * bytes, as replays do everywhere else in tickflow.
 */
const MICROS_PER_DAY = 86_400_000_000;
/** 18:00 in UTC+8, the hour a trading day ends (see `auditTradingDay`), as an offset from UTC midnight. */
const DAY_END_UTC = 10 * 3_600_000_000;

function syncMarker(name: string, prevHash: Buffer): Buffer {
  return hash('sha256', Buffer.concat([Buffer.from(`tickflow audit sync ${name}\0`, 'utf8'), prevHash]), 'buffer').subarray(0, 16);
}

/**
 * The audit trail of one directory: recovers where it ended, then appends
 * group commits to it, one write and one fdatasync per file touched,
 * rotating files by trading day or size and continuing the hash chain
 * across files. Calls to `write` and `append` must not overlap.
 *
 * @example
 * ```ts
 * const payload = Buffer.from([2]); // in the audit sink, the record's Avro encoding
 * const trail = await AuditTrailWriter.open({ dir: 'out/audit', rotate: 'daily', maxFileBytes: 256 << 20, logger: ctx.logger });
 * const written = await trail.append([{ tsInit: 1_735_822_800_000_000, recordType: 'tickflow.Tick', payload }]);
 * console.log(written[0]?.seq);
 * await trail.close();
 * // Logs: 1   (on an empty directory)
 * ```
 */
export class AuditTrailWriter {
  private file: { readonly writer: AuditFileWriter; readonly index: number; readonly day: string } | undefined;
  /** Records for the current file, linked and not yet written: the next block, gathered from these buffers. */
  private readonly queued: Buffer[] = [];
  private queuedCount = 0;
  private queuedBytes = 0;
  private broken: Error | undefined;
  /** The trading day of the last ts_init asked for, which holds for ts_init in `[dayFrom, dayUntil)`. */
  private lastDay = '';
  private dayFrom = Number.NaN;
  private dayUntil = Number.NaN;

  private constructor(
    private readonly options: AuditTrailOptions,
    private readonly chain: AuditChain,
    private nextIndex: number,
  ) {}

  /** Recovers the trail in `options.dir` (see `recoverAuditDir`) and gets ready to append. */
  static async open(options: AuditTrailOptions): Promise<AuditTrailWriter> {
    const recovery: AuditRecovery = await recoverAuditDir(options.dir, options.logger);
    const trail = new AuditTrailWriter(options, new AuditChain(recovery.seq, recovery.hash), recovery.nextIndex);
    const current = recovery.current;
    if (current !== undefined) {
      trail.file = {
        writer: await AuditFileWriter.reopen(current.path, current.sync, current.end, current.records),
        index: current.index,
        day: current.day,
      };
    }
    options.logger.info(
      { dir: options.dir, seq: recovery.seq, file: trail.file?.writer.name },
      `audit trail in ${options.dir} continues after seq ${recovery.seq}`,
    );
    return trail;
  }

  /** `seq` of the last record written (or recovered); the next block starts after it. */
  get lastSeq(): number {
    return this.chain.lastSeq;
  }

  /**
   * Appends `entries`, whose payloads are already encoded, and resolves, with
   * their AuditRecords, once they are on disk (see {@link AuditTrailWriter.write}).
   */
  async append(entries: readonly AuditEntry[]): Promise<AuditRecord[]> {
    const block = new AuditBlock(this.chain.lastSeq + 1);
    for (const entry of entries) block.addEncoded(entry.tsInit, entry.recordType, entry.payload);
    await this.write([{ block, from: 0, to: block.count }]);
    return Array.from({ length: block.count }, (_, i) => block.record(i));
  }

  /**
   * Links and writes the records `[from, to)` of each part's block (parts
   * that continue the trail: the first record has seq `lastSeq + 1`, each
   * part follows the last) and resolves once they are on disk: one Avro
   * block, one write and one fdatasync per file they go to. After a failure
   * the trail refuses further writes: what reached the disk is unknown (a
   * failed fsync may have dropped dirty pages), and only recovery from the
   * files on disk can tell.
   */
  async write(parts: readonly { readonly block: AuditBlock; readonly from: number; readonly to: number }[]): Promise<void> {
    if (this.broken !== undefined) throw this.broken;
    try {
      for (const { block, from: start, to: end } of parts) {
        let from = start;
        // Bounded: each round takes at least one record of the part.
        while (from < end) {
          const day = this.dayOf(block.tsInit(from));
          let to = from + 1;
          if (this.options.rotate === 'daily') while (to < end && this.dayOf(block.tsInit(to)) === day) to++;
          else to = end;
          this.chain.link(block, from, to);
          const bytes = block.bytes(from, to);
          await this.fileFor(day, to - from, bytes.length, block, from);
          this.queued.push(bytes);
          this.queuedCount += to - from;
          this.queuedBytes += bytes.length;
          from = to;
        }
      }
      await this.flush();
    } catch (error) {
      this.broken = error as Error;
      throw error;
    }
  }

  async close(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    this.broken ??= new Error('audit trail closed');
    await file?.writer.close();
  }

  /** Writes the queued records to the current file as one block: one write, one fdatasync. */
  private async flush(): Promise<void> {
    if (this.queuedCount === 0 || this.file === undefined) return;
    await this.file.writer.appendBlock(this.queuedCount, this.queued);
    this.queued.length = 0;
    this.queuedCount = 0;
    this.queuedBytes = 0;
  }

  /**
   * Makes the current file the one for a block of `count` records in `bytes`
   * bytes starting at record `from` of `block`: the same, or a new one when
   * the day changed or the block would take it past the limit (after
   * writing what is queued for the old one).
   */
  private async fileFor(day: string, count: number, bytes: number, block: AuditBlock, from: number): Promise<void> {
    const current = this.file;
    if (current !== undefined) {
      const dayChanged = this.options.rotate === 'daily' && current.day !== day;
      const tooBig =
        (current.writer.records > 0 || this.queuedCount > 0) &&
        current.writer.sizeAfter(this.queuedCount + count, this.queuedBytes + bytes) > this.options.maxFileBytes;
      if (!dayChanged && !tooBig) return;
      await this.flush();
      this.file = undefined;
      await current.writer.close();
      this.nextIndex = current.index + 1;
      this.options.logger.info(
        { closed: current.writer.name, records: current.writer.records, bytes: current.writer.size },
        `audit: rotating after ${current.writer.name} (${dayChanged ? 'new trading day' : 'size limit'})`,
      );
    }
    const name = auditFileName.format(this.nextIndex, day);
    const writer = await AuditFileWriter.create(join(this.options.dir, name), syncMarker(name, block.record(from).prev_hash));
    this.file = { writer, index: this.nextIndex, day };
  }

  private dayOf(tsInit: number): string {
    // Records come in time order and a trading day is the span from one 18:00 (UTC+8) to the next: one computation per day.
    if (!(tsInit >= this.dayFrom && tsInit < this.dayUntil)) {
      this.lastDay = auditTradingDay(tsInit);
      this.dayFrom = Math.floor((tsInit - DAY_END_UTC) / MICROS_PER_DAY) * MICROS_PER_DAY + DAY_END_UTC;
      this.dayUntil = this.dayFrom + MICROS_PER_DAY;
    }
    return this.lastDay;
  }
}
