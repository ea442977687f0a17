import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual, promisify } from 'node:util';
import avro from 'avsc';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Subject, asyncScheduler, type Subscription } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StandaloneContext } from '../../pipeline/components/standalone-context.js';
import { sinkStage } from '../../pipeline/runtime/sink-stage.js';
import { validateConfig } from '../../pipeline/config/validate-config.js';
import { ConfigError } from '../../errors/errors.js';
import { validateComponentConfig } from '../../pipeline/components/validate-component-config.js';
import { quoteDiff } from '../../operators/quote-diff.js';
import { DiffQuoteFields } from '../../protocols/diff/diff-quote-fields.js';
import type { QuoteDiff, Tick } from '../../schemas/generated.js';
import { redisSink } from '../../sinks/redis-sink.js';
import { QuoteBook } from '../../protocols/diff/quote-book.js';
import { SchemaCatalog } from '../../pipeline/schemas/schema-catalog.js';
import { rabinFingerprint } from '../../pipeline/schemas/rabin-fingerprint.js';
import { SimMarket } from '../../sources/sim-market.js';
import { closeRedisServers, REDIS_INSTALL_TIMEOUT_MS, startRedisServer, type RedisServer } from '../support/redis-server.js';
import { testContext } from '../support/test-context.js';
import { waitFor } from '../support/wait-for.js';
import { firstQuote, laterQuote } from '../support/websocket-harness.js';

const run = promisify(execFile);
const SIM_START_US = Date.parse('2025-01-02T21:00:00+08:00') * 1000;
const INSTRUMENTS = ['SHFE.rb2501', 'DCE.m2505', 'SHFE.cu2502'];

/**
 * A server that stays up, one that tests stop and restart empty, and one
 * that keeps its data across a restart (append-only file). Trimming is exact
 * to 10 entries on all.
 */
let stable: RedisServer;
let flaky: RedisServer;
let durable: RedisServer;
const readers: Redis[] = [];
const sinks: RunningSink[] = [];

interface RunningSink {
  readonly quotes: Subject<QuoteDiff>;
  readonly ticks: Subject<Tick>;
  readonly acks: unknown[];
  readonly ctx: StandaloneContext;
  readonly logLines: string[];
  /** Settles when the sink completes (rejects when it errors). */
  readonly done: Promise<void>;
  readonly subscription: Subscription;
  /** Completes both inputs and waits for the sink to complete. */
  finish(): Promise<void>;
}

/** Starts the redis sink through its real spec, fed through Subjects, logging into `logLines`. */
function startSink(config: Record<string, unknown>): RunningSink {
  const logLines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });
  const ctx = testContext(asyncScheduler, redisSink, { stage: 'redis', logger });
  const validated = validateConfig('redis', redisSink.spec, config);
  const quotes = new Subject<QuoteDiff>();
  const ticks = new Subject<Tick>();
  const acks: unknown[] = [];
  let subscription!: Subscription;
  const done = new Promise<void>((resolve, reject) => {
    subscription = sinkStage(redisSink.create(validated, ctx), (error) => logger.error({ err: error }, 'redis: could not close'))({
      quotes,
      ticks,
    }).subscribe({ next: (ack) => void acks.push(ack), error: reject, complete: resolve });
  });
  done.catch(() => undefined); // a test that expects success awaits `done` and sees the rejection there
  const sink: RunningSink = {
    quotes,
    ticks,
    acks,
    ctx,
    logLines,
    done,
    subscription,
    async finish() {
      quotes.complete();
      ticks.complete();
      await done;
    },
  };
  sinks.push(sink);
  return sink;
}

function reader(server: RedisServer): Redis {
  const client = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(n * 50, 500) });
  client.on('error', () => undefined); // a reader of the flaky server sees it go away too
  readers.push(client);
  return client;
}

/** Log lines (pino JSON) whose message matches `pattern`. */
function logged(sink: RunningSink, pattern: RegExp): { level: number; msg: string }[] {
  return sink.logLines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => pattern.test(l.msg));
}

async function metricValue(ctx: StandaloneContext, name: string): Promise<number> {
  const metric = await ctx.registry.getSingleMetric(name)?.get();
  return metric?.values.find((v) => v.labels['stage'] === ctx.stage)?.value ?? 0;
}

/** `count` ticks of a seeded sim market and, for each, the QuoteDiff quote-diff makes of it (if any). */
function marketRecords(
  count: number,
  instruments: readonly string[] = INSTRUMENTS,
  seed = 7,
): { tick: Tick; diff: QuoteDiff | undefined }[] {
  const market = new SimMarket({ instruments, seed, start: SIM_START_US, tickIntervalMs: 500, feedId: 'sim', latencyUs: 2000 });
  const input = new Subject<Tick>();
  let last: QuoteDiff | undefined;
  input.pipe(quoteDiff()).subscribe((diff) => (last = diff));
  const records: { tick: Tick; diff: QuoteDiff | undefined }[] = [];
  for (let i = 0; i < count; i++) {
    const tick = market.next();
    last = undefined;
    input.next(tick);
    records.push({ tick, diff: last });
  }
  return records;
}

function feed(sink: RunningSink, records: readonly { tick: Tick; diff: QuoteDiff | undefined }[]): void {
  for (const { tick, diff } of records) {
    sink.ticks.next(tick);
    if (diff !== undefined) sink.quotes.next(diff);
  }
}

/** What the hash of each instrument must hold after these diffs: the latest quote in DIFF names, as text. */
function expectedHashes(diffs: readonly QuoteDiff[]): Map<string, Record<string, string>> {
  const book = new QuoteBook();
  for (const diff of diffs) book.apply(diff);
  const hashes = new Map<string, Record<string, string>>();
  for (const id of book.instruments()) {
    hashes.set(id, Object.fromEntries(Object.entries(book.quote(id) ?? {}).map(([k, v]) => [k, String(v)])));
  }
  return hashes;
}

/** 192 instruments of eight products, two years of months each. */
function manyInstruments(): string[] {
  const ids: string[] = [];
  for (const product of ['SHFE.rb', 'SHFE.cu', 'DCE.m', 'SHFE.al', 'DCE.i', 'CZCE.SR', 'SHFE.au', 'SHFE.ag']) {
    for (const year of [25, 26]) for (let month = 1; month <= 12; month++) ids.push(`${product}${year}${String(month).padStart(2, '0')}`);
  }
  return ids;
}

/**
 * Connections closed since the sink started, the loss included: ioredis asks
 * the retry policy for a delay at each, so after n of them the next attempt
 * waits the policy's delay n (the sink logs every loss with its detail).
 */
function closedConnections(sink: RunningSink): number {
  return sink.logLines.filter((l) => (JSON.parse(l) as { detail?: string }).detail === 'connection closed').length;
}

/** The quote hashes the sink says, when it closes, it did not rewrite; 0 when it says nothing (it owed none). */
function notRewritten(sink: RunningSink): number {
  const [line] = logged(sink, /quote hashes not rewritten/);
  return line === undefined ? 0 : Number(/(\d+) quote hashes not rewritten/.exec(line.msg)?.[1]);
}

/** The quote hashes the sink says, when it gives up closing, it cannot confirm (counted apart from those it did not rewrite). */
function notConfirmed(sink: RunningSink): number {
  const [line] = logged(sink, /quote hashes not rewritten/);
  return line === undefined ? 0 : Number(/(\d+) more not confirmed/.exec(line.msg)?.[1] ?? 0);
}

/** Instruments whose hash under `prefix` differs from the latest quote of `diffs`. */
async function staleHashes(redis: Redis, prefix: string, instruments: readonly string[], diffs: readonly QuoteDiff[]): Promise<string[]> {
  const expected = expectedHashes(diffs);
  const stale: string[] = [];
  for (const id of instruments) if (!isDeepStrictEqual(await redis.hgetall(`${prefix}quote:${id}`), expected.get(id))) stale.push(id);
  return stale;
}

const tickType = SchemaCatalog.default().type('Tick');
/** Hex of the little-endian CRC-64-AVRO fingerprint of the Tick schema's Parsing Canonical Form (its own spec checks it against Avro's vectors). */
const TICK_FINGERPRINT = rabinFingerprint(JSON.stringify(tickType.schema())).toString('hex');

/**
 * The ticks of a stream `{prefix}ticks:{id}` as a reader with only Redis and
 * an Avro library gets them: each entry's one field is `avro`, its value an
 * Avro single-object encoding (C3 01, the 8-byte fingerprint, the body), and
 * the body decodes with the schema stored under `{prefix}schema:{hex of the
 * fingerprint}`.
 */
async function streamTicks(redis: Redis, key: string, range: 'all' | 'last' = 'all'): Promise<Tick[]> {
  const entries = range === 'all' ? await redis.xrangeBuffer(key, '-', '+') : await redis.xrevrangeBuffer(key, '+', '-', 'COUNT', 1);
  const prefix = key.slice(0, key.lastIndexOf('ticks:'));
  const types = new Map<string, avro.Type>();
  const decode = async (value: Buffer): Promise<Tick> => {
    expect([...value.subarray(0, 2)]).toEqual([0xc3, 0x01]);
    const fingerprint = value.subarray(2, 10).toString('hex');
    let type = types.get(fingerprint);
    if (type === undefined) {
      type = avro.Type.forSchema(JSON.parse((await redis.get(`${prefix}schema:${fingerprint}`)) ?? 'null') as avro.Schema);
      types.set(fingerprint, type);
    }
    return type.fromBuffer(value.subarray(10)) as Tick;
  };
  const ticks: Tick[] = [];
  for (const [, fields] of entries) {
    expect(fields.map(String).filter((_, i) => i % 2 === 0)).toEqual(['avro']);
    ticks.push(await decode(fields[1] as Buffer));
  }
  return ticks;
}

const sequences = (ticks: readonly Tick[]): number[] => ticks.map((t) => t.sequence);

/** Polls an async `probe` every 25 ms until it returns true, for at most `timeoutMs` and 1,000 polls. */
async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (let attempt = 0; attempt < 1000 && performance.now() < deadline; attempt++) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** The sink's connection in the server's CLIENT LIST, if it is there. */
async function sinkClient(admin: Redis): Promise<string | undefined> {
  return String(await admin.client('LIST'))
    .split('\n')
    .find((line) => line.includes('name=tickflow:redis '));
}

async function sinkConnected(admin: Redis): Promise<boolean> {
  return (await sinkClient(admin)) !== undefined;
}

/** Whether the server holds a command of the sink's connection (CLIENT PAUSE WRITE blocks it: flag b). */
async function sinkBlocked(admin: Redis): Promise<boolean> {
  return /flags=\w*b/.test((await sinkClient(admin)) ?? '');
}

const diffsOf = (records: readonly { diff: QuoteDiff | undefined }[]): QuoteDiff[] =>
  records.flatMap((r) => (r.diff === undefined ? [] : [r.diff]));
const countOf = (records: readonly { diff: QuoteDiff | undefined }[]): number => records.length + diffsOf(records).length;

/**
 * A child's program (run with --expose-gc and tsx from the repository root):
 * buffers ticks and their quote changes in a redis sink whose Redis is not
 * there, and prints the memory they took (V8 heap and Buffers) and the
 * sink's estimate of it.
 */
const HEAP_PROBE = `
import { Subject, asyncScheduler } from 'rxjs';
import { pino } from 'pino';
const { redisSink } = await import('./sinks/redis-sink.ts');
const { validateConfig } = await import('./pipeline/config/validate-config.ts');
const { testContext } = await import('./test/support/test-context.ts');
const { sinkStage } = await import('./pipeline/runtime/sink-stage.ts');
const { quoteDiff } = await import('./operators/quote-diff.ts');
const { SimMarket } = await import('./sources/sim-market.ts');
const ctx = testContext(asyncScheduler, redisSink, { stage: 'heap', logger: pino({ level: 'silent' }) });
const config = validateConfig('redis', redisSink.spec, { url: 'redis://127.0.0.1:1', max_buffered: 10000000, max_buffered_bytes: 2147483648 });
const quotes = new Subject();
const ticks = new Subject();
const subscription = sinkStage(redisSink.create(config, ctx), () => undefined)({ quotes, ticks }).subscribe();
const instruments = [];
for (const product of ['SHFE.rb', 'SHFE.cu', 'DCE.m', 'SHFE.al']) for (let month = 1; month <= 12; month++) instruments.push(product + '25' + String(month).padStart(2, '0'));
const market = new SimMarket({ instruments, seed: 7, start: ${SIM_START_US}, tickIntervalMs: 500, feedId: 'sim', latencyUs: 2000 });
const diffs = new Subject();
let records = 0;
diffs.pipe(quoteDiff()).subscribe((diff) => { records++; quotes.next(diff); });
const estimate = async () => (await ctx.registry.getSingleMetric('tickflow_redis_buffered_bytes').get()).values[0].value;
const tick = () => { const t = market.next(); records++; ticks.next(t); diffs.next(t); };
for (let i = 0; i < 10 * instruments.length; i++) tick();
globalThis.gc(); globalThis.gc();
// The V8 heap, plus the Buffers' memory outside it (the ticks' Avro bodies).
const used = () => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };
const heapBefore = used();
const estimateBefore = await estimate();
const recordsBefore = records;
for (let i = 0; i < 20000; i++) tick();
globalThis.gc(); globalThis.gc();
const heapBytes = used() - heapBefore;
const estimatedBytes = (await estimate()) - estimateBefore;
console.log(JSON.stringify({ heapBytes, estimatedBytes, records: records - recordsBefore }));
subscription.unsubscribe();
process.exit(0);
`;

beforeAll(async () => {
  // stream-node-max-entries 10: approximate trimming removes whole nodes, so small nodes keep XLEN near history_max_len.
  const nodes = { 'stream-node-max-entries': '10' };
  [stable, flaky, durable] = await Promise.all([
    startRedisServer({ config: nodes }),
    startRedisServer({ config: nodes }),
    startRedisServer({ config: { ...nodes, appendonly: 'yes' } }),
  ]);
}, REDIS_INSTALL_TIMEOUT_MS);

afterEach(async () => {
  for (const sink of sinks) sink.subscription.unsubscribe();
  sinks.length = 0;
  for (const client of readers) client.disconnect();
  readers.length = 0;
  if (!flaky.running) await flaky.restart();
  if (!durable.running) await durable.restart();
});

afterAll(closeRedisServers);

describe('redisSink', () => {
  it('declares its ports and fields with descriptions, defaults and examples; the url is a secret from TICKFLOW_REDIS_URL', () => {
    expect(redisSink.in).toEqual({ quotes: 'QuoteDiff', ticks: 'Tick' });
    expect(redisSink.boundary).toBe(true);
    for (const [name, spec] of Object.entries(redisSink.spec)) {
      expect(spec.description, name).not.toBe('');
      expect(spec.default, name).toBeDefined();
      expect(spec.example, name).toBeDefined();
    }
    expect(redisSink.spec.url).toMatchObject({ secret: true, env: 'TICKFLOW_REDIS_URL', default: 'redis://127.0.0.1:6379' });
    // Every number has a documented range, so no value can hang the sink (a timer of days, a buffer beyond the heap).
    const numeric = Object.entries(redisSink.spec).filter(([, spec]) => spec.type === 'integer' || spec.type === 'number');
    expect(numeric.map(([name]) => name).sort()).toEqual([
      'batch_size',
      'close_timeout_ms',
      'flush_interval_ms',
      'history_max_len',
      'max_buffered',
      'max_buffered_bytes',
    ]);
    for (const [name, spec] of numeric) {
      expect(spec.min, name).toBeDefined();
      expect(spec.max, name).toBeDefined();
      expect(validateConfig('redis', redisSink.spec, { [name]: spec.max })[name as keyof typeof redisSink.spec]).toBe(spec.max);
      expect(() => validateConfig('redis', redisSink.spec, { [name]: (spec.max as number) + 1 })).toThrow(
        new RegExp(`'${name}' must be at most ${spec.max}`),
      );
    }
    expect(redisSink.spec.max_buffered_bytes.description).toMatch(/bytes of memory/);
    expect(validateConfig('redis', redisSink.spec, {}, { TICKFLOW_REDIS_URL: 'redis://:pw@127.0.0.1:1/2' }).url).toBe(
      'redis://:pw@127.0.0.1:1/2',
    );
  });

  it('rejects a url that is not redis:// by its definition, without echoing it', () => {
    const check = (): unknown => validateComponentConfig(redisSink, { url: 'http://user:hunter2@127.0.0.1/' });
    expect(check).toThrow(ConfigError);
    expect(check).toThrow(/redis:\/\//);
    expect(check).not.toThrow(/hunter2/);
  });

  it('writes the latest quote as a hash, ticks as streams and the instruments as a set; a standard redis-cli reads them', async () => {
    const sink = startSink({ url: stable.url, key_prefix: 'layout:' });
    const records = marketRecords(600);
    feed(sink, records);
    await sink.finish();

    // Every record acknowledged, exactly once, in the order written across both ports (a batch groups them by instrument).
    expect(sink.acks).toHaveLength(countOf(records));
    expect(new Set(sink.acks).size).toBe(countOf(records));
    expect(sink.acks).toEqual(records.flatMap(({ tick, diff }) => (diff === undefined ? [tick] : [tick, diff])));

    const redis = reader(stable);
    expect((await redis.smembers('layout:instruments')).sort()).toEqual([...INSTRUMENTS].sort());
    const expected = expectedHashes(diffsOf(records));
    for (const id of INSTRUMENTS) {
      const hash = await redis.hgetall(`layout:quote:${id}`);
      expect(hash).toEqual(expected.get(id));
      expect(hash).toHaveProperty('datetime');
      expect(hash).toHaveProperty('highest');
      expect(hash).not.toHaveProperty('close'); // unset before the close: absent, never "null"
    }

    // Each stream holds its instrument's ticks in order, each decoding to exactly the Tick written (null prices and epoch µs included).
    for (const id of INSTRUMENTS) {
      const ticks = records.map((r) => r.tick).filter((t) => t.instrument_id === id);
      expect(await redis.xlen(`layout:ticks:${id}`)).toBe(ticks.length);
      expect(await streamTicks(redis, `layout:ticks:${id}`)).toEqual(ticks);
    }
    // The schema the entries name is stored beside them, and is the Tick schema (same fingerprint, docs and logical types kept).
    const stored = JSON.parse((await redis.get(`layout:schema:${TICK_FINGERPRINT}`)) ?? 'null') as {
      name: string;
      fields: { name: string }[];
    };
    expect(rabinFingerprint(JSON.stringify(avro.Type.forSchema(stored as avro.Schema).schema())).toString('hex')).toBe(TICK_FINGERPRINT);
    expect(stored.fields.map((f) => f.name)).toEqual((tickType as avro.types.RecordType).fields.map((f) => f.name));
    expect(JSON.stringify(stored)).toContain('timestamp-micros');

    // A standard tool reads the same hash.
    const { stdout } = await run(stable.cliPath, ['-p', String(stable.port), 'HGETALL', 'layout:quote:SHFE.rb2501'], { timeout: 10_000 });
    const lines = stdout.trimEnd().split('\n');
    const fromCli = Object.fromEntries(lines.flatMap((_, i) => (i % 2 === 0 ? [[lines[i], lines[i + 1]]] : [])));
    expect(fromCli).toEqual(expected.get('SHFE.rb2501'));
    // One burst, so full batches: a few commands per instrument and batch, not one per record.
    const commands = await metricValue(sink.ctx, 'tickflow_redis_commands_total');
    expect(commands).toBeGreaterThanOrEqual(2 * INSTRUMENTS.length);
    expect(commands).toBeLessThan(countOf(records) / 10);
    expect(logged(sink, /redis sink closed/)).toHaveLength(1);
  });

  it('writes only the fields that changed, and deletes a field that became unset; changes of one batch are merged', async () => {
    const monitorClient = reader(stable);
    const monitor = await monitorClient.monitor();
    const seen: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args[1] === 'changed:quote:SHFE.rb2501') seen.push([String(args[0]).toLowerCase(), ...args.slice(1)]);
    });
    const sink = startSink({ url: stable.url, key_prefix: 'changed:' });
    sink.quotes.next(firstQuote('SHFE.rb2501', 3500));
    await waitFor('the first quote', () => (sink.acks.length === 1 ? true : undefined));
    sink.quotes.next(laterQuote('SHFE.rb2501', 2, { last_price: 3501 }));
    await waitFor('the second quote', () => (sink.acks.length === 2 ? true : undefined));
    // Three changes in one burst: one batch, so one HSET and one HDEL, each field at its last value.
    sink.quotes.next(laterQuote('SHFE.rb2501', 3, { last_price: 3502, bid_volume1: 11 }));
    sink.quotes.next(laterQuote('SHFE.rb2501', 4, { ask_price1: null }));
    sink.quotes.next(laterQuote('SHFE.rb2501', 5, { last_price: 3503 }));
    await sink.finish();
    await waitFor('the monitor to see the writes', () => (seen.length >= 5 ? true : undefined));
    monitor.disconnect();

    const key = 'changed:quote:SHFE.rb2501';
    // The first quote is written whole: every set field, and unset ones deleted in case an earlier run left them.
    expect(seen[0]?.[0]).toBe('hset');
    expect(seen[1]?.slice(0, 2)).toEqual(['hdel', key]);
    expect(seen[1]).toContain('close');
    expect(seen[1]).toContain('settlement');
    // A later change writes exactly its fields.
    expect(seen[2]).toEqual(['hset', key, 'last_price', '3501', 'datetime', '2025-01-02 21:00:01.000000']);
    expect(seen[3]).toEqual(['hset', key, 'last_price', '3503', 'bid_volume1', '11', 'datetime', '2025-01-02 21:00:02.500000']);
    expect(seen[4]).toEqual(['hdel', key, 'ask_price1']);
    expect(seen).toHaveLength(5);
    const hash = await reader(stable).hgetall(key);
    expect(hash).not.toHaveProperty('ask_price1');
    expect(hash).toMatchObject({ last_price: '3503', bid_volume1: '11', instrument_id: 'SHFE.rb2501', ask_volume1: '12' });
  });

  it('leaves the hash as applying the changes one by one would, whether or not they carry ts_event, and acknowledges each', async () => {
    const id = 'SHFE.rb2501';
    const withoutTs = (sequence: number, changes: QuoteDiff['changes']): QuoteDiff => ({ ...laterQuote(id, sequence, {}), changes });
    const first = firstQuote(id, 3500);
    const burst = [
      laterQuote(id, 2, { last_price: 3501 }),
      withoutTs(3, { bid_volume1: 20 }), // changes something: the quote's time becomes the record's ts_event
      laterQuote(id, 4, { ask_price1: null }),
      withoutTs(5, { bid_volume1: 20 }), // changes nothing: the quote keeps the time of the change before
      laterQuote(id, 6, { last_price: 3502, ask_price1: 3503 }),
      withoutTs(7, { ask_price1: 3503 }), // nothing again, last of the burst
    ];
    const sink = startSink({ url: stable.url, key_prefix: 'merged:' });
    sink.quotes.next(first);
    await waitFor('the first quote', () => (sink.acks.length === 1 ? true : undefined));
    for (const diff of burst) sink.quotes.next(diff);
    await sink.finish();
    const diffs = [first, ...burst];
    expect(sink.acks).toEqual(diffs);
    expect(await reader(stable).hgetall(`merged:quote:${id}`)).toEqual(expectedHashes(diffs).get(id));
  });

  it('trims each tick stream to about history_max_len entries', async () => {
    const sink = startSink({ url: stable.url, key_prefix: 'trim:', history_max_len: 50 });
    const records = marketRecords(1000, ['SHFE.rb2501']);
    feed(sink, records);
    await sink.finish();
    const redis = reader(stable);
    const length = await redis.xlen('trim:ticks:SHFE.rb2501');
    // MAXLEN ~ trims whole nodes of 10 entries (the server's stream-node-max-entries): never below 50, less than a node above.
    expect(length).toBeGreaterThanOrEqual(50);
    expect(length).toBeLessThan(60);
    expect(sequences(await streamTicks(redis, 'trim:ticks:SHFE.rb2501', 'last'))).toEqual([records.at(-1)?.tick.sequence]);
    // A burst of 1,000 ticks goes out in script calls of at most 500 each: the entries kept are the last ones, in order.
    expect(sequences(await streamTicks(redis, 'trim:ticks:SHFE.rb2501'))).toEqual(sequences(records.slice(-length).map((r) => r.tick)));
  });

  it('publishes each quote change as a JSON merge patch when publish is on, and nothing when it is off', async () => {
    const subscriber = reader(stable);
    const messages: { channel: string; message: Record<string, unknown> }[] = [];
    subscriber.on('message', (channel: string, message: string) =>
      messages.push({ channel, message: JSON.parse(message) as Record<string, unknown> }),
    );
    await subscriber.subscribe('pub:quotes:SHFE.rb2501', 'quiet:quotes:SHFE.rb2501');

    const quiet = startSink({ url: stable.url, key_prefix: 'quiet:' });
    quiet.quotes.next(firstQuote('SHFE.rb2501', 3500));
    await quiet.finish();

    const sink = startSink({ url: stable.url, key_prefix: 'pub:', publish: true });
    sink.quotes.next(firstQuote('SHFE.rb2501', 3500));
    // Changes queued before the first write are merged into it; wait, so that the second travels on its own.
    await waitFor('the first quote', () => (sink.acks.length === 1 ? true : undefined));
    sink.quotes.next(laterQuote('SHFE.rb2501', 2, { last_price: 3501, ask_price1: null }));
    await sink.finish();
    await waitFor('two messages', () => (messages.length >= 2 ? true : undefined));

    expect(messages.every((m) => m.channel === 'pub:quotes:SHFE.rb2501')).toBe(true);
    // The first is the whole quote, every DIFF field present (null where unset), so a subscriber can start from it.
    expect(messages[0]?.message).toMatchObject({
      instrument_id: 'SHFE.rb2501',
      last_price: 3500,
      close: null,
      datetime: '2025-01-02 21:00:00.000000',
    });
    expect(Object.keys(messages[0]?.message ?? {})).toHaveLength(Object.keys(DiffQuoteFields.keyOf).length + 1);
    expect(messages[1]?.message).toEqual({ last_price: 3501, ask_price1: null, datetime: '2025-01-02 21:00:01.000000' });
    expect(messages).toHaveLength(2);
  });

  it('acknowledges a record only after Redis has written it', async () => {
    const admin = reader(stable);
    const sink = startSink({ url: stable.url, key_prefix: 'ack:' });
    sink.ticks.next(marketRecords(1)[0]?.tick as Tick);
    await waitFor('the first ack', () => (sink.acks.length === 1 ? true : undefined));

    // Redis holds every write for 400 ms: the sink must not acknowledge before it is done.
    await admin.client('PAUSE', 400, 'WRITE');
    const paused = performance.now();
    const before = sink.acks.length;
    sink.quotes.next(firstQuote('SHFE.rb2501', 3600));
    const ackedAfterMs = await waitFor('the ack', () => (sink.acks.length > before ? performance.now() - paused : undefined));
    // Read on another connection once acknowledged: the write must be there.
    const seenAtAck = await reader(stable).hget('ack:quote:SHFE.rb2501', 'last_price');
    expect(ackedAfterMs).toBeGreaterThanOrEqual(300);
    expect(seenAtAck).toBe('3600');
    await sink.finish();
  });

  it('shows records that waited for their window when Redis went away in the backlog gauge', async () => {
    // A long window: the records below wait for it while the connection is still ready, then Redis goes away.
    const sink = startSink({ url: flaky.url, key_prefix: 'window:', flush_interval_ms: 60_000 });
    const records = marketRecords(11);
    const [first, rest] = [records.slice(0, 1), records.slice(1)];
    // Connecting sends what came first at once.
    feed(sink, first);
    await waitFor('the first records written', () => (sink.acks.length === countOf(first) ? true : undefined));
    feed(sink, rest);
    expect(await metricValue(sink.ctx, 'tickflow_redis_buffered')).toBe(0);
    await flaky.stop();
    await waitFor('the sink to notice', () => (logged(sink, /lost the connection/).length > 0 ? true : undefined));
    expect(await metricValue(sink.ctx, 'tickflow_redis_buffered')).toBeGreaterThanOrEqual(rest.length);
    await flaky.restart();
    await sink.finish();
    expect(sink.acks).toHaveLength(countOf(records));
  });

  it('survives a Redis restart mid-stream: buffers, reconnects, and the hash equals the latest quote again', async () => {
    const sink = startSink({ url: flaky.url, key_prefix: 'restart:' });
    const records = marketRecords(900);
    const [before, during, after] = [records.slice(0, 300), records.slice(300, 600), records.slice(600)];
    feed(sink, before);
    await waitFor('the first records written', () => (sink.acks.length === countOf(before) ? true : undefined));

    await flaky.stop();
    feed(sink, during);
    await waitFor('the sink to notice', () => (logged(sink, /lost the connection/).length > 0 ? true : undefined));
    // Nothing acknowledged while Redis is away, even after a reconnect attempt failed; the backlog is visible as a gauge.
    await waitFor('a failed reconnect', () => (closedConnections(sink) >= 2 ? true : undefined));
    expect(sink.acks.length).toBe(countOf(before));
    expect(await metricValue(sink.ctx, 'tickflow_redis_buffered')).toBeGreaterThan(0);

    await flaky.restart(); // empty: nothing was persisted
    feed(sink, after);
    await sink.finish();

    expect(sink.acks).toHaveLength(countOf(records));
    expect(sink.ctx.metrics.droppedTotal).toBe(0);
    expect(await metricValue(sink.ctx, 'tickflow_redis_reconnects_total')).toBeGreaterThanOrEqual(1);
    expect(await metricValue(sink.ctx, 'tickflow_redis_buffered')).toBe(0);
    const redis = reader(flaky);
    const expected = expectedHashes(diffsOf(records));
    for (const id of INSTRUMENTS) expect(await redis.hgetall(`restart:quote:${id}`)).toEqual(expected.get(id));
    expect((await redis.smembers('restart:instruments')).sort()).toEqual([...INSTRUMENTS].sort());
    // The restarted server lost the history before it; what was buffered and what came after is there, in order.
    const rb = records
      .slice(300)
      .map((r) => r.tick)
      .filter((t) => t.instrument_id === 'SHFE.rb2501');
    expect(sequences(await streamTicks(redis, 'restart:ticks:SHFE.rb2501'))).toEqual(sequences(rb));
    expect(logged(sink, /reconnected/)).toHaveLength(1);
  });

  it('sends a batch again when its connection is lost before Redis answered, so nothing is lost or doubled', async () => {
    const admin = reader(stable);
    const sink = startSink({ url: stable.url, key_prefix: 'inflight:' });
    const records = marketRecords(400);
    feed(sink, records.slice(0, 100));
    await waitFor('the first records', () => (sink.acks.length === countOf(records.slice(0, 100)) ? true : undefined));

    // Hold every write, send a batch, then kill the sink's connection while the batch waits unexecuted.
    await admin.client('PAUSE', 20_000, 'WRITE');
    feed(sink, records.slice(100, 200));
    await waitUntil('Redis to hold the batch', () => sinkBlocked(admin));
    expect(sink.acks.length).toBe(countOf(records.slice(0, 100))); // the batch is out, unanswered: Redis holds writes for far longer than this took
    const id = /id=(\d+) /.exec((await sinkClient(admin)) ?? '')?.[1];
    expect(id).toBeDefined();
    await admin.client('KILL', 'ID', id as string);
    await admin.client('UNPAUSE');
    feed(sink, records.slice(200));
    await sink.finish();

    expect(sink.acks).toHaveLength(countOf(records));
    expect(sink.ctx.metrics.droppedTotal).toBe(0);
    expect(await metricValue(sink.ctx, 'tickflow_redis_reconnects_total')).toBe(1);
    expect(logged(sink, /lost the connection/)).toHaveLength(1);
    const expected = expectedHashes(diffsOf(records));
    for (const instrument of INSTRUMENTS) {
      expect(await admin.hgetall(`inflight:quote:${instrument}`)).toEqual(expected.get(instrument));
      const entries = await streamTicks(admin, `inflight:ticks:${instrument}`);
      const want = records.map((r) => r.tick).filter((t) => t.instrument_id === instrument);
      expect(sequences(entries)).toEqual(sequences(want));
    }
  });

  it('sends two batches lost in flight again, in the order written, ahead of what waited behind them', async () => {
    const admin = reader(stable);
    const sink = startSink({ url: stable.url, key_prefix: 'twoflight:', batch_size: 50 });
    const records = marketRecords(300);
    feed(sink, records.slice(0, 50));
    await waitFor('the first records', () => (sink.acks.length === countOf(records.slice(0, 50)) ? true : undefined));

    // Held by Redis: one full batch goes while the one before is unanswered, the records after them wait in the sink.
    await admin.client('PAUSE', 20_000, 'WRITE');
    feed(sink, records.slice(50, 150));
    await waitUntil('Redis to hold the batches', () => sinkBlocked(admin));
    expect(sink.acks.length).toBe(countOf(records.slice(0, 50)));
    // The gauge, set as the second batch left: two batches of 50 in flight.
    expect(await metricValue(sink.ctx, 'tickflow_redis_buffered')).toBe(2 * 50);
    const id = /id=(\d+) /.exec((await sinkClient(admin)) ?? '')?.[1];
    expect(id).toBeDefined();
    await admin.client('KILL', 'ID', id as string);
    await admin.client('UNPAUSE');
    feed(sink, records.slice(150));
    await sink.finish();

    // Every record once, acknowledged in the order written across both ports; each stream in order, none doubled.
    expect(sink.acks).toEqual(records.flatMap(({ tick, diff }) => (diff === undefined ? [tick] : [tick, diff])));
    expect(sink.ctx.metrics.droppedTotal).toBe(0);
    expect(await metricValue(sink.ctx, 'tickflow_redis_reconnects_total')).toBe(1);
    const expected = expectedHashes(diffsOf(records));
    for (const instrument of INSTRUMENTS) {
      expect(await admin.hgetall(`twoflight:quote:${instrument}`)).toEqual(expected.get(instrument));
      const entries = await streamTicks(admin, `twoflight:ticks:${instrument}`);
      const want = records.map((r) => r.tick).filter((t) => t.instrument_id === instrument);
      expect(sequences(entries)).toEqual(sequences(want));
    }
  });

  it('bounds what it buffers while Redis is down: drops the oldest, counts them, warns once per episode, then repairs the hashes', async () => {
    const sink = startSink({ url: flaky.url, key_prefix: 'bound:', max_buffered: 200 });
    sink.quotes.next(firstQuote('SHFE.rb2501', 3500));
    await waitFor('the first quote', () => (sink.acks.length === 1 ? true : undefined));
    await flaky.stop();
    await waitFor('the sink to notice', () => (logged(sink, /lost the connection/).length > 0 ? true : undefined));

    const records = marketRecords(2000, ['SHFE.rb2501']);
    feed(sink, records);
    await new Promise((resolve) => setImmediate(resolve));
    const dropped = sink.ctx.metrics.droppedByReason.get('redis-unavailable') ?? 0;
    // Held: at most 200 records; every other record was dropped and acknowledged at once (once its promise resolved).
    expect(dropped).toBeGreaterThan(countOf(records) - 200 - 1);
    expect(sink.acks.length).toBe(1 + dropped);
    expect(new Set(sink.acks).size).toBe(sink.acks.length);
    const buffered = await metricValue(sink.ctx, 'tickflow_redis_buffered');
    expect(buffered).toBeGreaterThan(0);
    expect(buffered).toBeLessThanOrEqual(200);
    expect(logged(sink, /buffered records reached/)).toHaveLength(1);
    expect(logged(sink, /buffered records reached/)[0]?.level).toBe(40);

    await flaky.restart();
    await waitFor('the backlog to be written', () => (sink.acks.length === 1 + countOf(records) ? true : undefined));
    expect(logged(sink, /caught up; \d+ records were dropped/)).toHaveLength(1);

    // A second outage is a second episode, warned once more.
    await flaky.stop();
    await waitFor('the sink to notice', () => (logged(sink, /lost the connection/).length > 1 ? true : undefined));
    const more = marketRecords(3000, ['SHFE.rb2501']).slice(2000);
    feed(sink, more);
    expect(logged(sink, /buffered records reached/)).toHaveLength(2);
    await flaky.restart();
    await sink.finish();

    const all = [...records, ...more];
    expect(sink.acks).toHaveLength(1 + countOf(all));
    const expected = expectedHashes([firstQuote('SHFE.rb2501', 3500), ...diffsOf(all)]);
    expect(await reader(flaky).hgetall('bound:quote:SHFE.rb2501')).toEqual(expected.get('SHFE.rb2501'));
  });

  it('drops the oldest as redis-backlog when Redis is up but a burst exceeds max_buffered, and the hash is still right', async () => {
    const sink = startSink({ url: stable.url, key_prefix: 'backlog:', max_buffered: 100, batch_size: 50 });
    sink.ticks.next(marketRecords(1)[0]?.tick as Tick);
    await waitFor('the connection', () => (sink.acks.length === 1 ? true : undefined));
    const records = marketRecords(1000, ['SHFE.rb2501'], 11);
    feed(sink, records); // one synchronous burst: only the first two full batches (two in flight) leave before it ends
    await sink.finish();
    expect(sink.acks).toHaveLength(1 + countOf(records));
    expect(sink.ctx.metrics.droppedByReason.get('redis-backlog')).toBeGreaterThan(countOf(records) - 100 - 2 * 50 - 1);
    expect(sink.ctx.metrics.droppedByReason.has('redis-unavailable')).toBe(false);
    expect(logged(sink, /because Redis is not keeping up/)).toHaveLength(1);
    const expected = expectedHashes(diffsOf(records));
    expect(await reader(stable).hgetall('backlog:quote:SHFE.rb2501')).toEqual(expected.get('SHFE.rb2501'));
  });

  it('drops and logs a write Redis refuses (a key of the wrong type), and carries on with the rest', async () => {
    const redis = reader(stable);
    await redis.set('refused:quote:SHFE.rb2501', 'not a hash');
    const sink = startSink({ url: stable.url, key_prefix: 'refused:' });
    sink.quotes.next(firstQuote('SHFE.rb2501', 3500));
    await waitFor('the first quote', () => (sink.acks.length === 1 ? true : undefined));
    sink.quotes.next(laterQuote('SHFE.rb2501', 2, { last_price: 3501 }));
    const records = marketRecords(20, ['SHFE.rb2501']);
    for (const { tick } of records) sink.ticks.next(tick);
    await sink.finish();
    expect(sink.acks).toHaveLength(2 + records.length);
    // Both quote changes were refused (the first in the full write of the hash, the second in its HSET): both dropped.
    expect(sink.ctx.metrics.droppedByReason.get('redis-error')).toBe(2);
    const refusals = logged(sink, /Redis refused a write for SHFE\.rb2501: WRONGTYPE/);
    expect(refusals.length).toBe(2); // the full rewrite of the first quote, then the change
    expect(refusals.every((l) => l.level === 40)).toBe(true);
    expect(await redis.xlen('refused:ticks:SHFE.rb2501')).toBe(records.length);
    expect(await redis.get('refused:quote:SHFE.rb2501')).toBe('not a hash');
    // A clean close still says which hash it could not bring up to date.
    expect(notRewritten(sink)).toBe(1);
    expect(logged(sink, /closing with every record handled and 1 quote hashes not rewritten \(Redis refused their writes\)/)).toHaveLength(
      1,
    );
  });

  it('after a long outage, a shutdown soon after Redis came back rewrites every hash it owes, or counts exactly the ones it did not', async () => {
    const instruments = manyInstruments();
    const sink = startSink({ url: flaky.url, key_prefix: 'recovered:', close_timeout_ms: 3000 });
    const records = marketRecords(instruments.length * 4, instruments);
    const [before, during] = [records.slice(0, instruments.length * 2), records.slice(instruments.length * 2)];
    feed(sink, before);
    await waitFor('the first records written', () => (sink.acks.length === countOf(before) ? true : undefined));

    await flaky.stop();
    await waitFor('the sink to notice', () => (logged(sink, /lost the connection/).length > 0 ? true : undefined));
    feed(sink, during); // every instrument changes while Redis is away
    // A long outage: after six closed connections the default policy waits its longest, 5000 ms ± 20 %, before the next attempt.
    await waitFor('six closed connections', () => (closedConnections(sink) >= 6 ? true : undefined), 30_000);
    await flaky.restart(); // empty: every hash must be written again
    await sink.finish(); // soon after Redis came back, long before the sink's next scheduled attempt

    const stale = await staleHashes(reader(flaky), 'recovered:', instruments, diffsOf(records));
    // The count the sink logs is true whatever happened; and with Redis back it has nothing to count.
    expect(notRewritten(sink)).toBe(stale.length);
    expect(stale).toEqual([]);
    expect(sink.acks).toHaveLength(countOf(records));
    expect(logged(sink, /closing; connecting to redis:\/\/127\.0\.0\.1:\d+ now/)).toHaveLength(1);
  }, 60_000);

  it('when Redis is still down at the close timeout, counts exactly the hashes it left stale, and apart those it cannot confirm', async () => {
    const instruments = manyInstruments().slice(0, 40);
    const changed = new Set(instruments.slice(0, 15));
    const sink = startSink({ url: durable.url, key_prefix: 'owed:', close_timeout_ms: 300 });
    const records = marketRecords(instruments.length * 3, instruments);
    const before = records.slice(0, instruments.length * 2);
    // While Redis is away only 15 of the 40 instruments change (their diffs do not depend on the others' ticks).
    const during = records.slice(instruments.length * 2).filter((r) => changed.has(r.tick.instrument_id));
    feed(sink, before);
    await waitFor('the first records written', () => (sink.acks.length === countOf(before) ? true : undefined));

    await durable.stop();
    await waitFor('the sink to notice', () => (logged(sink, /lost the connection/).length > 0 ? true : undefined));
    feed(sink, during);
    await sink.finish();
    await durable.restart(); // its append-only file brings back what the sink wrote before the outage

    const stale = await staleHashes(reader(durable), 'owed:', instruments, diffsOf([...before, ...during]));
    expect(stale.sort()).toEqual([...changed].sort());
    expect(notRewritten(sink)).toBe(stale.length);
    // The other 25 hold what was last written; the sink cannot know whether Redis kept them, and says so apart.
    expect(notConfirmed(sink)).toBe(instruments.length - changed.size);
    expect(logged(sink, /more not confirmed \(Redis unreachable at the end/)).toHaveLength(1);
    expect(sink.acks).toHaveLength(countOf(before) + countOf(during));
    expect(sink.ctx.metrics.droppedByReason.get('redis-unavailable')).toBe(countOf(during));
  });

  it('at the close timeout sends nothing more, waits (bounded) for the batch in flight, and counts its hashes apart as not confirmed', async () => {
    const admin = reader(stable);
    const instruments = manyInstruments().slice(0, 20);
    const sink = startSink({ url: stable.url, key_prefix: 'unanswered:', close_timeout_ms: 200 });
    const records = marketRecords(instruments.length * 3, instruments);
    const [first, second] = [records.slice(0, instruments.length), records.slice(instruments.length, instruments.length * 2)];
    // The third round only for the last 8 instruments: they stay in the buffer behind the unanswered batch.
    const third = records.slice(instruments.length * 2).filter((r) => instruments.indexOf(r.tick.instrument_id) >= 12);
    feed(sink, first);
    await waitFor('the first round written', () => (sink.acks.length === countOf(first) ? true : undefined));
    try {
      await admin.client('PAUSE', 20_000, 'WRITE');
      feed(sink, second);
      await waitUntil('Redis to hold the batch of the second round', () => sinkBlocked(admin));
      feed(sink, third);
      const started = performance.now();
      await sink.finish();
      // 200 ms of close timeout, then at most 1 s for the batch in flight; Redis holds writes for 20 s.
      expect(performance.now() - started).toBeLessThan(15_000);
      await waitUntil('the connection to go', async () => !(await sinkConnected(admin)));
    } finally {
      await admin.client('UNPAUSE');
    }
    expect(notRewritten(sink)).toBe(8);
    expect(notConfirmed(sink)).toBe(12);
    expect(logged(sink, /more not confirmed \(a batch Redis did not answer\)/)).toHaveLength(1);
    // Whether Redis ran the unanswered batch or not (it does not, for a connection gone while it was held), the stale hashes are within what was counted.
    const stale = await staleHashes(admin, 'unanswered:', instruments, diffsOf([...first, ...second, ...third]));
    expect(stale.length).toBeGreaterThanOrEqual(notRewritten(sink));
    expect(stale.length).toBeLessThanOrEqual(notRewritten(sink) + notConfirmed(sink));
    expect(sink.acks).toHaveLength(countOf(first) + countOf(second) + countOf(third));
  });

  it('bounds what it buffers in bytes too (max_buffered_bytes): drops the oldest with the same reason, and repairs the hashes', async () => {
    // 100 KB hold about a hundred ticks and their changes; the count bound (100,000 commands) is far away.
    const sink = startSink({ url: flaky.url, key_prefix: 'bytes:', max_buffered_bytes: 100_000 });
    sink.quotes.next(firstQuote('SHFE.rb2501', 3500));
    await waitFor('the first quote', () => (sink.acks.length === 1 ? true : undefined));
    await flaky.stop();
    await waitFor('the sink to notice', () => (logged(sink, /lost the connection/).length > 0 ? true : undefined));

    const records = marketRecords(2000, ['SHFE.rb2501']);
    feed(sink, records);
    const dropped = sink.ctx.metrics.droppedByReason.get('redis-unavailable') ?? 0;
    const bytes = await metricValue(sink.ctx, 'tickflow_redis_buffered_bytes');
    const commands = await metricValue(sink.ctx, 'tickflow_redis_buffered');
    expect(bytes).toBeLessThanOrEqual(100_000);
    expect(bytes).toBeGreaterThan(100_000 - 5_000); // within one record of the bound
    expect(commands).toBeLessThan(500);
    expect(dropped).toBeGreaterThan(countOf(records) - 500);
    expect(sink.acks.length).toBe(1 + dropped);
    expect(logged(sink, /100000 bytes of buffered records \(estimated\) reached while Redis is unreachable/)).toHaveLength(1);

    await flaky.restart();
    await sink.finish();
    expect(sink.acks).toHaveLength(1 + countOf(records));
    expect(await metricValue(sink.ctx, 'tickflow_redis_buffered_bytes')).toBe(0);
    const expected = expectedHashes([firstQuote('SHFE.rb2501', 3500), ...diffsOf(records)]);
    expect(await reader(flaky).hgetall('bytes:quote:SHFE.rb2501')).toEqual(expected.get('SHFE.rb2501'));
  });

  it('estimates the bytes it buffers within a factor of 1.5 of what the records take (heap and Buffers)', async () => {
    // Measured in a child with --expose-gc: the sink buffers 20,000 ticks and their changes for a Redis that is not there.
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', HEAP_PROBE], {
      cwd: root,
      timeout: 60_000,
    });
    const { heapBytes, estimatedBytes, records } = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
      heapBytes: number;
      estimatedBytes: number;
      records: number;
    };
    expect(records).toBeGreaterThan(30_000);
    expect(estimatedBytes / heapBytes).toBeGreaterThan(1 / 1.5);
    expect(estimatedBytes / heapBytes).toBeLessThan(1.5);
  }, 60_000);

  it('completes after close_timeout_ms when Redis stays down at the end, dropping what it held (counted, logged)', async () => {
    await flaky.stop();
    const sink = startSink({ url: flaky.url, key_prefix: 'down:', close_timeout_ms: 300 });
    const records = marketRecords(50);
    feed(sink, records);
    const started = performance.now();
    await sink.finish();
    expect(performance.now() - started).toBeLessThan(3000);
    expect(sink.acks).toHaveLength(countOf(records));
    expect(sink.ctx.metrics.droppedByReason.get('redis-unavailable')).toBe(countOf(records));
    expect(logged(sink, /cannot connect to redis:\/\/127\.0\.0\.1/)).toHaveLength(1);
    expect(logged(sink, /closing after 300 ms with \d+ records not written/)).toHaveLength(1);
  });

  it('closes its connection when unsubscribed', async () => {
    const sink = startSink({ url: stable.url, key_prefix: 'unsub:' });
    sink.quotes.next(firstQuote('SHFE.rb2501', 3500));
    await waitFor('the first quote', () => (sink.acks.length === 1 ? true : undefined));
    const admin = reader(stable);
    expect(await sinkConnected(admin)).toBe(true);
    sink.subscription.unsubscribe();
    await waitUntil('the connection to go', async () => !(await sinkConnected(admin)), 2000);
  });

  it('fails the stage when a record cannot be written (the runner validates, so this is a bug upstream), and closes its connection', async () => {
    const sink = startSink({ url: stable.url, key_prefix: 'bad:' });
    sink.quotes.next(firstQuote('SHFE.rb2501', 3500));
    await waitFor('the first quote', () => (sink.acks.length === 1 ? true : undefined));
    sink.quotes.next(null as unknown as QuoteDiff);
    await expect(sink.done).rejects.toThrow(TypeError);
    await waitUntil('the connection to go', async () => !(await sinkConnected(reader(stable))), 2000);
  });

  it('fails when an input fails', async () => {
    const sink = startSink({ url: stable.url, key_prefix: 'fail:' });
    sink.ticks.error(new Error('upstream broke'));
    await expect(sink.done).rejects.toThrow('upstream broke');
  });
});
