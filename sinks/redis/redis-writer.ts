import { Redis, type ChainableCommander } from 'ioredis';
import type { Logger } from 'pino';
import type { SchedulerLike, Subscription } from 'rxjs';
import { DiffQuoteFields } from '../../protocols/diff/diff-quote-fields.js';
import type { RetryPolicy } from '../../pipeline/runtime/retry-policy.js';
import type { CounterSeries, GaugeSeries, StageMetrics } from '../../pipeline/runtime/stage-metrics.js';
import type { QuoteDiff, Tick } from '../../schemas/generated.js';
import { QuoteBook, type QuoteChange, type QuoteValue } from '../../protocols/diff/quote-book.js';
import { appendTicksScript } from './append-ticks-script.js';
import { PendingWrites } from './pending-writes.js';
import { redactedUrl } from './redacted-url.js';
import type { RedisKeys } from './redis-keys.js';
import type { TickStreamEncoder } from './tick-stream-encoder.js';

/** What the writer needs; the sink builds it from its config and context. */
export interface RedisWriterOptions {
  readonly url: string;
  readonly keys: RedisKeys;
  /** Encodes each tick into the value its stream entry holds (Avro single-object encoding). */
  readonly encoder: TickStreamEncoder;
  /** Approximate length each tick stream is trimmed to. */
  readonly historyMaxLen: number;
  /** Also PUBLISH each quote change. */
  readonly publish: boolean;
  /** Most records (and full rewrites) in one batch, one round trip. */
  readonly batchSize: number;
  /** How long a batch collects records before it is sent, on `scheduler`. */
  readonly flushIntervalMs: number;
  /** Most records held while Redis is unreachable or behind; beyond, the oldest are dropped. */
  readonly maxBuffered: number;
  /** Most estimated bytes of memory the held records may take; beyond, the oldest records are dropped. */
  readonly maxBufferedBytes: number;
  /** How long `close()` keeps writing what it owes (reconnecting at once if need be) before dropping the rest. */
  readonly closeTimeoutMs: number;
  /** Reconnect delays. */
  readonly retry: RetryPolicy;
  /** Shown by CLIENT LIST, to tell the sink's connection apart. */
  readonly connectionName: string;
  readonly scheduler: SchedulerLike;
  readonly logger: Logger;
  readonly stageMetrics: StageMetrics;
  /** The sink's own metrics (declared by its definition), updated once per batch, not per record, to keep the hot path cheap. */
  readonly metrics: {
    readonly commands: CounterSeries;
    readonly buffered: GaugeSeries;
    readonly bufferedBytes: GaugeSeries;
    readonly reconnects: CounterSeries;
  };
}

interface QuoteEntry {
  readonly kind: 'quote';
  /** Resolves the promise its write returned: once the commands that carry it were answered, or once it was dropped. */
  readonly acknowledge: () => void;
  readonly instrumentId: string;
  /** The change; applied to the book when its batch is planned (or when it is dropped), not before. */
  readonly diff: QuoteDiff;
  /** Counts once against `maxBuffered`. */
  readonly weight: 1;
  /** Estimated bytes of memory it holds (see {@link QUOTE_ENTRY_BYTES}). */
  readonly bytes: number;
}

interface TickEntry {
  readonly kind: 'tick';
  readonly acknowledge: () => void;
  readonly instrumentId: string;
  /** The tick's stream value (Avro single-object encoding), encoded when it was written, a view of a shared slab: the Tick itself is not kept. */
  readonly body: Buffer;
  readonly weight: 1;
  readonly bytes: number;
}

type Entry = QuoteEntry | TickEntry;

/** A quote change merged over an instrument's changes in one batch: the latest value of each field (null: unset), DIFF names. */
type MergedPatch = Record<string, QuoteValue | null>;

/** An instrument's quote changes of one batch while it is planned. */
interface QuoteGroup {
  readonly entries: QuoteEntry[];
  /** `changes` of a run of QuoteDiffs not applied to the book yet, Tick names, the later value of a field winning. */
  changes: Record<string, null | number | string> | undefined;
  /** The last QuoteDiff of that run. */
  last: QuoteDiff | undefined;
  /** What the changes applied so far did to the hash, merged. */
  patch: MergedPatch | undefined;
  /** The instrument was new to the book: its hash is written in full. */
  whole: boolean;
}

/**
 * The commands of one batch that belong to one purpose, `first` to
 * `first + count - 1`: the instruments set and the schema, a full rewrite,
 * or the records of one instrument — its quote changes merged into one hash
 * write (no command when none changed anything), or its ticks in one script call.
 */
type Part =
  | {
      readonly kind: 'announce';
      readonly members: readonly string[];
      readonly schema: boolean;
      readonly first: number;
      readonly count: number;
    }
  | { readonly kind: 'rewrite'; readonly instrumentId: string; readonly first: number; readonly count: number }
  | {
      readonly kind: 'quotes';
      readonly instrumentId: string;
      readonly entries: readonly QuoteEntry[];
      readonly first: number;
      readonly count: number;
    }
  | {
      readonly kind: 'ticks';
      readonly instrumentId: string;
      readonly entries: readonly TickEntry[];
      readonly first: number;
      readonly count: number;
    };

interface Batch {
  readonly parts: readonly Part[];
  /** The records it carries, in the order they came: what goes back in front, in order, when its connection is lost. */
  readonly entries: readonly Entry[];
  /** Estimated bytes of memory its records hold. */
  readonly bytes: number;
  /** Settles once the batch's replies (or its failure) have been handled. */
  answered: Promise<void>;
}

/** `[error, reply]` per command, as ioredis resolves a pipeline. */
type PipelineResults = readonly (readonly [Error | null, unknown])[];

const DIFF_KEYS: readonly string[] = Object.values(DiffQuoteFields.keyOf);
/**
 * Most ticks one script call appends. Redis runs a script without serving
 * other clients, at about 2-3 µs an entry here: 500 keep that under about
 * 1.5 ms however large a batch one instrument fills.
 */
const TICKS_PER_SCRIPT = 500;
/** The Tick field a QuoteDiff's event time travels in, within its changes. */
const TS_EVENT = 'ts_event';
/**
 * A server that does not answer QUIT within this is disconnected anyway. At
 * the close timeout it also bounds the wait for the batch in flight, whose
 * replies come before QUIT's: so a close takes at most `closeTimeoutMs` plus this.
 */
const QUIT_TIMEOUT_MS = 1000;
/**
 * While closing, reconnect attempts are at most this far apart: a Redis that
 * came back is written to within the close timeout, not after the long
 * delay an outage grew the retry policy's backoff to.
 */
const CLOSING_RETRY_MS = 100;
/**
 * Estimated bytes of memory one buffered tick holds until it is
 * acknowledged: the Tick record (about 40 fields, about 776 bytes, held by
 * the stage for its acknowledgement), its encoding (about 285 bytes of a
 * slab, outside the V8 heap), the view of it (about 100) and its entry and
 * promise (about 250). Measured at 1,597 bytes (heap and Buffers) with ticks
 * of the simulated market; the spec checks the estimate against that.
 */
const TICK_ENTRY_BYTES = 1500;
/**
 * Estimated bytes of memory one buffered quote change holds: its entry and
 * QuoteDiff, plus {@link QUOTE_FIELD_BYTES} for each field of its `changes`.
 */
const QUOTE_ENTRY_BYTES = 100;
const QUOTE_FIELD_BYTES = 40;
/** Refusals by Redis are logged one by one at first, then every thousandth, so a misconfigured server cannot flood the log. */
const shouldLog = (count: number): boolean => count <= 10 || count % 1000 === 0;
/** An error Redis replied with (WRONGTYPE, OOM, …), as opposed to a lost connection: retrying the same command will not help. */
const isReplyError = (error: Error): boolean => error.name === 'ReplyError';

/**
 * Writes quotes and ticks to Redis for the `redis` sink, in pipelined
 * batches over one ioredis connection, and keeps the latest quotes correct
 * across lost connections, Redis restarts and dropped records.
 *
 * A batch costs Node a few commands per instrument, not one or more per
 * record: ioredis spends about 12 µs of CPU on each command it builds, sends
 * and answers, which capped a command per record near 60 k records/s. So an
 * instrument's quote changes in a batch are merged into one HSET of the
 * fields they changed (each at its latest value) and one HDEL of the fields
 * they unset (and one PUBLISH of the merged patch), and its ticks — each
 * encoded to Avro when written — go out as one script call that appends
 * them in order ({@link appendTicksScript}). The changes are applied to the
 * writer's book of latest quotes when their batch is planned, merged too:
 * consecutive QuoteDiffs that carry their `ts_event` are applied as one (the
 * book ends the same as applying them one by one), so the book costs a
 * little per instrument and batch rather than per record.
 *
 * One batch is in flight at a time, so an instrument's writes reach Redis in
 * the order its records came. While Redis is unreachable, records wait in a FIFO bounded
 * by `maxBuffered` records and by `maxBufferedBytes` of estimated memory;
 * beyond either the oldest are dropped (counted and acknowledged). ioredis's
 * own offline queue is off, so this FIFO is the only buffer.
 *
 * Hash correctness rests on the writer's own book of latest quotes, which
 * holds every change planned into a batch or dropped: an instrument whose
 * hash may be wrong — a dropped change, a batch lost with its connection, a
 * reconnect (the server may have restarted empty) — is marked dirty and
 * rewritten in full from the book (HSET of every set field, HDEL of every
 * unset one) ahead of the next records; a first quote is written in full in
 * its own batch, so that fields a previous run left in the hash go. Changes
 * of a lost batch are queued again; the book already holds them, so they
 * are acknowledged with the batch that carries the rewrite. Tick entries
 * whose replies were lost with the connection are sent again, so a stream
 * entry may, rarely, appear twice (at least once); a refused command (a
 * reply error) is logged and its records dropped, never retried.
 *
 * `close()` writes what is owed — rewrites first — for `closeTimeoutMs`.
 * When the connection is waiting out a reconnect delay then (an outage grows
 * it to seconds), it connects at once, and retries often until the timeout:
 * a Redis that came back just before the end still gets every hash. At the
 * timeout it sends nothing more, waits (bounded) for the batch in flight, and
 * logs exactly how many quote hashes lack changes it holds or a rewrite it
 * owes, apart from those it cannot confirm.
 */
export class RedisWriter {
  private client: Redis;
  private readonly book = new QuoteBook();
  private readonly pending = new PendingWrites<Entry>();
  /** Instruments whose hash must be rewritten in full, in the order they became dirty. */
  private readonly dirty = new Set<string>();
  /** Instruments not yet added to the instruments set on the current connection. */
  private readonly unannounced = new Set<string>();
  private readonly known = new Set<string>();
  /** Instruments whose last quote write Redis refused (not retried): their hash is stale until a rewrite is written. */
  private readonly refusedQuotes = new Set<string>();
  private readonly maxLen: string;
  private readonly url: string;
  /** Whether the schema the stream entries name was stored on the current connection. */
  private schemaStored = false;
  private inFlight: Batch | undefined;
  private flushTimer: Subscription | undefined;
  private closeTimer: Subscription | undefined;
  private everReady = false;
  /** Scheduler time the connection was lost (or first failed), while it is. */
  private downSince: number | undefined;
  /** Records dropped since the buffer last overflowed, while it has not drained. */
  private droppedInEpisode: number | undefined;
  private refused = 0;
  private state: 'open' | 'closing' | 'closed' = 'open';
  /** Whether the close timeout passed: nothing more is sent, the batch in flight may still be answered. */
  private timedOut = false;
  private closed: Promise<void> | undefined;
  private resolveClosed: (() => void) | undefined;

  constructor(private readonly options: RedisWriterOptions) {
    this.maxLen = String(options.historyMaxLen);
    this.url = redactedUrl(options.url);
    this.client = this.connect();
  }

  /**
   * Queues a quote change: its batch writes the fields that really changed (merged with the instrument's other changes in
   * that batch), and publishes them. Resolves once Redis answered those commands, or once it was dropped; writes resolve in
   * their order.
   */
  writeQuote(diff: QuoteDiff): Promise<void> {
    const instrumentId = diff.instrument_id;
    const bytes = QUOTE_ENTRY_BYTES + QUOTE_FIELD_BYTES * fieldCount(diff.changes);
    this.see(instrumentId);
    return new Promise((acknowledge) => this.enqueue({ kind: 'quote', acknowledge, instrumentId, diff, weight: 1, bytes }));
  }

  /**
   * Encodes a tick to Avro at once (so a record the schema cannot encode
   * fails the write, not a later batch) and queues its stream entry;
   * resolves like {@link writeQuote}.
   */
  writeTick(tick: Tick): Promise<void> {
    const instrumentId = tick.instrument_id;
    const body = this.options.encoder.encode(tick);
    this.see(instrumentId);
    return new Promise((acknowledge) =>
      this.enqueue({ kind: 'tick', acknowledge, instrumentId, body, weight: 1, bytes: TICK_ENTRY_BYTES }),
    );
  }

  /**
   * Writes what is held and the rewrites it owes, then quits the connection.
   * A connection waiting to reconnect connects at once. Resolves when done,
   * or, after `closeTimeoutMs` (plus at most {@link QUIT_TIMEOUT_MS} for the
   * batch in flight), once what could not be written was dropped (counted,
   * acknowledged and logged with the exact number of stale quote hashes).
   */
  close(): Promise<void> {
    if (this.closed !== undefined) return this.closed;
    this.closed = new Promise<void>((resolve) => (this.resolveClosed = resolve));
    if (this.state === 'closed') {
      this.resolveClosed?.();
      return this.closed;
    }
    this.state = 'closing';
    this.closeTimer = this.options.scheduler.schedule(() => this.giveUp(), this.options.closeTimeoutMs);
    // 'reconnecting' waits out a retry delay, which a long outage grew past the close timeout; 'end' gave up.
    if (this.client.status === 'reconnecting' || this.client.status === 'end') this.reconnectNow();
    this.flush();
    return this.closed;
  }

  /** A client whose events reach the writer only while it is the current one. */
  private connect(): Redis {
    const client = new Redis(this.options.url, {
      // Records wait in our own bounded FIFO while Redis is away, not in an unbounded ioredis queue.
      enableOfflineQueue: false,
      // Commands lost with a connection are rejected at once, so the batch they belong to can be re-planned.
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (attempt) => this.reconnectDelay(attempt),
      connectionName: this.options.connectionName,
    });
    client.on('ready', () => {
      if (client === this.client) this.onReady();
    });
    client.on('error', (error: Error) => {
      if (client === this.client) this.onLost(error.message);
    });
    client.on('close', () => {
      if (client === this.client) this.onLost('connection closed');
    });
    return client;
  }

  private reconnectDelay(attempt: number): number | null {
    if (!this.options.retry.shouldRetry(attempt, undefined)) return null;
    const delay = this.options.retry.delayMs(attempt);
    return this.state === 'closing' ? Math.min(delay, CLOSING_RETRY_MS) : delay;
  }

  /** Replaces a client that waits to reconnect (or gave up) with one that connects now; the old one is let go. */
  private reconnectNow(): void {
    const waiting = this.client;
    this.client = this.connect();
    // Clears its pending reconnect; its events no longer reach the writer.
    waiting.disconnect();
    this.options.logger.info(
      { url: this.url },
      `redis: closing; connecting to ${this.url} now rather than after the retry delay, to write what is owed`,
    );
  }

  private see(id: string): void {
    if (this.known.has(id)) return;
    this.known.add(id);
    this.unannounced.add(id);
  }

  private overBound(): boolean {
    return this.pending.weight > this.options.maxBuffered || this.pending.bytes > this.options.maxBufferedBytes;
  }

  private enqueue(entry: Entry): void {
    if (this.state === 'closed') return;
    this.pending.push(entry);
    if (this.overBound()) this.dropOldest();
    if (this.client.status !== 'ready') {
      // No batch will update the gauge while Redis is away; the backlog must show meanwhile.
      this.reportBuffered();
      return;
    }
    if (this.inFlight !== undefined || this.flushTimer !== undefined) return;
    if (this.pending.weight >= this.options.batchSize) this.flush();
    else this.flushTimer = this.options.scheduler.schedule(() => this.flush(), this.options.flushIntervalMs);
  }

  /** Drops the oldest records until the buffer is within both its bounds again. */
  private dropOldest(): void {
    const reason = this.client.status === 'ready' ? 'redis-backlog' : 'redis-unavailable';
    const bound =
      this.pending.weight > this.options.maxBuffered
        ? `${this.options.maxBuffered} buffered records`
        : `${this.options.maxBufferedBytes} bytes of buffered records (estimated)`;
    let dropped = 0;
    // Bounded by the records held: each turn removes one.
    for (let guard = this.pending.length; guard > 0 && this.overBound(); guard--) {
      const entry = this.pending.shift();
      if (entry === undefined) break;
      // The change is lost; the book takes it, and a full rewrite from the book keeps the hash right anyway.
      if (entry.kind === 'quote' && this.book.apply(entry.diff) !== undefined) this.dirty.add(entry.instrumentId);
      dropped++;
      entry.acknowledge();
    }
    if (dropped === 0) return;
    this.options.stageMetrics.dropped(reason, dropped);
    if (this.droppedInEpisode === undefined) {
      this.droppedInEpisode = 0;
      this.options.logger.warn(
        { url: this.url, maxBuffered: this.options.maxBuffered, maxBufferedBytes: this.options.maxBufferedBytes, reason },
        `redis: ${bound} reached ${reason === 'redis-unavailable' ? 'while Redis is unreachable' : 'because Redis is not keeping up'}; ` +
          `dropping the oldest records (counted as dropped, reason ${reason}) until it catches up; latest quotes are rewritten in full afterwards`,
      );
    }
    this.droppedInEpisode += dropped;
  }

  private onReady(): void {
    if (this.state === 'closed') return;
    const downForMs = this.downSince === undefined ? 0 : Math.round(this.options.scheduler.now() - this.downSince);
    this.downSince = undefined;
    if (this.everReady) {
      this.options.metrics.reconnects.inc();
      // The server may have restarted empty, or lost writes whose replies we never saw: rewrite every hash, the set and the schema.
      for (const id of this.book.instruments()) this.dirty.add(id);
      this.schemaStored = false;
      for (const id of this.known) this.unannounced.add(id);
      this.options.logger.info(
        { url: this.url, downForMs, buffered: this.pending.weight, bufferedBytes: this.pending.bytes },
        `redis: reconnected to ${this.url} after ${downForMs} ms; rewriting ${this.dirty.size} quotes in full`,
      );
    } else {
      this.everReady = true;
      this.options.logger.info({ url: this.url }, `redis sink writing to ${this.url}`);
    }
    this.flush();
  }

  private onLost(detail: string): void {
    if (this.state === 'closed') return;
    if (this.downSince !== undefined) {
      this.options.logger.debug({ url: this.url, detail }, 'redis: still unreachable');
      return;
    }
    // 'error' and 'close' both report one loss; the first of them opens the outage, which the next 'ready' ends.
    if (this.client.status === 'ready') return;
    this.downSince = this.options.scheduler.now();
    // Records that came while the connection still looked ready wait for a window that will not send them: show them now.
    this.reportBuffered();
    this.options.logger.warn(
      { url: this.url, detail, maxBuffered: this.options.maxBuffered, maxBufferedBytes: this.options.maxBufferedBytes },
      `redis: ${this.everReady ? 'lost the connection to' : 'cannot connect to'} ${this.url} (${detail}); ` +
        `buffering up to ${this.options.maxBuffered} records or ${this.options.maxBufferedBytes} bytes and reconnecting`,
    );
  }

  /** Sets the backlog gauges: what waits for the next batch and what was sent but is not answered yet (Redis may be away). */
  private reportBuffered(): void {
    this.options.metrics.buffered.set(this.pending.weight + (this.inFlight?.entries.length ?? 0));
    this.options.metrics.bufferedBytes.set(this.pending.bytes + (this.inFlight?.bytes ?? 0));
  }

  /**
   * Sends the next batch: the instruments set and the schema, full rewrites
   * of dirty quotes, then up to `batchSize` records in order, grouped by
   * instrument: per instrument one merged hash write and one script call
   * that appends its ticks.
   */
  private flush(): void {
    this.flushTimer?.unsubscribe();
    this.flushTimer = undefined;
    if (this.inFlight !== undefined || this.state === 'closed' || this.timedOut || this.client.status !== 'ready') return;
    if (this.pending.length === 0 && this.dirty.size === 0 && this.unannounced.size === 0) return this.finishIfDrained();
    const pipeline = this.client.pipeline();
    const parts: Part[] = [];
    let commands = 0;
    if (this.unannounced.size > 0 || !this.schemaStored) {
      const members = [...this.unannounced];
      this.unannounced.clear();
      const first = commands;
      if (members.length > 0) {
        pipeline.call('SADD', [this.options.keys.instruments, ...members]);
        commands++;
      }
      const schema = !this.schemaStored;
      if (schema) {
        const { encoder } = this.options;
        pipeline.call('SET', [this.options.keys.schema(encoder.fingerprint), encoder.schemaJson]);
        this.schemaStored = true;
        commands++;
      }
      parts.push({ kind: 'announce', members, schema, first, count: commands - first });
    }
    // A rewrite counts like a record against the batch size.
    let size = 0;
    for (const id of this.dirty) {
      if (size >= this.options.batchSize) break;
      this.dirty.delete(id);
      const count = this.rewrite(pipeline, id);
      parts.push({ kind: 'rewrite', instrumentId: id, first: commands, count });
      commands += count;
      size++;
    }
    // Records only once every rewrite is out, so none of them lands before the rewrite that covers it.
    const entries: Entry[] = [];
    const quotes = new Map<string, QuoteGroup>();
    const ticks = new Map<string, TickEntry[]>();
    let bytes = 0;
    for (let guard = this.pending.length; guard > 0 && size < this.options.batchSize && this.dirty.size === 0; guard--) {
      const entry = this.pending.shift();
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
      if (group === undefined)
        quotes.set(id, (group = { entries: [], changes: undefined, last: undefined, patch: undefined, whole: false }));
      group.entries.push(entry);
      this.mergeChange(group, entry.diff);
    }
    for (const [instrumentId, group] of quotes) {
      this.applyMerged(group);
      // A first quote is written whole, so that fields a previous run left in the hash are deleted.
      const count = group.whole
        ? this.rewrite(pipeline, instrumentId)
        : group.patch === undefined
          ? 0
          : this.writePatch(pipeline, instrumentId, group.patch);
      parts.push({ kind: 'quotes', instrumentId, entries: group.entries, first: commands, count });
      commands += count;
    }
    for (const [instrumentId, group] of ticks) {
      const count = this.appendTicks(pipeline, instrumentId, group);
      parts.push({ kind: 'ticks', instrumentId, entries: group, first: commands, count });
      commands += count;
    }
    const batch: Batch = { parts, entries, bytes, answered: Promise.resolve() };
    this.inFlight = batch;
    this.reportBuffered();
    batch.answered = pipeline.exec().then(
      (results) => this.settle(batch, results ?? []),
      () => this.settle(batch, []),
    );
  }

  /** One script call per {@link TICKS_PER_SCRIPT} ticks of the instrument, in order. */
  private appendTicks(pipeline: ChainableCommander, instrumentId: string, group: readonly TickEntry[]): number {
    const key = this.options.keys.ticks(instrumentId);
    let count = 0;
    for (let from = 0; from < group.length; from += TICKS_PER_SCRIPT) {
      const args: (string | Buffer)[] = [appendTicksScript, '1', key, this.maxLen];
      const to = Math.min(group.length, from + TICKS_PER_SCRIPT);
      for (let i = from; i < to; i++) args.push((group[i] as TickEntry).body);
      pipeline.call('EVAL', args);
      count++;
    }
    return count;
  }

  /**
   * Adds a QuoteDiff to its instrument's run of unapplied changes. Applying
   * such a run as one QuoteDiff leaves the book as applying them one by one
   * would when each carries `ts_event` in its changes (as quote-diff's do):
   * every field ends at its last value, and the quote's time at the last
   * `ts_event`. One that does not carry it takes its time from the record,
   * only if it changes something, so it is applied on its own.
   */
  private mergeChange(group: QuoteGroup, diff: QuoteDiff): void {
    const { changes } = diff;
    if (typeof changes[TS_EVENT] !== 'number') {
      this.applyMerged(group);
      this.applyChange(group, this.book.apply(diff));
      return;
    }
    const merged = (group.changes ??= {});
    for (const field in changes) merged[field] = changes[field] as null | number | string;
    group.last = diff;
  }

  /** Applies the group's run of unapplied changes to the book as one QuoteDiff, and merges what it did into the group's patch. */
  private applyMerged(group: QuoteGroup): void {
    const { changes, last } = group;
    if (changes === undefined || last === undefined) return;
    group.changes = undefined;
    group.last = undefined;
    this.applyChange(
      group,
      this.book.apply({ instrument_id: last.instrument_id, ts_event: last.ts_event, sequence: last.sequence, changes }),
    );
  }

  private applyChange(group: QuoteGroup, change: QuoteChange | undefined): void {
    if (change === undefined) return;
    if (change.isNew) group.whole = true;
    const patch = (group.patch ??= {});
    for (const field in change.patch) patch[field] = change.patch[field] as QuoteValue | null;
  }

  /** HSET of every set field, HDEL of every unset DIFF field, and the full quote published: the hash is right whatever it held. */
  private rewrite(pipeline: ChainableCommander, id: string): number {
    const quote = this.book.quote(id);
    if (quote === undefined) return 0;
    const key = this.options.keys.quote(id);
    const sets: string[] = [key];
    for (const field in quote) sets.push(field, String(quote[field]));
    pipeline.call('HSET', sets);
    let count = 1;
    const deletes: string[] = [key];
    for (const field of DIFF_KEYS) if (!(field in quote)) deletes.push(field);
    if (deletes.length > 1) {
      pipeline.call('HDEL', deletes);
      count++;
    }
    if (this.options.publish) {
      pipeline.call('PUBLISH', [this.options.keys.quoteChannel(id), JSON.stringify(this.book.completeQuote(id))]);
      count++;
    }
    return count;
  }

  /** The instrument's changes of one batch, merged: HSET of the fields set, HDEL of those unset, PUBLISH of the merged patch. */
  private writePatch(pipeline: ChainableCommander, instrumentId: string, merged: MergedPatch): number {
    const key = this.options.keys.quote(instrumentId);
    let sets: string[] | undefined;
    let deletes: string[] | undefined;
    for (const field in merged) {
      const value = merged[field];
      if (value === null || value === undefined) (deletes ??= [key]).push(field);
      else (sets ??= [key]).push(field, String(value));
    }
    let count = 0;
    if (sets !== undefined) {
      pipeline.call('HSET', sets);
      count++;
    }
    if (deletes !== undefined) {
      pipeline.call('HDEL', deletes);
      count++;
    }
    if (this.options.publish) {
      pipeline.call('PUBLISH', [this.options.keys.quoteChannel(instrumentId), JSON.stringify(merged)]);
      count++;
    }
    return count;
  }

  /** Acknowledges what was written, re-plans what the connection lost, drops what Redis refused; then sends the next batch. */
  private settle(batch: Batch, results: PipelineResults): void {
    if (this.inFlight !== batch) return; // given up on meanwhile
    this.inFlight = undefined;
    let written = 0;
    let lost = false;
    let lostEntries: Set<Entry> | undefined;
    /** Records of parts without a command (covered by a rewrite, or changing nothing): written with the batch, or lost with it. */
    let carried: QuoteEntry[] | undefined;
    let refused = 0;
    for (const part of batch.parts) {
      let error: Error | undefined;
      let connectionLost = false;
      for (let i = part.first; i < part.first + part.count; i++) {
        const result = results[i];
        if (result === undefined) connectionLost = true;
        else if (result[0] === null) written++;
        else if (isReplyError(result[0])) error ??= result[0];
        else connectionLost = true;
      }
      lost ||= connectionLost;
      if (error !== undefined) this.logRefusal(part, error);
      switch (part.kind) {
        case 'announce':
          if (connectionLost) {
            for (const id of part.members) this.unannounced.add(id);
            if (part.schema) this.schemaStored = false;
          }
          break;
        case 'rewrite':
          // A refused rewrite is not retried: it would be refused again on every batch.
          if (connectionLost) this.dirty.add(part.instrumentId);
          else if (error !== undefined) this.refusedQuotes.add(part.instrumentId);
          else this.refusedQuotes.delete(part.instrumentId);
          break;
        case 'quotes':
        case 'ticks':
          if (connectionLost) {
            lostEntries ??= new Set();
            for (const entry of part.entries) lostEntries.add(entry);
            // The book holds these changes already: sent again they would change nothing, so a rewrite carries them.
            if (part.kind === 'quotes' && part.count > 0) this.dirty.add(part.instrumentId);
          } else if (error !== undefined) {
            refused += part.entries.length;
            if (part.kind === 'quotes') this.refusedQuotes.add(part.instrumentId);
          } else if (part.kind === 'quotes' && part.count === 0) {
            (carried ??= []).push(...part.entries);
          }
          break;
      }
    }
    if (carried !== undefined && lost) for (const entry of carried) (lostEntries ??= new Set()).add(entry);
    if (refused > 0) this.options.stageMetrics.dropped('redis-error', refused);
    // Acknowledged in the order the records came, whatever their port: the batch's parts are grouped by instrument, not by time.
    if (lostEntries === undefined) {
      for (const entry of batch.entries) entry.acknowledge();
    } else {
      const retry: Entry[] = [];
      for (const entry of batch.entries) {
        if (lostEntries.has(entry)) retry.push(entry);
        else entry.acknowledge();
      }
      this.pending.unshiftAll(retry);
    }
    if (this.overBound()) this.dropOldest();
    if (written > 0) this.options.metrics.commands.inc(written);
    this.reportBuffered();
    if (!lost && this.droppedInEpisode !== undefined && this.pending.length === 0) {
      this.options.logger.info(
        { url: this.url, dropped: this.droppedInEpisode },
        `redis: caught up; ${this.droppedInEpisode} records were dropped meanwhile`,
      );
      this.droppedInEpisode = undefined;
    }
    if (this.state === 'closed' || this.timedOut) return;
    // What waited during this batch has waited long enough: send it now rather than after another window.
    if (this.pending.length > 0 || this.dirty.size > 0 || this.unannounced.size > 0) this.flush();
    else this.finishIfDrained();
  }

  private logRefusal(part: Part, error: Error): void {
    this.refused++;
    if (!shouldLog(this.refused)) return;
    const instrument = part.kind === 'announce' ? undefined : part.instrumentId;
    this.options.logger.warn(
      { url: this.url, instrument, refused: this.refused, err: error.message },
      `redis: Redis refused a write${instrument === undefined ? '' : ` for ${instrument}`}: ${error.message}`,
    );
  }

  private finishIfDrained(): void {
    if (this.state !== 'closing' || this.inFlight !== undefined) return;
    if (this.pending.length > 0 || this.dirty.size > 0 || this.unannounced.size > 0) return;
    if (this.refusedQuotes.size > 0) {
      this.options.logger.warn(
        { url: this.url, staleQuotes: this.refusedQuotes.size },
        `redis: closing with every record handled and ${this.refusedQuotes.size} quote hashes not rewritten (Redis refused their writes)`,
      );
    }
    this.shutdown();
  }

  /**
   * The close timeout passed with something still owed: send nothing more,
   * let the batch in flight be answered (bounded, with QUIT), then drop what
   * is left and say which hashes are stale.
   */
  private giveUp(): void {
    if (this.state !== 'closing') return;
    this.timedOut = true;
    this.shutdown((reachable) => this.dropUnwritten(reachable));
  }

  /**
   * Drops, counts and acknowledges every record not written, and logs how
   * many quote hashes are stale — they lack a change the sink holds, or a
   * full rewrite it owes (a first quote, a dropped change, a reconnect), or
   * Redis refused their last write —
   * and, apart, how many it cannot confirm: those of a batch Redis did not
   * answer, and, when Redis is unreachable at the end, every other hash
   * (it holds what was last written, unless Redis lost it meanwhile).
   */
  private dropUnwritten(reachable: boolean): void {
    const unwritten: Entry[] = [];
    const stale = new Set([...this.dirty, ...this.refusedQuotes]);
    const unanswered = new Set<string>();
    for (const part of this.inFlight?.parts ?? []) {
      if (part.kind === 'rewrite' || (part.kind === 'quotes' && part.count > 0)) unanswered.add(part.instrumentId);
    }
    unwritten.push(...(this.inFlight?.entries ?? []));
    this.inFlight = undefined;
    for (let entry = this.pending.shift(); entry !== undefined; entry = this.pending.shift()) {
      unwritten.push(entry);
      // Its hash lacks the change if applying it changes the book (a change queued again after a lost batch is in the book already).
      if (entry.kind === 'quote' && this.book.apply(entry.diff) !== undefined) stale.add(entry.instrumentId);
    }
    for (const id of stale) unanswered.delete(id);
    const unreachable = this.everReady && !reachable;
    const unconfirmed = new Set(unanswered);
    if (unreachable) for (const id of this.book.instruments()) if (!stale.has(id)) unconfirmed.add(id);
    this.dirty.clear();
    this.unannounced.clear();
    if (unwritten.length > 0) this.options.stageMetrics.dropped('redis-unavailable', unwritten.length);
    for (const entry of unwritten) entry.acknowledge();
    this.options.metrics.buffered.set(0);
    this.options.metrics.bufferedBytes.set(0);
    const why = [
      unanswered.size > 0 ? 'a batch Redis did not answer' : '',
      unreachable ? 'Redis unreachable at the end: they hold what was last written unless Redis lost it' : '',
    ]
      .filter((w) => w !== '')
      .join('; ');
    this.options.logger.warn(
      {
        url: this.url,
        dropped: unwritten.length,
        staleQuotes: stale.size,
        unconfirmedQuotes: unconfirmed.size,
        closeTimeoutMs: this.options.closeTimeoutMs,
      },
      `redis: closing after ${this.options.closeTimeoutMs} ms with ${unwritten.length} records not written (dropped) and ${stale.size} quote hashes not rewritten` +
        (unconfirmed.size > 0 ? `; ${unconfirmed.size} more not confirmed (${why})` : ''),
    );
  }

  /**
   * Quits (bounded by {@link QUIT_TIMEOUT_MS}, which also bounds the wait for
   * the batch in flight), then runs `beforeDisconnect` with whether Redis was
   * reachable when the shutdown began, and disconnects.
   */
  private shutdown(beforeDisconnect?: (reachable: boolean) => void): void {
    this.state = 'closed';
    this.flushTimer?.unsubscribe();
    this.closeTimer?.unsubscribe();
    const client = this.client;
    const reachable = client.status === 'ready';
    const quit = reachable
      ? client.quit().then(
          () => undefined,
          () => undefined,
        )
      : Promise.resolve();
    const answered = this.inFlight?.answered ?? Promise.resolve();
    let bound: Subscription | undefined;
    const timeout = new Promise<void>((resolve) => (bound = this.options.scheduler.schedule(() => resolve(), QUIT_TIMEOUT_MS)));
    void Promise.race([Promise.all([quit, answered]), timeout]).then(() => {
      bound?.unsubscribe();
      beforeDisconnect?.(reachable);
      client.disconnect();
      this.options.logger.info({ url: this.url }, 'redis sink closed');
      this.resolveClosed?.();
    });
  }
}

/** Own enumerable keys of `record`, counted without allocating. */
function fieldCount(record: object): number {
  let count = 0;
  for (const key in record) if (Object.hasOwn(record, key)) count++;
  return count;
}
