import type { Message, Producer, TopicMessages } from 'kafkajs';
import type { Logger } from 'pino';
import type { SchedulerLike, Subscription } from 'rxjs';
import { StageError, TickflowError } from '../../errors/errors.js';
import type { SinkAcknowledgements } from '../../pipeline/components/component-definition.js';
import type { RetryPolicy } from '../../pipeline/runtime/retry-policy.js';
import type { CounterSeries, GaugeSeries, HistogramSeries } from '../../pipeline/runtime/stage-metrics.js';
import { isTransientKafkaError } from './is-transient-kafka-error.js';
import type { KafkaRecordRoute } from './kafka-record-route.js';
import type { KafkaRecordRoutes } from './kafka-record-routes.js';

/** The `kafka` sink's own metrics, bound to its stage. */
export interface KafkaSinkMetrics {
  readonly records: CounterSeries;
  readonly bytes: CounterSeries;
  readonly batches: CounterSeries;
  readonly retries: CounterSeries;
  readonly inFlight: GaugeSeries;
  readonly buffered: GaugeSeries;
  readonly ackLatency: HistogramSeries;
}

/** How a {@link KafkaBatchWriter} batches, bounds and closes. */
export interface KafkaBatchWriterOptions {
  /** A kafkajs producer made idempotent, not connected yet. */
  readonly producer: Producer;
  /** Resolves once the producer may send: connected, topics created, schema ids known. Called at the first write, and again after a transient failure. */
  readonly ready: () => Promise<void>;
  /** When to connect or send again after kafkajs gave up on an unreachable broker, and when to stop. */
  readonly retry: RetryPolicy;
  readonly routes: KafkaRecordRoutes;
  /** Most records in one batch (one `sendBatch`). */
  readonly batchSize: number;
  /** How long a batch collects records after its first, when it is not full and none is in flight. */
  readonly lingerMs: number;
  /** Most records held unacknowledged (collecting, waiting, in flight); one more fails the stage. */
  readonly maxBuffered: number;
  /** At close, how long to wait for what is held to be acknowledged before failing with what is not. */
  readonly closeTimeoutMs: number;
  /** Stamp each message with the record's event time (its `ts_event` or `ts_init`, in ms) rather than the send time. */
  readonly eventTimestamps: boolean;
  readonly scheduler: SchedulerLike;
  readonly logger: Logger;
  readonly metrics: KafkaSinkMetrics;
  readonly stage: string;
}

/** Records written together and acknowledged together: one `sendBatch`, one promise. */
interface Batch {
  readonly records: unknown[];
  readonly acknowledged: Promise<SinkAcknowledgements>;
  resolve(acknowledgements: SinkAcknowledgements): void;
  reject(error: unknown): void;
  linger: Subscription | undefined;
  /** Full, lingered long enough, or closing: sent as soon as nothing is in flight. */
  due: boolean;
}

/** Bytes a value's slab starts at per record, before the first batch tells the real size. */
const FIRST_RECORD_BYTES = 320;

/**
 * The `kafka` sink's producer side: records are batched, framed and sent
 * with one `sendBatch` per batch, one batch in flight at a time, and each
 * batch's promise resolves with its records once the broker acknowledged
 * all of them (`acks: -1`, so every in-sync replica has them).
 *
 * One batch in flight keeps each partition's order: kafkajs's idempotent
 * producer numbers a partition's messages when a request is sent and
 * takes the numbers back when it fails, so a second request sent while
 * the first is retried would overtake it. A batch is sent when full
 * (`batchSize` records), `lingerMs` after its first record, or at once
 * when the batch before it is acknowledged (it has waited a round trip
 * already). Records are encoded when their batch is sent, into one slab
 * per batch: the header of their record type (Confluent: 00 and the schema
 * id; else C3 01 and the fingerprint), then the Avro body written by code
 * generated from the schema; keyed by their route's key field; partitioned
 * by the producer's partitioner.
 *
 * While the broker is away records are held: kafkajs tries a few times
 * within about 3 s, then this sends the same messages again after the
 * retry policy's delay (kafkajs took their sequence numbers back when the
 * request failed, so a batch the broker had already appended is
 * recognised and not appended twice), until the policy says stop; the
 * first connection is retried the same way. Once `maxBuffered` records
 * are held the next write fails the stage: the sink has no way to slow its
 * inputs, and a recording with a hole in it is worse than a run that stops
 * and says why. An error kafkajs gives up on fails the stage with it; no
 * record is ever dropped silently.
 */
export class KafkaBatchWriter {
  /** The batch records go to; batches closed to writes, oldest first; the one in flight. */
  private filling: Batch | undefined;
  private readonly waiting: Batch[] = [];
  private inFlight: Batch | undefined;
  private inFlightSince = 0;
  /** Records written and not acknowledged. */
  private held = 0;
  private readiness: Promise<void> | undefined;
  private isReady = false;
  private failure: { error: unknown } | undefined;
  /** Called when nothing is held any more (or a failure ended the writing), while closing. */
  private drained: (() => void) | undefined;
  private bytesPerRecord = FIRST_RECORD_BYTES;

  constructor(private readonly options: KafkaBatchWriterOptions) {}

  /** Records held: collecting, waiting to be sent, or in flight. */
  get heldRecords(): number {
    return this.held;
  }

  /**
   * Adds `record` to the batch being collected and returns that batch's
   * promise. Throws the stage's failure once there is one, and a StageError
   * when `maxBuffered` records are held already.
   */
  write(record: unknown): Promise<SinkAcknowledgements> {
    if (this.failure !== undefined) throw this.failure.error;
    if (this.held >= this.options.maxBuffered) {
      const error = this.overflow();
      this.fail(error);
      throw error;
    }
    this.readiness ??= this.becomeReady();
    let batch = this.filling;
    if (batch === undefined) batch = this.filling = this.openBatch();
    batch.records.push(record);
    this.held++;
    if (batch.records.length >= this.options.batchSize) {
      this.filling = undefined;
      batch.due = true;
      batch.linger?.unsubscribe();
      this.waiting.push(batch);
      this.options.metrics.buffered.set(this.held);
      this.pump(false);
    }
    return batch.acknowledged;
  }

  /**
   * Sends what is held and waits for the broker to acknowledge it, for at
   * most `closeTimeoutMs`; then fails what is not acknowledged (so the stage
   * fails naming how many) and disconnects the producer.
   */
  async close(): Promise<void> {
    if (this.filling !== undefined) {
      const batch = this.filling;
      this.filling = undefined;
      batch.linger?.unsubscribe();
      batch.due = true;
      this.waiting.push(batch);
    }
    if (this.held > 0 && this.failure === undefined) {
      const waited = new Promise<void>((resolve) => (this.drained = resolve));
      this.pump(false);
      const timeout = this.options.scheduler.schedule(() => {
        this.fail(
          new StageError(
            `kafka: closing after ${this.options.closeTimeoutMs} ms with ${this.held} records not acknowledged by the broker (close_timeout_ms)`,
            { retriable: true, context: { stage: this.options.stage, component: 'kafka' } },
          ),
        );
      }, this.options.closeTimeoutMs);
      await waited;
      timeout.unsubscribe();
    }
    if (this.readiness !== undefined) {
      // A producer that never connected has nothing to disconnect; a failed disconnect leaves nothing to release either.
      await this.options.producer.disconnect().catch((error: unknown) => {
        this.options.logger.warn({ err: error }, 'kafka: disconnecting the producer failed');
      });
    }
  }

  private openBatch(): Batch {
    let resolve!: (acknowledgements: SinkAcknowledgements) => void;
    let reject!: (error: unknown) => void;
    const acknowledged = new Promise<SinkAcknowledgements>((res, rej) => ((resolve = res), (reject = rej)));
    // Nobody may be listening yet when a batch fails (a stage that failed already): the failure is the stage's.
    acknowledged.catch(() => undefined);
    const batch: Batch = { records: [], acknowledged, resolve, reject, linger: undefined, due: false };
    batch.linger = this.options.scheduler.schedule(() => {
      batch.linger = undefined;
      batch.due = true;
      if (this.filling === batch) {
        this.filling = undefined;
        this.waiting.push(batch);
      }
      this.pump(false);
    }, this.options.lingerMs);
    return batch;
  }

  /** Connects (and the rest `ready` does), again with the retry policy's delays while the broker cannot be reached. */
  private becomeReady(attempt = 1): Promise<void> {
    return this.options.ready().then(
      () => {
        this.isReady = true;
        this.pump(false);
      },
      (error: unknown) => {
        if (this.failure !== undefined) return;
        if (!this.mayRetry(attempt, error, 'connecting')) return this.fail(error);
        return new Promise<void>((resolve) => {
          this.options.scheduler.schedule(
            () => resolve(this.failure === undefined ? this.becomeReady(attempt + 1) : undefined),
            this.options.retry.delayMs(attempt),
          );
        });
      },
    );
  }

  /** Whether `error`, ending attempt `attempt`, is worth another: the broker's absence explains it and the policy allows one more. Counts and logs it. */
  private mayRetry(attempt: number, error: unknown, doing: string): boolean {
    if (!isTransientKafkaError(error) || !this.options.retry.shouldRetry(attempt, error)) return false;
    this.options.metrics.retries.inc();
    this.options.logger.warn(
      { attempt, reason: (error as Error).message, held: this.held },
      `kafka: the broker cannot be reached; ${doing} again`,
    );
    return true;
  }

  /** Sends the next batch when nothing is in flight: the oldest due, or after an acknowledgement the one collecting. */
  private pump(acknowledged: boolean): void {
    if (this.inFlight !== undefined || !this.isReady || this.failure !== undefined) return;
    let batch = this.waiting.shift();
    if (batch === undefined && acknowledged && this.filling !== undefined) {
      batch = this.filling;
      this.filling = undefined;
      batch.linger?.unsubscribe();
    }
    if (batch === undefined) return;
    let topicMessages: TopicMessages[];
    let bytes: number;
    try {
      ({ topicMessages, bytes } = this.encode(batch.records));
    } catch (error) {
      this.fail(error);
      return;
    }
    this.inFlight = batch;
    this.inFlightSince = performance.now();
    this.options.metrics.inFlight.set(batch.records.length);
    this.options.metrics.buffered.set(this.held);
    this.send(batch, topicMessages, bytes, 1);
  }

  /**
   * Sends the batch in flight; once the broker acknowledged it, resolves it
   * and sends the next. When kafkajs gives up because the broker cannot be
   * reached, sends the same messages again (their sequence numbers were
   * taken back, so the broker drops any it already has) after the retry
   * policy's delay, until the policy says stop.
   */
  private send(batch: Batch, topicMessages: TopicMessages[], bytes: number, attempt: number): void {
    const count = batch.records.length;
    const { metrics } = this.options;
    this.options.producer.sendBatch({ topicMessages, acks: -1 }).then(
      () => {
        if (this.inFlight !== batch) return;
        this.inFlight = undefined;
        this.held -= count;
        metrics.ackLatency.observe((performance.now() - this.inFlightSince) / 1000);
        metrics.records.inc(count);
        metrics.bytes.inc(bytes);
        metrics.batches.inc();
        metrics.inFlight.set(0);
        metrics.buffered.set(this.held);
        batch.resolve(batch.records);
        if (this.held === 0) this.drained?.();
        this.pump(true);
      },
      (error: unknown) => {
        if (this.inFlight !== batch) return;
        if (!this.mayRetry(attempt, error, 'sending')) return this.fail(this.sendFailed(error, count, topicMessages));
        this.options.scheduler.schedule(() => {
          if (this.inFlight === batch && this.failure === undefined) this.send(batch, topicMessages, bytes, attempt + 1);
        }, this.options.retry.delayMs(attempt));
      },
    );
  }

  /** The kafkajs messages of `records`, their values framed and encoded into one slab, grouped by topic. */
  private encode(records: readonly unknown[]): { topicMessages: TopicMessages[]; bytes: number } {
    const { routes, eventTimestamps } = this.options;
    let slab = Buffer.allocUnsafe(Math.max(4096, Math.ceil(records.length * this.bytesPerRecord * 1.25)));
    let used = 0;
    let bytes = 0;
    const byTopic = new Map<string, Message[]>();
    let lastTopic = '';
    let lastMessages: Message[] = [];
    for (const record of records) {
      const route = routes.of(record);
      let end = -1;
      // A record that does not fit the rest of the slab gets a fresh one (twice as large when it did not fit an empty one).
      for (let attempt = 0; end < 0; attempt++) {
        end = encodeValue(route, record, slab, used);
        if (end >= 0) break;
        if (attempt >= 8) throw new StageError(`kafka: a ${route.name} record did not fit ${slab.length} bytes`);
        slab = Buffer.allocUnsafe(used === 0 ? slab.length * 2 : Math.max(4096, slab.length));
        used = 0;
      }
      const value = slab.subarray(used, end);
      bytes += end - used;
      used = end;
      const keyValue = route.keyField === undefined ? undefined : (record as Record<string, unknown>)[route.keyField];
      const key =
        typeof keyValue === 'string' ? keyValue : typeof keyValue === 'number' || typeof keyValue === 'bigint' ? String(keyValue) : null;
      if (key !== null) bytes += key.length;
      let message: Message;
      if (eventTimestamps && route.timeField !== undefined) {
        const micros = (record as Record<string, unknown>)[route.timeField];
        message = typeof micros === 'number' ? { key, value, timestamp: String(Math.floor(micros / 1000)) } : { key, value };
      } else message = { key, value };
      if (route.topic !== lastTopic) {
        lastTopic = route.topic;
        let messages = byTopic.get(lastTopic);
        if (messages === undefined) byTopic.set(lastTopic, (messages = []));
        lastMessages = messages;
      }
      lastMessages.push(message);
    }
    this.bytesPerRecord = Math.max(16, bytes / Math.max(1, records.length));
    return { topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })), bytes };
  }

  private overflow(): StageError {
    const waited =
      this.inFlight === undefined
        ? ''
        : ` the batch in flight has waited ${Math.round(performance.now() - this.inFlightSince)} ms for the broker;`;
    return new StageError(
      `kafka: ${this.held} records are held unacknowledged (max_buffered_records ${this.options.maxBuffered}):${waited} ` +
        'the sink fails rather than drop records (raise max_buffered_records, or pace the input)',
      { retriable: true, context: { stage: this.options.stage, component: 'kafka', topic: this.options.routes.topics.join(',') } },
    );
  }

  private sendFailed(error: unknown, count: number, topicMessages: readonly TopicMessages[]): TickflowError {
    if (error instanceof TickflowError) return error;
    const topics = topicMessages.map((t) => t.topic).join(', ');
    const cause = (error as { cause?: { message?: string } }).cause;
    const reason = `${(error as Error).message}${cause?.message !== undefined && cause.message !== (error as Error).message ? ` (${cause.message})` : ''}`;
    return new StageError(`kafka: the broker did not acknowledge a batch of ${count} records to ${topics}, after the retries: ${reason}`, {
      cause: error,
      context: { stage: this.options.stage, component: 'kafka', topic: topics },
    });
  }

  /** Ends the writing with `error`: every batch held fails with it, later writes throw it. */
  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = { error };
    const batches = [
      ...(this.inFlight === undefined ? [] : [this.inFlight]),
      ...this.waiting,
      ...(this.filling === undefined ? [] : [this.filling]),
    ];
    this.inFlight = this.filling = undefined;
    this.waiting.length = 0;
    for (const batch of batches) {
      batch.linger?.unsubscribe();
      batch.reject(error);
    }
    this.options.logger.error({ err: error }, 'kafka: the sink failed');
    this.drained?.();
  }
}

/** Writes `record`'s value (its route's header, then its Avro body) at `pos` of `slab`: where it ends, or -1 when it does not fit. */
function encodeValue(route: KafkaRecordRoute, record: unknown, slab: Buffer, pos: number): number {
  const { header } = route;
  const bodyAt = pos + header.length;
  if (bodyAt > slab.length) return -1;
  const end = route.writer.encodeInto(record, slab, bodyAt);
  if (end < 0) return -1;
  // Five or ten byte stores: cheaper than a native copy call per record.
  for (let i = 0; i < header.length; i++) slab[pos + i] = header[i] as number;
  return end;
}
