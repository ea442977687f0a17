import { randomUUID } from 'node:crypto';
import { Observable } from 'rxjs';
import { Kafka, type Admin, type Consumer, type EachBatchPayload, type KafkaMessage } from 'kafkajs';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Type } from 'avsc';
import { RecordValidationError, StageError } from '../errors/errors.js';
import { checkTickSanity } from '../domain/tick-sanity.js';
import { defineComponent } from '../pipeline/components/define-component.js';
import { field } from '../pipeline/config/field.js';
import { metric } from '../pipeline/runtime/metric-declaration.js';
import { RetryPolicy } from '../pipeline/runtime/retry-policy.js';
import { SchemaCatalog, type SchemaName } from '../pipeline/schemas/schema-catalog.js';
import { KafkaWireFormat } from '../protocols/kafka/kafka-wire-format.js';
import type { Tick } from '../schemas/generated.js';
import { kafkajsLogging } from '../pipeline/runtime/kafkajs-logging.js';
import { KafkaRecordDecoder, type WriterSchemaLookup } from './kafka/kafka-record-decoder.js';
import { planKafkaReplay, type PartitionRange } from './kafka/plan-kafka-replay.js';

/** Field names, shared by the spec and `create`. */
const BROKERS = 'brokers';
const SCHEMA_REGISTRY_URL = 'schema_registry_url';
const TOPICS = 'topics';
const SCHEMA = 'schema';
const MODE = 'mode';
const GROUP_ID = 'group_id';
const FROM_TIME = 'from_time';
const TO_TIME = 'to_time';
const CLIENT_ID = 'client_id';

/** The schemas a source can read: every record (or union of records) of `schemas/`. */
const SCHEMAS = SchemaCatalog.default().names();
/** Attempts at reaching the schema registry for a writer schema before the stage fails (its records are not committed). */
const REGISTRY_ATTEMPTS = 6;
/** Bytes of a rejected value a dead letter shows, as hex. */
const DEAD_LETTER_VALUE_BYTES = 256;
/** Fetch up to this much per partition and request: a tick is about 290 bytes on the wire, so some 14,000 a batch. */
const MAX_BYTES_PER_PARTITION = 4 * 1024 * 1024;

/** Rejected messages are logged one by one at first, then every thousandth, so a flood cannot drown the log. */
const shouldLog = (count: number): boolean => count <= 10 || count % 1000 === 0;

/** An ISO 8601 instant as milliseconds since the epoch, or undefined for ''; NaN when it is not one. */
function instantMs(text: string): number | undefined {
  if (text === '') return undefined;
  // Only full instants with a zone: a bare date or local time would depend on the machine's zone.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return Number.NaN;
  return Date.parse(text);
}

/** Writer schemas by registry id through `@kafkajs/confluent-schema-registry` (which caches them too). */
function registryLookup(url: string): WriterSchemaLookup {
  const registry = new SchemaRegistry({ host: url });
  return {
    schemaById: async (id) => {
      const schema = (await registry.getSchema(id)) as Partial<Type>;
      if (typeof schema.createResolver !== 'function') throw new RecordValidationError(`schema id ${id} is not an Avro schema`);
      return schema as Type;
    },
  };
}

/**
 * The `kafka` source: records of one schema from one or more Kafka topics,
 * as the `kafka` sink writes them (or any producer of Avro in Confluent's
 * wire format or single-object encoding).
 *
 * Decoding: each value's framing names its writer schema: a registry id
 * (fetched once per id from `schema_registry_url`) or a single-object
 * fingerprint (looked up among `schemas/`). The body is read in the writer
 * schema and resolved to the reader schema, `schema`, which is the schema
 * of the source's edge (Avro schema resolution: a record written before a
 * field with a default was added still flows, with the default). A
 * message that cannot be read (neither framing, garbage bytes, an unknown
 * id or fingerprint, a writer schema the reader cannot resolve, a tombstone)
 * and a tick that is not plausible (see {@link checkTickSanity}) are
 * dead-lettered with topic, partition, offset and the reason (origin
 * `kafka:topic/partition@offset`), counted as dropped and logged (the first
 * ten, then every thousandth); the source goes on. A registry that cannot
 * be reached is retried (6 attempts over about 6 s), then the stage fails:
 * its messages are not dead letters.
 *
 * Modes:
 * - `live`: tails the topics as a member of consumer group `group_id`
 *   (a group with no committed offset starts at the beginning). A batch's
 *   offsets are committed only once the pipeline's sinks acknowledged every
 *   record written so far (`ctx.pipeline.sinksSettled()`): a run that stops
 *   or crashes before that gets those records again on its next start
 *   (at-least-once). A record an operator holds (bars) or drops is not
 *   waited for: exactly-once across state is issue 15's (transactions).
 * - `replay`: from the earliest offset, or from `from_time` (by the
 *   messages' Kafka timestamps, which the `kafka` sink sets to `ts_event`),
 *   to the high watermarks when it started, or to `to_time`, whichever
 *   comes first per partition; then completes. No offsets are committed
 *   (its consumer group is its own, named after the stage, and removed).
 *
 * Each partition's records come in offset order, so the records of one
 * instrument (one key, one partition) keep their order; partitions of
 * several topics interleave. Time is the scheduler's only.
 *
 * For example, messages m1 m2 xx m3 of a topic, where xx is not decodable:
 * records a b c come out and xx goes to the dead letters (topic,
 * partition, offset, reason); live, the offsets are committed once the
 * sinks acknowledged a, b and c; a replay completes after c.
 *
 * @example
 * ```ts
 * const config = validateComponentConfig(kafkaSource, { brokers: ['127.0.0.1:9092'], topics: ['tickflow.ticks'], mode: 'replay' });
 * console.log(config.schema, config.mode, kafkaSource.outOf?.(config));
 * // Logs: Tick replay Tick
 * ```
 */
export const kafkaSource = defineComponent({
  name: 'kafka',
  kind: 'source',
  out: 'Tick',
  outOf: (config) => config[SCHEMA],
  boundary: true,
  description:
    'Reads Avro records of one schema from Kafka topics (Confluent wire format with a schema registry, or single-object encoding), resolved to the edge schema; live in a consumer group, committed after the sinks acknowledged, or a replay between two times.',
  spec: {
    [BROKERS]: field.stringList({
      description: 'Bootstrap brokers, host:port each (environment TICKFLOW_KAFKA_BROKERS, comma-separated)',
      env: 'TICKFLOW_KAFKA_BROKERS',
      example: ['127.0.0.1:9092'],
    }),
    [SCHEMA_REGISTRY_URL]: field.string({
      description:
        'Confluent-compatible schema registry, for values in Confluent wire format (environment TICKFLOW_SCHEMA_REGISTRY_URL); empty: only single-object encoded values are read',
      env: 'TICKFLOW_SCHEMA_REGISTRY_URL',
      default: '',
      example: 'http://127.0.0.1:8081/apis/ccompat/v7',
    }),
    [TOPICS]: field.stringList({ description: 'Topics to read, one or more', example: ['tickflow.ticks'] }),
    [SCHEMA]: field.choice(SCHEMAS, {
      description:
        "The reader schema: the schema of the source's records and edge; values written in an older compatible version are resolved to it",
      default: 'Tick',
      example: 'Bar',
    }),
    [MODE]: field.choice(['live', 'replay'] as const, {
      description:
        'live: tail in consumer group group_id, committing offsets once the sinks acknowledged; replay: from the beginning or from_time to the end offsets at start or to_time, then complete',
      default: 'replay',
      example: 'replay',
    }),
    [GROUP_ID]: field.string({ description: 'Consumer group of live mode (required there)', default: '', example: 'tickflow-recorder' }),
    [FROM_TIME]: field.string({
      description:
        'Replay: start at the first message whose Kafka timestamp is at or after this ISO 8601 instant; empty: from the earliest',
      default: '',
      example: '2025-01-02T21:00:00+08:00',
    }),
    [TO_TIME]: field.string({
      description:
        'Replay: end each partition before its first message whose Kafka timestamp is after this ISO 8601 instant; empty: at the end offsets when the replay started',
      default: '',
      example: '2025-01-03T15:00:00+08:00',
    }),
    [CLIENT_ID]: field.string({ description: 'Client id the broker logs and quotas see', default: 'tickflow', example: 'tickflow-replay' }),
  },
  validate: [
    {
      rule: "'brokers' names at least one broker",
      problems: (config) =>
        config.brokers.length === 0 ? ["'brokers' is empty: set it or TICKFLOW_KAFKA_BROKERS (host:port, comma-separated)"] : [],
    },
    {
      rule: "'topics' names at least one topic",
      problems: (config) => (config.topics.length === 0 ? ["'topics' is empty: name at least one topic"] : []),
    },
    {
      rule: "live mode needs 'group_id'",
      problems: (config) => (config.mode === 'live' && config.group_id === '' ? ["mode 'live' needs a 'group_id'"] : []),
    },
    {
      rule: "'from_time' and 'to_time' are ISO 8601 instants with a zone, only in replay mode, from before to",
      problems: (config) => {
        const problems: string[] = [];
        const from = instantMs(config.from_time);
        const to = instantMs(config.to_time);
        for (const [name, ms] of [
          [FROM_TIME, from],
          [TO_TIME, to],
        ] as const) {
          if (ms === undefined) continue;
          if (Number.isNaN(ms))
            problems.push(
              `'${name}' ${JSON.stringify(config[name])} is not an ISO 8601 instant with a zone, e.g. 2025-01-02T21:00:00+08:00`,
            );
          else if (config.mode === 'live') problems.push(`'${name}' is for mode 'replay'; a live source starts where its group left off`);
        }
        if (from !== undefined && to !== undefined && from >= to) problems.push(`'from_time' must be before 'to_time'`);
        return problems;
      },
    },
  ],
  checkedAtStart: ["that the brokers and the schema registry answer and that the 'topics' exist"],
  metrics: {
    messages_total: metric.counter('Messages the kafka source read, records and dead letters alike.'),
    bytes_total: metric.counter('Bytes of message values the kafka source read.'),
    commits_total: metric.counter("Offset commits of the kafka source's live mode, each after the sinks acknowledged a batch."),
  },
  drops: {
    undecodable:
      'A message that cannot be read: neither framing, an unknown schema id or fingerprint, a writer schema not resolvable to the reader, bytes that are no record (dead-lettered with topic, partition, offset)',
    implausible: 'A tick that decodes but is not plausible (domain/tick-sanity; dead-lettered)',
  },
  create(config, ctx) {
    const reader: SchemaName = config[SCHEMA];
    const live = config[MODE] === 'live';
    const topics = [...config[TOPICS]];
    const fromTimeMs = instantMs(config[FROM_TIME]);
    const toTimeMs = instantMs(config[TO_TIME]);
    const registryUrl = config[SCHEMA_REGISTRY_URL];
    const decoder = new KafkaRecordDecoder(reader, ctx.schemas, registryUrl === '' ? undefined : registryLookup(registryUrl));
    const checkTick = reader === 'Tick';
    const metrics = {
      messages: ctx.metrics.counter('messages_total'),
      bytes: ctx.metrics.counter('bytes_total'),
      commits: ctx.metrics.counter('commits_total'),
    };
    const retry = new RetryPolicy({ initialMs: 200, maxMs: 2_000, maxAttempts: REGISTRY_ATTEMPTS });
    const wait = (ms: number): Promise<void> => new Promise((resolve) => ctx.scheduler.schedule(() => resolve(), ms));

    // Records of the configured schema: Tick unless `schema` says otherwise (see outOf).
    return new Observable<Tick>((subscriber) => {
      const kafka = new Kafka({
        clientId: config[CLIENT_ID],
        brokers: [...config[BROKERS]],
        ...kafkajsLogging(ctx.logger),
      });
      // A replay's group is its own: it commits nothing and is removed at the end.
      const groupId = live ? config[GROUP_ID] : `tickflow-replay-${ctx.stage}-${randomUUID()}`;
      const consumer: Consumer = kafka.consumer({ groupId, maxBytesPerPartition: MAX_BYTES_PER_PARTITION, allowAutoTopicCreation: false });
      let admin: Admin | undefined;
      let rejected = 0;
      let emitted = 0;
      /** Replay: each partition's range, and how many have not ended yet. */
      let ranges: Map<string, PartitionRange> | undefined;
      let open = 0;
      const ended = new Set<string>();

      const fail = (error: unknown): void => {
        if (subscriber.closed) return;
        const message = error instanceof Error ? error.message : String(error);
        subscriber.error(
          error instanceof StageError
            ? error
            : new StageError(`stage '${ctx.stage}' (kafka): ${message}`, { cause: error, retriable: true, context: { stage: ctx.stage } }),
        );
      };

      const reject = (topic: string, partition: number, message: KafkaMessage, reason: string): void => {
        rejected++;
        const drop = reason.startsWith('not a plausible') ? 'implausible' : 'undecodable';
        ctx.metrics.dropped(drop);
        const value = message.value;
        ctx.deadLetter({
          origin: `kafka:${topic}/${partition}@${message.offset}`,
          schema: reader,
          reason: `topic ${topic} partition ${partition} offset ${message.offset}: ${reason}`,
          payload: {
            topic,
            partition,
            offset: message.offset,
            timestamp: message.timestamp,
            key: message.key === null ? null : message.key.subarray(0, 64).toString('utf8'),
            value_bytes: value === null ? 0 : value.length,
            value_hex: value === null ? null : value.subarray(0, DEAD_LETTER_VALUE_BYTES).toString('hex'),
          },
        });
        if (shouldLog(rejected)) {
          ctx.logger.warn(
            { topic, partition, offset: message.offset, reason, rejected },
            `kafka message ${topic}/${partition}@${message.offset} dead-lettered: ${reason}`,
          );
        }
      };

      /** The record in `message`, or undefined once it was dead-lettered; throws only when the registry cannot be reached. */
      const recordOf = async (topic: string, partition: number, message: KafkaMessage): Promise<unknown> => {
        const value = message.value;
        if (value === null) return reject(topic, partition, message, 'the message has no value (a tombstone)');
        metrics.bytes.inc(value.length);
        let read;
        let header;
        try {
          header = KafkaWireFormat.read(value);
          read = decoder.readerOf(header);
        } catch (error) {
          return reject(topic, partition, message, (error as Error).message);
        }
        if (read instanceof Promise) {
          let pending = read;
          for (let attempt = 1; ; attempt++) {
            try {
              read = await pending;
              break;
            } catch (error) {
              if (error instanceof RecordValidationError) return reject(topic, partition, message, error.message);
              if (!retry.shouldRetry(attempt, error)) {
                throw new StageError(
                  `stage '${ctx.stage}' (kafka): the schema registry did not answer for schema id ${header.format === 'confluent' ? header.schemaId : '?'} after ${attempt} attempts: ${(error as Error).message}`,
                  { cause: error, retriable: true, context: { stage: ctx.stage } },
                );
              }
              ctx.logger.warn({ attempt, err: error }, `kafka: the schema registry did not answer; retrying`);
              await wait(retry.delayMs(attempt));
              const known = header;
              pending = Promise.resolve().then(() => decoder.readerOf(known));
            }
          }
        }
        let record: unknown;
        try {
          record = read(value, header.bodyOffset);
        } catch (error) {
          return reject(topic, partition, message, `the Avro body is no ${reader} record: ${(error as Error).message}`);
        }
        if (checkTick) {
          const problem = checkTickSanity(record as Tick);
          if (problem !== undefined) return reject(topic, partition, message, `not a plausible tickflow.Tick: ${problem}`);
        }
        return record;
      };

      const endPartition = (key: string): void => {
        if (ended.has(key)) return;
        ended.add(key);
        open--;
      };

      // A failure here (the registry unreachable, a commit refused) fails the stage; kafkajs would only retry the batch.
      const eachBatch = (payload: EachBatchPayload): Promise<void> => consumeBatch(payload).catch(fail);
      const consumeBatch = async (payload: EachBatchPayload): Promise<void> => {
        const { batch } = payload;
        const { topic, partition } = batch;
        const key = `${topic}:${partition}`;
        const range = ranges?.get(key);
        if (ended.has(key)) return;
        let last: string | undefined;
        for (const message of batch.messages) {
          if (subscriber.closed || !payload.isRunning() || payload.isStale()) break;
          const offset = Number(message.offset);
          if (range !== undefined) {
            if (offset < range.start) {
              payload.resolveOffset(message.offset);
              continue;
            }
            if (offset >= range.end || (toTimeMs !== undefined && Number(message.timestamp) > toTimeMs)) {
              endPartition(key);
              break;
            }
          }
          metrics.messages.inc();
          const record = await recordOf(topic, partition, message);
          // The subscriber may have gone while the registry was asked.
          if (subscriber.closed) break;
          if (record !== undefined) {
            emitted++;
            subscriber.next(record as Tick);
          }
          payload.resolveOffset(message.offset);
          last = message.offset;
          if (range !== undefined && offset + 1 >= range.end) {
            endPartition(key);
            break;
          }
        }
        if (last !== undefined) {
          try {
            // Backpressure and the commit's condition: the sinks have what this batch gave them.
            await ctx.pipeline.sinksSettled();
          } catch (error) {
            // A sink failed or stopped: the pipeline fails with it; these offsets stay uncommitted.
            ctx.logger.debug({ err: error, topic, partition }, 'kafka: sinks did not settle; offsets not committed');
            return;
          }
          if (live) {
            await consumer.commitOffsets([{ topic, partition, offset: String(Number(last) + 1) }]);
            metrics.commits.inc();
          }
        }
        if (range !== undefined && ended.has(key)) consumer.pause([{ topic, partitions: [partition] }]);
        if (ranges !== undefined && open === 0 && !subscriber.closed) {
          ctx.logger.info({ topics, records: emitted, rejected }, 'kafka replay finished');
          subscriber.complete();
        }
      };

      const start = async (): Promise<void> => {
        if (!live) {
          admin = kafka.admin();
          await admin.connect();
          const planned = await planKafkaReplay(admin, topics, fromTimeMs);
          for (const [key, range] of planned) if (range.start >= range.end) ended.add(key);
          open = planned.size - ended.size;
          ranges = planned;
          ctx.logger.info(
            { topics, partitions: planned.size, from_time: config[FROM_TIME] || null, to_time: config[TO_TIME] || null },
            'kafka replay started',
          );
          if (open === 0) {
            ctx.logger.info({ topics }, 'kafka replay finished: nothing to replay');
            return subscriber.complete();
          }
        }
        await consumer.connect();
        if (subscriber.closed) return;
        consumer.on(consumer.events.CRASH, ({ payload }) => {
          if (!payload.restart) fail(payload.error);
        });
        const replayed = ranges;
        if (replayed !== undefined) {
          // Seeking needs the group joined; a message before a partition's start that was fetched already is skipped.
          consumer.on(consumer.events.GROUP_JOIN, () => {
            for (const range of replayed.values()) {
              if (!ended.has(`${range.topic}:${range.partition}`)) {
                consumer.seek({ topic: range.topic, partition: range.partition, offset: String(range.start) });
              } else consumer.pause([{ topic: range.topic, partitions: [range.partition] }]);
            }
          });
        }
        await consumer.subscribe({ topics, fromBeginning: true });
        await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch });
        if (replayed === undefined) ctx.logger.info({ topics, group_id: groupId }, 'kafka source tailing');
      };
      start().catch(fail);

      return () => {
        // Disconnecting waits for the batch in hand, which commits what the sinks acknowledged before it ends.
        void consumer
          .disconnect()
          .then(async () => {
            if (admin === undefined) return;
            await admin.deleteGroups([groupId]).catch(() => undefined);
            await admin.disconnect();
          })
          .catch((error: unknown) => ctx.logger.warn({ err: error }, `kafka: could not disconnect: ${(error as Error).message}`));
      };
    });
  },
});
