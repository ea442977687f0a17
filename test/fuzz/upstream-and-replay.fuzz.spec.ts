import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import avro from 'avsc';
import fc from 'fast-check';
import { asyncScheduler, lastValueFrom, toArray, type Subscription } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInstrumentId, checkTickSanity, TickSanityBounds } from '../../domain/tick-sanity.js';
import { validateConfig } from '../../pipeline/config/validate-config.js';
import { ConfigError } from '../../errors/errors.js';
import { SchemaCatalog } from '../../pipeline/schemas/schema-catalog.js';
import { DiffQuoteFields } from '../../protocols/diff/diff-quote-fields.js';
import { InstrumentId, type Tick } from '../../schemas/generated.js';
import { fileSource } from '../../sources/file-source.js';
import { wsFeedSource } from '../../sources/ws-feed-source.js';
import { deepArrayText, deepObjectText, goodQuote, startDiffUpstream, type DiffUpstream } from '../sources/diff-upstream.js';
import { simTicks, tempDir } from '../sources/file/recorded-files.js';
import { testContext } from '../support/test-context.js';
import { fuzzSeed } from './fuzz-seed.js';

/**
 * Random and hostile input on the two surfaces where ticks enter from
 * outside: a DIFF upstream (a real WebSocket server on 127.0.0.1 feeding a
 * ws-feed in this process) and recorded files (NDJSON, Avro containers,
 * random bytes) replayed by the file source. Seeded, so a failure replays;
 * bounded in runs and in time per property (fast-check stops early when the
 * time is up, which only lowers the count printed at the end, never changes
 * a verdict).
 */
const SEED = fuzzSeed('upstream and replay');
/** Milliseconds each property may run; the four together stay well under the 20 s this file may take. */
const BUDGET_MS = { upstream: 5000, ndjson: 3500, avro: 3500, bytes: 1500 };

const catalog = SchemaCatalog.default();
const tickCodec = catalog.codec('Tick');
const inputs = {
  upstream: { runs: 0, frames: 0, badFrames: 0, goodQuotes: 0 },
  ndjson: { files: 0, lines: 0, badLines: 0 },
  avro: { files: 0, records: 0, implausible: 0, corrupted: 0 },
  bytes: { files: 0 },
};

afterAll(() => {
  console.log(`fuzz inputs (seed ${SEED}): ${JSON.stringify(inputs)}`);
});

const PRICE_FIELDS = ['last_price', 'bid_price1', 'ask_price1', 'high', 'pre_settlement', 'average_price'] as const;
const hugePrice = fc.oneof(
  fc.double({ min: TickSanityBounds.maxPrice, max: 1e308, noNaN: true }),
  fc.double({ min: -1e308, max: -TickSanityBounds.maxPrice, noNaN: true }),
);
/** Text that is not an instrument id. */
const badInstrumentId = fc
  .oneof(fc.constantFrom('', '__proto__', 'rb2501', 'SHFE.', 'shfe.rb2501', `SHFE.${'r'.repeat(40)}`), fc.string({ maxLength: 50 }))
  .filter((s) => checkInstrumentId(s) !== undefined);

/** A change that leaves a Tick valid for the schema but not a plausible market tick. */
const implausibleChange: fc.Arbitrary<Partial<Tick>> = fc.oneof(
  badInstrumentId.map((instrument_id) => ({ instrument_id: InstrumentId(instrument_id) })),
  fc.tuple(fc.constantFrom(...PRICE_FIELDS), hugePrice).map(([field, value]) => ({ [field]: value })),
  fc.integer({ min: -1e12, max: -1 }).map((volume) => ({ volume })),
  fc.integer({ min: -(2 ** 31), max: -1 }).map((bid_volume1) => ({ bid_volume1 })),
  fc
    .oneof(fc.integer({ min: -1e15, max: 0 }), fc.integer({ min: TickSanityBounds.maxTsEvent, max: Number.MAX_SAFE_INTEGER }))
    .map((ts_event) => ({ ts_event })),
  fc
    .string({ maxLength: 12 })
    .filter((s) => !/^\d{8}$/.test(s))
    .map((trading_day) => ({ trading_day })),
  fc.double({ min: -1e300, max: -1e-3, noNaN: true }).map((turnover) => ({ turnover })),
);

describe('fuzz: a hostile DIFF upstream into a ws-feed', () => {
  const HOSTILE = ['SHFE.rb2501', 'DCE.m2501', 'CZCE.SR501'] as const;
  /** The instrument of the good quote after each run; no hostile frame names it. */
  const GOOD = 'INE.sc2501';
  let upstream: DiffUpstream;
  let subscription: Subscription;
  const ctx = testContext(asyncScheduler, wsFeedSource, { stage: 'fuzz-feed' });
  const emitted: Tick[] = [];
  const errors: unknown[] = [];
  let waiting: { price: number; resolve: (tick: Tick) => void } | undefined;

  beforeAll(async () => {
    upstream = await startDiffUpstream();
    const config = validateConfig('ws-feed', wsFeedSource.spec, {
      url: upstream.url,
      instruments: [...HOSTILE, GOOD],
      retry_initial_ms: 20,
      retry_max_ms: 100,
    });
    subscription = wsFeedSource.create(config, ctx).subscribe({
      next: (tick) => {
        emitted.push(tick);
        if (waiting !== undefined && tick.instrument_id === GOOD && tick.last_price === waiting.price) {
          const { resolve } = waiting;
          waiting = undefined;
          resolve(tick);
        }
      },
      error: (error: unknown) => errors.push(error),
    });
    await upstream.subscribed();
  });

  afterAll(async () => {
    subscription?.unsubscribe();
    await upstream?.close();
  });

  /** The tick of GOOD at `price`, once the feed emits it; fails after 5 s (a local round trip takes milliseconds). */
  const goodTickAt = (price: number): Promise<Tick> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no tick of ${GOOD} at ${price} within 5 s`)), 5000);
      waiting = {
        price,
        resolve: (tick) => {
          clearTimeout(timer);
          resolve(tick);
        },
      };
    });

  interface Frame {
    readonly text: string;
    /** Bad by construction: the feed must count it (at least once). */
    readonly bad: boolean;
  }
  const bad = (text: string): Frame => ({ text, bad: true });
  const unsure = (text: string): Frame => ({ text, bad: false });
  const rtn = (data: unknown): string => JSON.stringify({ aid: 'rtn_data', data });
  const json = fc.jsonValue({ maxDepth: 3 });
  const notAnObject = fc.oneof(
    fc.array(json, { maxLength: 4 }),
    fc.string({ maxLength: 20 }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
  );
  const nested = fc.oneof(fc.array(json, { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), json, { maxKeys: 3 }));
  const hostileId = fc.constantFrom(...HOSTILE);
  const quoteKey = fc.oneof(fc.constantFrom(...Object.values(DiffQuoteFields.keyOf)), fc.string({ maxLength: 12 }));
  const diffChange = fc.oneof(
    fc.tuple(fc.constantFrom('last_price', 'bid_price1', 'highest', 'pre_settlement'), hugePrice),
    fc.tuple(fc.constantFrom('volume', 'bid_volume1', 'ask_volume3', 'amount', 'open_interest'), fc.integer({ min: -1e9, max: -1 })),
    fc.tuple(
      fc.constantFrom('volume', 'bid_volume2'),
      fc.double({ min: 0.1, max: 1e6, noNaN: true }).filter((v) => !Number.isInteger(v)),
    ),
    fc.tuple(
      fc.constant('trading_day'),
      fc.string({ maxLength: 12 }).filter((s) => !/^\d{8}$/.test(s)),
    ),
    fc.tuple(
      fc.constant('datetime'),
      fc.string({ maxLength: 30 }).map((s) => `x${s}`),
    ),
  );

  const badFrame: fc.Arbitrary<Frame> = fc.oneof(
    // Not JSON: an opened array never closed.
    fc.string({ maxLength: 40 }).map((s) => bad(`{"aid":"rtn_data","data":[${s.replace(/[\]}]/g, '')}`)),
    // Too deep, inside a quote field or as the whole message.
    fc
      .integer({ min: 28, max: 100_000 })
      .map((d) => bad(`{"aid":"rtn_data","data":[{"quotes":{"SHFE.rb2501":{"last_price":${deepArrayText(d)}}}}]}`)),
    fc.integer({ min: 33, max: 100_000 }).map((d) => bad(deepObjectText(d))),
    // Wrong shapes at every level.
    notAnObject.map((v) => bad(JSON.stringify(v))),
    notAnObject.filter((v) => !Array.isArray(v)).map((v) => bad(rtn(v))),
    notAnObject.map((v) => bad(rtn([v]))),
    notAnObject.map((v) => bad(rtn([{ quotes: v }]))),
    fc
      .tuple(
        hostileId,
        notAnObject.filter((v) => v !== null),
      )
      .map(([id, v]) => bad(rtn([{ quotes: { [id]: v } }]))),
    fc.tuple(hostileId, quoteKey, nested).map(([id, key, value]) => bad(rtn([{ quotes: { [id]: { [key]: value } } }]))),
    // Numbers JSON.stringify cannot write: 1e999 parses as Infinity, NaN does not parse.
    fc
      .tuple(hostileId, fc.constantFrom('1e999', '-1e999', 'NaN', 'Infinity'), fc.constantFrom('last_price', 'volume', 'bid_volume1'))
      .map(([id, number, key]) => bad(`{"aid":"rtn_data","data":[{"quotes":{"${id}":{"${key}":${number}}}}]}`)),
    // Scalars out of bounds in a complete quote, and quotes of keys that are not instrument ids.
    fc
      .tuple(hostileId, diffChange, fc.nat(1000))
      .map(([id, [key, value], n]) => bad(rtn([{ quotes: { [id]: { ...goodQuote(id, 3500, n), [key]: value } } }]))),
    badInstrumentId.map((key) => bad(rtn([{ quotes: { [key]: goodQuote('SHFE.rb2501', 3500) } }]))),
  );
  const unsureFrame: fc.Arbitrary<Frame> = fc.oneof(
    json.map((v) => unsure(JSON.stringify(v))),
    fc.array(json, { maxLength: 4 }).map((data) => unsure(rtn(data))),
    fc.dictionary(fc.oneof(hostileId, fc.string({ maxLength: 12 })), json, { maxKeys: 4 }).map((quotes) => unsure(rtn([{ quotes }]))),
    fc
      .tuple(hostileId, fc.nat(1000), fc.integer({ min: 1, max: 100_000 }))
      .map(([id, n, price]) => unsure(rtn([{ quotes: { [id]: goodQuote(id, price, n) } }]))),
    fc
      .tuple(
        hostileId,
        fc.dictionary(quoteKey, fc.oneof(fc.double(), fc.string({ maxLength: 40 }), fc.constant(null), fc.boolean()), { maxKeys: 6 }),
      )
      .map(([id, quote]) => unsure(rtn([{ quotes: { [id]: quote } }]))),
  );

  it('never errors; counts and dead-letters every bad frame; a good quote after them still arrives as a tick', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof({ arbitrary: badFrame, weight: 3 }, { arbitrary: unsureFrame, weight: 1 }), { minLength: 1, maxLength: 8 }),
        async (frames) => {
          const dropsBefore = ctx.metrics.droppedTotal;
          const lettersBefore = ctx.deadLetters.length;
          const emittedBefore = emitted.length;
          for (const frame of frames) upstream.send(frame.text);
          const price = 1000 + ++n;
          const arrived = goodTickAt(price);
          // Frames are handled in order, so once this quote's tick is out, every frame before it has been.
          upstream.rtnData([{ quotes: { [GOOD]: goodQuote(GOOD, price, n) } }]);
          const tick = await arrived;
          inputs.upstream.runs++;
          inputs.upstream.frames += frames.length;
          inputs.upstream.badFrames += frames.filter((f) => f.bad).length;
          inputs.upstream.goodQuotes++;
          expect(tick).toMatchObject({ instrument_id: GOOD, last_price: price, feed_id: 'fuzz-feed' });
          const drops = ctx.metrics.droppedTotal - dropsBefore;
          expect(drops).toBeGreaterThanOrEqual(frames.filter((f) => f.bad).length);
          expect(ctx.deadLetters.length - lettersBefore).toBe(drops);
          for (const t of emitted.slice(emittedBefore)) expect(checkTickSanity(t)).toBeUndefined();
          expect(errors).toEqual([]);
        },
      ),
      { seed: SEED, numRuns: 600, plugins: [fc.interruptAfterTimeLimit(BUDGET_MS.upstream)] },
    );
    expect(inputs.upstream.runs).toBeGreaterThan(0);
  }, 20_000);
});

describe('fuzz: hostile recordings into the file source', () => {
  const { dir, remove } = tempDir();
  afterAll(() => remove());
  const pool = simTicks(300, 8);
  let fileNumber = 0;

  function createSource(path: string) {
    const ctx = testContext(asyncScheduler, fileSource, { stage: 'fuzz' });
    const ticks$ = fileSource.create(validateConfig(`stage 'fuzz' (file)`, fileSource.spec, { path, progress: 'off' }), ctx);
    return { ticks$, ctx };
  }

  const poolTick = fc.nat(pool.length - 1).map((i) => pool[i] as Tick);

  interface Line {
    readonly text: string;
    /** The tick this line replays as, when it is good. */
    readonly tick?: Tick;
    /** Bad: the source must count and dead-letter it. Blank lines are neither good nor bad. */
    readonly bad: boolean;
  }
  /** Values no field of a Tick takes: objects (also ones that cannot be printed), arrays, booleans. */
  const neverAField = fc.oneof(
    fc.array(fc.integer(), { maxLength: 2 }),
    fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
    fc.constantFrom({ toString: 1 }, { valueOf: 1, toString: 2 }, [{ toString: 1 }]),
    fc.boolean(),
  );
  /** A value of the wrong type for `field`: text for a number, a number for text, or a value no field takes. */
  const wrongTypeFor = (
    field: 'volume' | 'last_price' | 'bid_volume3' | 'ts_event' | 'instrument_id' | 'trading_day',
  ): fc.Arbitrary<unknown> =>
    field === 'instrument_id' || field === 'trading_day'
      ? fc.oneof(fc.integer(), neverAField)
      : fc.oneof(fc.string({ maxLength: 8 }), neverAField);
  const line: fc.Arbitrary<Line> = fc.oneof(
    { weight: 6, arbitrary: poolTick.map((tick) => ({ text: JSON.stringify(tick), tick, bad: false })) },
    { weight: 1, arbitrary: poolTick.map((tick) => ({ text: `${JSON.stringify(tick)}\r`, tick, bad: false })) },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', '\t \t').map((text) => ({ text, bad: false })) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(poolTick, implausibleChange)
        .map(([tick, change]) => ({ text: JSON.stringify({ ...tick, ...change }), bad: true })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(poolTick, fc.constantFrom('volume', 'last_price', 'instrument_id', 'bid_volume3', 'ts_event', 'trading_day'))
        .chain(([tick, field]) => wrongTypeFor(field).map((value) => ({ text: JSON.stringify({ ...tick, [field]: value }), bad: true }))),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(poolTick, fc.string({ minLength: 1, maxLength: 8 }))
        .filter(([t, k]) => !(k in t))
        .map(([t, k]) => ({ text: JSON.stringify({ ...t, [k]: 1 }), bad: true })),
    },
    {
      weight: 2,
      arbitrary: fc
        .string({ unit: 'binary', maxLength: 60 })
        .map((s) => s.replace(/[\r\n]/g, ' '))
        .filter((s) => s.trim() !== '')
        .map((text) => ({ text, bad: true })),
    },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => ({ text: JSON.stringify(v), bad: true })) },
    { weight: 1, arbitrary: fc.integer({ min: 9, max: 100_000 }).map((d) => ({ text: deepArrayText(d), bad: true })) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 8, max: 100_000 }).map((d) => ({ text: `{"instrument_id":${deepObjectText(d)}}`, bad: true })),
    },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 1024 * 1024 + 1, max: 1024 * 1024 + 5000 })
        .map((length) => ({ text: `{"x":"${'x'.repeat(length)}"}`, bad: true })),
    },
  );

  it('NDJSON: never errors; replays exactly the good lines, counts and dead-letters every bad one with its line', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 30 }), fc.boolean(), async (lines, trailingNewline) => {
        const path = join(dir, `fuzz-${++fileNumber}.ndjson`);
        writeFileSync(path, `${lines.map((l) => l.text).join('\n')}${trailingNewline ? '\n' : ''}`);
        const { ticks$, ctx } = createSource(path);
        const replayed = await lastValueFrom(ticks$.pipe(toArray()));
        inputs.ndjson.files++;
        inputs.ndjson.lines += lines.length;
        inputs.ndjson.badLines += lines.filter((l) => l.bad).length;
        expect(replayed).toEqual(lines.flatMap((l) => (l.tick === undefined ? [] : [l.tick])));
        const badLines = lines.flatMap((l, i) => (l.bad ? [`${path}:${i + 1} -> fuzz`] : []));
        expect(ctx.metrics.droppedByReason.get('invalid') ?? 0).toBe(badLines.length);
        expect(ctx.deadLetters.map((l) => l.edge)).toEqual(badLines);
      }),
      { seed: SEED, numRuns: 300, plugins: [fc.interruptAfterTimeLimit(BUDGET_MS.ndjson)] },
    );
    expect(inputs.ndjson.files).toBeGreaterThan(0);
  }, 20_000);

  const SYNC = Buffer.alloc(16, 0x5a);
  /** An Avro container file of Tick, in memory. */
  function container(ticks: readonly Tick[], codec: 'null' | 'deflate', blockSize: number): Promise<Buffer> {
    const encoder = new avro.streams.BlockEncoder(tickCodec.type, { codec, blockSize, syncMarker: SYNC, writeHeader: 'always' });
    const chunks: Buffer[] = [];
    encoder.on('data', (chunk: Buffer) => chunks.push(chunk));
    const ended = new Promise<Buffer>((resolve, reject) => {
      encoder.on('end', () => resolve(Buffer.concat(chunks)));
      encoder.on('error', reject);
    });
    for (const tick of ticks) encoder.write(tick);
    encoder.end();
    return ended;
  }

  const avroRecord: fc.Arbitrary<{ tick: Tick; good: boolean }> = fc.oneof(
    { weight: 3, arbitrary: poolTick.map((tick) => ({ tick, good: true })) },
    {
      weight: 2,
      arbitrary: fc.tuple(poolTick, implausibleChange).map(([tick, change]) => ({ tick: { ...tick, ...change }, good: false })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          poolTick,
          fc.constantFrom(...PRICE_FIELDS),
          fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.MAX_VALUE),
        )
        .map(([tick, field, value]) => ({ tick: { ...tick, [field]: value }, good: false })),
    },
  );

  it('Avro: never errors; replays the plausible records, counts and dead-letters the rest; after damage every tick replayed is still plausible', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(avroRecord, { maxLength: 40 }),
        fc.constantFrom<'null' | 'deflate'>('null', 'deflate'),
        fc.integer({ min: 64, max: 4096 }),
        fc.option(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), { freq: 3 }),
        async (records, codec, blockSize, damage) => {
          const bytes = await container(
            records.map((r) => r.tick),
            codec,
            blockSize,
          );
          const headerLength = (await container([], codec, blockSize)).length;
          const flips = damage !== null && bytes.length > headerLength ? damage : [];
          const damaged = flips.length > 0;
          for (const [at, xor] of flips) {
            const i = headerLength + (at % (bytes.length - headerLength));
            bytes[i] = (bytes[i] as number) ^ xor;
          }
          const path = join(dir, `fuzz-${++fileNumber}.avro`);
          writeFileSync(path, bytes);
          const { ticks$, ctx } = createSource(path);
          const replayed = await lastValueFrom(ticks$.pipe(toArray()));
          inputs.avro.files++;
          inputs.avro.records += records.length;
          inputs.avro.implausible += records.filter((r) => !r.good).length;
          if (damaged) inputs.avro.corrupted++;
          for (const tick of replayed) {
            expect(tickCodec.check(tick)).toBeUndefined();
            expect(checkTickSanity(tick)).toBeUndefined();
          }
          if (!damaged) {
            expect(replayed).toEqual(records.filter((r) => r.good).map((r) => r.tick));
            const rejected = records.flatMap((r, i) => (r.good ? [] : [`${path} record ${i + 1} -> fuzz`]));
            expect(ctx.metrics.droppedByReason.get('invalid') ?? 0).toBe(rejected.length);
            expect(ctx.deadLetters.map((l) => l.edge)).toEqual(rejected);
          } else {
            expect(replayed.length).toBeLessThanOrEqual(records.length);
          }
        },
      ),
      { seed: SEED, numRuns: 250, plugins: [fc.interruptAfterTimeLimit(BUDGET_MS.avro)] },
    );
    expect(inputs.avro.files).toBeGreaterThan(0);
  }, 20_000);

  it('random bytes, with or without the Avro magic: a ConfigError at creation or a replay that ends, nothing else', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.uint8Array({ maxLength: 600 }),
        fc.constantFrom('avro', 'ndjson'),
        async (magic, body, extension) => {
          const path = join(dir, `fuzz-${++fileNumber}.${extension}`);
          writeFileSync(path, magic ? Buffer.concat([Buffer.from('Obj\x01', 'latin1'), body]) : body);
          inputs.bytes.files++;
          let source: ReturnType<typeof createSource>;
          try {
            source = createSource(path);
          } catch (error) {
            expect(error).toBeInstanceOf(ConfigError);
            return;
          }
          const replayed = await lastValueFrom(source.ticks$.pipe(toArray()));
          for (const tick of replayed) expect(checkTickSanity(tick)).toBeUndefined();
        },
      ),
      { seed: SEED, numRuns: 500, plugins: [fc.interruptAfterTimeLimit(BUDGET_MS.bytes)] },
    );
  }, 20_000);
});
