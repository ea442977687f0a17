import { Redis, type ChainableCommander } from 'ioredis';
import type { Logger } from 'pino';
import type { SchedulerLike, Subscription } from 'rxjs';
import { DiffQuoteFields } from '../../protocols/diff/diff-quote-fields.js';
import type { RetryPolicy } from '../../pipeline/runtime/retry-policy.js';
import type { CounterSeries, GaugeSeries, StageMetrics } from '../../pipeline/runtime/stage-metrics.js';
import type { QuoteDiff, Tick } from '../../schemas/generated.js';
import { QuoteBook, type QuotePatch } from '../../protocols/diff/quote-book.js';
import { PendingWrites } from './pending-writes.js';
import { redactedUrl } from './redacted-url.js';
import type { RedisKeys } from './redis-keys.js';
import { tickStreamFields } from './tick-stream-fields.js';

/** What the writer needs; the sink builds it from its config and context. */
export interface RedisWriterOptions {
  readonly url: string;
  readonly keys: RedisKeys;
  /** Approximate length each tick stream is trimmed to. */
  readonly historyMaxLen: number;
  /** Also PUBLISH each quote change. */
  readonly publish: boolean;
  /** Most commands in one pipeline. */
  readonly batchSize: number;
  /** How long a batch collects records before it is sent, on `scheduler`. */
  readonly flushIntervalMs: number;
  /** Most commands held while Redis is unreachable or behind; beyond, the oldest records are dropped. */
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
  readonly record: QuoteDiff;
  /** Resolves the promise its write returned: once its commands were answered, or once it was dropped. */
  readonly acknowledge: () => void;
  readonly instrumentId: string;
  /** The fields that really changed, DIFF names; undefined when nothing did or a full rewrite writes it. */
  readonly patch: QuotePatch | undefined;
  /** The instrument's rewrite generation when the record arrived: a later rewrite covers it. */
  readonly generation: number;
  /** Commands it takes. */
  readonly weight: number;
  /** Estimated bytes of memory it holds (see {@link QUOTE_ENTRY_BYTES}). */
  readonly bytes: number;
}

interface TickEntry {
  readonly kind: 'tick';
  readonly record: Tick;
  readonly acknowledge: () => void;
  readonly weight: number;
  readonly bytes: number;
}

type Entry = QuoteEntry | TickEntry;

/** The commands of one batch that belong to one purpose, `first` to `first + count - 1`. */
type Part =
  | { readonly kind: 'announce'; readonly members: readonly string[]; readonly first: number; readonly count: number }
  | { readonly kind: 'rewrite'; readonly instrumentId: string; readonly first: number; readonly count: number }
  | { readonly kind: 'entry'; readonly entry: Entry; readonly first: number; readonly count: number };

interface Batch {
  readonly parts: readonly Part[];
  /** Settles once the batch's replies (or its failure) have been handled. */
  answered: Promise<void>;
}

/** `[error, reply]` per command, as ioredis resolves a pipeline. */
type PipelineResults = readonly (readonly [Error | null, unknown])[];

const DIFF_KEYS: readonly string[] = Object.values(DiffQuoteFields.keyOf);
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
 * Estimated bytes of memory one buffered tick holds: the Tick record (about
 * 40 fields) and its entry. Measured on Node 20's V8 heap at 776 bytes with
 * ticks of the simulated market; the spec checks the estimate against the heap.
 */
const TICK_ENTRY_BYTES = 800;
/**
 * Estimated bytes of memory one buffered quote change holds: its entry and
 * QuoteDiff, plus {@link QUOTE_FIELD_BYTES} for each field of its `changes`
 * and of its patch. Measured at 1,697 bytes for changes of 21 fields (a
 * patch of 21).
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
 * One batch is in flight at a time, so commands reach Redis in the order the
 * records came. While Redis is unreachable, records wait in a FIFO bounded
 * by `maxBuffered` commands and by `maxBufferedBytes` of estimated memory;
 * beyond either the oldest are dropped (counted and acknowledged). ioredis's
 * own offline queue is off, so this FIFO is the only buffer.
 *
 * Hash correctness rests on the writer's own book of latest quotes: an
 * instrument whose hash may be wrong — its first quote, a dropped change,
 * a reconnect (the server may have restarted empty) — is marked dirty and
 * rewritten in full from the book (HSET of every set field, HDEL of every
 * unset one) ahead of the next records. Changes that arrived before that
 * rewrite are covered by it and are not sent again; they are acknowledged
 * with the batch that carries it. Tick entries and changes whose replies were
 * lost with the connection are sent again, so a stream entry may, rarely,
 * appear twice (at least once); a refused command (a reply error) is
 * logged and its record dropped, never retried.
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
  private readonly generation = new Map<string, number>();
  /** Instruments whose hash must be rewritten in full, in the order they became dirty. */
  private readonly dirty = new Set<string>();
  /** Instruments not yet added to the instruments set on the current connection. */
  private readonly unannounced = new Set<string>();
  private readonly known = new Set<string>();
  /** Instruments whose last quote write Redis refused (not retried): their hash is stale until a rewrite is written. */
  private readonly refusedQuotes = new Set<string>();
  private readonly maxLen: string;
  private readonly url: string;
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
   * Applies a quote change to the book and queues the hash write (and publish) of the fields that really changed.
   * Resolves once Redis answered its commands, or once it was dropped; writes resolve in their order.
   */
  writeQuote(diff: QuoteDiff): Promise<void> {
    const id = diff.instrument_id;
    this.see(id);
    const change = this.book.apply(diff);
    let patch: QuotePatch | undefined;
    if (change?.isNew === true) {
      // A first quote is written whole, so that fields a previous run left in the hash are deleted.
      this.dirty.add(id);
    } else if (change !== undefined) {
      patch = change.patch;
    }
    const bytes = QUOTE_ENTRY_BYTES + QUOTE_FIELD_BYTES * (fieldCount(diff.changes) + (patch === undefined ? 0 : fieldCount(patch)));
    return new Promise((acknowledge) =>
      this.enqueue({
        kind: 'quote',
        record: diff,
        acknowledge,
        instrumentId: id,
        patch,
        generation: this.generationOf(id),
        weight: this.patchCommands(patch),
        bytes,
      }),
    );
  }

  /** Queues the stream entry of a tick; resolves like {@link writeQuote}. */
  writeTick(tick: Tick): Promise<void> {
    this.see(tick.instrument_id);
    return new Promise((acknowledge) => this.enqueue({ kind: 'tick', record: tick, acknowledge, weight: 1, bytes: TICK_ENTRY_BYTES }));
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

  private generationOf(id: string): number {
    return this.generation.get(id) ?? 0;
  }

  /** HSET and/or HDEL, and PUBLISH; at least 1, so that records that change nothing still count against the bound. */
  private patchCommands(patch: QuotePatch | undefined): number {
    if (patch === undefined) return 1;
    let sets = 0;
    let deletes = 0;
    for (const key in patch) {
      if (patch[key] === null) deletes = 1;
      else sets = 1;
    }
    return Math.max(1, sets + deletes + (this.options.publish ? 1 : 0));
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
        ? `${this.options.maxBuffered} buffered commands`
        : `${this.options.maxBufferedBytes} bytes of buffered records (estimated)`;
    let dropped = 0;
    // Bounded by the records held: each turn removes one.
    for (let guard = this.pending.length; guard > 0 && this.overBound(); guard--) {
      const entry = this.pending.shift();
      if (entry === undefined) break;
      if (entry.kind === 'quote' && entry.patch !== undefined && entry.generation === this.generationOf(entry.instrumentId)) {
        // The change is lost; a full rewrite from the book keeps the hash right anyway.
        this.dirty.add(entry.instrumentId);
      }
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
      // The server may have restarted empty, or lost writes whose replies we never saw: rewrite every hash and the set.
      for (const id of this.book.instruments()) this.dirty.add(id);
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
        `buffering up to ${this.options.maxBuffered} commands or ${this.options.maxBufferedBytes} bytes and reconnecting`,
    );
  }

  /** Sends the next batch: the instruments set, full rewrites of dirty quotes, then records in order. */
  /** Sets the backlog gauges: what waits for the next batch and what was sent but is not answered yet (Redis may be away). */
  private reportBuffered(): void {
    let weight = this.pending.weight;
    let bytes = this.pending.bytes;
    for (const part of this.inFlight?.parts ?? []) {
      if (part.kind !== 'entry') continue;
      weight += part.entry.weight;
      bytes += part.entry.bytes;
    }
    this.options.metrics.buffered.set(weight);
    this.options.metrics.bufferedBytes.set(bytes);
  }

  private flush(): void {
    this.flushTimer?.unsubscribe();
    this.flushTimer = undefined;
    if (this.inFlight !== undefined || this.state === 'closed' || this.timedOut || this.client.status !== 'ready') return;
    if (this.pending.length === 0 && this.dirty.size === 0 && this.unannounced.size === 0) return this.finishIfDrained();
    const pipeline = this.client.pipeline();
    const parts: Part[] = [];
    let commands = 0;
    if (this.unannounced.size > 0) {
      const members = [...this.unannounced];
      this.unannounced.clear();
      pipeline.call('SADD', [this.options.keys.instruments, ...members]);
      parts.push({ kind: 'announce', members, first: commands, count: 1 });
      commands++;
    }
    for (const id of this.dirty) {
      if (commands >= this.options.batchSize) break;
      this.dirty.delete(id);
      // Every change of `id` queued so far is in the book this rewrite reads: they need not be sent again.
      this.generation.set(id, this.generationOf(id) + 1);
      const count = this.rewrite(pipeline, id);
      parts.push({ kind: 'rewrite', instrumentId: id, first: commands, count });
      commands += count;
    }
    // Records only once every rewrite is out, so none of them lands before the rewrite that covers it.
    for (let guard = this.pending.length; guard > 0 && commands < this.options.batchSize && this.dirty.size === 0; guard--) {
      const entry = this.pending.shift();
      if (entry === undefined) break;
      const count = this.commandsOf(pipeline, entry);
      parts.push({ kind: 'entry', entry, first: commands, count });
      commands += count;
    }
    const batch: Batch = { parts, answered: Promise.resolve() };
    this.inFlight = batch;
    this.reportBuffered();
    batch.answered = pipeline.exec().then(
      (results) => this.settle(batch, results ?? []),
      () => this.settle(batch, []),
    );
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

  private commandsOf(pipeline: ChainableCommander, entry: Entry): number {
    if (entry.kind === 'tick') {
      pipeline.call('XADD', tickStreamFields(this.options.keys.ticks(entry.record.instrument_id), this.maxLen, entry.record));
      return 1;
    }
    const { patch, instrumentId } = entry;
    // Nothing changed, or a rewrite already carried this change.
    if (patch === undefined || entry.generation !== this.generationOf(instrumentId)) return 0;
    const key = this.options.keys.quote(instrumentId);
    let sets: string[] | undefined;
    let deletes: string[] | undefined;
    for (const field in patch) {
      const value = patch[field];
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
      pipeline.call('PUBLISH', [this.options.keys.quoteChannel(instrumentId), JSON.stringify(patch)]);
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
    const retry: Entry[] = [];
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
          if (connectionLost) for (const id of part.members) this.unannounced.add(id);
          break;
        case 'rewrite':
          // A refused rewrite is not retried: it would be refused again on every batch.
          if (connectionLost) this.dirty.add(part.instrumentId);
          else if (error !== undefined) this.refusedQuotes.add(part.instrumentId);
          else this.refusedQuotes.delete(part.instrumentId);
          break;
        case 'entry':
          if (connectionLost) retry.push(part.entry);
          else if (error !== undefined) {
            refused++;
            if (part.entry.kind === 'quote') this.refusedQuotes.add(part.entry.instrumentId);
            part.entry.acknowledge();
          } else part.entry.acknowledge();
          break;
      }
    }
    if (refused > 0) this.options.stageMetrics.dropped('redis-error', refused);
    this.pending.unshiftAll(retry);
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
    const instrument = part.kind === 'rewrite' ? part.instrumentId : part.kind === 'entry' ? part.entry.record.instrument_id : undefined;
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
      if (part.kind === 'rewrite') unanswered.add(part.instrumentId);
      else if (part.kind === 'entry') {
        unwritten.push(part.entry);
        if (part.entry.kind === 'quote' && part.count > 0) unanswered.add(part.entry.instrumentId);
      }
    }
    this.inFlight = undefined;
    for (let entry = this.pending.shift(); entry !== undefined; entry = this.pending.shift()) {
      unwritten.push(entry);
      // A change a sent rewrite covers is not owed, only unconfirmed with that rewrite.
      if (entry.kind === 'quote' && entry.patch !== undefined && entry.generation === this.generationOf(entry.instrumentId))
        stale.add(entry.instrumentId);
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
