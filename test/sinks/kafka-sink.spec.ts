/**
 * The `kafka` sink against a real Apache Kafka broker and a real schema registry (test/support/kafka-servers.ts),
 * read back by a plain kafkajs consumer and the registry client: framing, bodies, keys, partitions, ordering,
 * acknowledgements across a broker crash, a registry's refusal, config errors.
 */
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type avro from 'avsc';
import { Kafka, logLevel, Partitioners, type KafkaMessage } from 'kafkajs';
import { asyncScheduler } from 'rxjs';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InputPorts, SinkAcknowledgements, SinkWriter } from '../../pipeline/components/component-definition.js';
import { standaloneContext } from '../../pipeline/components/standalone-context.js';
import { validateComponentConfig } from '../../pipeline/components/validate-component-config.js';
import { rabinFingerprint } from '../../pipeline/schemas/rabin-fingerprint.js';
import { registrySchema } from '../../pipeline/schemas/registry-schema.js';
import { SchemaCatalog, type SchemaName } from '../../pipeline/schemas/schema-catalog.js';
import { KafkaWireFormat } from '../../protocols/kafka/kafka-wire-format.js';
import { kafkaSink } from '../../sinks/kafka-sink.js';
import { ConfigError } from '../../errors/errors.js';
import { closeKafkaServers, KAFKA_SETUP_TIMEOUT_MS, startKafkaServers, type KafkaServersWithRegistry } from '../support/kafka-servers.js';
import { makeTick } from '../support/make-tick.js';
import { runCli } from '../support/run-cli.js';
import { waitFor } from '../support/wait-for.js';

const CONSUME_TIMEOUT_MS = 90_000;
const catalog = SchemaCatalog.default();

let servers: KafkaServersWithRegistry;
let kafka: Kafka;

beforeAll(async () => {
  servers = await startKafkaServers();
  kafka = new Kafka({ clientId: 'kafka-sink-spec', brokers: servers.brokers, logLevel: logLevel.NOTHING });
}, KAFKA_SETUP_TIMEOUT_MS);
afterAll(closeKafkaServers, 90_000);

/** A kafka sink's writer for an input of `schema`, outside a pipeline, and its context (metrics). */
function kafkaWriter(config: Record<string, unknown>, schema: SchemaName) {
  const ctx = { ...standaloneContext(asyncScheduler, { component: kafkaSink, stage: 'kafka' }), inputSchemas: { in: schema } };
  const writer = kafkaSink.create(
    validateComponentConfig(kafkaSink, { brokers: servers.brokers, ...config }),
    ctx,
  ) as SinkWriter<InputPorts>;
  return { writer, ctx };
}

/** Writes `records` and closes; the acknowledgements in order (every batch's promise resolved). */
async function writeAll(writer: SinkWriter<InputPorts>, records: readonly unknown[]): Promise<unknown[]> {
  const batches: PromiseLike<unknown>[] = [];
  for (const record of records) {
    const result = writer.write('in', record);
    if (result !== undefined && result !== false && result !== batches.at(-1)) batches.push(result);
  }
  const acknowledgements: unknown[] = [];
  for (const batch of batches) {
    const acks = (await batch) as SinkAcknowledgements;
    for (let i = 0; i < acks.length; i++) acknowledgements.push(acks.at(i));
  }
  await writer.close();
  return acknowledgements;
}

interface Received {
  readonly topic: string;
  readonly partition: number;
  readonly message: KafkaMessage;
}

let groups = 0;
/** Reads at least `count` messages of `topic` (or of all `topic`s) from the beginning in a new consumer group, then leaves it (bounded in time). */
async function consume(topic: string | readonly string[], count: number, settleMs = 0): Promise<Received[]> {
  const consumer = kafka.consumer({ groupId: `kafka-sink-spec-${++groups}` });
  const seen: Received[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: typeof topic === 'string' ? [topic] : [...topic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ topic: from, partition, message }) => void seen.push({ topic: from, partition, message }) });
    await waitFor(`${count} messages of ${String(topic)}`, () => (seen.length >= count ? true : undefined), CONSUME_TIMEOUT_MS);
    // A few more moments for anything beyond `count` (a duplicate) to arrive too.
    if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs));
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

/** Random valid records of a record type (avsc's own generator), with a `type` field naming the type and a few instruments. */
function sampleRecords(name: string, count: number): Record<string, unknown>[] {
  const type = catalog.type(name as SchemaName) as avro.types.RecordType;
  const fields = new Set(type.fields.map((f) => f.name));
  return Array.from({ length: count }, (_, i) => {
    const record = type.random() as unknown as Record<string, unknown>;
    const plain: Record<string, unknown> = { ...record };
    if (fields.has('type')) plain['type'] = name;
    if (fields.has('instrument_id')) plain['instrument_id'] = ['SHFE.rb2501', 'DCE.m2501', 'INE.sc2501'][i % 3];
    return plain;
  });
}

/** The record types an edge schema carries: itself, or each branch of a union. */
function recordTypesOf(schema: SchemaName): string[] {
  const type = catalog.type(schema);
  return type.typeName === 'record'
    ? [schema]
    : (type as avro.types.WrappedUnionType).types.map((t) => String(t.name).replace('tickflow.', ''));
}

describe('kafkaSink', () => {
  it('writes every record kind in the Confluent wire format: registered ids, bodies byte for byte avsc, keyed by instrument', async () => {
    const registry = new SchemaRegistry({ host: servers.registryUrl });
    // One after another: Apicurio's in-memory store times out (and the sink waits and registers again) when many register at once.
    const written: { schema: SchemaName; records: Record<string, unknown>[]; topic: string }[] = [];
    for (const schema of catalog.names()) {
      const records = recordTypesOf(schema).flatMap((name) => sampleRecords(name, 2));
      const { writer } = kafkaWriter({ schema_registry_url: servers.registryUrl, topic: 'kinds.{schema}' }, schema);
      expect(await writeAll(writer, records), schema).toEqual(records);
      written.push({ schema, records, topic: `kinds.${schema.toLowerCase()}` });
    }
    const received = await consume(
      written.map((w) => w.topic),
      written.reduce((n, w) => n + w.records.length, 0),
    );
    for (const { schema, records, topic } of written) {
      const mine = received.filter((r) => r.topic === topic);
      expect(mine, schema).toHaveLength(records.length);
      for (const [i, { message }] of mine.entries()) {
        const record = records[i] as Record<string, unknown>;
        const name = recordTypesOf(schema).length === 1 ? schema : String(record['type']);
        const value = message.value ?? Buffer.alloc(0);
        const header = KafkaWireFormat.read(value);
        expect(header.format).toBe('confluent');
        const schemaId = (header as { schemaId: number }).schemaId;
        // The id is the registry's for the one text every tickflow writer registers, under the record's full name.
        const { subject, text } = registrySchema(name);
        expect(await registry.getLatestSchemaId(subject), name).toBe(schemaId);
        const served = (await (await fetch(`${servers.registryUrl}/schemas/ids/${schemaId}`)).json()) as { schema: string };
        expect(served.schema).toBe(text);
        expect(value.subarray(header.bodyOffset).equals(catalog.type(name as SchemaName).toBuffer(record)), name).toBe(true);
        expect(message.key?.toString() ?? null, name).toBe(typeof record['instrument_id'] === 'string' ? record['instrument_id'] : null);
      }
    }
  }, 300_000);

  it('writes Avro single-object encoding without a registry: C3 01, the fingerprint of the canonical form, the body', async () => {
    const ticks = Array.from({ length: 5 }, (_, i) => makeTick({ sequence: i + 1 }));
    const { writer } = kafkaWriter({ topic: 'single-object.ticks' }, 'Tick');
    await writeAll(writer, ticks);
    const received = await consume('single-object.ticks', ticks.length);
    const tickType = catalog.type('Tick');
    const fingerprint = rabinFingerprint(JSON.stringify(tickType.schema())).toString('hex');
    expect(received.map(({ message }) => KafkaWireFormat.read(message.value ?? Buffer.alloc(0)))).toEqual(
      ticks.map(() => ({ format: 'single-object', fingerprint, bodyOffset: 10 })),
    );
    expect(received.map(({ message }) => message.value?.subarray(10).toString('hex'))).toEqual(
      ticks.map((t) => tickType.toBuffer(t).toString('hex')),
    );
  }, 120_000);

  it('partitions by instrument as the Java client does and keeps each instrument in order; key_field keys records without one', async () => {
    const instruments = ['SHFE.rb2501', 'SHFE.cu2501', 'DCE.m2501', 'DCE.i2505', 'INE.sc2501', 'CZCE.MA505'];
    const ticks = Array.from({ length: 3_000 }, (_, i) =>
      makeTick({ instrument_id: instruments[(i * 7) % instruments.length], sequence: i + 1 }),
    );
    const { writer, ctx } = kafkaWriter({ topic: 'ordered.ticks', partitions: 4, batch_size: 250, linger_ms: 1 }, 'Tick');
    await writeAll(writer, ticks);
    const received = await consume('ordered.ticks', ticks.length, 1_000);
    expect(received).toHaveLength(ticks.length);
    const tickType = catalog.type('Tick');
    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = [0, 1, 2, 3].map((partitionId) => ({
      partitionId,
      partitionErrorCode: 0,
      leader: 1,
      replicas: [1],
      isr: [1],
      offlineReplicas: [],
    }));
    const usedPartitions = new Set<number>();
    for (const instrument of instruments) {
      const mine = received.filter(({ message }) => message.key?.toString() === instrument);
      const expected = partitioner({ topic: 'ordered.ticks', partitionMetadata, message: { key: instrument, value: null } });
      expect(new Set(mine.map((r) => r.partition)), instrument).toEqual(new Set([expected]));
      usedPartitions.add(expected);
      const sequences = mine.map(
        ({ message }) => (tickType.fromBuffer((message.value ?? Buffer.alloc(0)).subarray(10)) as { sequence: number }).sequence,
      );
      expect(sequences).toEqual(ticks.filter((t) => t.instrument_id === instrument).map((t) => t.sequence));
    }
    expect(usedPartitions.size).toBeGreaterThan(1);
    const metrics = await ctx.registry.getSingleMetricAsString('tickflow_kafka_sink_records_total');
    expect(metrics).toContain('tickflow_kafka_sink_records_total{stage="kafka"} 3000');

    const statuses = sampleRecords('FeedStatus', 3).map((s, i) => ({ ...s, feed_id: `feed-${i}` }));
    await writeAll(kafkaWriter({ topic: 'keyed.feeds', key_field: 'feed_id' }, 'FeedStatus').writer, statuses);
    expect((await consume('keyed.feeds', 3)).map(({ message }) => message.key?.toString())).toEqual(['feed-0', 'feed-1', 'feed-2']);
    const changes = sampleRecords('RiskControlChanged', 2);
    await writeAll(kafkaWriter({ topic: 'unkeyed.controls' }, 'RiskControlChanged').writer, changes);
    expect((await consume('unkeyed.controls', 2)).map(({ message }) => message.key)).toEqual([null, null]);
  }, 180_000);

  it('acknowledges a record only once the broker has it: after a SIGKILL and a SIGTERM mid-stream and restarts, each acknowledged tick is there once', async () => {
    const { writer, ctx } = kafkaWriter({ topic: 'crash.ticks', batch_size: 200, linger_ms: 2, max_buffered_records: 100_000 }, 'Tick');
    const acknowledged: number[] = [];
    const failures: unknown[] = [];
    let written = 0;
    let lastBatch: unknown;
    const writeTicks = (count: number): void => {
      for (let i = 0; i < count; i++) {
        const batch = writer.write('in', makeTick({ sequence: ++written })) as Promise<SinkAcknowledgements>;
        // Every write of a batch returns its one promise: listen once per batch.
        if (batch === lastBatch) continue;
        lastBatch = batch;
        batch.then(
          (acks) => {
            for (let j = 0; j < acks.length; j++) acknowledged.push((acks.at(j) as { sequence: number }).sequence);
          },
          (error: unknown) => failures.push(error),
        );
      }
    };
    writeTicks(2_000);
    await waitFor('the first ticks acknowledged', () => (acknowledged.length >= 1_000 ? true : undefined), 60_000);
    writeTicks(2_000);
    await servers.broker.stop('SIGKILL');
    const acknowledgedBeforeRestart = acknowledged.length;
    // Written while the broker is down: held, then sent once it is back.
    writeTicks(2_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(acknowledged.length).toBe(acknowledgedBeforeRestart);
    await servers.broker.start();
    await waitFor('every tick acknowledged', () => (acknowledged.length >= written || failures.length > 0 ? true : undefined), 120_000);
    expect(failures).toEqual([]);
    // The sink recovered without a restart: it takes and acknowledges more, across a clean stop (SIGTERM) mid-stream too.
    writeTicks(1_000);
    await servers.broker.stop('SIGTERM');
    writeTicks(1_000);
    await servers.broker.start();
    await waitFor(
      'the ticks after the restarts acknowledged',
      () => (acknowledged.length >= written || failures.length > 0 ? true : undefined),
      120_000,
    );
    expect(failures).toEqual([]);
    await writer.close();
    expect(acknowledged).toEqual(Array.from({ length: 8_000 }, (_, i) => i + 1));

    const received = await consume('crash.ticks', written, 2_000);
    const tickType = catalog.type('Tick');
    const sequences = received.map(
      ({ message }) => (tickType.fromBuffer((message.value ?? Buffer.alloc(0)).subarray(10)) as { sequence: number }).sequence,
    );
    // Exactly once, in order: the idempotent producer's retries after the crash wrote no duplicate.
    expect(sequences).toEqual(Array.from({ length: written }, (_, i) => i + 1));
    expect(await ctx.registry.getSingleMetricAsString('tickflow_kafka_sink_retries_total')).toMatch(/retries_total\{stage="kafka"\} [1-9]/);
  }, 300_000);

  it('with the broker away: fails after max_attempts with kafkajs’s error, and at close names the records not acknowledged', async () => {
    // Connected first, so that the failures below are of sending, not of a first connection.
    const limited = kafkaWriter({ topic: 'away.limited', max_attempts: 2, linger_ms: 1 }, 'Tick');
    const bounded = kafkaWriter({ topic: 'away.bounded', close_timeout_ms: 1_500, linger_ms: 1 }, 'Tick');
    await limited.writer.write('in', makeTick({ sequence: 1 }));
    await bounded.writer.write('in', makeTick({ sequence: 1 }));
    await servers.broker.stop('SIGTERM');
    try {
      const failed = limited.writer.write('in', makeTick({ sequence: 2 })) as Promise<unknown>;
      await expect(failed).rejects.toThrow(
        /^kafka: the broker did not acknowledge a batch of 1 records to away\.limited, after the retries: /,
      );
      expect(() => limited.writer.write('in', makeTick({ sequence: 3 }))).toThrow(/did not acknowledge/);
      await limited.writer.close();

      const held = Array.from({ length: 50 }, (_, i) => bounded.writer.write('in', makeTick({ sequence: i + 2 })) as Promise<unknown>);
      const closed = bounded.writer.close();
      await expect(held[0]).rejects.toThrow(
        'kafka: closing after 1500 ms with 50 records not acknowledged by the broker (close_timeout_ms)',
      );
      await closed;
    } finally {
      await servers.broker.start();
    }
  }, 120_000);

  it('fails with the registry’s refusal naming the subject when a schema is incompatible with what the subject holds', async () => {
    const registry = new SchemaRegistry({ host: servers.registryUrl });
    // A Bar of another shape, registered first: tickflow's Bar cannot read its records (BACKWARD).
    const other = { type: 'record', name: 'Bar', namespace: 'tickflow', fields: [{ name: 'vwap', type: 'double' }] };
    // The subject starts over (another case may have registered tickflow's Bar), and is left empty again for the others.
    const deleteSubject = async () => {
      await fetch(`${servers.registryUrl}/subjects/tickflow.Bar`, { method: 'DELETE' });
      await fetch(`${servers.registryUrl}/subjects/tickflow.Bar?permanent=true`, { method: 'DELETE' });
    };
    await deleteSubject();
    await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(other) }, { subject: 'tickflow.Bar' });
    const { writer } = kafkaWriter({ schema_registry_url: servers.registryUrl, topic: 'refused.bars' }, 'Bar');
    const [bar] = sampleRecords('Bar', 1);
    const write = writer.write('in', bar) as Promise<unknown>;
    await expect(write).rejects.toThrow(
      /schema registry at http:\/\/127\.0\.0\.1:\d+\/apis\/ccompat\/v7 refused schema Bar under subject 'tickflow\.Bar' \(HTTP 409\): .*incompatible/i,
    );
    expect(() => writer.write('in', bar)).toThrow(/tickflow\.Bar/);
    await writer.close();
    await deleteSubject();
  }, 60_000);

  it('names the field of each config error', () => {
    expect(() => validateComponentConfig(kafkaSink, { batch_size: 0 })).toThrow("kafka-sink: 'batch_size' must be at least 1, got 0");
    expect(() => validateComponentConfig(kafkaSink, { linger_ms: 'soon' })).toThrow(/'linger_ms'/);
    let problems: readonly string[] = [];
    try {
      validateComponentConfig(kafkaSink, { brokers: ['127.0.0.1'], topic: 'a topic', schema_registry_url: 'ftp://user:pw@x' });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      problems = (error as ConfigError).problems;
    }
    expect(problems).toEqual([
      `'brokers' entry "127.0.0.1" is not host:port`,
      "'schema_registry_url' must be empty or start with http:// or https:// (value not shown: secret)",
      `'topic' "a topic" makes topic names like "a topic": Kafka allows 1-249 of a-z, A-Z, 0-9, '.', '_' and '-' (placeholders {schema} and {record})`,
    ]);
    expect(() => kafkaWriter({ key_field: 'account' }, 'FeedStatus')).toThrow(/'key_field' "account" is not a field of FeedStatus/);
  });
});

describe('the demo with a Kafka broker', () => {
  /** `run demo` on free ports writing into `dir` (as test/cli/cli.spec.ts runs it); `sets` are STAGE.FIELD=VALUE, `feeds.` meaning both sim feeds. */
  const demoArgs = (dir: string, sets: readonly string[]): string[] => [
    'run',
    'demo',
    '--port',
    '0',
    ...[
      ...sets.flatMap((s) => (s.startsWith('feeds.') ? [`feed-a.${s.slice(6)}`, `feed-b.${s.slice(6)}`] : [s])),
      'quotes-ws.port=0',
      `ticks-file.path=${join(dir, 'ticks.ndjson')}`,
      `dead-letter-file.path=${join(dir, 'dead.ndjson')}`,
      `audit.dir=${join(dir, 'audit')}`,
    ].flatMap((s) => ['--set', s]),
  ];
  /** The environment without any Kafka setting of the machine's, so that only what a case sets counts. */
  const withoutKafka = { TICKFLOW_KAFKA_BROKERS: undefined, TICKFLOW_SCHEMA_REGISTRY_URL: undefined };

  it('records every tick and the order events to Kafka when brokers are set, and has no kafka stage otherwise', async () => {
    const stagesOf = async (env: NodeJS.ProcessEnv) =>
      (
        JSON.parse((await runCli(['graph', 'demo', '--format', 'json'], 20_000, undefined, env)).stdout) as { stages: { id: string }[] }
      ).stages.map((s) => s.id);
    expect(await stagesOf(withoutKafka)).not.toContain('kafka');
    expect(await stagesOf({ TICKFLOW_KAFKA_BROKERS: servers.brokers.join(',') })).toEqual(
      expect.arrayContaining(['kafka', 'kafka-orders']),
    );

    const dir = mkdtempSync(join(tmpdir(), 'tickflow-kafka-demo-'));
    const run = await runCli(demoArgs(dir, ['feeds.count=4000', 'feeds.rate=2000', 'ctp.count=3']), 120_000, undefined, {
      TICKFLOW_KAFKA_BROKERS: servers.brokers.join(','),
      TICKFLOW_SCHEMA_REGISTRY_URL: servers.registryUrl,
    });
    expect(run.code, run.stderr).toBe(0);
    const ticks = readFileSync(join(dir, 'ticks.ndjson'), 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { instrument_id: string; sequence: number });
    expect(ticks).toHaveLength(4003);
    const registry = new SchemaRegistry({ host: servers.registryUrl });
    const recorded = await consume('tickflow.tick', ticks.length, 1_000);
    expect(recorded).toHaveLength(ticks.length);
    const decoded = await Promise.all(
      recorded.map(
        ({ message }) => registry.decode(message.value ?? Buffer.alloc(0)) as Promise<{ instrument_id: string; sequence: number }>,
      ),
    );
    // Per instrument in the order the demo wrote them to its NDJSON file (partitions keep each instrument's order).
    for (const instrument of new Set(ticks.map((t) => t.instrument_id)))
      expect(decoded.filter((t) => t.instrument_id === instrument).map((t) => t.sequence)).toEqual(
        ticks.filter((t) => t.instrument_id === instrument).map((t) => t.sequence),
      );
    const events = await consume('tickflow.orderevent', 1, 1_000);
    const types = new Set<string>();
    for (const { message } of events) {
      const value = message.value ?? Buffer.alloc(0);
      const event = (await registry.decode(value)) as { type: string; instrument_id: string };
      types.add(event.type);
      expect(message.key?.toString()).toBe(event.instrument_id);
    }
    expect([...types]).toEqual(expect.arrayContaining(['OrderSubmitted', 'OrderAccepted']));
  }, 240_000);
});
