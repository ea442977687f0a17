import type { ChainableCommander } from 'ioredis';
import type { QuoteBook } from '../../protocols/diff/quote-book.js';
import { appendTicksScript } from './append-ticks-script.js';
import { BatchQuoteChanges } from './batch-quote-changes.js';
import type { OwedWrites } from './owed-writes.js';
import type { PendingWrites } from './pending-writes.js';
import type { QuoteHashCommands } from './quote-hash-commands.js';
import type { RedisKeys } from './redis-keys.js';
import type { TickStreamEncoder } from './tick-stream-encoder.js';
import type { BatchPart, WriteBatch } from './write-batch.js';
import type { TickEntry, WriteEntry } from './write-entry.js';

/**
 * Most ticks one script call appends. Redis runs a script without serving
 * other clients, at about 2-3 µs an entry here: 500 keep that under about
 * 1.5 ms however large a batch one instrument fills.
 */
const TICKS_PER_SCRIPT = 500;

/** What the planner needs besides the state it plans from. */
export interface BatchPlannerOptions {
  readonly keys: RedisKeys;
  readonly encoder: TickStreamEncoder;
  readonly book: QuoteBook;
  readonly hashes: QuoteHashCommands;
  /** Most records (and full rewrites) in one batch. */
  readonly batchSize: number;
  /** Approximate length each tick stream is trimmed to. */
  readonly historyMaxLen: number;
}

/**
 * Plans the `redis` sink's next batch into a pipeline: first what is owed
 * (the instruments set and the schema, full rewrites of dirty quotes), then
 * up to `batchSize` records in order, grouped by instrument: per instrument
 * one merged hash write ({@link BatchQuoteChanges}) and one script call per
 * 500 ticks that appends them ({@link appendTicksScript}). So Node builds a
 * few commands per batch and instrument, not one or more per record.
 */
export class BatchPlanner {
  private readonly maxLen: string;

  constructor(private readonly options: BatchPlannerOptions) {
    this.maxLen = String(options.historyMaxLen);
  }

  /** Takes what the batch carries from `owed` and `pending` and adds its commands to `pipeline`. */
  plan(pipeline: ChainableCommander, owed: OwedWrites, pending: PendingWrites<WriteEntry>): WriteBatch {
    const { keys, encoder, hashes, batchSize } = this.options;
    const parts: BatchPart[] = [];
    let commands = 0;
    if (owed.unannounced.size > 0 || !owed.schemaStored) {
      const members = [...owed.unannounced];
      owed.unannounced.clear();
      const first = commands;
      if (members.length > 0) {
        pipeline.call('SADD', [keys.instruments, ...members]);
        commands++;
      }
      const schema = !owed.schemaStored;
      if (schema) {
        pipeline.call('SET', [keys.schema(encoder.fingerprint), encoder.schemaJson]);
        owed.schemaStored = true;
        commands++;
      }
      parts.push({ kind: 'announce', members, schema, first, count: commands - first });
    }
    // A rewrite counts like a record against the batch size.
    let size = 0;
    for (const id of owed.dirty) {
      if (size >= batchSize) break;
      owed.dirty.delete(id);
      const count = hashes.rewrite(pipeline, id);
      parts.push({ kind: 'rewrite', instrumentId: id, first: commands, count });
      commands += count;
      size++;
    }
    // Records only once every rewrite is out, so none of them lands before the rewrite that covers it.
    const entries: WriteEntry[] = [];
    const quotes = new Map<string, BatchQuoteChanges>();
    const ticks = new Map<string, TickEntry[]>();
    let bytes = 0;
    for (let guard = pending.length; guard > 0 && size < batchSize && owed.dirty.size === 0; guard--) {
      const entry = pending.shift();
      if (entry === undefined) break;
      entries.push(entry);
      bytes += entry.bytes;
      size++;
      const id = entry.instrumentId;
      if (entry.kind === 'tick') {
        const group = ticks.get(id);
        if (group === undefined) ticks.set(id, [entry]);
        else group.push(entry);
        continue;
      }
      let group = quotes.get(id);
      if (group === undefined) quotes.set(id, (group = new BatchQuoteChanges(this.options.book)));
      group.add(entry);
    }
    for (const [instrumentId, group] of quotes) {
      const { whole, patch } = group.finish();
      // A first quote is written whole, so that fields a previous run left in the hash are deleted.
      const count = whole ? hashes.rewrite(pipeline, instrumentId) : patch === undefined ? 0 : hashes.patch(pipeline, instrumentId, patch);
      parts.push({ kind: 'quotes', instrumentId, entries: group.entries, first: commands, count });
      commands += count;
    }
    for (const [instrumentId, group] of ticks) {
      const count = this.appendTicks(pipeline, instrumentId, group);
      parts.push({ kind: 'ticks', instrumentId, entries: group, first: commands, count });
      commands += count;
    }
    return { parts, entries, bytes, answered: Promise.resolve() };
  }

  /**
   * One script call per {@link TICKS_PER_SCRIPT} ticks of the instrument, in
   * order, their values in one argument, each behind its 4-byte length.
   */
  private appendTicks(pipeline: ChainableCommander, instrumentId: string, group: readonly TickEntry[]): number {
    const key = this.options.keys.ticks(instrumentId);
    let count = 0;
    for (let from = 0; from < group.length; from += TICKS_PER_SCRIPT) {
      const to = Math.min(group.length, from + TICKS_PER_SCRIPT);
      let size = 0;
      for (let i = from; i < to; i++) {
        const entry = group[i] as TickEntry;
        size += 4 + entry.end - entry.start;
      }
      const values = Buffer.allocUnsafe(size);
      let at = 0;
      for (let i = from; i < to; i++) {
        const { slab, start, end } = group[i] as TickEntry;
        const length = end - start;
        values[at] = length & 0xff;
        values[at + 1] = (length >>> 8) & 0xff;
        values[at + 2] = (length >>> 16) & 0xff;
        values[at + 3] = length >>> 24;
        at = slab.copy(values, at + 4, start, end) + at + 4;
      }
      pipeline.call('EVAL', [appendTicksScript, '1', key, this.maxLen, values]);
      count++;
    }
    return count;
  }
}
