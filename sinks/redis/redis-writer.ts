import { Redis, type ChainableCommander } from 'ioredis';
import type { Logger } from 'pino';
import type { SchedulerLike, Subscription } from 'rxjs';
import { DiffQuoteFields } from '../../protocols/diff/diff-quote-fields.js';
import type { RetryPolicy } from '../../pipeline/runtime/retry-policy.js';
import type { StageMetrics } from '../../pipeline/runtime/stage-metrics.js';
import type { QuoteDiff, Tick } from '../../schemas/generated.js';
import { QuoteBook, type QuotePatch } from '../../protocols/diff/quote-book.js';
import { PendingWrites } from './pending-writes.js';
import { redactedUrl } from './redacted-url.js';
import type { RedisKeys } from './redis-keys.js';
import type { RedisMetrics } from './redis-metrics.js';
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
  /** How long `close()` waits for the backlog to be written before dropping it. */
  readonly closeTimeoutMs: number;
  /** Reconnect delays. */
  readonly retry: RetryPolicy;
  /** Shown by CLIENT LIST, to tell the sink's connection apart. */
  readonly connectionName: string;
  readonly scheduler: SchedulerLike;
  readonly logger: Logger;
  readonly stageMetrics: StageMetrics;
  readonly metrics: RedisMetrics;
  /** Called once per record, in order of writing: when its commands were answered, or when it was dropped. */
  readonly ack: (record: QuoteDiff | Tick) => void;
}

interface QuoteEntry {
  readonly kind: 'quote';
  readonly record: QuoteDiff;
  readonly instrumentId: string;
  /** The fields that really changed, DIFF names; undefined when nothing did or a full rewrite writes it. */
  readonly patch: QuotePatch | undefined;
  /** The instrument's rewrite generation when the record arrived: a later rewrite covers it. */
  readonly generation: number;
  readonly weight: number;
}

interface TickEntry {
  readonly kind: 'tick';
  readonly record: Tick;
  readonly weight: number;
}

type Entry = QuoteEntry | TickEntry;

/** The commands of one batch that belong to one purpose, `first` to `first + count - 1`. */
type Part =
  | { readonly kind: 'announce'; readonly members: readonly string[]; readonly first: number; readonly count: number }
  | { readonly kind: 'rewrite'; readonly instrumentId: string; readonly first: number; readonly count: number }
  | { readonly kind: 'entry'; readonly entry: Entry; readonly first: number; readonly count: number };

interface Batch {
  readonly parts: readonly Part[];
}

/** `[error, reply]` per command, as ioredis resolves a pipeline. */
type PipelineResults = readonly (readonly [Error | null, unknown])[];

const DIFF_KEYS: readonly string[] = Object.values(DiffQuoteFields.keyOf);
/** A server that does not answer QUIT within this is disconnected anyway. */
const QUIT_TIMEOUT_MS = 1000;
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
 * by `maxBuffered` commands; beyond it the oldest are dropped (counted and
 * acknowledged). ioredis's own offline queue is off, so this FIFO is the
 * only buffer.
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
 */
export class RedisWriter {
  private readonly client: Redis;
  private readonly book = new QuoteBook();
  private readonly pending = new PendingWrites<Entry>();
  private readonly generation = new Map<string, number>();
  /** Instruments whose hash must be rewritten in full, in the order they became dirty. */
  private readonly dirty = new Set<string>();
  /** Instruments not yet added to the instruments set on the current connection. */
  private readonly unannounced = new Set<string>();
  private readonly known = new Set<string>();
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
  private closed: Promise<void> | undefined;
  private resolveClosed: (() => void) | undefined;

  constructor(private readonly options: RedisWriterOptions) {
    this.maxLen = String(options.historyMaxLen);
    this.url = redactedUrl(options.url);
    this.client = new Redis(options.url, {
      // Records wait in our own bounded FIFO while Redis is away, not in an unbounded ioredis queue.
      enableOfflineQueue: false,
      // Commands lost with a connection are rejected at once, so the batch they belong to can be re-planned.
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (attempt) => (options.retry.shouldRetry(attempt, undefined) ? options.retry.delayMs(attempt) : null),
      connectionName: options.connectionName,
    });
    this.client.on('ready', () => this.onReady());
    this.client.on('error', (error: Error) => this.onLost(error.message));
    this.client.on('close', () => this.onLost('connection closed'));
  }

  /** Applies a quote change to the book and queues the hash write (and publish) of the fields that really changed. */
  writeQuote(diff: QuoteDiff): void {
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
    this.enqueue({ kind: 'quote', record: diff, instrumentId: id, patch, generation: this.generationOf(id), weight: this.patchCommands(patch) });
  }

  /** Queues the stream entry of a tick. */
  writeTick(tick: Tick): void {
    this.see(tick.instrument_id);
    this.enqueue({ kind: 'tick', record: tick, weight: 1 });
  }

  /**
   * Writes what is held, then quits the connection. Resolves when done, or
   * after `closeTimeoutMs` once what could not be written was dropped
   * (counted, acknowledged and logged).
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
    this.flush();
    return this.closed;
  }

  /** Drops the connection at once, writing nothing more and acknowledging nothing more (unsubscribe). */
  destroy(): void {
    this.state = 'closed';
    this.inFlight = undefined;
    this.flushTimer?.unsubscribe();
    this.closeTimer?.unsubscribe();
    this.client.disconnect();
    this.resolveClosed?.();
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

  private enqueue(entry: Entry): void {
    if (this.state === 'closed') return;
    this.pending.push(entry);
    if (this.pending.weight > this.options.maxBuffered) this.dropOldest();
    if (this.client.status !== 'ready') {
      // No batch will update the gauge while Redis is away; the backlog must show meanwhile.
      this.options.metrics.setBuffered(this.pending.weight);
      return;
    }
    if (this.inFlight !== undefined || this.flushTimer !== undefined) return;
    if (this.pending.weight >= this.options.batchSize) this.flush();
    else this.flushTimer = this.options.scheduler.schedule(() => this.flush(), this.options.flushIntervalMs);
  }

  /** Drops the oldest records until the buffer is within its bound again. */
  private dropOldest(): void {
    const reason = this.client.status === 'ready' ? 'redis-backlog' : 'redis-unavailable';
    let dropped = 0;
    // Bounded by the records held: each turn removes one.
    for (let guard = this.pending.length; guard > 0 && this.pending.weight > this.options.maxBuffered; guard--) {
      const entry = this.pending.shift();
      if (entry === undefined) break;
      if (entry.kind === 'quote' && entry.patch !== undefined && entry.generation === this.generationOf(entry.instrumentId)) {
        // The change is lost; a full rewrite from the book keeps the hash right anyway.
        this.dirty.add(entry.instrumentId);
      }
      dropped++;
      this.options.ack(entry.record);
    }
    if (dropped === 0) return;
    this.options.stageMetrics.dropped(reason, dropped);
    if (this.droppedInEpisode === undefined) {
      this.droppedInEpisode = 0;
      this.options.logger.warn(
        { url: this.url, maxBuffered: this.options.maxBuffered, reason },
        `redis: ${this.options.maxBuffered} buffered commands reached ${reason === 'redis-unavailable' ? 'while Redis is unreachable' : 'because Redis is not keeping up'}; ` +
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
      this.options.metrics.reconnected();
      // The server may have restarted empty, or lost writes whose replies we never saw: rewrite every hash and the set.
      for (const id of this.book.instruments()) this.dirty.add(id);
      for (const id of this.known) this.unannounced.add(id);
      this.options.logger.info({ url: this.url, downForMs, buffered: this.pending.weight }, `redis: reconnected to ${this.url} after ${downForMs} ms; rewriting ${this.dirty.size} quotes in full`);
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
    this.options.logger.warn(
      { url: this.url, detail, maxBuffered: this.options.maxBuffered },
      `redis: ${this.everReady ? 'lost the connection to' : 'cannot connect to'} ${this.url} (${detail}); buffering up to ${this.options.maxBuffered} commands and reconnecting`,
    );
  }

  /** Sends the next batch: the instruments set, full rewrites of dirty quotes, then records in order. */
  private flush(): void {
    this.flushTimer?.unsubscribe();
    this.flushTimer = undefined;
    if (this.inFlight !== undefined || this.state === 'closed' || this.client.status !== 'ready') return;
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
    const batch: Batch = { parts };
    this.inFlight = batch;
    this.options.metrics.setBuffered(this.pending.weight);
    pipeline.exec().then(
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
    if (this.inFlight !== batch) return; // given up on or destroyed meanwhile
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
          break;
        case 'entry':
          if (connectionLost) retry.push(part.entry);
          else if (error !== undefined) {
            refused++;
            this.options.ack(part.entry.record);
          } else this.options.ack(part.entry.record);
          break;
      }
    }
    if (refused > 0) this.options.stageMetrics.dropped('redis-error', refused);
    this.pending.unshiftAll(retry);
    if (this.pending.weight > this.options.maxBuffered) this.dropOldest();
    this.options.metrics.commandsWritten(written);
    this.options.metrics.setBuffered(this.pending.weight);
    if (!lost && this.droppedInEpisode !== undefined && this.pending.length === 0) {
      this.options.logger.info({ url: this.url, dropped: this.droppedInEpisode }, `redis: caught up; ${this.droppedInEpisode} records were dropped meanwhile`);
      this.droppedInEpisode = undefined;
    }
    if (this.state === 'closed') return;
    // What waited during this batch has waited long enough: send it now rather than after another window.
    if (this.pending.length > 0 || this.dirty.size > 0 || this.unannounced.size > 0) this.flush();
    else this.finishIfDrained();
  }

  private logRefusal(part: Part, error: Error): void {
    this.refused++;
    if (!shouldLog(this.refused)) return;
    const instrument = part.kind === 'rewrite' ? part.instrumentId : part.kind === 'entry' ? part.entry.record.instrument_id : undefined;
    this.options.logger.warn({ url: this.url, instrument, refused: this.refused, err: error.message }, `redis: Redis refused a write${instrument === undefined ? '' : ` for ${instrument}`}: ${error.message}`);
  }

  private finishIfDrained(): void {
    if (this.state !== 'closing' || this.inFlight !== undefined) return;
    if (this.pending.length > 0 || this.dirty.size > 0 || this.unannounced.size > 0) return;
    this.shutdown();
  }

  /** The close timeout passed with records still unwritten: drop them, counted and logged, and quit. */
  private giveUp(): void {
    if (this.state !== 'closing') return;
    const unwritten: Entry[] = [];
    if (this.inFlight !== undefined) {
      for (const part of this.inFlight.parts) if (part.kind === 'entry') unwritten.push(part.entry);
      this.inFlight = undefined;
    }
    for (let entry = this.pending.shift(); entry !== undefined; entry = this.pending.shift()) unwritten.push(entry);
    const stale = this.dirty.size;
    this.dirty.clear();
    this.unannounced.clear();
    if (unwritten.length > 0) this.options.stageMetrics.dropped('redis-unavailable', unwritten.length);
    for (const entry of unwritten) this.options.ack(entry.record);
    this.options.metrics.setBuffered(0);
    this.options.logger.warn(
      { url: this.url, dropped: unwritten.length, staleQuotes: stale, closeTimeoutMs: this.options.closeTimeoutMs },
      `redis: closing after ${this.options.closeTimeoutMs} ms with ${unwritten.length} records not written (dropped) and ${stale} quote hashes not rewritten`,
    );
    this.shutdown();
  }

  private shutdown(): void {
    this.state = 'closed';
    this.flushTimer?.unsubscribe();
    this.closeTimer?.unsubscribe();
    const client = this.client;
    const quit = client.status === 'ready' ? client.quit().then(() => undefined, () => undefined) : Promise.resolve();
    let bound: Subscription | undefined;
    const timeout = new Promise<void>((resolve) => (bound = this.options.scheduler.schedule(() => resolve(), QUIT_TIMEOUT_MS)));
    void Promise.race([quit, timeout]).then(() => {
      bound?.unsubscribe();
      client.disconnect();
      this.options.logger.info({ url: this.url }, 'redis sink closed');
      this.resolveClosed?.();
    });
  }
}
