import type { Subscription } from 'rxjs';
import type { QuoteDiff, Tick } from '../../schemas/generated.js';
import { QuoteBook } from '../../protocols/diff/quote-book.js';
import { AcknowledgementGroup } from './acknowledgement-group.js';
import { BatchPlanner } from './batch-planner.js';
import { OwedWrites } from './owed-writes.js';
import { PendingWrites } from './pending-writes.js';
import { QuoteHashCommands } from './quote-hash-commands.js';
import { ReconnectingConnection } from './reconnecting-connection.js';
import { redactedUrl } from './redacted-url.js';
import type { RedisWriterOptions } from './redis-writer-options.js';
import { settleBatch, type PipelineResults } from './settle-batch.js';
import { staleQuotesAtClose } from './stale-quotes-at-close.js';
import type { BatchPart, WriteBatch } from './write-batch.js';
import type { WriteEntry } from './write-entry.js';

/**
 * A server that does not answer QUIT within this is disconnected anyway. At
 * the close timeout it also bounds the wait for the batch in flight, whose
 * replies come before QUIT's: so a close takes at most `closeTimeoutMs` plus this.
 */
const QUIT_TIMEOUT_MS = 1000;
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
/**
 * One quote change in this many has its fields counted for its estimate;
 * the others are charged the running average of those counted. Counting
 * every one (a walk of a fresh object of one of many shapes) was about a
 * tenth of the sink's CPU; the bound is on the total, which the average
 * follows.
 */
const QUOTE_SAMPLE_EVERY = 16;
/**
 * Batches sent and not answered yet, at most: while Redis runs one (a
 * script call of 500 entries takes it about 1.5 ms), Node plans the next,
 * instead of waiting idle for the reply. A second goes only when full; a
 * partial batch waits for the answer, which more records join meanwhile.
 */
const MAX_IN_FLIGHT = 2;
/** What the write of a record after the sink closed returns: it is never written, so never acknowledged. */
const NEVER_ACKNOWLEDGED: Promise<readonly unknown[]> = new Promise<readonly unknown[]>(() => undefined);
/** Refusals by Redis are logged one by one at first, then every thousandth, so a misconfigured server cannot flood the log. */
const shouldLog = (count: number): boolean => count <= 10 || count % 1000 === 0;

/**
 * Writes quotes and ticks to Redis for the `redis` sink, in pipelined
 * batches over one ioredis connection, and keeps the latest quotes correct
 * across lost connections, Redis restarts and dropped records.
 *
 * A batch costs Node a few commands per instrument, not one or more per
 * record ({@link BatchPlanner}): ioredis spends about 12 µs of CPU on each
 * command it builds, sends and answers, which capped a command per record
 * near 60 k records/s. The changes are applied to the writer's book of
 * latest quotes when their batch is planned, merged too.
 *
 * Up to two batches are in flight on the one connection, which Redis
 * answers in order, so an instrument's writes reach Redis in the order its
 * records came; records put back after a lost connection go ahead of the
 * rest, in their order.
 *
 * Writes return one promise per (about) batch, on both ports
 * ({@link AcknowledgementGroup}), resolved once all its records are
 * acknowledged, with the records in the order written. While Redis is unreachable, records wait in a FIFO bounded
 * by `maxBuffered` records and by `maxBufferedBytes` of estimated memory;
 * beyond either the oldest are dropped (counted and acknowledged). ioredis's
 * own offline queue is off ({@link ReconnectingConnection}), so this FIFO is
 * the only buffer.
 *
 * Hash correctness rests on the writer's own book of latest quotes, which
 * holds every change planned into a batch or dropped: an instrument whose
 * hash may be wrong — a dropped change, a batch lost with its connection, a
 * reconnect (the server may have restarted empty) — is marked dirty
 * ({@link OwedWrites}) and rewritten in full from the book ahead of the
 * next records; a first quote is written in full in its own batch, so that
 * fields a previous run left in the hash go. Changes of a lost batch are
 * queued again; the book already holds them, so they are acknowledged with
 * the batch that carries the rewrite. Tick entries whose replies were lost
 * with the connection are sent again, so a stream entry may, rarely, appear
 * twice (at least once); a refused command (a reply error) is logged and
 * its records dropped, never retried ({@link settleBatch}).
 *
 * `close()` writes what is owed — rewrites first — for `closeTimeoutMs`.
 * When the connection is waiting out a reconnect delay then (an outage grows
 * it to seconds), it connects at once, and retries often until the timeout:
 * a Redis that came back just before the end still gets every hash. At the
 * timeout it sends nothing more, waits (bounded) for the batch in flight, and
 * logs exactly how many quote hashes lack changes it holds or a rewrite it
 * owes, apart from those it cannot confirm ({@link staleQuotesAtClose}).
 */
export class RedisWriter {
  private readonly connection: ReconnectingConnection;
  private readonly book = new QuoteBook();
  private readonly pending = new PendingWrites<WriteEntry>();
  private readonly owed = new OwedWrites();
  private readonly planner: BatchPlanner;
  private readonly url: string;
  /** Batches sent and not answered yet, oldest first. */
  private inFlight: WriteBatch[] = [];
  /** Records put back at the front of the queue from lost batches, since a batch was last in flight. */
  private requeued = 0;
  /** The open group writes join (see {@link AcknowledgementGroup}). */
  private group: AcknowledgementGroup | undefined;
  /** Most records in a group: a batch's worth, so a group waits for at most about two batches. */
  private readonly groupSize: number;
  /** Quote changes written, and the running average of the estimates of those counted (see {@link QUOTE_SAMPLE_EVERY}). */
  private quotesSeen = 0;
  private averageQuoteBytes = 0;
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
    this.url = redactedUrl(options.url);
    this.groupSize = options.batchSize;
    const { keys, encoder, publish, batchSize, historyMaxLen } = options;
    const hashes = new QuoteHashCommands(keys, this.book, publish);
    this.planner = new BatchPlanner({ keys, encoder, book: this.book, hashes, batchSize, historyMaxLen });
    this.connection = new ReconnectingConnection(options, {
      ready: () => this.onReady(),
      lost: (detail) => this.onLost(detail),
    });
  }

  /**
   * Queues a quote change: its batch writes the fields that really changed (merged with the instrument's other changes in
   * that batch), and publishes them. Resolves, with the records of its group in the order written, once Redis answered the
   * commands that carry each of them, or once they were dropped; writes resolve in
   * their order.
   */
  writeQuote(diff: QuoteDiff): Promise<readonly unknown[]> {
    if (this.state === 'closed') return NEVER_ACKNOWLEDGED;
    const instrumentId = diff.instrument_id;
    const bytes = this.quoteBytes(diff);
    this.owed.see(instrumentId);
    const group = this.openGroup();
    const acknowledged = group.join(diff);
    this.enqueue({ kind: 'quote', group, instrumentId, diff, weight: 1, bytes });
    if (group.size >= this.groupSize) group.seal();
    return acknowledged;
  }

  /**
   * Encodes a tick to Avro at once (so a record the schema cannot encode
   * fails the write, not a later batch) and queues its stream entry;
   * resolves like {@link writeQuote}.
   */
  writeTick(tick: Tick): Promise<readonly unknown[]> {
    if (this.state === 'closed') return NEVER_ACKNOWLEDGED;
    const instrumentId = tick.instrument_id;
    const { encoder } = this.options;
    const start = encoder.encode(tick);
    this.owed.see(instrumentId);
    const group = this.openGroup();
    const acknowledged = group.join(tick);
    const { slab, end } = encoder;
    this.enqueue({ kind: 'tick', group, instrumentId, slab, start, end, weight: 1, bytes: TICK_ENTRY_BYTES });
    if (group.size >= this.groupSize) group.seal();
    return acknowledged;
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
    this.sealGroups();
    if (this.connection.closeSoon()) {
      this.options.logger.info(
        { url: this.url },
        `redis: closing; connecting to ${this.url} now rather than after the retry delay, to write what is owed`,
      );
    }
    this.flush();
    return this.closed;
  }

  private overBound(): boolean {
    return this.pending.weight > this.options.maxBuffered || this.pending.bytes > this.options.maxBufferedBytes;
  }

  /** The estimated bytes a quote change is charged: counted for one in {@link QUOTE_SAMPLE_EVERY}, else the running average. */
  private quoteBytes(diff: QuoteDiff): number {
    if (this.quotesSeen++ % QUOTE_SAMPLE_EVERY !== 0) return this.averageQuoteBytes;
    const counted = QUOTE_ENTRY_BYTES + QUOTE_FIELD_BYTES * fieldCount(diff.changes);
    // The first one sets the average; later ones move it an eighth of the way (whole bytes: the totals stay exact).
    this.averageQuoteBytes = this.quotesSeen === 1 ? counted : Math.round(this.averageQuoteBytes + (counted - this.averageQuoteBytes) / 8);
    return counted;
  }

  /** The group a write joins: the open one, or a new one. */
  private openGroup(): AcknowledgementGroup {
    const group = this.group;
    return group !== undefined && group.open ? group : (this.group = new AcknowledgementGroup());
  }

  /** Closes the open group: the records that joined it so far are all it waits for. */
  private sealGroups(): void {
    this.group?.seal();
  }

  private enqueue(entry: WriteEntry): void {
    this.pending.push(entry);
    if (this.overBound()) this.dropOldest();
    if (this.connection.status !== 'ready') {
      // A record of its own group while Redis is away: one dropped is acknowledged at once, not with the records after it.
      this.sealGroups();
      // No batch will update the gauge while Redis is away; the backlog must show meanwhile.
      this.reportBuffered();
      return;
    }
    if (this.inFlight.length >= MAX_IN_FLIGHT) return;
    // A full batch goes now, even while one is in flight; a partial one waits for the window, or for the answer.
    if (this.pending.weight >= this.options.batchSize) this.flush();
    else if (this.inFlight.length === 0 && this.flushTimer === undefined)
      this.flushTimer = this.options.scheduler.schedule(() => this.flush(), this.options.flushIntervalMs);
  }

  /** Drops the oldest records until the buffer is within both its bounds again. */
  private dropOldest(): void {
    const reason = this.connection.status === 'ready' ? 'redis-backlog' : 'redis-unavailable';
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
      if (entry.kind === 'quote' && this.book.apply(entry.diff) !== undefined) this.owed.dirty.add(entry.instrumentId);
      dropped++;
      entry.group.acknowledgeOne();
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
      this.owed.reconnected(this.book.instruments());
      this.options.logger.info(
        { url: this.url, downForMs, buffered: this.pending.weight, bufferedBytes: this.pending.bytes },
        `redis: reconnected to ${this.url} after ${downForMs} ms; rewriting ${this.owed.dirty.size} quotes in full`,
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
    if (this.connection.status === 'ready') return;
    this.downSince = this.options.scheduler.now();
    this.sealGroups();
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
    let records = this.pending.weight;
    let bytes = this.pending.bytes;
    for (const batch of this.inFlight) {
      records += batch.entries.length;
      bytes += batch.bytes;
    }
    this.options.metrics.buffered.set(records);
    this.options.metrics.bufferedBytes.set(bytes);
  }

  /**
   * Sends the next batch ({@link BatchPlanner}) when Redis is ready: any
   * batch when none is in flight, a full one when one is.
   */
  private flush(): void {
    this.flushTimer?.unsubscribe();
    this.flushTimer = undefined;
    if (this.state === 'closed' || this.timedOut || this.connection.status !== 'ready') return;
    if (this.inFlight.length >= MAX_IN_FLIGHT) return;
    if (this.inFlight.length > 0) {
      // Records put back after a lost batch wait until every batch sent before is answered, so they keep their order.
      if (this.requeued > 0 || this.pending.weight < this.options.batchSize) return;
    } else if (this.pending.length === 0 && !this.owed.any) return this.finishIfDrained();
    this.sealGroups();
    const pipeline = this.connection.pipeline();
    const batch = this.planner.plan(pipeline, this.owed, this.pending);
    this.inFlight.push(batch);
    this.reportBuffered();
    batch.answered = pipeline.exec().then(
      (results) => this.settle(batch, results ?? []),
      () => this.settle(batch, []),
    );
  }

  /** Acknowledges what was written, re-plans what the connection lost, drops what Redis refused; then sends the next batch. */
  private settle(batch: WriteBatch, results: PipelineResults): void {
    const index = this.inFlight.indexOf(batch);
    if (index < 0) return; // given up on meanwhile
    this.inFlight.splice(index, 1);
    const { written, lost, refused, retry } = settleBatch(batch, results, this.owed, (part, error) => this.logRefusal(part, error));
    if (refused > 0) this.options.stageMetrics.dropped('redis-error', refused);
    // Behind those of an earlier lost batch, ahead of every record not sent yet.
    this.pending.insertAt(this.requeued, retry);
    this.requeued = this.inFlight.length === 0 ? 0 : this.requeued + retry.length;
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
    if (this.pending.length > 0 || this.owed.any) this.flush();
    else this.finishIfDrained();
  }

  private logRefusal(part: BatchPart, error: Error): void {
    this.refused++;
    if (!shouldLog(this.refused)) return;
    const instrument = part.kind === 'announce' ? undefined : part.instrumentId;
    this.options.logger.warn(
      { url: this.url, instrument, refused: this.refused, err: error.message },
      `redis: Redis refused a write${instrument === undefined ? '' : ` for ${instrument}`}: ${error.message}`,
    );
  }

  private finishIfDrained(): void {
    if (this.state !== 'closing' || this.inFlight.length > 0) return;
    if (this.pending.length > 0 || this.owed.any) return;
    if (this.owed.refusedQuotes.size > 0) {
      this.options.logger.warn(
        { url: this.url, staleQuotes: this.owed.refusedQuotes.size },
        `redis: closing with every record handled and ${this.owed.refusedQuotes.size} quote hashes not rewritten (Redis refused their writes)`,
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

  /** Drops, counts and acknowledges every record not written, and logs how many quote hashes are stale ({@link staleQuotesAtClose}). */
  private dropUnwritten(reachable: boolean): void {
    const inFlight = this.inFlight;
    this.inFlight = [];
    this.sealGroups();
    const { unwritten, stale, unconfirmed, unanswered, unreachable } = staleQuotesAtClose({
      inFlight,
      pending: this.pending,
      book: this.book,
      owed: this.owed,
      unreachable: this.everReady && !reachable,
    });
    if (unwritten.length > 0) this.options.stageMetrics.dropped('redis-unavailable', unwritten.length);
    for (const entry of unwritten) entry.group.acknowledgeOne();
    this.options.metrics.buffered.set(0);
    this.options.metrics.bufferedBytes.set(0);
    const why = [
      unanswered > 0 ? 'a batch Redis did not answer' : '',
      unreachable ? 'Redis unreachable at the end: they hold what was last written unless Redis lost it' : '',
    ]
      .filter((w) => w !== '')
      .join('; ');
    this.options.logger.warn(
      {
        url: this.url,
        dropped: unwritten.length,
        staleQuotes: stale,
        unconfirmedQuotes: unconfirmed,
        closeTimeoutMs: this.options.closeTimeoutMs,
      },
      `redis: closing after ${this.options.closeTimeoutMs} ms with ${unwritten.length} records not written (dropped) and ${stale} quote hashes not rewritten` +
        (unconfirmed > 0 ? `; ${unconfirmed} more not confirmed (${why})` : ''),
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
    const { reachable, quitted } = this.connection.quit();
    const answered = Promise.all(this.inFlight.map((batch) => batch.answered));
    let bound: Subscription | undefined;
    const timeout = new Promise<void>((resolve) => (bound = this.options.scheduler.schedule(() => resolve(), QUIT_TIMEOUT_MS)));
    void Promise.race([Promise.all([quitted, answered]), timeout]).then(() => {
      bound?.unsubscribe();
      beforeDisconnect?.(reachable);
      this.connection.disconnect();
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
