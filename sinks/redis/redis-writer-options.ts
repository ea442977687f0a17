import type { Logger } from 'pino';
import type { SchedulerLike } from 'rxjs';
import type { RetryPolicy } from '../../pipeline/runtime/retry-policy.js';
import type { CounterSeries, GaugeSeries, StageMetrics } from '../../pipeline/runtime/stage-metrics.js';
import type { RedisKeys } from './redis-keys.js';
import type { TickStreamEncoder } from './tick-stream-encoder.js';

/** What the {@link RedisWriter} needs; the `redis` sink builds it from its config and context. */
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
