/**
 * The Kafka wire format of tickflow read by clients tickflow did not write: Python's confluent-kafka (librdkafka)
 * consumes the topics, its schema-registry AvroDeserializer decodes each Confluent-framed value by the writer schema
 * it fetches from the registry by id, and fastavro decodes each single-object value with the schemas/*.avsc file
 * whose fingerprint the header names. Every field that comes out is compared with what went in, so the format is
 * shown to be the standard one, not only symmetric with tickflow's own kafka source.
 *
 * The records go through the real `kafka` sink (sinkStage, as a pipeline runs it). The venv is made once per machine by test/support/python-venv.ts (pip from PyPI, cached outside the clone).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { asyncScheduler, from, lastValueFrom, defaultIfEmpty } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { standaloneContext } from '../../pipeline/components/standalone-context.js';
import { validateComponentConfig } from '../../pipeline/components/validate-component-config.js';
import { sinkStage } from '../../pipeline/runtime/sink-stage.js';
import { rabinFingerprint } from '../../pipeline/schemas/rabin-fingerprint.js';
import { SchemaCatalog, type SchemaName } from '../../pipeline/schemas/schema-catalog.js';
import { kafkaSink } from '../../sinks/kafka-sink.js';
import { avroSchemaFiles, type OrderEvent, type Tick } from '../../schemas/generated.js';
import { closeKafkaServers, KAFKA_SETUP_TIMEOUT_MS, startKafkaServers, type KafkaServersWithRegistry } from '../support/kafka-servers.js';
import { makeTick } from '../support/make-tick.js';
import { ORDER_TIME } from '../support/make-order.js';
import { fromPlainIds, type PlainIds } from '../support/plain-ids.js';
import { ensurePythonVenv, PYTHON_VENV_TIMEOUT_MS, type PythonVenv } from '../support/python-venv.js';
import { ROOT } from '../support/run-cli.js';

/** The Python client and its Avro parts, pinned: the venv is keyed by this list. */
const REQUIREMENTS = ['confluent-kafka[avro,schemaregistry]==2.16.1', 'fastavro==1.13.1'];
const DECODER = join(ROOT, 'test', 'kafka', 'decode-with-confluent-kafka.py');
/** The schema files in the order of schemas/generated.ts: every named type before its use. */
const SCHEMA_FILES = avroSchemaFiles.map((f) => join(ROOT, 'schemas', `${f.name}.avsc`));
const catalog = SchemaCatalog.default();

/** One message as the Python decoder prints it. */
interface Decoded {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly format: 'confluent' | 'single-object';
  readonly schema_id?: number;
  readonly fingerprint?: string;
  readonly record: string;
  readonly value: Record<string, unknown>;
}

let servers: KafkaServersWithRegistry;
let venv: PythonVenv;

beforeAll(async () => {
  // Both at once: the JVMs mostly wait, pip mostly downloads.
  [servers, venv] = await Promise.all([startKafkaServers(), ensurePythonVenv('confluent-kafka', REQUIREMENTS)]);
}, KAFKA_SETUP_TIMEOUT_MS + PYTHON_VENV_TIMEOUT_MS);
afterAll(closeKafkaServers, 90_000);

/** Runs the Python decoder over `topics` until it has `count` messages (or 60 s passed), and returns what it printed. */
function decodeWithPython(topics: readonly string[], count: number, withRegistry: boolean): Promise<Decoded[]> {
  const config = {
    bootstrap: servers.brokers.join(','),
    registry: withRegistry ? servers.registryUrl : null,
    topics,
    count,
    timeout_s: 60,
    schema_files: SCHEMA_FILES,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(venv.python, [DECODER, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`the Python decoder exited with ${code}:\n${stderr.slice(-4000)}`));
      const lines = stdout
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Decoded | { done: number });
      const done = lines.pop() as { done?: number } | undefined;
      if (done?.done !== count)
        return reject(new Error(`the Python decoder read ${done?.done} of ${count} messages:\n${stderr.slice(-4000)}`));
      resolve(lines as Decoded[]);
    });
  });
}

/** Ticks of three instruments, with prices unset (null) and set, fractions, a last_volume and a volume above 2^52. */
function ticks(): Tick[] {
  const instruments = ['SHFE.rb2501', 'DCE.m2505', 'CZCE.SR505'];
  return Array.from({ length: 30 }, (_, i) =>
    makeTick({
      instrument_id: instruments[i % 3] as string,
      ts_event: 1_735_822_800_000_000 + i * 500_000 + 1,
      ts_recv: 1_735_822_800_000_000 + i * 500_000 + 1_234,
      last_price: i % 7 === 0 ? null : 3500 + i * 0.1,
      bid_price3: i % 5 === 0 ? null : 3497.25 - i / 3,
      last_volume: i % 3 === 0 ? null : i,
      volume: i === 29 ? 2 ** 52 + 3 : 12_000 + i,
      turnover: 419_820_000.5 + i * 1e-3,
      sequence: i + 1,
    }),
  );
}

/** One event of every OrderEvent type, of one order and its fills, with nullable fields both null and set. */
function orderEvents(): OrderEvent[] {
  const ids = { client_order_id: 'o-7', strategy_id: 'ma-cross', account_id: 'acc-1', instrument_id: 'SHFE.rb2501' };
  const at = (n: number) => ({
    event_id: `e-${n}`,
    ts_event: ORDER_TIME + n * 1_000,
    ts_init: ORDER_TIME + n * 1_000 + 7,
    causation_id: `c-${n}`,
  });
  const events: PlainIds<OrderEvent>[] = [
    {
      type: 'OrderSubmitted',
      ...ids,
      ...at(1),
      venue: 'paper',
      side: 'BUY',
      order_type: 'LIMIT',
      time_in_force: 'GFD',
      position_effect: 'OPEN',
      quantity: 5,
      price: 3500.5,
    },
    { type: 'OrderAccepted', ...ids, ...at(2), venue_order_id: 'v-1' },
    {
      type: 'OrderFilled',
      ...ids,
      ...at(3),
      venue_order_id: 'v-1',
      trade_id: 't-1',
      side: 'BUY',
      last_quantity: 2,
      last_price: 3500.5,
      cum_quantity: 2,
      leaves_quantity: 3,
    },
    { type: 'OrderPendingCancel', ...ids, ...at(4), venue_order_id: 'v-1' },
    { type: 'OrderCancelRejected', ...ids, ...at(5), venue_order_id: null, reason: 'too late to cancel' },
    { type: 'OrderCanceled', ...ids, ...at(6), venue_order_id: 'v-1', filled_quantity: 2 },
    { type: 'OrderExpired', ...ids, ...at(7), venue_order_id: null, filled_quantity: 0 },
    { type: 'OrderRejected', ...ids, ...at(8), reason: 'price outside limits' },
    { type: 'OrderDenied', ...ids, ...at(9), reason_code: 'MAX_POSITION_EXCEEDED', reason: 'position 10 > 8' },
  ];
  return events.map((e) => fromPlainIds<OrderEvent>(e));
}

/** The record type an OrderEvent or Tick is written as: its own record (the sink's rule), never the union. */
const recordOf = (record: Tick | OrderEvent): SchemaName => ('type' in record ? record.type : 'Tick');

/**
 * Writes `records` of `schema` through the real `kafka` sink (sinkStage, as a pipeline runs it) and resolves once
 * the inputs ended and the broker acknowledged every record. With `registry`, in Confluent's wire format with the
 * ids the sink registered; without, in single-object encoding.
 */
async function writeThroughSink(schema: SchemaName, records: readonly unknown[], config: Record<string, unknown>): Promise<void> {
  const ctx = { ...standaloneContext(asyncScheduler, { component: kafkaSink, stage: 'kafka' }), inputSchemas: { in: schema } };
  const writer = kafkaSink.create(validateComponentConfig(kafkaSink, { brokers: servers.brokers, linger_ms: 0, ...config }), ctx);
  let unheard: unknown;
  await lastValueFrom(sinkStage(writer, (error) => (unheard = error))({ in: from(records) }).pipe(defaultIfEmpty(undefined)));
  if (unheard !== undefined) throw unheard as Error;
}

describe('Kafka interop: topics in tickflow’s format decoded by Python’s confluent-kafka and fastavro', () => {
  it('Confluent wire format: the AvroDeserializer reads every Tick and order event field the kafka sink wrote, by the ids it registered', async () => {
    const sentTicks = ticks();
    const sentEvents = orderEvents();
    await writeThroughSink('Tick', sentTicks, { schema_registry_url: servers.registryUrl });
    await writeThroughSink('OrderEvent', sentEvents, { schema_registry_url: servers.registryUrl });
    const registry = new SchemaRegistry({ host: servers.registryUrl });
    const ids = new Map<string, number>();
    for (const name of ['Tick', ...sentEvents.map(recordOf)])
      ids.set(`tickflow.${name}`, await registry.getLatestSchemaId(`tickflow.${name}`));

    const decoded = await decodeWithPython(['tickflow.tick', 'tickflow.orderevent'], sentTicks.length + sentEvents.length, true);
    const ofTopic = (topic: string) => decoded.filter((d) => d.topic === topic).sort((a, b) => a.offset - b.offset);
    const readTicks = ofTopic('tickflow.tick');
    expect(readTicks.map((d) => d.value)).toEqual(sentTicks);
    for (const d of readTicks)
      expect(d).toMatchObject({
        format: 'confluent',
        record: 'tickflow.Tick',
        schema_id: ids.get('tickflow.Tick'),
        key: d.value['instrument_id'],
      });
    const readEvents = ofTopic('tickflow.orderevent');
    expect(readEvents.map((d) => d.value)).toEqual(sentEvents);
    expect(readEvents.map((d) => [d.record, d.schema_id, d.key])).toEqual(
      sentEvents.map((e) => [`tickflow.${e.type}`, ids.get(`tickflow.${e.type}`), e.instrument_id]),
    );
  });

  it('single-object encoding (no registry): fastavro finds the schemas/ file by the header’s fingerprint and reads every field the sink wrote', async () => {
    const sentTicks = ticks().slice(0, 10);
    const sentEvents = orderEvents();
    await writeThroughSink('Tick', sentTicks, { topic: 'single.{schema}' });
    await writeThroughSink('OrderEvent', sentEvents, { topic: 'single.{schema}' });
    const sent = [...sentTicks, ...sentEvents];

    const decoded = (await decodeWithPython(['single.tick', 'single.orderevent'], sent.length, false)).sort((a, b) =>
      a.topic === b.topic ? a.offset - b.offset : a.topic === 'single.tick' ? -1 : 1,
    );
    expect(decoded.map((d) => d.value)).toEqual(sent);
    expect(decoded.map((d) => [d.format, d.record, d.key])).toEqual(
      sent.map((r) => ['single-object', `tickflow.${recordOf(r)}`, r.instrument_id]),
    );
    // The header is the fingerprint of the schema's Parsing Canonical Form (avsc's schema()), as fastavro computes it from the file.
    expect(decoded.map((d) => d.fingerprint)).toEqual(
      sent.map((r) => rabinFingerprint(JSON.stringify(catalog.type(recordOf(r)).schema())).toString('hex')),
    );
  });
});
