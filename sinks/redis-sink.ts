import { metric } from '../pipeline/runtime/metric-declaration.js';
import { defineComponent } from '../pipeline/components/define-component.js';
import { field } from '../pipeline/config/field.js';
import { RetryPolicy } from '../pipeline/runtime/retry-policy.js';
import { RedisKeys } from './redis/redis-keys.js';
import { RedisWriter } from './redis/redis-writer.js';
import { TickStreamEncoder } from './redis/tick-stream-encoder.js';
import { avroSchemaFiles } from '../schemas/generated.js';

/** The Tick schema as shipped (schemas/Tick.avsc), stored beside the tick streams for their readers. */
const TICK_SCHEMA = avroSchemaFiles.find((file) => file.name === 'Tick')?.schema;

/**
 * The `redis` sink: shared latest state and tick history in Redis, for
 * readers in other processes (DESIGN.md §9).
 *
 * Key layout, under `key_prefix` (default `tickflow:`):
 *
 * - `{prefix}quote:{instrument_id}` — hash, the latest quote with the DIFF
 *   field names WebSocket clients see (`last_price`, `highest`, `lowest`,
 *   `amount`, `average`, `datetime`, `bid_price1`, …, plus `instrument_id`);
 *   values as text; a price the exchange has not set is absent. Written
 *   conflated: per batch, an instrument's changes are merged and only the
 *   fields that changed are written, once, at their latest value (one HSET;
 *   the fields that became unset in one HDEL).
 * - `{prefix}ticks:{instrument_id}` — stream, one entry per tick, ids
 *   assigned by Redis, trimmed with `XADD … MAXLEN ~ history_max_len`.
 *   Each entry has one field, `avro`: the tick in Avro's single-object
 *   encoding — bytes C3 01, the 8-byte little-endian CRC-64-AVRO
 *   fingerprint of the schema's Parsing Canonical Form, then the Avro binary
 *   body of a `tickflow.Tick` record (schemas/Tick.avsc; `ts_event` in epoch
 *   microseconds). One value per entry is what keeps the sink cheap: Node
 *   encodes it into a slab in about a microsecond, where 43 text fields cost
 *   ioredis a string each.
 * - `{prefix}schema:{fingerprint}` — string, the schema whose fingerprint,
 *   in hex, is the value's bytes 2 to 9 (the JSON of schemas/Tick.avsc), so
 *   Redis alone tells a reader how to decode the entries.
 * - `{prefix}instruments` — set of every instrument written.
 * - `{prefix}quotes:{instrument_id}` — pub/sub channel (when `publish` is
 *   on): per batch, the instrument's merged changes as one JSON merge patch
 *   of the quote (null deletes); after a rewrite, the full quote with every
 *   field (null where unset).
 *
 * Commands go out pipelined, up to `batch_size` records per round trip,
 * after a window of `flush_interval_ms` on the scheduler: per instrument one
 * hash write and one script call (EVAL) that appends its ticks with XADD
 * inside Redis, so Node builds a few commands per batch and instrument
 * rather than one per record. A full batch goes while the previous one is
 * still answered (two in flight at most). A record is acknowledged once
 * Redis answered the commands that carry it, or once it was dropped, in
 * the order written across both ports (one promise for the records of a
 * batch, resolved with their acknowledgements).
 * While Redis is unreachable ioredis reconnects with the retry policy and
 * records wait, up to `max_buffered` records and `max_buffered_bytes` of
 * estimated memory; beyond either the oldest are dropped
 * (`tickflow_stage_records_dropped_total{reason="redis-unavailable"}`, or
 * `redis-backlog` when Redis is up but behind; one warning per episode).
 * The hashes stay right regardless: after a reconnect, and for an instrument
 * whose change was dropped, the quote is rewritten in full from the sink's
 * own latest state. Tick entries lost with a connection are sent again (at
 * least once); entries dropped for the bound are gone.
 *
 * When both inputs complete, the sink writes what it holds and the rewrites
 * it owes, connecting at once if it was waiting out a reconnect delay, for
 * at most `close_timeout_ms` (plus up to 1 s for the batch then in flight);
 * then it drops the rest and logs how many records it dropped and exactly
 * how many quote hashes it left stale (and, apart, how many it cannot
 * confirm), quits the connection and completes. Unsubscribing closes the
 * same way.
 *
 * ```
 * quotes: --d----d-----|
 * ticks:  -t--t----t-------|
 * acks:   ------td--t-d--t----|   (each record once its batch is written; completes after QUIT)
 * ```
 *
 * @example
 * <!-- tsdoc-test: exempt — needs a Redis server at redis://127.0.0.1:6379 -->
 * ```ts
 * import { asyncScheduler, firstValueFrom } from 'rxjs';
 * const tick = await firstValueFrom(simSource.create(validateComponentConfig(simSource, { rate: 0, count: 1 }), ctx));
 * const writer = redisSink.create(validateComponentConfig(redisSink, { url: 'redis://127.0.0.1:6379' }), standaloneContext(asyncScheduler, { component: redisSink })); // connects at the first record
 * await writer.write('ticks', tick); // resolves once Redis answered the script call that appended it (or the record was dropped)
 * await writer.close(); // writes what is held, then disconnects
 * console.log('written');
 * // Logs: written
 * ```
 */
export const redisSink = defineComponent({
  name: 'redis',
  kind: 'sink',
  description:
    'Writes latest quotes (hashes, changed fields only, conflated per batch), tick history (streams of Avro entries with approximate max length) and optional pub/sub to Redis; survives Redis restarts.',
  in: { quotes: 'QuoteDiff', ticks: 'Tick' },
  boundary: true,
  spec: {
    url: field.string({
      description:
        'Redis to write to: redis://[[user]:password@]host[:port][/db], or rediss:// for TLS. Secret, as it may carry a password.',
      default: 'redis://127.0.0.1:6379',
      example: 'redis://:change-me@127.0.0.1:6379/0',
      secret: true,
      env: 'TICKFLOW_REDIS_URL',
    }),
    key_prefix: field.string({
      description: 'Prefix of every key and channel the sink writes.',
      default: 'tickflow:',
      example: 'prod:md:',
    }),
    history_max_len: field.integer({
      description:
        "Approximate most entries kept in each instrument's tick stream (XADD MAXLEN ~ N: Redis trims whole nodes, so a stream may hold somewhat more).",
      default: 100_000,
      min: 1,
      max: 10_000_000,
      example: 10_000,
    }),
    publish: field.boolean({
      description:
        "Also PUBLISH quote changes as JSON merge patches on channel {prefix}quotes:{instrument_id}: per batch, the instrument's changes merged into one.",
      default: false,
      example: true,
    }),
    batch_size: field.integer({
      description:
        'Most records sent in one batch (one round trip): its ticks as one script call per instrument (per 500 ticks), its quote changes as one merged hash write per instrument.',
      default: 2000,
      min: 1,
      max: 100_000,
      example: 2000,
    }),
    flush_interval_ms: field.integer({
      description:
        'How long a batch collects records before it is sent, when it is not full and none is in flight (records that come while one is go with the next at once).',
      default: 1,
      min: 0,
      max: 60_000,
      example: 1,
    }),
    max_buffered: field.integer({
      description:
        'Most records held while Redis is unreachable or behind; beyond this the oldest are dropped (counted) and quotes are later rewritten in full.',
      default: 100_000,
      min: 1,
      max: 10_000_000,
      example: 100_000,
    }),
    max_buffered_bytes: field.integer({
      description:
        'Most bytes of memory the held records may take, estimated (about 1,500 bytes a tick, 100 + 40 per field of a quote change; gauge tickflow_redis_buffered_bytes); ' +
        'beyond this the oldest records are dropped like beyond max_buffered, with the same reasons. Keep it well below the Node heap limit.',
      default: 268_435_456,
      min: 16_384,
      max: 2_147_483_648,
      example: 67_108_864,
    }),
    close_timeout_ms: field.integer({
      description:
        'When the inputs end, how long to keep writing what is held and the quote rewrites owed (reconnecting at once if Redis was away) before dropping the rest and closing; ' +
        'the batch then in flight gets up to 1 s more. The log names how many quote hashes were left stale.',
      default: 5000,
      min: 0,
      max: 300_000,
      example: 5000,
    }),
  },
  validate: [
    // The URL is secret: say what is wrong without echoing it.
    {
      rule: "'url' starts with redis:// or rediss://",
      problems: (config) =>
        /^rediss?:\/\//.test(config.url) ? [] : [`'url' must start with redis:// or rediss:// (value not shown: secret)`],
    },
  ],
  checkedAtStart: ["that the Redis server at 'url' answers"],
  metrics: {
    commands_total: metric.counter(
      'Commands the redis sink wrote (replied to by Redis); a script call that appends many ticks counts once.',
    ),
    buffered: metric.gauge(
      'Records the redis sink holds: for the next batch, sent and not answered yet, or until Redis is reachable again.',
    ),
    buffered_bytes: metric.gauge('Estimated bytes of memory the records the redis sink holds take (bounded by max_buffered_bytes).'),
    reconnects_total: metric.counter('Times the redis sink connected again after losing Redis.'),
  },
  drops: {
    'redis-backlog': 'The oldest buffered records, when Redis is reachable but slower than the input and a buffer bound is reached',
    'redis-unavailable':
      'The oldest buffered records, when Redis is unreachable and a buffer bound is reached, or what is unwritten at close',
    'redis-error': 'A command Redis answered with an error',
  },
  create(config, ctx) {
    const keys = new RedisKeys(config.key_prefix);
    const metrics = {
      commands: ctx.metrics.counter('commands_total'),
      buffered: ctx.metrics.gauge('buffered'),
      bufferedBytes: ctx.metrics.gauge('buffered_bytes'),
      reconnects: ctx.metrics.counter('reconnects_total'),
    };
    // Connected at the first record, so a run that does not start leaves no connection behind.
    let writer: RedisWriter | undefined;
    const connected = (): RedisWriter =>
      (writer ??= new RedisWriter({
        url: config.url,
        keys,
        encoder: new TickStreamEncoder(ctx.schemas.type('Tick'), TICK_SCHEMA),
        historyMaxLen: config.history_max_len,
        publish: config.publish,
        batchSize: config.batch_size,
        flushIntervalMs: config.flush_interval_ms,
        maxBuffered: config.max_buffered,
        maxBufferedBytes: config.max_buffered_bytes,
        closeTimeoutMs: config.close_timeout_ms,
        retry: new RetryPolicy(),
        connectionName: `tickflow:${ctx.stage}`,
        scheduler: ctx.scheduler,
        logger: ctx.logger,
        stageMetrics: ctx.metrics,
        metrics,
      }));
    return {
      // One promise per batch of writes, resolved with their records in the order written (across both ports).
      acknowledgesBatches: true,
      write: (port, record) => (port === 'quotes' ? connected().writeQuote(record) : connected().writeTick(record)),
      close: async () => writer?.close(),
    };
  },
});
