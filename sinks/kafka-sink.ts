import { Kafka, type RetryOptions as KafkajsRetryOptions } from 'kafkajs';
import { defineComponent } from '../pipeline/components/define-component.js';
import { field } from '../pipeline/config/field.js';
import { DEFAULT_PORT } from '../pipeline/graph/pipeline-graph.js';
import { metric } from '../pipeline/runtime/metric-declaration.js';
import { RetryPolicy } from '../pipeline/runtime/retry-policy.js';
import { StageError } from '../errors/errors.js';
import { cachedKeyPartitioner } from './kafka/cached-key-partitioner.js';
import { KafkaBatchWriter } from './kafka/kafka-batch-writer.js';
import { KafkaRecordRoutes } from './kafka/kafka-record-routes.js';
import { registerKafkaSchemas } from './kafka/register-kafka-schemas.js';
import { kafkajsLogging } from '../pipeline/runtime/kafkajs-logging.js';
import { redactedUrl } from './redis/redacted-url.js';

/** A broker address as kafkajs takes it: host:port. */
const BROKER_ADDRESS = /^[^\s:/]+:\d{1,5}$/;

/**
 * kafkajs's own retries, for the client (connecting, metadata) and under it
 * the producer: a few attempts within about 3 s, after which the sink's
 * retry policy takes over (so that a broker away for long is retried by the
 * sink, which stops when it closes, rather than by kafkajs for ever).
 */
const KAFKAJS_RETRY: KafkajsRetryOptions = { initialRetryTime: 100, maxRetryTime: 1_000, multiplier: 2, factor: 0.2, retries: 5 };

/**
 * The `kafka-sink` sink (the `kafka` source reads what it writes): records
 * of any schema to Kafka topics, as Avro, through kafkajs's idempotent
 * producer (DESIGN.md §7, §11).
 *
 * - **Topics.** `topic` is a template: `{schema}` is the edge's schema,
 *   `{record}` the record's own name, both lowercased. The default,
 *   `tickflow.{schema}`, writes ticks to `tickflow.tick` and every order
 *   event to `tickflow.orderevent` (the events of one order stay in one
 *   partition, in order); `tickflow.{record}` gives each event type its
 *   own topic (`tickflow.orderfilled`). `partitions` > 0 creates missing
 *   topics with that many partitions at the first write; otherwise the
 *   broker auto-creates them with its `num.partitions`.
 * - **Keys and partitions.** A record with an `instrument_id` is keyed by
 *   it (UTF-8); one without by its `key_field` when set (e.g. `account_id`,
 *   `feed_id`), else it has no key. Keyed messages are partitioned by the
 *   Java client's rule, which kafkajs's DefaultPartitioner follows: murmur2
 *   of the key's bytes, made positive, modulo the partition count, so
 *   Java, librdkafka and Python clients agree on an instrument's
 *   partition, and each instrument's records keep their order there.
 *   Messages without a key go round robin over the partitions: in order
 *   only within a partition, so a topic of one partition keeps them in
 *   order and one of several does not.
 * - **Values.** Each record is encoded as its own record type (an
 *   OrderEvent as `tickflow.OrderFilled`, …; its body byte for byte avsc's
 *   encoding). With `schema_registry_url`, in Confluent's wire format:
 *   byte 00, the 4-byte big-endian registry id, the body; the ids are
 *   registered at start through @kafkajs/confluent-schema-registry, one
 *   per record type, under subject = the record's full name
 *   (`tickflow.Tick`: the record name strategy) with the text of
 *   `registrySchema`, and a registry that refuses one fails the start
 *   naming the subject and its reason. Without a registry, in Avro's
 *   single-object encoding: C3 01, the 8-byte little-endian CRC-64-AVRO
 *   fingerprint of the schema's Parsing Canonical Form, the body.
 * - **Timestamps.** `message_timestamp: send` (default) lets the producer
 *   stamp the send time; `event` stamps each message with its record's
 *   `ts_event` (or `ts_init`) in milliseconds, so a replay can start at an
 *   event time. Kafka's retention then counts from event time: old
 *   recorded data is deleted at the next retention check unless the
 *   topic's `retention.ms` allows for its age.
 * - **Delivery.** Idempotent producer, `acks: -1` (all in-sync replicas),
 *   `maxInFlightRequests: 1` (kafkajs numbers a partition's messages as a
 *   request goes out: one request in flight keeps its numbering and the
 *   order), one batch in flight. A batch goes when it holds `batch_size`
 *   records, `linger_ms` after its first record, or at once when the batch
 *   before it is acknowledged. A record is acknowledged to the graph only
 *   when the broker acknowledged its batch (one promise per batch,
 *   resolved with its records). kafkajs retries what the broker answers
 *   as retriable (a leader moving) as long as it takes; when the broker
 *   cannot be reached it tries a few times within about 3 s, then the
 *   sink sends the same messages again after the retry policy's delay
 *   (200 ms doubling to 5 s, ±20 %; `max_attempts` rounds, 0 = for ever).
 *   kafkajs took their sequence numbers back when the request failed, so
 *   a batch the broker had appended before it went away is recognised and
 *   not appended twice. (With several brokers, a batch that reached some
 *   of them before the whole cluster became unreachable can be written
 *   twice to those partitions: kafkajs does not say which parts it
 *   delivered.) An error retrying cannot fix (a record too large, a topic
 *   not authorized) or the end of the rounds fails the stage with it.
 * - **Broker away.** Records are held (the one batch in flight, the rest
 *   waiting) and sent when it is back. The sink cannot slow its inputs, so
 *   at `max_buffered_records` held it fails the stage rather than drop
 *   records: size it for the outage to ride out (a tick held costs about
 *   1 KB of memory), or pace the input.
 * - **Close.** When the inputs end the sink sends what it holds and waits
 *   up to `close_timeout_ms` for the broker; records still not
 *   acknowledged then fail the stage, naming how many.
 *
 * @example
 * ```ts
 * import { asyncScheduler } from 'rxjs';
 * const config = validateComponentConfig(kafkaSink, { brokers: ['127.0.0.1:9092'], topic: 'md.{record}' });
 * // The runner tells a sink its input's schema: here order events, each written as its own record type.
 * const context = Object.assign(standaloneContext(asyncScheduler, { component: kafkaSink }), { inputSchemas: { in: 'OrderEvent' as const } });
 * const writer = kafkaSink.create(config, context);
 * // Connected at the first write: closed before any, it leaves nothing behind. A write resolves once the broker acknowledged its batch.
 * await writer.close();
 * console.log(config.batch_size, config.linger_ms, config.message_timestamp);
 * // Logs: 2000 5 send
 * ```
 */
export const kafkaSink = defineComponent({
  // 'kafka' names the source: a pipeline file's `use` names one component of any kind.
  name: 'kafka-sink',
  kind: 'sink',
  description:
    'Writes records of any schema to Kafka as Avro (Confluent wire format with a schema registry, single-object encoding without), keyed by instrument, through an idempotent producer; acknowledged once the broker has them.',
  in: 'any',
  boundary: true,
  spec: {
    brokers: field.stringList({
      description: 'Bootstrap brokers, host:port each.',
      default: ['127.0.0.1:9092'],
      example: ['127.0.0.1:9092'],
      env: 'TICKFLOW_KAFKA_BROKERS',
    }),
    schema_registry_url: field.string({
      description:
        "Confluent-compatible schema registry (Apicurio's is at …/apis/ccompat/v7); a user and password in it are sent as basic authentication. Empty: no registry, values in Avro single-object encoding. Secret, as it may carry a password.",
      default: '',
      example: 'http://127.0.0.1:8081/apis/ccompat/v7',
      secret: true,
      env: 'TICKFLOW_SCHEMA_REGISTRY_URL',
    }),
    topic: field.string({
      description:
        "Topic name template: {schema} is the edge's schema, {record} the record's own name (an OrderEvent's OrderFilled), both lowercased.",
      default: 'tickflow.{schema}',
      example: 'md.{record}',
    }),
    key_field: field.string({
      description:
        'Field that keys records without an instrument_id (e.g. account_id); empty: such records have no key and go round robin over the partitions.',
      default: '',
      example: 'feed_id',
    }),
    partitions: field.integer({
      description:
        "Partitions of the topics the sink creates at its first write when they are missing; 0: leave it to the broker's auto-creation (num.partitions).",
      default: 0,
      min: 0,
      max: 10_000,
      example: 12,
    }),
    batch_size: field.integer({
      description:
        "Most records in one batch (one produce request, one promise). A partition's share of a batch must stay under the broker's message.max.bytes (1 MiB by default: about 3,500 ticks); a larger one is refused and fails the stage.",
      default: 2000,
      min: 1,
      max: 50_000,
      example: 2000,
    }),
    linger_ms: field.integer({
      description:
        'How long a batch collects records after its first before it is sent, when it is not full and none is in flight (while one is, the next goes as soon as it is acknowledged).',
      default: 5,
      min: 0,
      max: 60_000,
      example: 5,
    }),
    max_buffered_records: field.integer({
      description:
        'Most records held unacknowledged (collecting, waiting, in flight) while the broker is slow or away; one more fails the stage rather than drop records. About 1 KB of memory a tick.',
      default: 200_000,
      min: 1,
      max: 10_000_000,
      example: 200_000,
    }),
    max_attempts: field.integer({
      description:
        "Rounds of attempts at connecting or at sending a batch while the broker cannot be reached (each round kafkajs's own few tries within about 3 s, then the retry policy's delay: 200 ms doubling to 5 s) before the stage fails with the error; 0: for ever.",
      default: 0,
      min: 0,
      max: 1_000,
      example: 10,
    }),
    close_timeout_ms: field.integer({
      description: 'When the inputs end, how long to wait for the broker to acknowledge what is held before failing with what is not.',
      default: 30_000,
      min: 0,
      max: 300_000,
      example: 30_000,
    }),
    message_timestamp: field.choice(['send', 'event'] as const, {
      description:
        "Kafka timestamp of each message: send, the producer's send time; event, the record's ts_event (or ts_init) in milliseconds (retention then counts from event time).",
      default: 'send',
      example: 'event',
    }),
    client_id: field.string({
      description: 'kafkajs client id, as the broker logs and quotas see it.',
      default: 'tickflow',
      example: 'tickflow-md',
    }),
  },
  validate: [
    {
      rule: "'brokers' lists at least one host:port",
      problems: (config) =>
        config.brokers.length === 0
          ? ["'brokers' is empty: give at least one host:port"]
          : config.brokers.filter((b) => !BROKER_ADDRESS.test(b)).map((b) => `'brokers' entry ${JSON.stringify(b)} is not host:port`),
    },
    {
      rule: "'schema_registry_url' is empty or an http(s):// URL",
      problems: (config) =>
        config.schema_registry_url === '' || /^https?:\/\/[^\s]+$/.test(config.schema_registry_url)
          ? []
          : ["'schema_registry_url' must be empty or start with http:// or https:// (value not shown: secret)"],
    },
    {
      rule: "'topic' makes legal topic names",
      problems: (config) => KafkaRecordRoutes.templateProblems(config.topic),
    },
  ],
  checkedAtStart: [
    "that the schema registry at 'schema_registry_url' (when set) accepts each record type's schema",
    "that 'key_field' (when set) is a field of the input's schema",
  ],
  metrics: {
    records_total: metric.counter('Records the kafka sink wrote that the broker acknowledged.'),
    bytes_total: metric.counter('Bytes of message values and keys the broker acknowledged.'),
    batches_total: metric.counter('Batches (produce requests) the broker acknowledged.'),
    retries_total: metric.counter(
      'Times the kafka sink connected or sent a batch again after kafkajs gave up on an unreachable broker (its own few attempts within about 3 s).',
    ),
    in_flight_records: metric.gauge('Records of the batch sent and not yet acknowledged by the broker.'),
    buffered_records: metric.gauge(
      'Records held unacknowledged: collecting, waiting for the batch in flight, or in flight (bounded by max_buffered_records).',
    ),
    ack_latency_seconds: metric.histogram(
      'Time from sending a batch to the broker acknowledging it (all in-sync replicas), retries included.',
      {
        buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1, 5, 30],
      },
    ),
  },
  create(config, ctx) {
    const schema = ctx.inputSchemas?.[DEFAULT_PORT];
    if (schema === undefined) {
      throw new StageError(
        `kafka: stage '${ctx.stage}' was not told its input's schema (ctx.inputSchemas.in): it names each record's type and topic`,
        {
          context: { stage: ctx.stage, component: 'kafka' },
        },
      );
    }
    const routes = new KafkaRecordRoutes(ctx.schemas, schema, config.topic, config.key_field);
    const kafka = new Kafka({
      clientId: config.client_id,
      brokers: [...config.brokers],
      retry: KAFKAJS_RETRY,
      ...kafkajsLogging(ctx.logger),
    });
    // The producer retries what the broker answers as retriable (a leader moving) for as long as it takes, as kafkajs's
    // idempotent producer must; an unreachable cluster ends its attempts when the client's retries above run out.
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      retry: { ...KAFKAJS_RETRY, retries: Number.MAX_SAFE_INTEGER },
      createPartitioner: cachedKeyPartitioner,
    });
    // Registered before any stage starts, so a registry that refuses a schema fails the start, naming the subject.
    const registered =
      config.schema_registry_url === ''
        ? Promise.resolve()
        : ctx.acquire(
            () =>
              registerKafkaSchemas(config.schema_registry_url, routes.all, {
                logger: ctx.logger,
                scheduler: ctx.scheduler,
                stage: ctx.stage,
              }),
            () => undefined,
          );
    registered.catch(() => undefined);
    const connect = async (): Promise<void> => {
      try {
        await producer.connect();
      } catch (error) {
        throw new StageError(`kafka: cannot connect to the brokers ${config.brokers.join(', ')}: ${(error as Error).message}`, {
          cause: error,
          retriable: true,
          context: { stage: ctx.stage, component: 'kafka-sink' },
        });
      }
      if (config.partitions > 0) {
        const admin = kafka.admin();
        await admin.connect();
        try {
          const created = await admin.createTopics({
            topics: routes.topics.map((topic) => ({ topic, numPartitions: config.partitions })),
            waitForLeaders: true,
          });
          ctx.logger.info({ topics: routes.topics, partitions: config.partitions, created }, 'kafka: topics checked');
        } finally {
          await admin.disconnect();
        }
      }
      ctx.logger.info(
        {
          brokers: config.brokers,
          topics: routes.topics,
          registry: config.schema_registry_url !== '' ? redactedUrl(config.schema_registry_url) : 'none',
        },
        'kafka: producer connected',
      );
    };
    const writer = new KafkaBatchWriter({
      producer,
      ready: () => Promise.all([registered, connect()]).then(() => undefined),
      retry: new RetryPolicy({ maxAttempts: config.max_attempts }),
      routes,
      batchSize: config.batch_size,
      lingerMs: config.linger_ms,
      maxBuffered: config.max_buffered_records,
      closeTimeoutMs: config.close_timeout_ms,
      eventTimestamps: config.message_timestamp === 'event',
      scheduler: ctx.scheduler,
      logger: ctx.logger,
      stage: ctx.stage,
      metrics: {
        records: ctx.metrics.counter('records_total'),
        bytes: ctx.metrics.counter('bytes_total'),
        batches: ctx.metrics.counter('batches_total'),
        retries: ctx.metrics.counter('retries_total'),
        inFlight: ctx.metrics.gauge('in_flight_records'),
        buffered: ctx.metrics.gauge('buffered_records'),
        ackLatency: ctx.metrics.histogram('ack_latency_seconds'),
      },
    });
    return {
      // One promise per batch, resolved with its records once the broker acknowledged them.
      acknowledgesBatches: true,
      write: (_port, record) => writer.write(record),
      close: () => writer.close(),
    };
  },
});
