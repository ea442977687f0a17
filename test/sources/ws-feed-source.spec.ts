import { asyncScheduler, from, type Subscription } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../../pipeline/config/validate-config.js';
import { ConfigError } from '../../pipeline/errors.js';
import { quoteDiff } from '../../operators/quote-diff.js';
import type { FeedStatus, QuoteDiff, Tick } from '../../schemas/generated.js';
import { SimMarket } from '../../sources/sim-market.js';
import { wsFeedSource } from '../../sources/ws-feed-source.js';
import { testContext } from '../support/test-context.js';
import { startSink, stopAllSinks, waitFor } from '../support/websocket-harness.js';

const SIM_START = Date.parse('2025-01-02T21:00:00+08:00') * 1000;
/** The market fields of a tick: what must survive the trip through DIFF. */
/** What two feeds of one market agree on: all but the feed's own fields (last_volume is derived per feed). */
const market = ({ feed_id: _f, ts_recv: _r, sequence: _s, last_volume: _v, ...fields }: Tick) => fields;

function simTicks(n: number): Tick[] {
  const sim = new SimMarket({ instruments: ['SHFE.rb2501', 'DCE.m2501', 'SHFE.cu2501'], seed: 9, start: SIM_START, tickIntervalMs: 500, feedId: 'sim', latencyUs: 0 });
  return Array.from({ length: n }, () => sim.next());
}

function diffsOf(ticks: readonly Tick[]): QuoteDiff[] {
  const diffs: QuoteDiff[] = [];
  from(ticks).pipe(quoteDiff()).subscribe((d) => diffs.push(d));
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
  const ctx = testContext(asyncScheduler, { stage: 'upstream-a' });
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

afterEach(async () => {
  for (const f of feeds.splice(0)) f.subscription.unsubscribe();
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

  it('rejects a url that is not ws:// or wss://', () => {
    const validated = validateConfig('ws-feed', wsFeedSource.spec, { url: 'http://127.0.0.1:1/' });
    expect(() => wsFeedSource.create(validated, testContext(asyncScheduler, { stage: 'f' }))).toThrow("'url' must start with ws:// or wss://, got \"http://127.0.0.1:1/\"");
  });
});

