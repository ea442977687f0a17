import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { Kafka, logLevel } from 'kafkajs';
import { asyncScheduler, lastValueFrom, count, timeout } from 'rxjs';
import { standaloneContext } from '../pipeline/components/standalone-context.js';
import { validateComponentConfig } from '../pipeline/components/validate-component-config.js';
import { registrySchema } from '../pipeline/schemas/registry-schema.js';
import { SchemaCatalog } from '../pipeline/schemas/schema-catalog.js';
import { KafkaWireFormat } from '../protocols/kafka/kafka-wire-format.js';
import { kafkaSource } from '../sources/kafka-source.js';
import { KafkaRecordDecoder } from '../sources/kafka/kafka-record-decoder.js';
import { SimMarket } from '../sources/sim-market.js';
import { formatCount } from './format-count.js';
import { startKafkaBenchServers } from './start-kafka-bench-servers.js';

const INSTRUMENTS = ['SHFE.rb2501', 'SHFE.cu2501', 'DCE.m2501', 'CZCE.SR501', 'CFFEX.IF2501', 'INE.sc2501'];
const SIM_START_US = Date.parse('2025-01-02T21:00:00+08:00') * 1000;
const TICKS = 200_000;
const PARTITIONS = 3;
/** Messages per send: about 580 KB, under the broker's 1 MB batch limit spread over the partitions. */
const PRODUCE_BATCH = 2_000;
/** Longest a replay may take before the benchmark gives up. */
const REPLAY_BUDGET_MS = 120_000;
const DECODE_ROUNDS = 3;

/**
 * The `kafka` source's throughput: 200,000 sim ticks in a 3-partition topic
 * of a local broker (one per case: Confluent wire format in the reader's
 * schema, the generated decoder's path; written in an older Tick version,
 * avsc's resolver path; single-object encoding) replayed through the source
 * to the end offsets, ticks/s from subscribe to complete (the group join
 * included) with Node's CPU per tick; and the decoding alone (framing,
 * writer schema lookup, body read, no Kafka) on the same values in memory.
 */
export async function kafkaSourceThroughput(): Promise<string[]> {
  const servers = await startKafkaBenchServers();
  const kafka = new Kafka({ brokers: servers.brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false });
  const admin = kafka.admin();
  try {
    await producer.connect();
    await admin.connect();
    const registry = new SchemaRegistry({ host: servers.registryUrl });
    const catalog = SchemaCatalog.default();
    const tickType = catalog.type('Tick');
    const { subject, text } = registrySchema('Tick');
    const tickId = (await registry.register({ type: SchemaType.AVRO, schema: text }, { subject })).id;
    const current = JSON.parse(text) as { fields: { name: string }[] };
    const older = { ...current, fields: current.fields.filter((f) => f.name !== 'average_price') };
    const olderType = avro.Type.forSchema(older as avro.Schema);
    const olderId = (await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(older) }, { subject: 'bench.older-tick' })).id;
    const singleObject = new KafkaRecordDecoder('Tick', catalog).singleObjectHeaderOf('Tick');

    const market = new SimMarket({
      instruments: INSTRUMENTS,
      seed: 5,
      start: SIM_START_US,
      tickIntervalMs: 500,
      feedId: 'bench',
      latencyUs: 0,
    });
    const ticks = Array.from({ length: TICKS }, () => market.next());
    const cases = [
      {
        label: 'confluent, same schema',
        value: (i: number) => Buffer.concat([KafkaWireFormat.confluentHeader(tickId), tickType.toBuffer(ticks[i])]),
      },
      {
        label: 'confluent, older writer',
        value: (i: number) => {
          const { average_price: _left, ...written } = ticks[i] as (typeof ticks)[number];
          return Buffer.concat([KafkaWireFormat.confluentHeader(olderId), olderType.toBuffer(written)]);
        },
      },
      { label: 'single-object', value: (i: number) => Buffer.concat([singleObject, tickType.toBuffer(ticks[i])]) },
    ];
    const lines = [
      `${TICKS.toLocaleString('en-US')} sim ticks (six instruments, ${PARTITIONS} partitions, keyed by instrument) replayed from a local broker ` +
        `through the kafka source to the end offsets (subscribe to complete, group join included); then decoding alone, in memory:`,
    ];
    const decodeLines: string[] = [];
    for (const [n, c] of cases.entries()) {
      const topic = `bench-source-${n}`;
      await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
      const values = ticks.map((_, i) => c.value(i));
      for (let at = 0; at < TICKS; at += PRODUCE_BATCH) {
        const messages = values
          .slice(at, at + PRODUCE_BATCH)
          .map((value, j) => ({ key: (ticks[at + j] as { instrument_id: string }).instrument_id, value }));
        await producer.send({ topic, acks: -1, messages });
      }
      const config = validateComponentConfig(kafkaSource, {
        brokers: servers.brokers,
        schema_registry_url: servers.registryUrl,
        topics: [topic],
        mode: 'replay',
      });
      const ctx = standaloneContext(asyncScheduler, { component: kafkaSource });
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      const replayed = await lastValueFrom(kafkaSource.create(config, ctx).pipe(count(), timeout(REPLAY_BUDGET_MS)));
      const seconds = (performance.now() - started) / 1000;
      const cpu = process.cpuUsage(cpuBefore);
      const cpuPerTickUs = (cpu.user + cpu.system) / Math.max(1, replayed);
      lines.push(
        `  ${`replay, ${c.label}`.padEnd(34)} ${formatCount(replayed / seconds)} ticks/s, ${replayed.toLocaleString('en-US')} ticks, ` +
          `${ctx.deadLetters.length} dead letters, node ${cpuPerTickUs.toFixed(2)} µs CPU per tick`,
      );

      // Decoding alone: the same values, the same decoder the source builds (writer schemas cached after the first).
      const decoder = new KafkaRecordDecoder('Tick', catalog, {
        schemaById: async (id) => (await registry.getSchema(id)) as unknown as avro.Type,
      });
      const first = values[0] as Buffer;
      await decoder.readerOf(KafkaWireFormat.read(first));
      let best = 0;
      for (let round = 0; round < DECODE_ROUNDS; round++) {
        const t0 = performance.now();
        let read = 0;
        for (const value of values) {
          const header = KafkaWireFormat.read(value);
          const reader = decoder.readerOf(header) as (v: Buffer, at: number) => unknown;
          if (reader(value, header.bodyOffset) !== undefined) read++;
        }
        best = Math.max(best, read / ((performance.now() - t0) / 1000));
      }
      decodeLines.push(`  ${`decode only, ${c.label}`.padEnd(34)} ${formatCount(best)} ticks/s (best of ${DECODE_ROUNDS})`);
    }
    return [...lines, ...decodeLines];
  } finally {
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await servers.close();
  }
}
