import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncScheduler, EMPTY, merge, type Observable, type Subscription } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { simulatedFront } from '../../native/simulated-front.js';
import { dedupMerge } from '../../operators/dedup-merge.js';
import { validateConfig } from '../../pipeline/config/validate-config.js';
import { validateComponentConfig } from '../../pipeline/components/validate-component-config.js';
import { ConfigError, NativeAddonError } from '../../errors/errors.js';
import { CtpEvents } from '../../sources/ctp/ctp-events.js';
import type { FeedStatus, Tick } from '../../schemas/generated.js';
import { ctpSource } from '../../sources/ctp-source.js';
import { planSubscriptions } from '../../sources/ctp/plan-subscriptions.js';
import { testContext } from '../support/test-context.js';
import { waitFor } from '../support/wait-for.js';

const until = (what: string, condition: () => boolean, timeoutMs = 5_000): Promise<true> => waitFor(what, () => (condition() ? true : undefined), timeoutMs);

const LIBRARY = simulatedFront.libraryPath();
const flowRoot = mkdtempSync(join(tmpdir(), 'tickflow-ctp-source-'));
/** Every test gets fronts of its own: the simulated library keeps fronts for the life of the process. */
let nextPort = 43_100;

/** A simulated front's address: `rate` ticks/s over `instruments`, market time from `start` (exchange local time). */
function front(instruments: readonly string[], options: { rate?: number; seed?: number; start?: string; retryMs?: number; broker?: string } = {}): string {
  const params = new URLSearchParams({
    seed: String(options.seed ?? 7),
    rate: String(options.rate ?? 400),
    instruments: instruments.join(','),
    start: options.start ?? '20250102T210000',
    retry_ms: String(options.retryMs ?? 100),
    ...(options.broker === undefined ? {} : { broker: options.broker }),
  });
  return `tcp://127.0.0.1:${nextPort++}?${params.toString()}`;
}

interface RunningSource {
  readonly ticks: Tick[];
  readonly statuses: FeedStatus[];
  readonly errors: unknown[];
  /** Instrument → the front whose ticks it takes, from the `source.ctp.moved` events. */
  readonly owners: Map<string, string>;
  readonly moves: { instrument: string; from: string | null; to: string; at: number }[];
  readonly ctx: ReturnType<typeof testContext>;
  readonly subscription: Subscription;
  readonly ticks$: Observable<Tick>;
}

const running: RunningSource[] = [];

function startSource(config: Record<string, unknown>, stage = 'ctp', subscribe = true): RunningSource {
  const ctx = testContext(asyncScheduler, ctpSource, { stage });
  const statuses: FeedStatus[] = [];
  ctx.sideOutput<FeedStatus>('status');
  ctx.sides.get('status')?.subscribe((s) => statuses.push(s as FeedStatus));
  const owners = new Map<string, string>();
  const moves: RunningSource['moves'] = [];
  ctx.instrumentation.on(CtpEvents.INSTRUMENT_MOVED, (e) => {
    const { instrument, from, to } = e.payload as { instrument: string; from: string | null; to: string };
    owners.set(instrument, to);
    moves.push({ instrument, from, to, at: e.timestamp });
  });
  const ticks: Tick[] = [];
  const errors: unknown[] = [];
  const fronts = (config['fronts'] as Record<string, unknown>[]).map((f, i) => ({ flow_dir: join(flowRoot, `${stage}-${nextPort}-${i}`), ...f }));
  const validated = validateConfig('ctp', ctpSource.spec, { library_path: LIBRARY, stale_after_ms: 500, ...config, fronts });
  const ticks$ = ctpSource.create(validated, ctx);
  const subscription = (subscribe ? ticks$ : EMPTY).subscribe({ next: (t) => ticks.push(t), error: (e: unknown) => errors.push(e) });
  const source = { ticks, statuses, errors, owners, moves, ctx, subscription, ticks$ };
  running.push(source);
  return source;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Longest stretch, in ms of receive time, between two ticks of one instrument (and from `from` to its first tick after it). */
function longestGapMs(ticks: readonly Tick[], instrument: string, fromUs: number, toUs: number): number {
  const times = ticks.filter((t) => t.instrument_id === instrument && t.ts_recv >= fromUs && t.ts_recv <= toUs).map((t) => t.ts_recv);
  let longest = 0;
  let previous = fromUs;
  for (const t of [...times, toUs]) {
    longest = Math.max(longest, t - previous);
    previous = t;
  }
  return longest / 1000;
}

afterEach(() => {
  for (const s of running.splice(0)) s.subscription.unsubscribe();
});

const SIX = ['SHFE.rb2501', 'SHFE.cu2501', 'DCE.m2501', 'CZCE.SR501', 'SHFE.au2502', 'SHFE.ag2502'];
/** `SHFE.rb2501` → `rb2501`: CTP's own ids, which the moves name. */
const bare = (instrument: string): string => instrument.slice(instrument.indexOf('.') + 1);
const BARE_SIX = SIX.map(bare);
const prefixed = (id: string): string => SIX.find((i) => bare(i) === id) as string;

describe('ctpSource', () => {
  it('logs in, subscribes and turns depth market data into ticks, through the real addon and the simulated library', async () => {
    const source = startSource({ fronts: [{ front_addr: front(SIX) }], instruments: SIX });
    await until('a tick of every instrument', () => SIX.every((id) => source.ticks.some((t) => t.instrument_id === id)), 5_000);
    expect(source.errors).toEqual([]);
    expect(source.statuses.map((s) => [s.feed_id, s.state])).toContainEqual(['ctp/front-1', 'UP']);
    const tick = source.ticks.find((t) => t.instrument_id === 'DCE.m2501') as Tick;
    // Night session of Thursday 2025-01-02: trading day Friday; the calendar day is Thursday even though DCE sends the trading day.
    expect(tick.trading_day).toBe('20250103');
    expect(tick.action_day).toBe('20250102');
    expect(tick.ts_event).toBeGreaterThanOrEqual(Date.parse('2025-01-02T21:00:00+08:00') * 1000);
    // Levels 2-5 and the settlement are DBL_MAX in CTP: null here.
    expect(tick.bid_price2).toBeNull();
    expect(tick.settlement).toBeNull();
    expect(tick.last_price).toEqual(expect.any(Number));
    expect(source.ticks.map((t) => t.sequence)).toEqual(source.ticks.map((_t, i) => i + 1));
    expect(new Set(source.ticks.map((t) => t.feed_id))).toEqual(new Set(['ctp']));
  });

  it('plays a recorded file of depth market data, unset cells as DBL_MAX', async () => {
    const file = join(flowRoot, 'recorded.csv');
    writeFileSync(
      file,
      [
        'TradingDay,ActionDay,UpdateTime,UpdateMillisec,InstrumentID,ExchangeID,LastPrice,Volume,Turnover,OpenInterest,BidPrice1,BidVolume1,AskPrice1,AskVolume1',
        // The file plays from the front's start, subscribed or not: half a second of an instrument nobody asks for first.
        ...Array.from({ length: 5 }, (_, i) => `20250103,20250102,20:59:5${i},0,SR501,,5900,0,0,100,5899,1,5900,1`),
        '20250103,20250102,21:00:00,500,rb2501,,3301,10,330100,1000,3300,5,3301,7',
        '20250103,20250102,21:00:01,5,rb2501,,3302,14,462380,1001,,0,3302,2',
        '20250103,20250103,21:00:02,0,m2501,,2801,3,84030,500,2800,1,2801,1',
      ].join('\n'),
    );
    const address = `tcp://127.0.0.1:${nextPort++}?rate=10&file=${encodeURIComponent(file)}&retry_ms=100`;
    const source = startSource({ fronts: [{ front_addr: address }], instruments: ['SHFE.rb2501', 'DCE.m2501'] });
    await until('the three recorded ticks', () => source.ticks.length === 3, 5_000);
    const [first, second, third] = source.ticks as [Tick, Tick, Tick];
    expect(first).toMatchObject({ instrument_id: 'SHFE.rb2501', ts_event: Date.parse('2025-01-02T21:00:00.500+08:00') * 1000, last_price: 3301, volume: 10, last_volume: null, bid_price1: 3300 });
    expect(second).toMatchObject({ ts_event: Date.parse('2025-01-02T21:00:01.005+08:00') * 1000, volume: 14, last_volume: 4, bid_price1: null, ask_price1: 3302, settlement: null });
    // DCE sent the trading day as ActionDay; the tick still lands on Thursday evening.
    expect(third).toMatchObject({ instrument_id: 'DCE.m2501', action_day: '20250102', trading_day: '20250103' });
  });

  it('counts ticks the addon dropped while JavaScript was busy, and goes on delivering', async () => {
    const source = startSource({ fronts: [{ front_addr: front(SIX, { rate: 20_000 }) }], instruments: SIX, queue_capacity: 16 });
    await until('ticks flowing', () => source.ticks.length > 100, 5_000);
    const busyUntil = performance.now() + 200;
    while (performance.now() < busyUntil); // the JavaScript thread is blocked; the vendor thread goes on
    await until('overflow counted', () => (source.ctx.metrics.droppedByReason.get('queue-overflow') ?? 0) > 0, 5_000);
    const after = source.ticks.length;
    await until('ticks flowing again', () => source.ticks.length > after + 100, 5_000);
  });

  it('reports a refused login in the front\'s status, with the vendor\'s message decoded, and keeps trying', async () => {
    const source = startSource({ fronts: [{ front_addr: front(SIX, { broker: '9999' }), broker_id: '1234' }], instruments: SIX });
    await until('two refused logins', () => source.statuses.filter((s) => s.detail.includes('login failed')).length >= 2, 5_000);
    const refused = source.statuses.find((s) => s.detail.includes('login failed')) as FeedStatus;
    expect(refused).toMatchObject({ feed_id: 'ctp/front-1', state: 'DOWN' });
    expect(refused.detail).toMatch(/^login failed \(CTP error 3: CTP:不合法的登录\); again in \d+ ms$/);
    expect(source.ticks).toEqual([]);
  });

  it('drops ticks outside trading sessions and counts them', async () => {
    // 14:59:59.5: half a second of the afternoon session, then junk after the close.
    const source = startSource({ fronts: [{ front_addr: front(['SHFE.rb2501'], { rate: 100, start: '20250103T145959' }) }], instruments: ['SHFE.rb2501'] });
    await until('20 ticks dropped outside the session', () => (source.ctx.metrics.droppedByReason.get('outside-session') ?? 0) >= 20, 5_000);
    const close = Date.parse('2025-01-03T15:00:00+08:00') * 1000;
    expect(source.ticks.length).toBeGreaterThan(0);
    expect(source.ticks.every((t) => t.ts_event < close)).toBe(true);
  });

  it('after a reconnect logs in again and re-subscribes everything it owns', async () => {
    const address = front(SIX);
    const source = startSource({ fronts: [{ front_addr: address }], instruments: SIX });
    await until('50 ticks', () => source.ticks.length > 50, 5_000);
    simulatedFront.control(LIBRARY, address, 'disconnect');
    await until('the front reported DOWN', () => source.statuses.some((s) => s.state === 'DOWN' && s.ts_event > 0 && source.statuses.indexOf(s) > 0), 5_000);
    const after = source.ticks.length;
    await until('a tick of every instrument after the reconnect', () => SIX.every((id) => source.ticks.slice(after).some((t) => t.instrument_id === id)), 5_000);
    expect(source.statuses.map((s) => s.state).slice(-2)).toEqual(['DOWN', 'UP']);
  });

  it('moves the instruments of a front that dies to a healthy one, leaving none unserved longer than the staleness', async () => {
    const staleMs = 500;
    const [a, b] = [front(SIX, { rate: 600 }), front(SIX, { rate: 600 })];
    const source = startSource({ fronts: [{ name: 'a', front_addr: a }, { name: 'b', front_addr: b }], instruments: SIX, strategy: 'round_robin', stale_after_ms: staleMs });
    await until('every instrument served', () => source.owners.size === SIX.length, 5_000);
    const onA = [...source.owners].filter(([, f]) => f === 'a').map(([id]) => id);
    // Which front logs in first decides how round robin deals them; both must get some.
    expect(onA.length).toBeGreaterThan(0);
    expect(onA.length).toBeLessThan(SIX.length);
    await sleep(200);
    const killedAt = Date.now() * 1000;
    simulatedFront.control(LIBRARY, a, 'down');
    await until('every instrument on front b', () => BARE_SIX.every((id) => source.owners.get(id) === 'b'), 5_000);
    await sleep(300);
    const end = Date.now() * 1000;
    for (const instrument of SIX) expect(longestGapMs(source.ticks, instrument, killedAt - 200_000, end)).toBeLessThan(staleMs);
    expect(source.statuses.filter((s) => s.feed_id === 'ctp/a').map((s) => s.state)).toContain('DOWN');
    const metrics = await source.ctx.registry.metrics();
    expect(metrics).toContain('tickflow_ctp_front_up{stage="ctp",front="a"} 0');
    expect(metrics).toContain('tickflow_ctp_front_up{stage="ctp",front="b"} 1');
    expect(metrics).toContain('tickflow_ctp_front_instruments{stage="ctp",front="b"} 6');
    expect(metrics).toContain(`tickflow_ctp_instrument_moves_total{stage="ctp"} ${source.moves.length}`);
  });

  it('moves the instruments of a silent (stale) front within the staleness, and back when it recovers', async () => {
    const staleMs = 400;
    const [a, b] = [front(SIX, { rate: 600 }), front(SIX, { rate: 600 })];
    const source = startSource({
      fronts: [{ name: 'a', front_addr: a }, { name: 'b', front_addr: b }],
      instruments: SIX,
      strategy: 'hash',
      stale_after_ms: staleMs,
      stale_hold_ms: 500,
    });
    await until('every instrument served', () => source.owners.size === SIX.length, 5_000);
    const original = new Map(source.owners);
    const onA = [...original].filter(([, f]) => f === 'a').map(([id]) => id);
    expect(onA.length).toBeGreaterThan(0);
    const stalledAt = Date.now() * 1000;
    simulatedFront.control(LIBRARY, a, 'stall');
    await until("front a's instruments on front b", () => onA.every((id) => source.owners.get(id) === 'b'), 5_000);
    await sleep(200);
    for (const id of onA) {
      const instrument = prefixed(id);
      // Silence is noticed after stale_after_ms (checked every quarter of it), then the move costs a subscription round trip.
      expect(longestGapMs(source.ticks, instrument, stalledAt, Date.now() * 1000)).toBeLessThan(staleMs * 1.25 + 250);
    }
    expect(source.statuses.filter((s) => s.feed_id === 'ctp/a').map((s) => s.state)).toContain('STALE');
    simulatedFront.control(LIBRARY, a, 'resume');
    // migrate_back on_recovery (the default): after the hold the front is tried again and the hash sends them home.
    await until("front a's instruments back on front a", () => onA.every((id) => source.owners.get(id) === 'a'), 5_000);
    expect(new Map(source.owners)).toEqual(original);
  });

  it('moves nothing when every front goes quiet at once (a market break), and nothing when they all come back', async () => {
    const [a, b] = [front(SIX, { rate: 600 }), front(SIX, { rate: 600 })];
    const source = startSource({ fronts: [{ name: 'a', front_addr: a }, { name: 'b', front_addr: b }], instruments: SIX, strategy: 'hash', stale_after_ms: 300 });
    await until('every instrument served', () => source.owners.size === SIX.length, 5_000);
    await sleep(200);
    const moves = source.moves.length;
    for (const address of [a, b]) simulatedFront.control(LIBRARY, address, 'stall');
    await until('both fronts STALE', () => ['ctp/a', 'ctp/b'].every((f) => source.statuses.filter((s) => s.feed_id === f).at(-1)?.state === 'STALE'), 5_000);
    for (const address of [a, b]) simulatedFront.control(LIBRARY, address, 'resume');
    await until('both fronts UP', () => ['ctp/a', 'ctp/b'].every((f) => source.statuses.filter((s) => s.feed_id === f).at(-1)?.state === 'UP'), 5_000);
    const after = source.ticks.length;
    await until('ticks again', () => source.ticks.length > after + 100, 5_000);
    await sleep(200);
    expect(source.moves.length).toBe(moves);
  });

  it('after a break that only one front comes back from, moves the silent front\'s instruments to it', async () => {
    const [a, b] = [front(SIX, { rate: 600 }), front(SIX, { rate: 600 })];
    const source = startSource({ fronts: [{ name: 'a', front_addr: a }, { name: 'b', front_addr: b }], instruments: SIX, strategy: 'round_robin', stale_after_ms: 300 });
    await until('every instrument served', () => source.owners.size === SIX.length, 5_000);
    for (const address of [a, b]) simulatedFront.control(LIBRARY, address, 'stall');
    await until('both fronts STALE', () => ['ctp/a', 'ctp/b'].every((f) => source.statuses.filter((s) => s.feed_id === f).at(-1)?.state === 'STALE'), 5_000);
    simulatedFront.control(LIBRARY, a, 'resume');
    await until('every instrument on front a', () => BARE_SIX.every((id) => source.owners.get(id) === 'a'), 5_000);
  });

  it('leaves instruments where they are after a recovery with migrate_back: never', async () => {
    const [a, b] = [front(SIX, { rate: 300 }), front(SIX, { rate: 300 })];
    const source = startSource({ fronts: [{ name: 'a', front_addr: a }, { name: 'b', front_addr: b }], instruments: SIX, strategy: 'hash', migrate_back: 'never' });
    await until('every instrument served', () => source.owners.size === SIX.length, 5_000);
    simulatedFront.control(LIBRARY, a, 'down');
    await until('every instrument on front b', () => BARE_SIX.every((id) => source.owners.get(id) === 'b'), 5_000);
    simulatedFront.control(LIBRARY, a, 'up');
    await until('front a UP again', () => source.statuses.filter((s) => s.feed_id === 'ctp/a').at(-1)?.state === 'UP', 5_000);
    await sleep(300);
    expect(BARE_SIX.every((id) => source.owners.get(id) === 'b')).toBe(true);
  });

  describe('spreads instruments over fronts by strategy', () => {
    const TWELVE = ['rb2501', 'hc2501', 'ru2501', 'bu2501', 'cu2501', 'al2501', 'zn2501', 'ni2501', 'au2502', 'ag2502', 'm2501', 'y2501'].map((id) => (/^[my]\d/.test(id) ? `DCE.${id}` : `SHFE.${id}`));

    async function ownersBy(strategy: string, maxSubscriptions = 1000): Promise<Map<string, string>> {
      const names = ['x', 'y', 'z'];
      const source = startSource({
        fronts: names.map((name) => ({ name, front_addr: front(TWELVE, { rate: 1200 }), max_subscriptions: maxSubscriptions })),
        instruments: TWELVE,
        strategy,
      });
      await until('three fronts UP and every instrument served', () => source.statuses.filter((s) => s.state === 'UP').length >= 3 && source.owners.size === TWELVE.length, 5_000);
      await sleep(300); // let moves of the later logins settle
      return new Map(source.owners);
    }

    const counts = (owners: Map<string, string>): number[] => ['x', 'y', 'z'].map((f) => [...owners.values()].filter((o) => o === f).length);

    it('round_robin and least_subscriptions: four each', async () => {
      expect(counts(await ownersBy('round_robin'))).toEqual([4, 4, 4]);
      expect(counts(await ownersBy('least_subscriptions'))).toEqual([4, 4, 4]);
    });

    it('hash: as the planner places them from scratch, whatever order the fronts logged in', async () => {
      const healthy = ['x', 'y', 'z'].map((id) => ({ id, priority: 0, healthy: true, maxSubscriptions: 1000, tickAgeMs: null, recentErrors: 0 }));
      const ids = TWELVE.map(bare);
      const expected = planSubscriptions({ strategy: 'hash', instruments: ids, fronts: healthy, current: new Map(), rebalance: true }).assignment;
      expect(await ownersBy('hash')).toEqual(expected);
    });

    it('quality: every front used, none over its limit', async () => {
      const c = counts(await ownersBy('quality', 5));
      expect(c.every((n) => n >= 2 && n <= 5)).toBe(true);
      expect(c.reduce((a, n) => a + n, 0)).toBe(12);
    });
  });

  it('two ctp sources over two simulated fronts, dedup-merged, give a gap-free stream when one front dies', async () => {
    const instruments = ['SHFE.rb2501', 'SHFE.cu2501', 'DCE.m2501', 'SHFE.au2502'];
    // 200 ticks/s over 4 instruments: each instrument ticks every 20 ms of market time, a whole number of milliseconds.
    const params = { rate: 200, seed: 11 };
    const [a, b] = [front(instruments, params), front(instruments, params)];
    // Not subscribed by the helper: the merge subscribes both.
    const one = startSource({ fronts: [{ front_addr: a }], instruments, feed_id: 'ctp-a' }, 'ctp-a', false);
    const two = startSource({ fronts: [{ front_addr: b }], instruments, feed_id: 'ctp-b' }, 'ctp-b', false);
    const merged: Tick[] = [];
    const subscription = merge(one.ticks$, two.ticks$)
      .pipe(dedupMerge({ staleAfterMs: 1_000, downAfterMs: 3_000, expectedFeeds: ['ctp-a', 'ctp-b'] }))
      .subscribe((t) => merged.push(t));
    try {
      await until('100 merged ticks', () => merged.length > 100, 5_000);
      simulatedFront.control(LIBRARY, a, 'down');
      const killedAt = merged.length;
      await until('200 merged ticks after the kill', () => merged.length > killedAt + 200, 5_000);
      for (const id of instruments) {
        const times = merged.filter((t) => t.instrument_id === id).map((t) => t.ts_event);
        const steps = new Set(times.slice(1).map((t, i) => t - (times[i] as number)));
        // Every step is one tick of this instrument: nothing missing, nothing twice, nothing out of order.
        expect([...steps]).toEqual([20_000]);
      }
    } finally {
      subscription.unsubscribe();
    }
  });

  it('rejects a wrong library path, a library that is not CTP, and an unknown version, naming the path', () => {
    const ctx = testContext(asyncScheduler, ctpSource, { stage: 'ctp' });
    const build = (library_path: string) => () => ctpSource.create(validateConfig('ctp', ctpSource.spec, { library_path, fronts: [{ front_addr: 'tcp://127.0.0.1:1' }], instruments: ['SHFE.rb2501'] }), ctx);
    expect(build('/nonexistent/thostmduserapi_se.so')).toThrow(NativeAddonError);
    expect(build('/nonexistent/thostmduserapi_se.so')).toThrow(/\/nonexistent\/thostmduserapi_se\.so/);
    expect(build(simulatedFront.libraryPath('unknown-version'))).toThrow(/9\.1\.0.*expected/s);
  });

  it('rejects bad front config with every problem named, by its definition before create', () => {
    let error: unknown;
    try {
      validateComponentConfig(ctpSource, {
        library_path: LIBRARY,
        fronts: [{ name: 'a', front_addr: '127.0.0.1:41000' }, { name: 'a', front_addr: 'tcp://127.0.0.1:41001' }],
        instruments: [],
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      "'instruments' must name at least one instrument",
      "'fronts[0].front_addr' must look like tcp://host:port, got \"127.0.0.1:41000\"",
      "'fronts[1].name' \"a\" is used by another front",
    ]);
  });
});
