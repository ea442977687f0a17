import { describe, expect, it } from 'vitest';
import type { Tick } from '../../../schemas/generated.js';
import { CtpEvents } from '../../../sources/ctp/ctp-events.js';
import { planSubscriptions } from '../../../sources/ctp/plan-subscriptions.js';
import { runScriptedPool } from './run-scripted-pool.js';
import type { ScriptedPoolConfig, ScriptedPoolRun } from './start-scripted-pool.js';

// Every run below is on virtual time: the fronts' APIs are scripted (ScriptedMdApi), connect 10 ms after start, answer
// each request 5 ms later, and the market ticks every 100 ms from 30 ms (30, 130, 230, …). With stale_after_ms 1000
// the staleness check runs every 250 ms (250, 500, …), so no tick and no check fall on the same instant.

const SIX = ['SHFE.rb2501', 'SHFE.cu2501', 'DCE.m2501', 'CZCE.SR501', 'SHFE.au2502', 'SHFE.ag2502'];
/** `SHFE.rb2501` → `rb2501`: the ids CTP and the moves use. */
const bare = (instrument: string): string => instrument.slice(instrument.indexOf('.') + 1);
/** Where hash places the six over fronts a and b (checked against the planner in the first test). */
const ON_A = ['rb2501', 'cu2501', 'm2501', 'ag2502'];
const ON_B = ['SR501', 'au2502'];

/** Each status as [ms, feed, state, detail]. */
const statusLog = (run: ScriptedPoolRun): [number, string, string, string][] =>
  run.statuses.map((s) => [s.ts_event / 1000, s.feed_id, s.state, s.detail]);

/** Each move as [ms, instrument, from, to]. */
const moveLog = (run: ScriptedPoolRun, fromMs = 0): [number, string, string | null, string][] =>
  run.events
    .filter((e) => e.type === CtpEvents.INSTRUMENT_MOVED && e.at >= fromMs)
    .map((e) => [e.at, e.payload['instrument'] as string, e.payload['from'] as string | null, e.payload['to'] as string]);

/** Receive times (virtual ms) of an instrument's ticks. */
const tickTimes = (ticks: readonly Tick[], instrument: string): number[] =>
  ticks.filter((t) => t.instrument_id === instrument).map((t) => t.ts_recv / 1000);

/** Longest stretch between two consecutive ticks of `instrument`, in virtual ms. */
function longestGapMs(ticks: readonly Tick[], instrument: string): number {
  const times = tickTimes(ticks, instrument);
  return Math.max(...times.slice(1).map((t, i) => t - (times[i] as number)));
}

/** One metric's samples from the source's registry, as `{labels} value` lines. */
async function samples(run: ScriptedPoolRun, name: string): Promise<string[]> {
  const text = await run.ctx.registry.metrics();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`tickflow_ctp_${name}{`))
    .map((line) => line.slice(`tickflow_ctp_${name}`.length));
}

describe('CtpFrontPool on scripted fronts (virtual time)', () => {
  describe('start', () => {
    it('logs every front in, places the instruments as the planner does, and takes each tick once from its front', async () => {
      const run = runScriptedPool({ instruments: SIX, fronts: [{ name: 'a' }, { name: 'b' }] }, 1000);
      expect(statusLog(run)).toEqual([
        [0, 'ctp/a', 'DOWN', 'connecting to tcp://127.0.0.1:41001'],
        [0, 'ctp/b', 'DOWN', 'connecting to tcp://127.0.0.1:41002'],
        [15, 'ctp/a', 'UP', 'logged in, trading day 20250102'],
        [15, 'ctp/b', 'UP', 'logged in, trading day 20250102'],
      ]);
      const healthy = ['a', 'b'].map((id) => ({
        id,
        priority: 0,
        healthy: true,
        maxSubscriptions: 1000,
        tickAgeMs: null,
        recentErrors: 0,
      }));
      const planned = planSubscriptions({
        strategy: 'hash',
        instruments: SIX.map(bare),
        fronts: healthy,
        current: new Map(),
        rebalance: true,
      }).assignment;
      expect(run.owners()).toEqual(planned);
      // In delivery order: a's batch of the tick at 30, then b's.
      expect(moveLog(run)).toEqual([...ON_A.map((id) => [30, id, null, 'a']), ...ON_B.map((id) => [30, id, null, 'b'])]);
      // Ticks at 30, 130, …, 930: ten of each instrument, each once, stamped with the scheduler's time.
      for (const instrument of SIX) expect(tickTimes(run.ticks, instrument)).toEqual([30, 130, 230, 330, 430, 530, 630, 730, 830, 930]);
      expect(run.ticks.map((t) => t.sequence)).toEqual(run.ticks.map((_t, i) => i + 1));
      expect(run.ticks[0]).toMatchObject({
        instrument_id: 'SHFE.rb2501',
        feed_id: 'ctp',
        ts_event: run.market.eventTimeAt(30),
        ts_recv: 30_000,
        volume: 1,
      });
      // a took everything when it logged in first; b's login a moment later took back what hash gives b, before any tick.
      expect(run.api('a').calls.map((c) => [c.at, c.method, c.args])).toEqual([
        [0, 'registerFront', ['tcp://127.0.0.1:41001']],
        [0, 'init', []],
        [10, 'login', [{ brokerId: '9999', userId: 'scripted', password: 'secret' }, 1]],
        [15, 'subscribe', [SIX.map(bare)]],
        [15, 'unsubscribe', [['SR501']]],
        [15, 'unsubscribe', [['au2502']]],
        [1000, 'close', []],
      ]);
      expect(
        run
          .api('b')
          .calls.filter((c) => c.method === 'subscribe')
          .map((c) => c.args),
      ).toEqual([[ON_B]]);
      expect(run.ctx.metrics.droppedByReason).toEqual(new Map());
      expect(await samples(run, 'front_up')).toEqual(['{stage="ctp",front="a"} 1', '{stage="ctp",front="b"} 1']);
      expect(await samples(run, 'front_instruments')).toEqual(['{stage="ctp",front="a"} 4', '{stage="ctp",front="b"} 2']);
      expect(await samples(run, 'instrument_moves_total')).toEqual(['{stage="ctp"} 6']);
    });

    it('emits source.ctp.* events: each front unavailable while it logs in, then ready; one move per instrument', () => {
      const run = runScriptedPool({ instruments: ['SHFE.rb2501'], fronts: [{ name: 'a' }] }, 100);
      expect(run.events).toEqual([
        {
          at: 10,
          type: 'source.ctp.unavailable',
          payload: { feed: 'ctp', front: 'a', state: 'logging-in', previous: 'connecting', detail: 'connected to tcp://127.0.0.1:41001' },
        },
        {
          at: 15,
          type: 'source.ctp.ready',
          payload: { feed: 'ctp', front: 'a', state: 'ready', previous: 'logging-in', detail: 'logged in, trading day 20250102' },
        },
        { at: 30, type: 'source.ctp.moved', payload: { feed: 'ctp', instrument: 'rb2501', from: null, to: 'a' } },
      ]);
    });

    it('leaves an instrument no front has room for unserved, and places it once a front has room', () => {
      const fronts = [
        { name: 'a', maxSubscriptions: 2 },
        { name: 'b', maxSubscriptions: 2 },
      ];
      const run = runScriptedPool(
        { instruments: ['SHFE.rb2501', 'SHFE.cu2501', 'DCE.m2501'], fronts, strategy: 'round_robin' },
        2000,
        (r, at) => {
          at(1000, () => r.api('b').down());
          at(1050, () => r.api('b').up());
        },
      );
      // Round robin deals rb → a, cu → b, m → a. While b is down a is full: cu waits, unserved, instead of overloading a,
      // until b is back (connected at 1100, logged in at 1105, its first tick at 1130).
      expect(moveLog(run)).toEqual([
        [30, 'rb2501', null, 'a'],
        [30, 'm2501', null, 'a'],
        [30, 'cu2501', null, 'b'],
      ]);
      const every100 = (from: number, to: number): number[] => Array.from({ length: (to - from) / 100 + 1 }, (_, k) => from + 100 * k);
      expect(tickTimes(run.ticks, 'SHFE.cu2501')).toEqual([...every100(30, 930), ...every100(1130, 1930)]);
      expect(tickTimes(run.ticks, 'SHFE.rb2501')).toEqual(every100(30, 1930));
    });
  });

  describe('a front that dies', () => {
    const config: ScriptedPoolConfig = { instruments: SIX, fronts: [{ name: 'a' }, { name: 'b' }] };

    it('is DOWN at once; its instruments move to the healthy front by its next tick, none unserved longer than the staleness', async () => {
      const run = runScriptedPool(config, 3000, (r, at) => at(1000, () => r.api('a').down()));
      expect(statusLog(run).slice(4)).toEqual([[1000, 'ctp/a', 'DOWN', 'disconnected (reason 0x1001); the library reconnects']]);
      expect(run.statuses.at(-1)).toEqual({
        feed_id: 'ctp/a',
        state: 'DOWN',
        ts_event: 1_000_000,
        last_tick_ts: run.market.eventTimeAt(930),
        lead_count: 0,
        lag_count: 0,
        gap_count: 0,
        drop_count: 0,
        detail: 'disconnected (reason 0x1001); the library reconnects',
      });
      // Subscribed on b at 1000, answered at 1005, its first tick at 1030.
      expect(
        run
          .api('b')
          .calls.filter((c) => c.at === 1000)
          .map((c) => [c.method, c.args]),
      ).toEqual([['subscribe', [ON_A]]]);
      expect(moveLog(run, 100)).toEqual(ON_A.map((id) => [1030, id, 'a', 'b']));
      // Not one tick instant missed: the gap is the market's own 100 ms.
      for (const instrument of SIX) {
        expect(tickTimes(run.ticks, instrument)).toHaveLength(30);
        expect(longestGapMs(run.ticks, instrument)).toBe(100);
      }
      expect(await samples(run, 'front_up')).toEqual(['{stage="ctp",front="a"} 0', '{stage="ctp",front="b"} 1']);
      expect(await samples(run, 'front_instruments')).toEqual(['{stage="ctp",front="a"} 0', '{stage="ctp",front="b"} 6']);
      expect(await samples(run, 'instrument_moves_total')).toEqual(['{stage="ctp"} 10']);
    });

    it('takes its instruments back when it logs in again (migrate_back: on_recovery)', () => {
      // a refuses connections until 3050; the library's next attempt (every 100 ms since 1000) connects at 3100.
      const run = runScriptedPool(config, 5000, (r, at) => {
        at(1000, () => r.api('a').down());
        at(3050, () => r.api('a').up());
      });
      expect(statusLog(run).slice(4)).toEqual([
        [1000, 'ctp/a', 'DOWN', 'disconnected (reason 0x1001); the library reconnects'],
        [3105, 'ctp/a', 'UP', 'logged in, trading day 20250102'],
      ]);
      expect(run.api('a').timesOf('login')).toEqual([10, 3100]);
      // Make-before-break: b serves them until a's first tick (3130), and lets go of them only then.
      expect(moveLog(run, 3000)).toEqual(ON_A.map((id) => [3130, id, 'b', 'a']));
      expect(
        run
          .api('b')
          .calls.filter((c) => c.method === 'unsubscribe' && c.at === 3130)
          .map((c) => c.args),
      ).toEqual(ON_A.map((id) => [[id]]));
      for (const instrument of SIX) expect(longestGapMs(run.ticks, instrument)).toBe(100);
      // b's copies of the tick at 3130 came after a's: dropped as overlap, once per instrument.
      expect(run.ctx.metrics.droppedByReason).toEqual(new Map([['overlap', 4]]));
    });

    it('leaves its instruments where they went with migrate_back: never', () => {
      const run = runScriptedPool({ ...config, migrateBack: 'never' }, 5000, (r, at) => {
        at(1000, () => r.api('a').down());
        at(3050, () => r.api('a').up());
      });
      expect(statusLog(run).at(-1)).toEqual([3105, 'ctp/a', 'UP', 'logged in, trading day 20250102']);
      expect(moveLog(run, 2000)).toEqual([]);
      expect(run.owners()).toEqual(new Map(SIX.map((i) => [bare(i), 'b'])));
      expect(run.api('a').calls.filter((c) => c.method === 'subscribe' && c.at > 3000)).toEqual([]);
    });

    it('with every front dead, leaves the instruments on their fronts and serves them when one comes back', () => {
      const run = runScriptedPool(config, 4000, (r, at) => {
        at(1000, () => r.api('a').down());
        at(1000, () => r.api('b').down());
        at(2050, () => r.api('b').up());
      });
      expect(statusLog(run).slice(4)).toEqual([
        [1000, 'ctp/a', 'DOWN', 'disconnected (reason 0x1001); the library reconnects'],
        [1000, 'ctp/b', 'DOWN', 'disconnected (reason 0x1001); the library reconnects'],
        [2105, 'ctp/b', 'UP', 'logged in, trading day 20250102'],
      ]);
      expect(moveLog(run, 100)).toEqual(
        SIX.map((i) => [2130, bare(i), ON_A.includes(bare(i)) ? 'a' : 'b', 'b']).filter(([, , from]) => from === 'a'),
      );
      for (const instrument of SIX) expect(tickTimes(run.ticks, instrument).filter((t) => t > 930 && t < 2130)).toEqual([]);
    });
  });

  describe('a front that goes silent', () => {
    const config: ScriptedPoolConfig = { instruments: SIX, fronts: [{ name: 'a' }, { name: 'b' }], staleAfterMs: 1000, staleHoldMs: 5000 };

    it('is STALE at the first check more than stale_after_ms after its last tick, and its instruments move then', async () => {
      // Last tick of a at 930; checks at 1750 (820 ms quiet), 2000 (1070 ms): STALE at 2000.
      const run = runScriptedPool(config, 3000, (r, at) => at(1000, () => r.api('a').stall()));
      expect(statusLog(run).slice(4)).toEqual([[2000, 'ctp/a', 'STALE', 'no market data for 1000 ms']]);
      expect(run.events.filter((e) => e.at === 2000)).toEqual([
        {
          at: 2000,
          type: 'source.ctp.unavailable',
          payload: { feed: 'ctp', front: 'a', state: 'stale', previous: 'ready', detail: 'no market data for 1000 ms' },
        },
      ]);
      expect(moveLog(run, 100)).toEqual(ON_A.map((id) => [2030, id, 'a', 'b']));
      // Unserved from 930 to 2030: the staleness, the rest of the check period (70 ms) and b's first tick (30 ms).
      for (const id of ON_A) expect(longestGapMs(run.ticks, SIX.find((i) => bare(i) === id) as string)).toBe(1100);
      for (const id of ON_B) expect(longestGapMs(run.ticks, SIX.find((i) => bare(i) === id) as string)).toBe(100);
      expect(await samples(run, 'front_up')).toEqual(['{stage="ctp",front="a"} 0', '{stage="ctp",front="b"} 1']);
      expect(
        run
          .api('a')
          .calls.filter((c) => c.method === 'unsubscribe' && c.at === 2030)
          .map((c) => c.args),
      ).toEqual(ON_A.map((id) => [[id]]));
    });

    it('is judged on its own last tick: silent from 1030, it is STALE at 2250', () => {
      const run = runScriptedPool(config, 3000, (r, at) => at(1100, () => r.api('a').stall()));
      expect(statusLog(run).slice(4)).toEqual([[2250, 'ctp/a', 'STALE', 'no market data for 1000 ms']]);
      expect(moveLog(run, 100)).toEqual(ON_A.map((id) => [2330, id, 'a', 'b']));
    });

    it('is tried again after stale_hold_ms with nothing subscribed, and takes its instruments back when it delivers', () => {
      const run = runScriptedPool(config, 9000, (r, at) => {
        at(1000, () => r.api('a').stall());
        at(4000, () => r.api('a').resume());
      });
      // Resumed at 4000, but holding nothing it cannot show it: it waits out the hold (2000 + 5000).
      expect(statusLog(run).slice(4)).toEqual([
        [2000, 'ctp/a', 'STALE', 'no market data for 1000 ms'],
        [7000, 'ctp/a', 'UP', 'stale for 5000 ms with nothing subscribed; trying it again'],
      ]);
      expect(moveLog(run, 100)).toEqual([...ON_A.map((id) => [2030, id, 'a', 'b']), ...ON_A.map((id) => [7030, id, 'b', 'a'])]);
      expect(run.owners()).toEqual(new Map(SIX.map((i) => [bare(i), ON_A.includes(bare(i)) ? 'a' : 'b'])));
      // The way back costs nothing: b served until a's first tick.
      for (const instrument of SIX)
        expect(tickTimes(run.ticks, instrument).filter((t) => t >= 2030)).toEqual(Array.from({ length: 70 }, (_, k) => 2030 + 100 * k));
    });

    it('tried again while still silent, it gets the instruments, goes STALE again and hands them back with no tick lost', () => {
      const run = runScriptedPool(config, 10_000, (r, at) => at(1000, () => r.api('a').stall()));
      // Subscribed again at 7000 (quiet from then on): 8000 is exactly 1000 ms, not more; STALE at 8250.
      expect(statusLog(run).slice(4)).toEqual([
        [2000, 'ctp/a', 'STALE', 'no market data for 1000 ms'],
        [7000, 'ctp/a', 'UP', 'stale for 5000 ms with nothing subscribed; trying it again'],
        [8250, 'ctp/a', 'STALE', 'no market data for 1000 ms'],
      ]);
      expect(
        run
          .api('a')
          .calls.filter((c) => c.at >= 7000 && c.method !== 'close')
          .map((c) => [c.at, c.method, c.args]),
      ).toEqual([[7000, 'subscribe', [ON_A]], ...ON_A.map((id) => [8250, 'unsubscribe', [[id]]])]);
      // b never let go of them: no move back, no gap after the first move.
      expect(moveLog(run, 2100)).toEqual([]);
      for (const id of ON_A)
        expect(tickTimes(run.ticks, SIX.find((i) => bare(i) === id) as string).filter((t) => t >= 2030)).toHaveLength(80);
    });

    it('alone, it is STALE while silent (there is nowhere to move to) and UP at its first tick back, hold or not', () => {
      // Staleness with its instruments still on it: data coming back is the proof it works, so the hold does not apply.
      const run = runScriptedPool({ ...config, fronts: [{ name: 'a' }] }, 4000, (r, at) => {
        at(1000, () => r.api('a').stall());
        at(2500, () => r.api('a').resume());
      });
      expect(statusLog(run).slice(2)).toEqual([
        [2000, 'ctp/a', 'STALE', 'no market data for 1000 ms'],
        [2530, 'ctp/a', 'UP', 'market data again'],
      ]);
      expect(moveLog(run, 100)).toEqual([]);
      for (const instrument of SIX) expect(tickTimes(run.ticks, instrument).filter((t) => t > 930 && t < 2530)).toEqual([]);
    });
  });

  describe('a market break (every front silent at once)', () => {
    // 10:14:59 at virtual 0: the morning break (10:15–10:30) begins at 1000 and ends at 901 000.
    const config: ScriptedPoolConfig = { instruments: SIX, fronts: [{ name: 'a' }, { name: 'b' }], localStart: '2025-01-02T10:14:59' };

    it('moves nothing while every front is silent, nor when they all come back', async () => {
      const run = runScriptedPool(config, 903_000, (r, at) => {
        at(1000, () => r.market.pause());
        at(901_000, () => r.market.resume());
      });
      expect(run.market.localTimeAt(1000)).toBe('10:15:00.000');
      expect(run.market.localTimeAt(901_030)).toBe('10:30:00.030');
      // Both are reported STALE (silent too long), but neither takes the other's instruments: neither is healthy.
      expect(statusLog(run).slice(4)).toEqual([
        [2000, 'ctp/a', 'STALE', 'no market data for 1000 ms'],
        [2000, 'ctp/b', 'STALE', 'no market data for 1000 ms'],
        [901_030, 'ctp/a', 'UP', 'market data again'],
        [901_030, 'ctp/b', 'UP', 'market data again'],
      ]);
      expect(moveLog(run, 100)).toEqual([]);
      expect(run.api('a').calls.filter((c) => c.at > 100 && c.method !== 'close')).toEqual([]);
      expect(run.api('b').calls.filter((c) => c.at > 100 && c.method !== 'close')).toEqual([]);
      for (const instrument of SIX) {
        const times = tickTimes(run.ticks, instrument);
        expect(times.filter((t) => t > 930 && t < 901_030)).toEqual([]);
        expect(times.filter((t) => t >= 901_030)).toHaveLength(20);
      }
      expect(run.ctx.metrics.droppedByReason).toEqual(new Map());
      expect(await samples(run, 'instrument_moves_total')).toEqual(['{stage="ctp"} 6']);
    });

    it("after a break only one front comes back from, moves the silent front's instruments to it once it has delivered a while", () => {
      const run = runScriptedPool(config, 8000, (r, at) => {
        at(1000, () => r.api('a').stall());
        at(1000, () => r.api('b').stall());
        at(5000, () => r.api('b').resume());
      });
      // b is back at 5030 but warm until 5530 (half the staleness, so a front a few ms behind is not robbed); a is still
      // silent: at the check at 5750 a's instruments move to b, subscribed then, first tick at 5830.
      expect(statusLog(run).slice(4)).toEqual([
        [2000, 'ctp/a', 'STALE', 'no market data for 1000 ms'],
        [2000, 'ctp/b', 'STALE', 'no market data for 1000 ms'],
        [5030, 'ctp/b', 'UP', 'market data again'],
        // Its hold over (STALE at 2000, hold 5000) and holding nothing now, a is tried again; b serves until a delivers.
        [7000, 'ctp/a', 'UP', 'stale for 5000 ms with nothing subscribed; trying it again'],
      ]);
      expect(
        run
          .api('b')
          .calls.filter((c) => c.method === 'subscribe')
          .map((c) => [c.at, c.args]),
      ).toEqual([
        [15, [ON_B]],
        [5750, [ON_A]],
      ]);
      expect(moveLog(run, 100)).toEqual(ON_A.map((id) => [5830, id, 'a', 'b']));
    });
  });

  describe('spreads instruments over three fronts by strategy', () => {
    const TWELVE = [
      'rb2501',
      'hc2501',
      'ru2501',
      'bu2501',
      'cu2501',
      'al2501',
      'zn2501',
      'ni2501',
      'au2502',
      'ag2502',
      'm2501',
      'y2501',
    ].map((id) => (/^[my]\d/.test(id) ? `DCE.${id}` : `SHFE.${id}`));
    const counts = (run: ScriptedPoolRun): number[] => ['x', 'y', 'z'].map((f) => [...run.owners().values()].filter((o) => o === f).length);
    const spread = (strategy: ScriptedPoolConfig['strategy'], maxSubscriptions = 1000): ScriptedPoolRun =>
      runScriptedPool({ instruments: TWELVE, fronts: ['x', 'y', 'z'].map((name) => ({ name, maxSubscriptions })), strategy }, 1000);

    it('round_robin and least_subscriptions: four each', () => {
      expect(counts(spread('round_robin'))).toEqual([4, 4, 4]);
      expect(counts(spread('least_subscriptions'))).toEqual([4, 4, 4]);
    });

    it('hash: as the planner places them from scratch', () => {
      const healthy = ['x', 'y', 'z'].map((id) => ({
        id,
        priority: 0,
        healthy: true,
        maxSubscriptions: 1000,
        tickAgeMs: null,
        recentErrors: 0,
      }));
      const expected = planSubscriptions({
        strategy: 'hash',
        instruments: TWELVE.map(bare),
        fronts: healthy,
        current: new Map(),
        rebalance: true,
      }).assignment;
      expect(spread('hash').owners()).toEqual(expected);
    });

    it('quality: every front used, none over its limit', () => {
      const c = counts(spread('quality', 5));
      expect(c.every((n) => n >= 2 && n <= 5)).toBe(true);
      expect(c.reduce((a, n) => a + n, 0)).toBe(12);
    });

    it('priority: the backup tier takes only what the preferred front cannot hold, and everything when it dies', () => {
      const run = runScriptedPool(
        {
          instruments: SIX,
          fronts: [
            { name: 'main', maxSubscriptions: 4 },
            { name: 'backup', priority: 1 },
          ],
        },
        2000,
        (r, at) => at(1000, () => r.api('main').down()),
      );
      const first = moveLog(run).filter(([at]) => at === 30);
      expect(first.filter(([, , , to]) => to === 'main')).toHaveLength(4);
      expect(first.filter(([, , , to]) => to === 'backup')).toHaveLength(2);
      expect(run.owners()).toEqual(new Map(SIX.map((i) => [bare(i), 'backup'])));
    });
  });

  describe('delivery', () => {
    it("counts the ticks the addon's queue dropped, per front", async () => {
      const run = runScriptedPool({ instruments: SIX, fronts: [{ name: 'a' }, { name: 'b' }] }, 1000, (r, at) => {
        at(500, () => r.api('b').overflow(7));
        at(600, () => r.api('b').overflow(5));
      });
      expect(run.ctx.metrics.droppedByReason).toEqual(new Map([['queue-overflow', 12]]));
      expect(await samples(run, 'queue_dropped_total')).toEqual(['{stage="ctp",front="a"} 0', '{stage="ctp",front="b"} 12']);
      // Counted in the front's status too, the next time it reports.
      const afterwards = runScriptedPool({ instruments: SIX, fronts: [{ name: 'a' }, { name: 'b' }] }, 2000, (r, at) => {
        at(500, () => r.api('b').overflow(7));
        at(1000, () => r.api('b').down());
      });
      expect(afterwards.statuses.at(-1)).toMatchObject({ feed_id: 'ctp/b', state: 'DOWN', drop_count: 7 });
    });

    it('drops and counts a tick outside the trading sessions', () => {
      // 10:14:59: the tick at 1030 (10:15:00.030) is in the break; the market is scripted to go on regardless.
      const run = runScriptedPool({ instruments: ['SHFE.rb2501'], fronts: [{ name: 'a' }], localStart: '2025-01-02T10:14:59' }, 1100);
      expect(tickTimes(run.ticks, 'SHFE.rb2501')).toEqual([30, 130, 230, 330, 430, 530, 630, 730, 830, 930]);
      expect(run.ctx.metrics.droppedByReason).toEqual(new Map([['outside-session', 1]]));
    });
  });
});
