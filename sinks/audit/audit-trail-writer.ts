import { hash } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AuditRecord } from '../../schemas/generated.js';
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
function syncMarker(name: string, prevHash: Buffer): Buffer {
  return hash('sha256', Buffer.concat([Buffer.from(`tickflow audit sync ${name}\0`, 'utf8'), prevHash]), 'buffer').subarray(0, 16);
}

/**
 * The audit trail of one directory: recovers where it ended, then appends
 * group commits to it, one block (one write and one fdatasync) per file
 * touched, rotating files by trading day or size and continuing the hash
 * chain across files. Calls to `append` must not overlap.
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
  private broken: Error | undefined;
  private lastTs = Number.NaN;
  private lastDay = '';

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

  /** `seq` of the last record appended (or recovered). */
  get lastSeq(): number {
    return this.chain.lastSeq;
  }

  /**
   * Appends `entries` and resolves, with their AuditRecords, once they are
   * on disk. After a failure the trail refuses further appends: what reached
   * the disk is unknown (a failed fsync may have dropped dirty pages), and
   * only recovery from the files on disk can tell.
   */
  async append(entries: readonly AuditEntry[]): Promise<AuditRecord[]> {
    if (this.broken !== undefined) throw this.broken;
    try {
      const written: AuditRecord[] = [];
      let from = 0;
      // Bounded: each round writes at least one entry.
      while (from < entries.length) {
        const day = this.dayOf((entries[from] as AuditEntry).tsInit);
        let to = from + 1;
        if (this.options.rotate === 'daily') while (to < entries.length && this.dayOf((entries[to] as AuditEntry).tsInit) === day) to++;
        else to = entries.length;
        const { bytes, records } = this.chain.encode(entries, from, to);
        const file = await this.fileFor(day, to - from, bytes.length, (records[0] as AuditRecord).prev_hash);
        await file.appendBlock(to - from, bytes);
        for (const record of records) written.push(record);
        from = to;
      }
      return written;
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

  /** The file a block of `count` records in `bytes` bytes goes to: the current one, or a new one when the day changed or the block would take it past the limit. */
  private async fileFor(day: string, count: number, bytes: number, prevHash: Buffer): Promise<AuditFileWriter> {
    const current = this.file;
    if (current !== undefined) {
      const dayChanged = this.options.rotate === 'daily' && current.day !== day;
      const tooBig = current.writer.records > 0 && current.writer.sizeAfter(count, bytes) > this.options.maxFileBytes;
      if (!dayChanged && !tooBig) return current.writer;
      this.file = undefined;
      await current.writer.close();
      this.nextIndex = current.index + 1;
      this.options.logger.info(
        { closed: current.writer.name, records: current.writer.records, bytes: current.writer.size },
        `audit: rotating after ${current.writer.name} (${dayChanged ? 'new trading day' : 'size limit'})`,
      );
    }
    const name = auditFileName.format(this.nextIndex, day);
    const writer = await AuditFileWriter.create(join(this.options.dir, name), syncMarker(name, prevHash));
    this.file = { writer, index: this.nextIndex, day };
    return writer;
  }

  private dayOf(tsInit: number): string {
    // Records come in time order, so the day is computed once per change of ts_init.
    if (tsInit !== this.lastTs) {
      this.lastTs = tsInit;
      this.lastDay = auditTradingDay(tsInit);
    }
    return this.lastDay;
  }
}
