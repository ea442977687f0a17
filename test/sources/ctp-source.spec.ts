import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncScheduler, EMPTY, merge, type Observable, type Subscription } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { ctpSimulator } from '../../native/ctp-simulator.js';
import { dedupMerge } from '../../operators/dedup-merge.js';
import { validateConfig } from '../../pipeline/config/validate-config.js';
import { validateComponentConfig } from '../../pipeline/components/validate-component-config.js';
import { ConfigError, NativeAddonError } from '../../errors/errors.js';
import { CtpEvents } from '../../sources/ctp/ctp-events.js';
import type { FeedStatus, Tick } from '../../schemas/generated.js';
import { ctpSource } from '../../sources/ctp-source.js';
import { testContext } from '../support/test-context.js';
import { waitFor } from '../support/wait-for.js';

/** Waits for `condition`, bounded by waitFor's default timeout (generous: the machine is shared). */
const until = (what: string, condition: () => boolean): Promise<true> => waitFor(what, () => (condition() ? true : undefined));

const LIBRARY = ctpSimulator.libraryPath();
const flowRoot = mkdtempSync(join(tmpdir(), 'tickflow-ctp-source-'));
/** Every test gets fronts of its own: the CTP simulator keeps fronts for the life of the process. */
let nextPort = 43_100;

/** The address of a front of the CTP simulator: `rate` ticks/s over `instruments`, market time from `start` (exchange local time). */
function front(
  instruments: readonly string[],
  options: { rate?: number; seed?: number; start?: string; retryMs?: number; broker?: string } = {},
): string {
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
  const fronts = (config['fronts'] as Record<string, unknown>[]).map((f, i) => ({
    flow_dir: join(flowRoot, `${stage}-${nextPort}-${i}`),
    ...f,
  }));
  const validated = validateConfig('ctp', ctpSource.spec, { library_path: LIBRARY, stale_after_ms: 500, ...config, fronts });
  const ticks$ = ctpSource.create(validated, ctx);
  const subscription = (subscribe ? ticks$ : EMPTY).subscribe({ next: (t) => ticks.push(t), error: (e: unknown) => errors.push(e) });
  const source = { ticks, statuses, errors, owners, moves, ctx, subscription, ticks$ };
  running.push(source);
  return source;
}

afterEach(() => {
  for (const s of running.splice(0)) s.subscription.unsubscribe();
});

const SIX = ['SHFE.rb2501', 'SHFE.cu2501', 'DCE.m2501', 'CZCE.SR501', 'SHFE.au2502', 'SHFE.ag2502'];
/** `SHFE.rb2501` → `rb2501`: CTP's own ids, which the moves name. */
const bare = (instrument: string): string => instrument.slice(instrument.indexOf('.') + 1);
const BARE_SIX = SIX.map(bare);

describe('ctpSource', () => {
  it('logs in, subscribes and turns depth market data into ticks, through the real addon and the CTP simulator', async () => {
    const source = startSource({ fronts: [{ front_addr: front(SIX) }], instruments: SIX });
    await until('a tick of every instrument', () => SIX.every((id) => source.ticks.some((t) => t.instrument_id === id)));
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
    await until('the three recorded ticks', () => source.ticks.length === 3);
    const [first, second, third] = source.ticks as [Tick, Tick, Tick];
    expect(first).toMatchObject({
      instrument_id: 'SHFE.rb2501',
      ts_event: Date.parse('2025-01-02T21:00:00.500+08:00') * 1000,
      last_price: 3301,
      volume: 10,
      last_volume: null,
      bid_price1: 3300,
    });
    expect(second).toMatchObject({
      ts_event: Date.parse('2025-01-02T21:00:01.005+08:00') * 1000,
      volume: 14,
      last_volume: 4,
      bid_price1: null,
      ask_price1: 3302,
      settlement: null,
    });
    // DCE sent the trading day as ActionDay; the tick still lands on Thursday evening.
    expect(third).toMatchObject({ instrument_id: 'DCE.m2501', action_day: '20250102', trading_day: '20250103' });
  });

  it('counts ticks the addon dropped while JavaScript was busy, and goes on delivering', async () => {
    const source = startSource({ fronts: [{ front_addr: front(SIX, { rate: 20_000 }) }], instruments: SIX, queue_capacity: 16 });
    await until('ticks flowing', () => source.ticks.length > 100);
    const busyUntil = performance.now() + 200;
    while (performance.now() < busyUntil); // the JavaScript thread is blocked; the vendor thread goes on
    await until('overflow counted', () => (source.ctx.metrics.droppedByReason.get('queue-overflow') ?? 0) > 0);
    const after = source.ticks.length;
    await until('ticks flowing again', () => source.ticks.length > after + 100);
  });

  it("reports a refused login in the front's status, with the vendor's message decoded, and keeps trying", async () => {
    const source = startSource({ fronts: [{ front_addr: front(SIX, { broker: '9999' }), broker_id: '1234' }], instruments: SIX });
    await until('two refused logins', () => source.statuses.filter((s) => s.detail.includes('login failed')).length >= 2);
    const refused = source.statuses.find((s) => s.detail.includes('login failed')) as FeedStatus;
    expect(refused).toMatchObject({ feed_id: 'ctp/front-1', state: 'DOWN' });
    expect(refused.detail).toMatch(/^login failed \(CTP error 3: CTP:不合法的登录\); again in \d+ ms$/);
    expect(source.ticks).toEqual([]);
  });

  it('drops ticks outside trading sessions and counts them', async () => {
    // 14:59:59.5: half a second of the afternoon session, then junk after the close.
    const source = startSource({
      fronts: [{ front_addr: front(['SHFE.rb2501'], { rate: 100, start: '20250103T145959' }) }],
      instruments: ['SHFE.rb2501'],
    });
    await until('20 ticks dropped outside the session', () => (source.ctx.metrics.droppedByReason.get('outside-session') ?? 0) >= 20);
    const close = Date.parse('2025-01-03T15:00:00+08:00') * 1000;
    expect(source.ticks.length).toBeGreaterThan(0);
    expect(source.ticks.every((t) => t.ts_event < close)).toBe(true);
  });

  it('after a reconnect logs in again and re-subscribes everything it owns', async () => {
    const address = front(SIX);
    const source = startSource({ fronts: [{ front_addr: address }], instruments: SIX });
    await until('50 ticks', () => source.ticks.length > 50);
    ctpSimulator.control(LIBRARY, address, 'disconnect');
    await until('the front reported DOWN', () =>
      source.statuses.some((s) => s.state === 'DOWN' && s.ts_event > 0 && source.statuses.indexOf(s) > 0),
    );
    const after = source.ticks.length;
    await until('a tick of every instrument after the reconnect', () =>
      SIX.every((id) => source.ticks.slice(after).some((t) => t.instrument_id === id)),
    );
    expect(source.statuses.map((s) => s.state).slice(-2)).toEqual(['DOWN', 'UP']);
  });

  it('notices a front that dies: DOWN in its status and gauge, its instruments served by the other front', async () => {
    const [a, b] = [front(SIX, { rate: 600 }), front(SIX, { rate: 600 })];
    const source = startSource({
      fronts: [
        { name: 'a', front_addr: a },
        { name: 'b', front_addr: b },
      ],
      instruments: SIX,
      strategy: 'round_robin',
    });
    // Once both fronts are logged in, round robin deals the instruments over both.
    await until(
      'every instrument served, some by each front',
      () => source.owners.size === SIX.length && new Set(source.owners.values()).size === 2,
    );
    ctpSimulator.control(LIBRARY, a, 'down');
    await until('every instrument on front b', () => BARE_SIX.every((id) => source.owners.get(id) === 'b'));
    const after = source.ticks.length;
    await until('a tick of every instrument after the move', () =>
      SIX.every((id) => source.ticks.slice(after).some((t) => t.instrument_id === id)),
    );
    expect(source.statuses.filter((s) => s.feed_id === 'ctp/a').map((s) => s.state)).toContain('DOWN');
    const metrics = await source.ctx.registry.metrics();
    expect(metrics).toContain('tickflow_ctp_front_up{stage="ctp",front="a"} 0');
    expect(metrics).toContain('tickflow_ctp_front_up{stage="ctp",front="b"} 1');
    expect(metrics).toContain('tickflow_ctp_front_instruments{stage="ctp",front="b"} 6');
    expect(metrics).toContain(`tickflow_ctp_instrument_moves_total{stage="ctp"} ${source.moves.length}`);
  });

  it('two ctp sources over two fronts of the CTP simulator, dedup-merged, give a gap-free stream when one front dies', async () => {
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
      await until('100 merged ticks', () => merged.length > 100);
      ctpSimulator.control(LIBRARY, a, 'down');
      const killedAt = merged.length;
      await until('200 merged ticks after the kill', () => merged.length > killedAt + 200);
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
    const build = (library_path: string) => () =>
      ctpSource.create(
        validateConfig('ctp', ctpSource.spec, {
          library_path,
          fronts: [{ front_addr: 'tcp://127.0.0.1:1' }],
          instruments: ['SHFE.rb2501'],
        }),
        ctx,
      );
    expect(build('/nonexistent/thostmduserapi_se.so')).toThrow(NativeAddonError);
    expect(build('/nonexistent/thostmduserapi_se.so')).toThrow(/\/nonexistent\/thostmduserapi_se\.so/);
    expect(build(ctpSimulator.libraryPath('unknown-version'))).toThrow(/9\.1\.0.*expected/s);
  });

  it('rejects bad front config with every problem named, by its definition before create', () => {
    let error: unknown;
    try {
      validateComponentConfig(ctpSource, {
        library_path: LIBRARY,
        fronts: [
          { name: 'a', front_addr: '127.0.0.1:41000' },
          { name: 'a', front_addr: 'tcp://127.0.0.1:41001' },
        ],
        instruments: [],
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      "'instruments' must name at least one instrument",
      '\'fronts[0].front_addr\' must look like tcp://host:port, got "127.0.0.1:41000"',
      '\'fronts[1].name\' "a" is used by another front',
    ]);
  });
});
