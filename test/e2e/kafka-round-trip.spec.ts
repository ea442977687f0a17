/**
 * Records of every kind through the real parts, as two pipelines run them:
 * one writes them with the `kafka-sink` to a real broker (Avro, schemas in
 * the real registry, or single-object encoding without one), the other
 * replays the topic with the `kafka` source. What comes back must equal what
 * went in, in the order written per instrument, and every message body must
 * be byte for byte avsc's encoding of its record, so nothing was rewritten
 * on the way.
 */
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type avro from 'avsc';
import type { Type } from 'avsc';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipeline } from '../../pipeline/graph/pipeline.js';
import { runPipeline } from '../../pipeline/runtime/run-pipeline.js';
import { SchemaCatalog, type SchemaName } from '../../pipeline/schemas/schema-catalog.js';
import { KafkaWireFormat } from '../../protocols/kafka/kafka-wire-format.js';
import { avroSchemaFiles, type RecordTypes } from '../../schemas/generated.js';
import { kafkaSink } from '../../sinks/kafka-sink.js';
import { kafkaSource } from '../../sources/kafka-source.js';
import { closeKafkaServers, KAFKA_SETUP_TIMEOUT_MS, startKafkaServers, type KafkaServersWithRegistry } from '../support/kafka-servers.js';
import { makeTick } from '../support/make-tick.js';
import { collectingSink, recordsSource } from '../support/test-components.js';

const catalog = SchemaCatalog.default();
const INSTRUMENTS = ['SHFE.rb2501', 'DCE.m2505', 'CFFEX.IF2501'];
/** Enough for every instrument several times, and every order event once at least (nine of them). */
const PER_KIND = 18;
/** Every record schema of schemas/, and OrderEvent, the union of the order events (each written as its own record). */
const KINDS: SchemaName[] = [
  ...avroSchemaFiles.filter((file) => (file.schema as { type: string }).type === 'record').map((file) => file.name as SchemaName),
  'OrderEvent',
];

let servers: KafkaServersWithRegistry;
beforeAll(async () => {
  servers = await startKafkaServers();
}, KAFKA_SETUP_TIMEOUT_MS);
afterAll(closeKafkaServers, 90_000);

/** `PER_KIND` records of `kind`: sim-like ticks, or avsc's random records with the instrument (where there is one) taken in turn. */
function recordsOf(kind: SchemaName): unknown[] {
  return Array.from({ length: PER_KIND }, (_, i) => {
    const instrument = INSTRUMENTS[i % INSTRUMENTS.length] as string;
    if (kind === 'Tick') return makeTick({ instrument_id: instrument, sequence: i + 1 });
    // A union (OrderEvent) is each of its records in turn, its `type` naming it as the schema says.
    const type = catalog.type(kind);
    const branches = type.typeName === 'record' ? [type] : (type as avro.types.WrappedUnionType).types;
    const branch = branches[i % branches.length] as Type;
    const record = branch.random() as unknown as Record<string, unknown>;
    if (branch !== type) record['type'] = String(branch.name).replace(/^tickflow\./, '');
    return 'instrument_id' in record ? { ...record, instrument_id: instrument } : record;
  });
}

/**
 * The records per instrument, in order: what partitioning by instrument
 * keeps. Records without one have no key and go round robin over the
 * partitions, so only their set is kept: they are sorted.
 */
function byInstrument(records: readonly unknown[]): Map<string, unknown[]> {
  const groups = new Map<string, unknown[]>();
  for (const record of records) {
    const instrument = (record as { instrument_id?: string }).instrument_id ?? '';
    groups.set(instrument, [...(groups.get(instrument) ?? []), record]);
  }
  const unkeyed = groups.get('');
  if (unkeyed !== undefined)
    groups.set(
      '',
      [...unkeyed].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    );
  return groups;
}

/** Runs the two pipelines for `kind` over topic `topic` and returns what the source replayed. */
async function roundTrip(kind: SchemaName, records: readonly unknown[], topic: string, registry: boolean): Promise<unknown[]> {
  const kafka = { brokers: servers.brokers, schema_registry_url: registry ? servers.registryUrl : '' };
  const written = runPipeline(
    pipeline('record', '', (g) => {
      g.sink(
        'kafka',
        kafkaSink,
        { ...kafka, topic, partitions: 3, linger_ms: 1 },
        g.source('in', recordsSource('records', kind, records as RecordTypes[typeof kind][])),
      );
    }).build(),
  );
  const writing = await written.done;
  expect(writing.ok, `${kind}: writing: ${writing.failures?.map((f) => (f.error as Error).message).join('; ')}`).toBe(true);
  const replayed: unknown[] = [];
  const read = runPipeline(
    pipeline('replay', '', (g) => {
      g.sink(
        'out',
        collectingSink('collect', 'any', replayed),
        {},
        g.source('kafka', kafkaSource, { ...kafka, topics: [topic], schema: kind }),
      );
    }).build(),
  );
  const reading = await read.done;
  expect(reading.ok, `${kind}: reading: ${reading.failures?.map((f) => (f.error as Error).message).join('; ')}`).toBe(true);
  return replayed;
}

/** Every message of `topic`, read with a plain kafkajs consumer: the framing and the Avro body of each. */
async function rawMessages(topic: string, count: number): Promise<{ key: string | null; value: Buffer }[]> {
  const client = new Kafka({ brokers: servers.brokers, logLevel: logLevel.NOTHING });
  const consumer = client.consumer({ groupId: `raw-${topic}` });
  const messages: { key: string | null; value: Buffer }[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${messages.length} of ${count} messages of ${topic} in 30 s`)), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          messages.push({ key: message.key?.toString() ?? null, value: message.value as Buffer });
          if (messages.length === count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

describe('kafka round trip: kafka-sink → topic → kafka source', () => {
  it('brings back every record kind as written, in order per instrument, each body byte for byte avsc’s encoding', async () => {
    for (const kind of KINDS) {
      const records = recordsOf(kind);
      const topic = `round-trip.${kind.toLowerCase()}`;
      const replayed = await roundTrip(kind, records, topic, true);
      // Partitioned by instrument: the order holds within each instrument, not across them.
      expect(byInstrument(replayed), kind).toEqual(byInstrument(records));
      const raw = await rawMessages(topic, records.length);
      const registry = new SchemaRegistry({ host: servers.registryUrl });
      for (const { key, value } of raw) {
        const header = KafkaWireFormat.read(value);
        expect(header.format, kind).toBe('confluent');
        if (header.format !== 'confluent') continue;
        const body = value.subarray(header.bodyOffset);
        // Decoded by the writer schema the registry holds under the message's id (an order event's own record), and
        // encoded again by avsc, the body is the same bytes; a record with an instrument is keyed by it.
        const type = (await registry.getSchema(header.schemaId)) as unknown as Type;
        const record = type.fromBuffer(body) as { instrument_id?: string };
        expect(type.toBuffer(record).equals(body), `${kind}: body re-encoded`).toBe(true);
        expect(key, kind).toBe(record.instrument_id ?? null);
      }
    }
  });

  it('does the same without a registry, in Avro single-object encoding', async () => {
    for (const kind of ['Tick', 'OrderEvent', 'FeedStatus'] as SchemaName[]) {
      const records = recordsOf(kind);
      const topic = `round-trip-single.${kind.toLowerCase()}`;
      expect(byInstrument(await roundTrip(kind, records, topic, false)), kind).toEqual(byInstrument(records));
      for (const { value } of await rawMessages(topic, records.length))
        expect(KafkaWireFormat.read(value).format, kind).toBe('single-object');
    }
  });
});
