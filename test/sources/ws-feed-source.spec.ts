import { asyncScheduler, from, type Subscription } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { dedupMergeOperator } from '../../operators/dedup-merge-operator.js';
import { validateConfig } from '../../pipeline/config/validate-config.js';
import { validateComponentConfig } from '../../pipeline/components/validate-component-config.js';
import { ConfigError } from '../../errors/errors.js';
import { pipeline } from '../../pipeline/graph/pipeline.js';
import { runPipeline } from '../../pipeline/runtime/run-pipeline.js';
import { quoteDiff } from '../../operators/quote-diff.js';
import type { DeadLetter, FeedStatus, QuoteDiff, Tick } from '../../schemas/generated.js';
import { SimMarket } from '../../sources/sim-market.js';
import { wsFeedSource } from '../../sources/ws-feed-source.js';
import { collectingSink } from '../support/test-components.js';
import { testContext } from '../support/test-context.js';
import { startSink, stopAllSinks, waitFor } from '../support/websocket-harness.js';
import { deepArrayText, deepObjectText, goodQuote, startDiffUpstream, type DiffUpstream } from './diff-upstream.js';

const SIM_START = Date.parse('2025-01-02T21:00:00+08:00') * 1000;
/** The market fields of a tick: what must survive the trip through DIFF. */
/** What two feeds of one market agree on: all but the feed's own fields (last_volume is derived per feed). */
const market = ({ feed_id: _f, ts_recv: _r, sequence: _s, last_volume: _v, ...fields }: Tick) => fields;

function simTicks(n: number): Tick[] {
  const sim = new SimMarket({
    instruments: ['SHFE.rb2501', 'DCE.m2501', 'SHFE.cu2501'],
    seed: 9,
    start: SIM_START,
    tickIntervalMs: 500,
    feedId: 'sim',
    latencyUs: 0,
  });
  return Array.from({ length: n }, () => sim.next());
}

function diffsOf(ticks: readonly Tick[]): QuoteDiff[] {
  const diffs: QuoteDiff[] = [];
  from(ticks)
    .pipe(quoteDiff())
    .subscribe((d) => diffs.push(d));
  return diffs;
}

interface RunningFeed {
  readonly ticks: Tick[];
  readonly statuses: FeedStatus[];
  readonly errors: unknown[];
  readonly ctx: ReturnType<typeof testContext>;
  readonly subscription: Subscription;
}

const feeds: RunningFeed[] = [];

function startFeed(config: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): RunningFeed {
  const ctx = testContext(asyncScheduler, wsFeedSource, { stage: 'upstream-a' });
  const statuses: FeedStatus[] = [];
  ctx.sideOutput<FeedStatus>('status');
  ctx.sides.get('status')?.subscribe((s) => statuses.push(s as FeedStatus));
  const ticks: Tick[] = [];
  const errors: unknown[] = [];
  const validated = validateConfig('ws-feed', wsFeedSource.spec, { retry_initial_ms: 20, retry_max_ms: 100, ...config }, env);
  const subscription = wsFeedSource.create(validated, ctx).subscribe({ next: (t) => ticks.push(t), error: (e: unknown) => errors.push(e) });
  const feed = { ticks, statuses, errors, ctx, subscription };
  feeds.push(feed);
  return feed;
}

const upstreams: DiffUpstream[] = [];

/** A hostile upstream and a feed subscribed to it (to `instruments`), once the feed's subscription has arrived. */
async function hostileFeed(
  config: Record<string, unknown> = {},
  instruments = ['SHFE.rb2501', 'DCE.m2501'],
): Promise<{ upstream: DiffUpstream; feed: RunningFeed }> {
  const upstream = await startDiffUpstream();
  upstreams.push(upstream);
  const feed = startFeed({ url: upstream.url, instruments, ...config });
  await upstream.subscribed();
  return { upstream, feed };
}

/** The reasons of the feed's dead letters. */
const reasons = (feed: RunningFeed): string[] => feed.ctx.deadLetters.map((l) => l.reason);

afterEach(async () => {
  for (const f of feeds.splice(0)) f.subscription.unsubscribe();
  for (const u of upstreams.splice(0)) await u.close();
  await stopAllSinks();
});

describe('wsFeedSource', () => {
  it('turns the quotes of an upstream DIFF server back into the same ticks, and reports the feed UP', async () => {
    const sink = await startSink();
    const feed = startFeed({ url: sink.wsUrl, instruments: ['SHFE.rb2501', 'DCE.m2501', 'SHFE.cu2501'] });
    const sent = simTicks(30);
    // One tick at a time, as a live market would: DIFF merges what a client has not yet peeked.
    for (const diff of diffsOf(sent)) {
      const before = feed.ticks.length;
      sink.quotes.next(diff);
      await waitFor(() => feed.ticks.length > before, `tick ${diff.sequence} through the feed`);
    }
    expect(feed.ticks.map(market)).toEqual(sent.map(market));
    expect(feed.ticks.map((t) => t.sequence)).toEqual(sent.map((_t, i) => i + 1));
    expect(new Set(feed.ticks.map((t) => t.feed_id))).toEqual(new Set(['upstream-a']));
    expect(feed.statuses.map((s) => s.state)).toContain('UP');
  });

  it('subscribes to every instrument the upstream lists when none are configured', async () => {
    const sink = await startSink();
    const [first, second] = diffsOf(simTicks(2));
    sink.quotes.next(first as QuoteDiff);
    sink.quotes.next(second as QuoteDiff);
    const feed = startFeed({ url: sink.wsUrl });
    await waitFor(() => feed.ticks.length >= 2, 'the snapshot of both instruments');
    expect(feed.ticks.map((t) => t.instrument_id).sort()).toEqual(['DCE.m2501', 'SHFE.rb2501']);
  });

  it('goes DOWN when the upstream goes away, reconnects with backoff, and subscribes again', async () => {
    const first = await startSink();
    const feed = startFeed({ url: first.wsUrl, instruments: ['SHFE.rb2501', 'DCE.m2501', 'SHFE.cu2501'] });
    const sent = simTicks(12);
    first.quotes.next(diffsOf(sent.slice(0, 1))[0] as QuoteDiff);
    await waitFor(() => feed.ticks.length === 1, 'the first tick');
    first.quotes.complete();
    first.feeds.complete();
    await first.done;
    await waitFor(() => feed.statuses.some((s) => s.state === 'DOWN'), 'the feed to go DOWN');
    // A restarted upstream diffs from scratch: its first quote of each instrument is whole.
    const second = await startSink({ port: first.port });
    for (const diff of diffsOf(sent.slice(1))) second.quotes.next(diff);
    const last = market(sent[11] as Tick);
    await waitFor(() => feed.ticks.some((t) => JSON.stringify(market(t)) === JSON.stringify(last)), 'the last tick after the reconnect');
    expect(feed.statuses.map((s) => s.state).slice(-2)).toEqual(['DOWN', 'UP']);
    expect(feed.statuses.find((s) => s.state === 'DOWN')?.detail).toMatch(/reconnecting in \d+ ms/);
    expect(feed.errors).toEqual([]);
  });

  it('stops with a clear error when the upstream refuses its token, and connects with the right one', async () => {
    const sink = await startSink({ auth_tokens: ['letmein'] });
    sink.quotes.next(diffsOf(simTicks(1))[0] as QuoteDiff);
    const refused = startFeed({ url: sink.wsUrl, instruments: ['SHFE.rb2501'] });
    await waitFor(() => refused.errors.length === 1, 'the refusal');
    expect(refused.errors[0]).toBeInstanceOf(ConfigError);
    expect(String((refused.errors[0] as Error).message)).toContain(`upstream ${sink.wsUrl} refused the token (HTTP 401)`);
    const accepted = startFeed({ url: sink.wsUrl, instruments: ['SHFE.rb2501'] }, { TICKFLOW_WS_FEED_TOKEN: 'letmein' });
    await waitFor(() => accepted.ticks.length === 1, 'a tick with the token');
  });

  it('drops and counts a quote it cannot make a tick of, naming the field, and keeps running', async () => {
    const sink = await startSink();
    const feed = startFeed({ url: sink.wsUrl, instruments: ['SHFE.rb2501', 'DCE.m2501'] });
    const [good, other] = diffsOf(simTicks(2));
    const { volume: _dropped, ...withoutVolume } = (other as QuoteDiff).changes;
    sink.quotes.next({ ...(other as QuoteDiff), changes: withoutVolume });
    sink.quotes.next(good as QuoteDiff);
    await waitFor(() => feed.ticks.length === 1, 'the good tick');
    expect(feed.ticks[0]?.instrument_id).toBe('SHFE.rb2501');
    expect(feed.ctx.metrics.droppedByReason.get('incomplete')).toBe(1);
  });

  it('rejects a url that is not ws:// or wss://, by its definition before create', () => {
    expect(() => validateComponentConfig(wsFeedSource, { url: 'http://127.0.0.1:1/' })).toThrow(
      '\'url\' must start with ws:// or wss://, got "http://127.0.0.1:1/"',
    );
  });
});

describe('wsFeedSource against a hostile upstream', () => {
  it('drops a merge patch nested 100,000 deep before walking it, counts and dead-letters it, and keeps running', async () => {
    const { upstream, feed } = await hostileFeed();
    upstream.send(`{"aid":"rtn_data","data":[{"quotes":{"SHFE.rb2501":{"last_price":${deepObjectText(100_000)}}}}]}`);
    upstream.send(`{"aid":"rtn_data","data":[{"quotes":{"SHFE.rb2501":{"volume":${deepArrayText(100_000)}}}}]}`);
    upstream.rtnData([{ quotes: { 'DCE.m2501': goodQuote('DCE.m2501', 2900) } }]);
    await waitFor(() => feed.ticks.length === 1, 'the good quote after the deep ones');
    expect(feed.ticks[0]).toMatchObject({ instrument_id: 'DCE.m2501', last_price: 2900 });
    expect(feed.ctx.metrics.droppedByReason.get('malformed')).toBe(2);
    expect(feed.ctx.deadLetters).toEqual([
      expect.objectContaining({
        stage: 'upstream-a',
        edge: `${upstream.url} -> upstream-a`,
        schema: 'Tick',
        reason: 'upstream message nested deeper than 32 levels',
      }),
      expect.objectContaining({ reason: 'upstream message nested deeper than 32 levels' }),
    ]);
    expect(feed.ctx.deadLetters[0]?.payload_json.length).toBeLessThan(5000);
    expect(feed.errors).toEqual([]);
  });

  it('rejects a nested value in a quote field, naming instrument and field; the instrument ticks again once the field is set', async () => {
    const { upstream, feed } = await hostileFeed();
    upstream.rtnData([{ quotes: { 'SHFE.rb2501': goodQuote('SHFE.rb2501', 3500, 0) } }]);
    await waitFor(() => feed.ticks.length === 1, 'the first quote');
    // A nested value inside the allowed depth, in a field a tick is built from.
    upstream.rtnData([{ quotes: { 'SHFE.rb2501': { last_price: { a: [1] }, datetime: '2025-01-02 21:00:01.000000' } } }]);
    // While the upstream holds that value for last_price, a change to another field makes no tick from a stale price...
    upstream.rtnData([{ quotes: { 'SHFE.rb2501': { volume: 12_001, datetime: '2025-01-02 21:00:02.000000' } } }]);
    // ...until it sets last_price again.
    upstream.rtnData([{ quotes: { 'SHFE.rb2501': { last_price: 3501, volume: 12_002, datetime: '2025-01-02 21:00:03.000000' } } }]);
    await waitFor(() => feed.ticks.length === 2, 'the tick after last_price was set again');
    expect(feed.ticks[1]).toMatchObject({ last_price: 3501, volume: 12_002 });
    expect(feed.ctx.metrics.droppedByReason.get('malformed')).toBe(2);
    expect(reasons(feed)).toEqual([
      "quote of SHFE.rb2501: 'last_price' holds a nested object; quote fields are numbers, strings, booleans or null",
      "quote of SHFE.rb2501: 'last_price' holds a value refused earlier; no tick until the upstream sets it again",
    ]);
    expect(JSON.parse(feed.ctx.deadLetters[0]?.payload_json ?? '')).toEqual({
      last_price: { a: [1] },
      datetime: '2025-01-02 21:00:01.000000',
    });
  });

  it('rejects a price of 1e308, an infinite price, a negative volume and a bad instrument id as malformed; none reaches the output', async () => {
    const { upstream, feed } = await hostileFeed({}, ['SHFE.rb2501', 'DCE.m2501', 'CZCE.SR501', 'SHFE.cu2501']);
    upstream.rtnData([{ quotes: { 'SHFE.rb2501': goodQuote('SHFE.rb2501', 1e308) } }]);
    upstream.send(
      `{"aid":"rtn_data","data":[{"quotes":{"DCE.m2501":${JSON.stringify(goodQuote('DCE.m2501', 2900)).replace('"last_price":2900', '"last_price":1e999')}}}]}`,
    );
    upstream.rtnData([{ quotes: { 'CZCE.SR501': { ...goodQuote('CZCE.SR501', 5800), volume: -5 } } }]);
    upstream.rtnData([{ quotes: { '': goodQuote('SHFE.rb2501', 3500), ['x'.repeat(10_000)]: goodQuote('SHFE.rb2501', 3500) } }]);
    upstream.rtnData([{ quotes: { 'SHFE.cu2501': goodQuote('SHFE.cu2501', 74_000) } }]);
    await waitFor(() => feed.ticks.length === 1, 'the good quote');
    expect(feed.ticks.map((t) => t.instrument_id)).toEqual(['SHFE.cu2501']);
    expect(feed.ctx.metrics.droppedByReason.get('malformed')).toBe(5);
    expect(reasons(feed)).toEqual([
      expect.stringMatching(/^quote of SHFE\.rb2501: 'last_price' 1e\+308 is not a price/),
      "quote of DCE.m2501: 'last_price' must be a finite number or null, got Infinity",
      expect.stringMatching(/^quote of CZCE\.SR501: 'volume' -5 is not a volume/),
      expect.stringMatching(/^quote of "": 'instrument_id' "" is not EXCHANGE\.symbol/),
      expect.stringMatching(/^quote of "x{40}…": 'instrument_id' "x{40}…" is not EXCHANGE\.symbol/),
    ]);
  });

  it('counts and dead-letters frames that are not JSON, not an object, or rtn_data without patches; peeks again and keeps running', async () => {
    const { upstream, feed } = await hostileFeed();
    const peeks = () => upstream.received.filter((m) => m.includes('peek_message')).length;
    const before = peeks();
    upstream.send('{"aid":"rtn_data","data":[');
    upstream.send('[1,2,3]');
    upstream.send('{"aid":"rtn_data","data":{"quotes":{}}}');
    upstream.rtnData([7, { quotes: [] }, { quotes: { 'SHFE.rb2501': 'gone' } }]);
    upstream.rtnData([{ quotes: { 'DCE.m2501': goodQuote('DCE.m2501', 2900) } }]);
    await waitFor(() => feed.ticks.length === 1, 'the good quote');
    expect(reasons(feed)).toEqual([
      expect.stringMatching(/^upstream message not JSON: /),
      'upstream message is not an object: an array',
      "rtn_data 'data' must be an array of merge patches, got an object",
      'merge patch 0 must be an object, got a number',
      "merge patch 1: 'quotes' must be an object of instrument → quote, got an array",
      'quote of SHFE.rb2501: must be an object of fields or null, got a string',
    ]);
    expect(feed.ctx.metrics.droppedByReason.get('malformed')).toBe(6);
    // Every refused frame is answered with a peek, so an upstream that waits for one is not left hanging.
    await waitFor(() => peeks() - before >= 5, 'a peek after each refused frame');
  });

  it('takes __proto__ in a patch or as an instrument as data, never as the prototype', async () => {
    const { upstream, feed } = await hostileFeed();
    upstream.send('{"aid":"rtn_data","data":[{"__proto__":{"polluted":1},"quotes":{"__proto__":{"last_price":1,"polluted":1}}}]}');
    upstream.rtnData([{ quotes: { 'DCE.m2501': goodQuote('DCE.m2501', 2900) } }]);
    await waitFor(() => feed.ticks.length === 1, 'the good quote');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(reasons(feed)).toEqual([expect.stringMatching(/^quote of __proto__: 'instrument_id' "__proto__" is not EXCHANGE\.symbol/)]);
  });

  it('holds at most max_instruments quotes, dropping quotes of further instruments', async () => {
    const { upstream, feed } = await hostileFeed({ max_instruments: 2 }, ['SHFE.rb2501', 'DCE.m2501', 'SHFE.cu2501']);
    upstream.rtnData([
      {
        quotes: {
          'SHFE.rb2501': goodQuote('SHFE.rb2501', 3500),
          'DCE.m2501': goodQuote('DCE.m2501', 2900),
          'SHFE.cu2501': goodQuote('SHFE.cu2501', 74_000),
        },
      },
    ]);
    await waitFor(() => feed.ticks.length === 2, 'the first two quotes');
    upstream.rtnData([{ quotes: { 'SHFE.rb2501': null } }, { quotes: { 'SHFE.cu2501': goodQuote('SHFE.cu2501', 74_010) } }]);
    await waitFor(() => feed.ticks.length === 3, 'the third instrument once another was removed');
    expect(feed.ticks.map((t) => t.instrument_id)).toEqual(['SHFE.rb2501', 'DCE.m2501', 'SHFE.cu2501']);
    expect(feed.ctx.metrics.droppedByReason.get('instrument-limit')).toBe(1);
    expect(reasons(feed)).toEqual(['quote of SHFE.cu2501: the feed already holds max_instruments (2) quotes']);
  });

  it('refuses a message longer than max_message_bytes, counting it, and reconnects for a fresh snapshot', async () => {
    const { upstream, feed } = await hostileFeed({ max_message_bytes: 1024 });
    upstream.rtnData([{ quotes: { 'SHFE.rb2501': { ...goodQuote('SHFE.rb2501', 3500), padding: 'x'.repeat(2000) } } }]);
    await waitFor(() => feed.ctx.deadLetters.length === 1, 'the long message refused');
    expect(reasons(feed)).toEqual(['upstream message longer than max_message_bytes (1024); the connection is closed and opened again']);
    expect(feed.ctx.metrics.droppedByReason.get('malformed')).toBe(1);
    await waitFor(() => upstream.received.filter((m) => m.includes('subscribe_quote')).length === 2, 'the feed to subscribe again');
    upstream.rtnData([{ quotes: { 'SHFE.rb2501': goodQuote('SHFE.rb2501', 3500) } }]);
    await waitFor(() => feed.ticks.length === 1, 'the quote after the reconnect');
    expect(feed.errors).toEqual([]);
  });

  it('rejects max_message_bytes and max_instruments beyond their documented maximum', () => {
    expect(() => validateConfig('ws-feed', wsFeedSource.spec, { url: 'ws://127.0.0.1:1/', max_message_bytes: 2 ** 30 })).toThrow(
      /'max_message_bytes' must be at most 268435456/,
    );
    expect(() => validateConfig('ws-feed', wsFeedSource.spec, { url: 'ws://127.0.0.1:1/', max_instruments: 10_000_000 })).toThrow(
      /'max_instruments' must be at most 200000/,
    );
  });

  it('in a pipeline: a hostile upstream beside a healthy one into dedup-merge; the healthy feed keeps flowing', async () => {
    const hostile = await startDiffUpstream();
    upstreams.push(hostile);
    const healthy = await startSink();
    const instruments = ['SHFE.rb2501', 'DCE.m2501', 'SHFE.cu2501'];
    const merged: Tick[] = [];
    const deadLetters: DeadLetter[] = [];
    const graph = pipeline('redundant', '', (g) => {
      const a = g.source('hostile', wsFeedSource, { url: hostile.url, instruments, retry_initial_ms: 20, retry_max_ms: 100 });
      const b = g.source('healthy', wsFeedSource, { url: healthy.wsUrl, instruments, retry_initial_ms: 20, retry_max_ms: 100 });
      const out = g.operator('merge', dedupMergeOperator, { feeds: ['hostile', 'healthy'] }, [a, b]);
      g.sink('out', collectingSink('collect', 'Tick', merged), {}, out);
      g.sink('dead', collectingSink('dead', 'DeadLetter', deadLetters), {}, g.deadLetters());
    }).build();
    const run = runPipeline(graph, { validation: 'boundary' });
    try {
      await hostile.subscribed();
      const diffs = diffsOf(simTicks(12));
      healthy.quotes.next(diffs[0] as QuoteDiff);
      await waitFor(() => merged.length === 1, 'the first healthy tick');
      hostile.send(`{"aid":"rtn_data","data":[{"quotes":{"SHFE.rb2501":${deepObjectText(100_000)}}}]}`);
      hostile.send(`{"aid":"rtn_data","data":[{"quotes":{"SHFE.rb2501":{"last_price":{"a":{"b":1}}}}}]}`);
      hostile.rtnData([{ quotes: { 'DCE.m2501': goodQuote('DCE.m2501', 1e308) } }]);
      hostile.send('not json');
      await waitFor(() => deadLetters.length === 4, 'the hostile messages dead-lettered');
      for (const diff of diffs.slice(1)) {
        const before = merged.length;
        healthy.quotes.next(diff);
        await waitFor(() => merged.length > before, `healthy tick ${diff.sequence}`);
      }
      expect(merged.filter((t) => t.feed_id === 'healthy')).toHaveLength(12);
      expect(new Set(deadLetters.map((l) => l.stage))).toEqual(new Set(['hostile']));
      expect(run.health().state).toBe('running');
      expect(run.health().stages['hostile']).toMatchObject({ state: 'running', dropped: 4 });
      expect(run.health().stages['healthy']).toMatchObject({ state: 'running', dropped: 0 });
      // The hostile feed itself recovers: a good quote after the barrage passes.
      hostile.rtnData([{ quotes: { 'CZCE.SR501': goodQuote('CZCE.SR501', 5800) } }]);
      await waitFor(() => merged.some((t) => t.feed_id === 'hostile'), 'a good quote from the hostile upstream');
    } finally {
      await run.stop('test over');
    }
    expect((await run.done).ok).toBe(true);
  });
});
