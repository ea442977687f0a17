/**
 * The `kafka` source against a real broker and schema registry (test/support/kafka-servers.ts): messages produced with
 * plain kafkajs and the registry client, read back through the source standalone (replay) and in a pipeline (live).
 */
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { asyncScheduler, firstValueFrom, lastValueFrom, take, timeout, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaSource } from '../../sources/kafka-source.js';
import { defineComponent } from '../../pipeline/components/define-component.js';
import { standaloneContext } from '../../pipeline/components/standalone-context.js';
import { validateComponentConfig } from '../../pipeline/components/validate-component-config.js';
import { pipeline } from '../../pipeline/graph/pipeline.js';
import { runPipeline } from '../../pipeline/runtime/run-pipeline.js';
import { registrySchema } from '../../pipeline/schemas/registry-schema.js';
import { SchemaCatalog } from '../../pipeline/schemas/schema-catalog.js';
import { KafkaWireFormat } from '../../protocols/kafka/kafka-wire-format.js';
import { KafkaRecordDecoder } from '../../sources/kafka/kafka-record-decoder.js';
import type { Bar, Tick } from '../../schemas/generated.js';
import { closeKafkaServers, KAFKA_SETUP_TIMEOUT_MS, startKafkaServers, type KafkaServersWithRegistry } from '../support/kafka-servers.js';
import { makeTick } from '../support/make-tick.js';
import { waitFor } from '../support/wait-for.js';

const READ_TIMEOUT_MS = 60_000;
const catalog = SchemaCatalog.default();
const tickType = catalog.type('Tick');

let servers: KafkaServersWithRegistry;
let kafka: Kafka;
let producer: Producer;
let registry: SchemaRegistry;
let tickId: number;

beforeAll(async () => {
  servers = await startKafkaServers();
  kafka = new Kafka({ brokers: servers.brokers, logLevel: logLevel.NOTHING });
  producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false });
  await producer.connect();
  registry = new SchemaRegistry({ host: servers.registryUrl });
  const { subject, text } = registrySchema('Tick');
  tickId = (await registry.register({ type: SchemaType.AVRO, schema: text }, { subject })).id;
}, KAFKA_SETUP_TIMEOUT_MS);
afterAll(async () => {
  await producer?.disconnect();
  await closeKafkaServers();
}, 90_000);

/** A fresh topic with `partitions` partitions. */
let topics = 0;
async function createTopic(partitions = 1): Promise<string> {
  const topic = `kafka-source-${++topics}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  await admin.disconnect();
  return topic;
}

const tickAt = (sequence: number, instrument = 'SHFE.rb2501'): Tick =>
  makeTick({ instrument_id: instrument, sequence, ts_event: 1_735_822_800_000_000 + sequence * 500_000 });
const confluent = (id: number, body: Buffer): Buffer => Buffer.concat([KafkaWireFormat.confluentHeader(id), body]);
const tickValue = (tick: Tick): Buffer => confluent(tickId, tickType.toBuffer(tick));

/** Replays `topic` through the source standalone: the records, and the context with its dead letters. */
async function replay(config: Record<string, unknown>) {
  const ctx = standaloneContext(asyncScheduler, { component: kafkaSource });
  const validated = validateComponentConfig(kafkaSource, {
    brokers: servers.brokers,
    schema_registry_url: servers.registryUrl,
    mode: 'replay',
    ...config,
  });
  const records = await lastValueFrom(kafkaSource.create(validated, ctx).pipe(toArray(), timeout(READ_TIMEOUT_MS)));
  return { records: records as unknown[], ctx };
}

describe('kafka source', () => {
  it('replays ticks in Confluent wire format to the end offsets at start, then completes', async () => {
    const topic = await createTopic();
    const ticks = [1, 2, 3].map((n) => tickAt(n));
    await producer.send({ topic, messages: ticks.map((t) => ({ key: t.instrument_id, value: tickValue(t) })) });
    const { records, ctx } = await replay({ topics: [topic] });
    expect(records).toEqual(ticks);
    expect(ctx.deadLetters).toEqual([]);
  });

  it('reads a record written with an older schema version, the field added since taking its default', async () => {
    const topic = await createTopic();
    // The Tick of an earlier version: without average_price, which was added with default null.
    const current = JSON.parse(registrySchema('Tick').text) as { fields: { name: string }[] };
    const older = { ...current, fields: current.fields.filter((f) => f.name !== 'average_price') };
    const olderType = avro.Type.forSchema(older as avro.Schema);
    const olderId = (await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(older) }, { subject: 'test.older-tick' })).id;
    const tick = tickAt(7);
    const { average_price: _dropped, ...written } = tick;
    await producer.send({ topic, messages: [{ key: tick.instrument_id, value: confluent(olderId, olderType.toBuffer(written)) }] });
    const { records, ctx } = await replay({ topics: [topic] });
    expect(records).toEqual([{ ...tick, average_price: null }]);
    expect(ctx.deadLetters).toEqual([]);
  });

  it('dead-letters an incompatible writer, garbage bytes, an unknown id and an unknown fingerprint with topic, partition, offset and reason, and goes on', async () => {
    const topic = await createTopic();
    // last_price as a string: no resolution to the reader's double.
    const current = JSON.parse(registrySchema('Tick').text) as { fields: { name: string; type: unknown }[] };
    const incompatible = {
      ...current,
      fields: current.fields.map((f) => (f.name === 'last_price' ? { name: 'last_price', type: 'string' } : f)),
    };
    const incompatibleType = avro.Type.forSchema(incompatible as avro.Schema);
    const incompatibleId = (
      await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(incompatible) }, { subject: 'test.incompatible-tick' })
    ).id;
    const decoder = new KafkaRecordDecoder('Tick', catalog);
    await producer.send({
      topic,
      messages: [
        { value: tickValue(tickAt(1)) },
        { value: confluent(incompatibleId, incompatibleType.toBuffer({ ...tickAt(2), last_price: 'high' })) },
        { value: Buffer.from('not avro at all') },
        { value: confluent(987_654, tickType.toBuffer(tickAt(3))) },
        { value: Buffer.concat([KafkaWireFormat.singleObjectHeader(Buffer.alloc(8, 7)), tickType.toBuffer(tickAt(4))]) },
        { value: confluent(tickId, Buffer.from([0xff, 0xff, 0xff])) },
        { value: Buffer.concat([decoder.singleObjectHeaderOf('Tick'), tickType.toBuffer(tickAt(5))]) },
        { value: tickValue({ ...tickAt(6), last_price: 1e308 }) },
        { value: tickValue(tickAt(7)) },
      ],
    });
    const { records, ctx } = await replay({ topics: [topic] });
    expect((records as Tick[]).map((t) => t.sequence)).toEqual([1, 5, 7]);
    const letters = ctx.deadLetters.map((l) => ({ edge: l.edge, reason: l.reason }));
    expect(letters).toHaveLength(6);
    expect(letters.map((l) => l.edge)).toEqual([1, 2, 3, 4, 5, 7].map((offset) => `kafka:${topic}/0@${offset} -> standalone`));
    expect(letters[0]?.reason).toMatch(
      new RegExp(`^topic ${topic} partition 0 offset 1: registry schema id ${incompatibleId} .*cannot be resolved`),
    );
    expect(letters[1]?.reason).toMatch(/offset 2: the message value \(15 bytes, starting 6e6f7420/);
    expect(letters[2]?.reason).toMatch(/offset 3: schema id 987654 is not in the schema registry/);
    expect(letters[3]?.reason).toMatch(/offset 4: single-object fingerprint 0707070707070707 names no schema/);
    expect(letters[4]?.reason).toMatch(/offset 5: the Avro body is no Tick record/);
    expect(letters[5]?.reason).toMatch(/offset 7: not a plausible tickflow.Tick: 'last_price' 1e\+308/);
    expect(ctx.metrics.droppedTotal).toBe(6);
    expect(JSON.parse(ctx.deadLetters[1]?.payload_json ?? '{}')).toMatchObject({ topic, partition: 0, offset: '2', value_bytes: 15 });
  });

  it('replays from from_time to to_time by the Kafka timestamps', async () => {
    const topic = await createTopic();
    const base = Date.parse('2025-01-02T13:00:00Z');
    const ticks = Array.from({ length: 10 }, (_, i) => tickAt(i + 1));
    await producer.send({
      topic,
      messages: ticks.map((t, i) => ({ key: t.instrument_id, value: tickValue(t), timestamp: String(base + i * 1000) })),
    });
    const { records } = await replay({
      topics: [topic],
      from_time: new Date(base + 3000).toISOString(),
      to_time: new Date(base + 6000).toISOString(),
    });
    expect((records as Tick[]).map((t) => t.sequence)).toEqual([4, 5, 6, 7]);
  });

  it('keeps the order of each instrument over several partitions and topics, and reads another schema by config', async () => {
    const [first, second] = [await createTopic(3), await createTopic(2)];
    // An instrument's ticks go to one topic, keyed by instrument: one partition each, in the order sent.
    const byTopic = [
      { topic: first, instruments: ['SHFE.rb2501', 'SHFE.cu2501', 'DCE.m2505', 'CZCE.SR505'] },
      { topic: second, instruments: ['INE.sc2503', 'SHFE.au2502'] },
    ];
    const instruments = byTopic.flatMap((t) => t.instruments);
    const ticks = Array.from({ length: 200 }, (_, i) => tickAt(i + 1, instruments[i % instruments.length]));
    for (const { topic, instruments: own } of byTopic) {
      const messages = ticks.filter((t) => own.includes(t.instrument_id)).map((t) => ({ key: t.instrument_id, value: tickValue(t) }));
      await producer.send({ topic, messages });
    }
    const { records } = await replay({ topics: [first, second] });
    expect(records).toHaveLength(200);
    for (const instrument of instruments) {
      const sequences = (records as Tick[]).filter((t) => t.instrument_id === instrument).map((t) => t.sequence);
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    }

    const barTopic = await createTopic();
    const { subject, text } = registrySchema('Bar');
    const barId = (await registry.register({ type: SchemaType.AVRO, schema: text }, { subject })).id;
    const bar: Bar = {
      instrument_id: 'SHFE.rb2501',
      period_s: 60,
      trading_day: '20250103',
      ts_open: 1_735_822_800_000_000,
      ts_close: 1_735_822_860_000_000,
      open: 3500,
      high: 3510,
      low: 3495,
      close: 3505,
      volume: 120,
      turnover: 4_200_000,
      open_interest: 1_000_000,
      tick_count: 30,
    } as Bar;
    await producer.send({ topic: barTopic, messages: [{ value: confluent(barId, catalog.codec('Bar').encode(bar)) }] });
    const bars = await replay({ topics: [barTopic], schema: 'Bar' });
    expect(bars.records).toEqual([bar]);
    // The graph carries the configured schema on the source's edge.
    const graph = pipeline('bars', '', (g) => {
      g.sink('out', collectSink, {}, g.source('bars', kafkaSource, { brokers: servers.brokers, topics: [barTopic], schema: 'Bar' }));
    }).build();
    expect(graph.stages.find((s) => s.id === 'bars')).toMatchObject({ out: 'Bar' });
  });

  it('live: commits offsets only once the sinks acknowledged: stopped before, the records come again; after, they do not', async () => {
    const topic = await createTopic();
    const group = `live-${topic}`;
    const ticks = [1, 2, 3].map((n) => tickAt(n));
    await producer.send({ topic, messages: ticks.map((t) => ({ key: t.instrument_id, value: tickValue(t) })) });
    const graphOf = (sink: typeof holdingSink | typeof collectSink) =>
      pipeline('live', '', (g) => {
        g.sink(
          'out',
          sink,
          {},
          g.source('ticks', kafkaSource, {
            brokers: servers.brokers,
            schema_registry_url: servers.registryUrl,
            topics: [topic],
            mode: 'live',
            group_id: group,
          }),
        );
      }).build();

    // 1. The sink takes the records and never acknowledges them: the run is stopped, nothing is committed.
    held.length = 0;
    const first = runPipeline(graphOf(holdingSink), { drainTimeoutMs: 500 });
    await waitFor('the held sink to get 3 records', () => (held.length === 3 ? true : undefined), READ_TIMEOUT_MS);
    await first.stop();
    const committed = async () => {
      const admin = kafka.admin();
      await admin.connect();
      const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      await admin.disconnect();
      return offsets?.partitions[0]?.offset;
    };
    expect(await committed()).toBe('-1');

    // 2. Again, with a sink that acknowledges: the same three come again, and are committed.
    collected.length = 0;
    const second = runPipeline(graphOf(collectSink));
    await waitFor('the records to come again', () => (collected.length >= 3 ? true : undefined), READ_TIMEOUT_MS);
    expect((collected as Tick[]).map((t) => t.sequence)).toEqual([1, 2, 3]);
    for (let i = 0; i < 600 && (await committed()) !== '3'; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await committed()).toBe('3');
    await second.stop();

    // 3. After the commit: a new record is the first that comes.
    await producer.send({ topic, messages: [{ value: tickValue(tickAt(4)) }] });
    collected.length = 0;
    const third = runPipeline(graphOf(collectSink));
    await waitFor('the new record', () => (collected.length >= 1 ? true : undefined), READ_TIMEOUT_MS);
    expect((collected as Tick[]).map((t) => t.sequence)).toEqual([4]);
    await third.stop();
  });

  it('errors when the brokers cannot be reached', async () => {
    const ctx = standaloneContext(asyncScheduler, { component: kafkaSource });
    const config = validateComponentConfig(kafkaSource, { brokers: ['127.0.0.1:1'], topics: ['none'], mode: 'live', group_id: 'g' });
    await expect(firstValueFrom(kafkaSource.create(config, ctx).pipe(take(1), timeout(READ_TIMEOUT_MS)))).rejects.toThrow(
      /stage 'standalone' \(kafka\)/,
    );
  }, 90_000);
});

/** Records of every sink write of {@link collectSink}, acknowledged at once. */
const collected: unknown[] = [];
const collectSink = defineComponent({
  name: 'test-collect',
  kind: 'sink',
  in: 'any',
  description: 'Collects records (test).',
  spec: {},
  create: () => ({ write: (_port, record) => void collected.push(record), close: async () => undefined }),
});

/** Records {@link holdingSink} took and never acknowledged. */
const held: unknown[] = [];
const holdingSink = defineComponent({
  name: 'test-hold',
  kind: 'sink',
  in: 'Tick',
  description: 'Takes records and never acknowledges them (test).',
  spec: {},
  create: () => ({
    write: (_port, record) => {
      held.push(record);
      return new Promise<never>(() => undefined);
    },
    close: async () => undefined,
  }),
});
