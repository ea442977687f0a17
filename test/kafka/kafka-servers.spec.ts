/**
 * The real Kafka broker and schema registry the tests start (test/support/kafka-servers.ts, the same code as
 * `npm run kafka:up`), used through the clients tickflow uses: kafkajs and @kafkajs/confluent-schema-registry.
 */
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBounded } from '../support/run-bounded.js';
import { ROOT } from '../support/run-cli.js';
import { closeKafkaServers, KAFKA_SETUP_TIMEOUT_MS, startKafkaServers, type KafkaServersWithRegistry } from '../support/kafka-servers.js';
import { waitFor } from '../support/wait-for.js';

const BAR_SCHEMA = readFileSync(join(ROOT, 'schemas', 'Bar.avsc'), 'utf8');
const CONSUME_TIMEOUT_MS = 60_000;

/** Whether a process with this pid runs (a stopped server's must not; an exited one not yet reaped by its parent does not). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

const bar = (instrumentId: string, minute: number) => ({
  instrument_id: instrumentId,
  period_s: 60,
  trading_day: '20260105',
  ts_open: 1_767_574_800_000_000 + minute * 60_000_000,
  ts_close: 1_767_574_860_000_000 + minute * 60_000_000,
  open: 3_512.5,
  high: 3_520,
  low: 3_508.25,
  close: 3_517.75,
  volume: 1_204 + minute,
  turnover: 42_345_678.5,
  open_interest: 95_310,
  tick_count: 118,
});

let groups = 0;
/** Reads `count` messages of `topic` from its beginning in a new consumer group, then leaves the group. */
async function consumeAll(kafka: Kafka, topic: string, count: number): Promise<KafkaMessage[]> {
  const consumer = kafka.consumer({ groupId: `test-${topic}-${++groups}` });
  const seen: KafkaMessage[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(message);
      },
    });
    await waitFor(`${count} messages of ${topic}`, () => (seen.length >= count ? true : undefined), CONSUME_TIMEOUT_MS);
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

describe('startKafkaServers', () => {
  let servers: KafkaServersWithRegistry;
  let kafka: Kafka;

  beforeAll(async () => {
    servers = await startKafkaServers();
    kafka = new Kafka({ clientId: 'kafka-servers-spec', brokers: servers.brokers, logLevel: logLevel.NOTHING });
  }, KAFKA_SETUP_TIMEOUT_MS);
  afterAll(closeKafkaServers, 90_000);

  it('runs a broker and a schema registry on free ports of 127.0.0.1, each its own process', () => {
    expect(servers.brokers).toEqual([`127.0.0.1:${servers.broker.port}`]);
    expect(servers.registryUrl).toBe(`http://127.0.0.1:${servers.registry.port}/apis/ccompat/v7`);
    expect(servers.broker.port).not.toBe(servers.registry.port);
    expect(servers.broker.running && servers.registry.running).toBe(true);
    expect(servers.broker.pid).not.toBe(servers.registry.pid);
  });

  it('creates a topic, takes records from an idempotent producer with acks -1 and serves them back in order per key', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      expect(await admin.createTopics({ topics: [{ topic: 'ticks', numPartitions: 3 }], waitForLeaders: true })).toBe(true);
      expect((await admin.fetchTopicMetadata({ topics: ['ticks'] })).topics[0]?.partitions).toHaveLength(3);
    } finally {
      await admin.disconnect();
    }

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const instruments = ['SHFE.rb2605', 'SHFE.cu2603', 'DCE.i2605', 'CZCE.MA605'];
    const sent = instruments.flatMap((instrument) => Array.from({ length: 50 }, (_, seq) => ({ key: instrument, value: String(seq) })));
    try {
      const acknowledged = await producer.send({ topic: 'ticks', acks: -1, messages: sent });
      expect(acknowledged.every((r) => r.errorCode === 0)).toBe(true);
    } finally {
      await producer.disconnect();
    }

    const received = await consumeAll(kafka, 'ticks', sent.length);
    expect(received).toHaveLength(sent.length);
    for (const instrument of instruments) {
      const values = received.filter((m) => m.key?.toString() === instrument).map((m) => m.value?.toString());
      expect(values).toEqual(Array.from({ length: 50 }, (_, seq) => String(seq)));
    }
  }, 90_000);

  it('registers an Avro schema and decodes by its id what was encoded in the Confluent wire format, through a topic', async () => {
    const writer = new SchemaRegistry({ host: servers.registryUrl });
    const { id } = await writer.register({ type: SchemaType.AVRO, schema: BAR_SCHEMA }, { subject: 'tickflow.Bar' });
    const record = bar('SHFE.rb2605', 0);
    const encoded = await writer.encode(id, record);
    // Magic byte 0, the schema id as a big-endian int32, then the plain Avro body.
    expect(encoded[0]).toBe(0);
    expect(encoded.readInt32BE(1)).toBe(id);
    expect(encoded.subarray(5)).toEqual(avro.Type.forSchema(JSON.parse(BAR_SCHEMA) as avro.Schema).toBuffer(record));

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      await producer.send({ topic: 'bars', acks: -1, messages: [{ key: record.instrument_id, value: encoded }] });
    } finally {
      await producer.disconnect();
    }
    const [message] = await consumeAll(kafka, 'bars', 1);
    // A second client with an empty cache: the schema comes from the registry by the id in the message.
    const reader = new SchemaRegistry({ host: servers.registryUrl });
    expect(await reader.decode(message?.value ?? Buffer.alloc(0))).toEqual(record);
    expect(await reader.getLatestSchemaId('tickflow.Bar')).toBe(id);
  }, 90_000);

  it('checks a new version of a subject against BACKWARD compatibility and refuses one old records cannot be read by', async () => {
    const config = (await (await fetch(`${servers.registryUrl}/config`)).json()) as { compatibilityLevel: string };
    expect(config.compatibilityLevel).toBe('BACKWARD');
    const registry = new SchemaRegistry({ host: servers.registryUrl });
    const schema = JSON.parse(BAR_SCHEMA) as { fields: object[] };
    const subject = 'compatibility.Bar';
    await registry.register({ type: SchemaType.AVRO, schema: BAR_SCHEMA }, { subject });
    // BACKWARD checks against the latest version: a reader with a new field and no default cannot read old records.
    const withoutDefault = { ...schema, fields: [...schema.fields, { name: 'vwap', type: 'double' }] };
    await expect(registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(withoutDefault) }, { subject })).rejects.toThrow(
      /incompatible/i,
    );
    const withDefault = { ...schema, fields: [...schema.fields, { name: 'vwap', type: 'double', default: 0 }] };
    const added = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(withDefault) }, { subject });
    expect(await registry.getLatestSchemaId(subject)).toBe(added.id);
  });

  it('starts the broker again after SIGKILL, on the same port with the records it had', async () => {
    const pid = servers.broker.pid ?? 0;
    await servers.broker.stop('SIGKILL');
    expect(servers.broker.running).toBe(false);
    expect(pidAlive(pid)).toBe(false);
    await servers.broker.start();
    expect(servers.broker.pid).not.toBe(pid);
    expect(servers.brokers).toEqual([`127.0.0.1:${servers.broker.port}`]);
    const received = await consumeAll(kafka, 'ticks', 200);
    expect(received).toHaveLength(200);
  }, 240_000);

  it('stops both servers by pid and removes their folder', async () => {
    const pids = [servers.broker.pid ?? 0, servers.registry.pid ?? 0];
    await servers.close();
    expect(pids.filter(pidAlive)).toEqual([]);
    expect(servers.broker.running || servers.registry.running).toBe(false);
    expect(existsSync(servers.dir)).toBe(false);
  }, 90_000);
});

describe('npm run kafka:up / kafka:down', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tickflow-kafka-cli-'));
  const env = { ...process.env, TICKFLOW_KAFKA_STATE: join(dir, 'state.json') };
  const kafkaScript = (command: string) =>
    runBounded(process.execPath, [join(ROOT, 'scripts', 'kafka.mjs'), command], { cwd: ROOT, env, timeoutMs: KAFKA_SETUP_TIMEOUT_MS });

  afterAll(async () => {
    // Stops by pid whatever a failed case left running.
    if (existsSync(env.TICKFLOW_KAFKA_STATE)) await kafkaScript('down');
    rmSync(dir, { recursive: true, force: true });
  }, 90_000);

  it(
    'starts both, prints and records their addresses and pids, and stops both by those pids',
    async () => {
      const up = await kafkaScript('up');
      expect(up.code, up.stderr).toBe(0);
      const state = JSON.parse(readFileSync(env.TICKFLOW_KAFKA_STATE, 'utf8')) as {
        brokers: string[];
        registryUrl: string;
        servers: { name: string; pid: number }[];
      };
      expect(up.stdout).toBe(`brokers: ${state.brokers.join(',')}\nschema registry: ${state.registryUrl}\n`);
      for (const step of [
        'broker jars',
        'schema registry (Apicurio',
        'storage formatted',
        'broker started',
        'schema registry started',
        'ready in',
      ])
        expect(up.stderr).toContain(`kafka: ${step}`);
      expect(state.servers.map((s) => s.name)).toEqual(['broker', 'schema registry']);
      expect(state.servers.filter((s) => pidAlive(s.pid))).toHaveLength(2);

      const admin = new Kafka({ brokers: state.brokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      await admin.disconnect();
      expect((await fetch(`${state.registryUrl}/subjects`)).status).toBe(200);

      const again = await kafkaScript('up');
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toContain('already running');
      expect(again.stdout).toBe(up.stdout);

      const down = await kafkaScript('down');
      expect(down.code, down.stderr).toBe(0);
      expect(state.servers.filter((s) => pidAlive(s.pid))).toEqual([]);
      expect(existsSync(env.TICKFLOW_KAFKA_STATE)).toBe(false);
    },
    KAFKA_SETUP_TIMEOUT_MS,
  );
});
