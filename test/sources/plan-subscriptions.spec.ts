import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { distributionStrategies, type DistributionStrategy } from '../../sources/ctp/distribution-strategy.js';
import type { FrontView } from '../../sources/ctp/front-view.js';
import { planSubscriptions, type SubscriptionPlan } from '../../sources/ctp/plan-subscriptions.js';

const front = (id: string, changes: Partial<FrontView> = {}): FrontView => ({
  id,
  priority: 0,
  healthy: true,
  maxSubscriptions: 1000,
  tickAgeMs: 50,
  recentErrors: 0,
  ...changes,
});

const PRODUCTS = ['SHFE.rb', 'SHFE.cu', 'SHFE.au', 'DCE.m', 'DCE.i', 'CZCE.SR', 'CZCE.MA', 'CFFEX.IF', 'INE.sc', 'GFEX.si'];
/** `n` distinct, realistic instrument ids: ten products, contract months counting up from 2501. */
const instrumentIds = (n: number): string[] =>
  Array.from({ length: n }, (_, i) => `${PRODUCTS[i % PRODUCTS.length]}${2501 + Math.floor(i / PRODUCTS.length)}`);

interface PlanArgs {
  readonly strategy: DistributionStrategy;
  readonly instruments: readonly string[];
  readonly fronts: readonly FrontView[];
  readonly current?: ReadonlyMap<string, string>;
  readonly rebalance?: boolean;
}
const plan = ({ current = new Map(), rebalance = false, ...rest }: PlanArgs): SubscriptionPlan =>
  planSubscriptions({ ...rest, current, rebalance });

/** Front id of each instrument, in instrument order. */
const frontsOf = (result: SubscriptionPlan, instruments: readonly string[]): (string | undefined)[] =>
  instruments.map((i) => result.assignment.get(i));

function loads(result: SubscriptionPlan): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const frontId of result.assignment.values()) counts[frontId] = (counts[frontId] ?? 0) + 1;
  return counts;
}

describe('planSubscriptions', () => {
  const twelve = instrumentIds(12);
  const abc = [front('a'), front('b'), front('c')];

  describe('round_robin', () => {
    it('deals 12 instruments over 3 fronts in turn: 4/4/4', () => {
      const result = plan({ strategy: 'round_robin', instruments: twelve, fronts: abc });
      expect(frontsOf(result, twelve)).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b', 'c', 'a', 'b', 'c']);
      expect(loads(result)).toEqual({ a: 4, b: 4, c: 4 });
      expect(result.unassigned).toEqual([]);
    });

    it('skips a full front', () => {
      const result = plan({
        strategy: 'round_robin',
        instruments: instrumentIds(8),
        fronts: [front('a'), front('b', { maxSubscriptions: 2 }), front('c')],
      });
      expect(frontsOf(result, instrumentIds(8))).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a', 'c']);
    });

    it('continues the deal in sticky mode where the kept instruments leave off', () => {
      const first = plan({ strategy: 'round_robin', instruments: twelve, fronts: abc });
      const fourteen = instrumentIds(14);
      const grown = plan({ strategy: 'round_robin', instruments: fourteen, fronts: abc, current: first.assignment });
      expect(grown.assignment).toEqual(plan({ strategy: 'round_robin', instruments: fourteen, fronts: abc }).assignment);
      expect(frontsOf(grown, fourteen).slice(12)).toEqual(['a', 'b']);
    });

    it('spreads a failed front’s instruments over the survivors in turn, moving nothing else', () => {
      const before = plan({ strategy: 'round_robin', instruments: twelve, fronts: abc });
      const after = plan({
        strategy: 'round_robin',
        instruments: twelve,
        fronts: [front('a'), front('b', { healthy: false }), front('c')],
        current: before.assignment,
      });
      for (const instrument of twelve)
        if (before.assignment.get(instrument) !== 'b') expect(after.assignment.get(instrument)).toBe(before.assignment.get(instrument));
      const moved = twelve.filter((i) => before.assignment.get(i) === 'b');
      expect(frontsOf(after, moved)).toEqual(['a', 'c', 'a', 'c']);
      expect(loads(after)).toEqual({ a: 6, c: 6 });
    });

    it('returns to the fresh deal on rebalance once the front recovers', () => {
      const fresh = plan({ strategy: 'round_robin', instruments: twelve, fronts: abc });
      const failedOver = plan({
        strategy: 'round_robin',
        instruments: twelve,
        fronts: [front('a'), front('b', { healthy: false }), front('c')],
        current: fresh.assignment,
      });
      const sticky = plan({ strategy: 'round_robin', instruments: twelve, fronts: abc, current: failedOver.assignment });
      expect(sticky.assignment).toEqual(failedOver.assignment); // sticky: the recovered front stays empty
      expect(
        plan({ strategy: 'round_robin', instruments: twelve, fronts: abc, current: failedOver.assignment, rebalance: true }).assignment,
      ).toEqual(fresh.assignment);
    });
  });

  describe('least_subscriptions', () => {
    it('balances from scratch, ties to the earlier front', () => {
      const result = plan({ strategy: 'least_subscriptions', instruments: twelve, fronts: abc });
      expect(frontsOf(result, twelve)).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b', 'c', 'a', 'b', 'c']);
    });

    it('fills up the lightest fronts first, counting pre-existing loads', () => {
      const existing = instrumentIds(15).slice(6);
      // a holds 5, b 1, c 3
      const current = new Map(existing.map((instrument, i) => [instrument, i < 5 ? 'a' : i < 6 ? 'b' : 'c'] as const));
      const newcomers = instrumentIds(6);
      const result = plan({ strategy: 'least_subscriptions', instruments: [...newcomers, ...existing], fronts: abc, current });
      expect(frontsOf(result, newcomers)).toEqual(['b', 'b', 'b', 'c', 'b', 'c']);
      expect(loads(result)).toEqual({ a: 5, b: 5, c: 5 });
      for (const instrument of existing) expect(result.assignment.get(instrument)).toBe(current.get(instrument));
    });
  });

  describe('quality', () => {
    it('prefers a fresh, error-free front and still spreads load as it fills', () => {
      const fronts = [
        front('a', { tickAgeMs: 800, recentErrors: 1, maxSubscriptions: 10 }), // 1800 + 100 per instrument
        front('b', { tickAgeMs: 20, maxSubscriptions: 10 }), // 20 + 100 per instrument
        front('c', { tickAgeMs: 300, maxSubscriptions: 10 }), // 300 + 100 per instrument
      ];
      const instruments = instrumentIds(10);
      const result = plan({ strategy: 'quality', instruments, fronts });
      expect(frontsOf(result, instruments)).toEqual(['b', 'b', 'b', 'c', 'b', 'c', 'b', 'c', 'b', 'c']);
      expect(loads(result)).toEqual({ b: 6, c: 4 });
    });

    it('counts a front without ticks yet as fresh, and breaks ties by order', () => {
      const fronts = [
        front('a', { tickAgeMs: 5, maxSubscriptions: 10 }),
        front('b', { tickAgeMs: null, maxSubscriptions: 10 }),
        front('c', { tickAgeMs: null, maxSubscriptions: 10 }),
      ];
      const result = plan({ strategy: 'quality', instruments: instrumentIds(3), fronts }); // scores: a 5, b 0, c 0, +100 per instrument
      expect(frontsOf(result, instrumentIds(3))).toEqual(['b', 'c', 'a']);
    });

    it('sends instruments to a front with errors only when the others are full', () => {
      const fronts = [front('a', { recentErrors: 3 }), front('b', { maxSubscriptions: 2 })];
      expect(frontsOf(plan({ strategy: 'quality', instruments: instrumentIds(3), fronts }), instrumentIds(3))).toEqual(['b', 'b', 'a']);
    });
  });

  describe('hash', () => {
    const thousand = instrumentIds(1000);
    const fourFronts = [front('ctp-a'), front('ctp-b'), front('ctp-c'), front('ctp-d')];

    it('is stable: the same instruments land on the same fronts in every run and process', () => {
      const result = plan({ strategy: 'hash', instruments: thousand, fronts: fourFronts });
      // Pinned values: a change here means every deployment would reshuffle its subscriptions.
      expect(frontsOf(result, thousand.slice(0, 8))).toEqual(['ctp-c', 'ctp-b', 'ctp-a', 'ctp-c', 'ctp-d', 'ctp-a', 'ctp-d', 'ctp-b']);
      expect(
        plan({ strategy: 'hash', instruments: [...thousand].reverse(), fronts: [...fourFronts].reverse() }).assignment.get(
          thousand[0] as string,
        ),
      ).toBe('ctp-c'); // front order does not matter
    });

    it('spreads 1,000 instruments over 4 fronts within ±20% of even', () => {
      const counts = loads(plan({ strategy: 'hash', instruments: thousand, fronts: fourFronts }));
      for (const f of fourFronts) {
        expect(counts[f.id]).toBeGreaterThanOrEqual(200);
        expect(counts[f.id]).toBeLessThanOrEqual(300);
      }
    });

    it('moves only the failed front’s instruments, and brings exactly those back on rebalance', () => {
      const before = plan({ strategy: 'hash', instruments: thousand, fronts: fourFronts });
      const degraded = fourFronts.map((f) => (f.id === 'ctp-c' ? { ...f, healthy: false } : f));
      for (const rebalance of [false, true]) {
        const after = plan({ strategy: 'hash', instruments: thousand, fronts: degraded, current: before.assignment, rebalance });
        for (const instrument of thousand) {
          if (before.assignment.get(instrument) === 'ctp-c') expect(after.assignment.get(instrument)).not.toBe('ctp-c');
          else expect(after.assignment.get(instrument)).toBe(before.assignment.get(instrument));
        }
        const recovered = plan({ strategy: 'hash', instruments: thousand, fronts: fourFronts, current: after.assignment, rebalance: true });
        expect(recovered.assignment).toEqual(before.assignment);
      }
    });

    it('takes the next-highest weight when the winner is full', () => {
      const instruments = instrumentIds(20);
      const unlimited = plan({ strategy: 'hash', instruments, fronts: fourFronts });
      const full = fourFronts.map((f) => (f.id === 'ctp-b' ? { ...f, maxSubscriptions: 0 } : f));
      const result = plan({ strategy: 'hash', instruments, fronts: full });
      for (const instrument of instruments)
        if (unlimited.assignment.get(instrument) !== 'ctp-b')
          expect(result.assignment.get(instrument)).toBe(unlimited.assignment.get(instrument));
      expect(Object.keys(loads(result))).not.toContain('ctp-b');
    });
  });

  describe.each(distributionStrategies)('%s: shared rules', (strategy) => {
    it('never exceeds maxSubscriptions and returns what fits nowhere, in order', () => {
      const instruments = instrumentIds(10);
      const result = plan({ strategy, instruments, fronts: [front('a', { maxSubscriptions: 3 }), front('b', { maxSubscriptions: 4 })] });
      expect(loads(result)).toEqual({ a: 3, b: 4 });
      expect(result.unassigned).toEqual(instruments.filter((i) => !result.assignment.has(i)));
      expect(result.unassigned).toHaveLength(3);
      if (strategy !== 'hash') expect(result.unassigned).toEqual(instruments.slice(7)); // greedy strategies fill in order
    });

    it('uses a worse priority tier only for what the better tier cannot take', () => {
      const instruments = instrumentIds(10);
      const fronts = [
        front('backup', { priority: 1, maxSubscriptions: 5 }),
        front('main-1', { maxSubscriptions: 3 }),
        front('main-2', { maxSubscriptions: 3 }),
      ];
      const result = plan({ strategy, instruments, fronts });
      expect(loads(result)).toEqual({ 'main-1': 3, 'main-2': 3, backup: 4 });
      const small = plan({ strategy, instruments: instrumentIds(5), fronts });
      expect(loads(small)['backup']).toBeUndefined();
    });

    it('falls to the worse tier when the better tier is unhealthy, and never assigns to an unhealthy front', () => {
      const fronts = [
        front('main', { healthy: false }),
        front('backup-1', { priority: 2 }),
        front('backup-2', { priority: 2, healthy: false }),
      ];
      const result = plan({ strategy, instruments: twelve, fronts });
      expect(loads(result)).toEqual({ 'backup-1': 12 });
      expect(plan({ strategy, instruments: twelve, fronts: fronts.map((f) => ({ ...f, healthy: false })) }).unassigned).toEqual(twelve);
    });

    it('in sticky mode keeps instruments on healthy fronts, even on a worse tier, and replaces the rest', () => {
      const current = new Map([
        [twelve[0] as string, 'backup'], // healthy, worse tier: stays
        [twelve[1] as string, 'main'],
        [twelve[2] as string, 'down'], // unhealthy: placed again
        [twelve[3] as string, 'retired'], // unknown front: placed again
        ['SHFE.rb2409', 'main'], // no longer wanted: dropped
      ]);
      const fronts = [front('main'), front('backup', { priority: 1 }), front('down', { healthy: false })];
      const result = plan({ strategy, instruments: twelve.slice(0, 4), fronts, current });
      expect([...result.assignment]).toEqual([
        [twelve[0], 'backup'],
        [twelve[1], 'main'],
        [twelve[2], 'main'],
        [twelve[3], 'main'],
      ]);
      const rebalanced = plan({ strategy, instruments: twelve.slice(0, 4), fronts, current, rebalance: true });
      expect(rebalanced.assignment.get(twelve[0] as string)).toBe('main');
    });

    it('re-places the excess when a front holds more than its capacity now allows', () => {
      const current = new Map(twelve.slice(0, 5).map((i) => [i, 'a'] as const));
      const result = plan({
        strategy,
        instruments: twelve.slice(0, 5),
        fronts: [front('a', { maxSubscriptions: 3 }), front('b')],
        current,
      });
      expect(frontsOf(result, twelve.slice(0, 5))).toEqual(['a', 'a', 'a', 'b', 'b']);
    });

    it('places a repeated instrument once', () => {
      const result = plan({ strategy, instruments: [twelve[0] as string, twelve[1] as string, twelve[0] as string], fronts: abc });
      expect(result.assignment.size).toBe(2);
      expect(result.unassigned).toEqual([]);
    });

    it('plans nothing for no instruments, and leaves everything unassigned without fronts', () => {
      expect(plan({ strategy, instruments: [], fronts: abc })).toEqual({ assignment: new Map(), unassigned: [] });
      expect(plan({ strategy, instruments: twelve, fronts: [] })).toEqual({ assignment: new Map(), unassigned: twelve });
    });
  });

  describe('properties', () => {
    const pool = instrumentIds(30);
    const frontArb = (id: string): fc.Arbitrary<FrontView> =>
      fc.record({
        id: fc.constant(id),
        priority: fc.integer({ min: 0, max: 2 }),
        healthy: fc.boolean(),
        maxSubscriptions: fc.integer({ min: 0, max: 10 }),
        tickAgeMs: fc.option(fc.integer({ min: 0, max: 3000 }), { nil: null }),
        recentErrors: fc.integer({ min: 0, max: 3 }),
      });
    const frontsArb = fc.integer({ min: 0, max: 5 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => frontArb(`f${i}`))));
    const scenario = fc.record({
      strategy: fc.constantFrom(...distributionStrategies),
      instruments: fc.shuffledSubarray(pool),
      fronts: frontsArb,
      current: fc
        .array(fc.tuple(fc.constantFrom(...pool), fc.constantFrom('f0', 'f1', 'f2', 'f3', 'f4', 'gone')), { maxLength: 30 })
        .map((pairs) => new Map(pairs)),
      rebalance: fc.boolean(),
    });

    it('assigns only to healthy fronts within capacity, places every instrument exactly once, and leaves nothing unassigned while a healthy front has room', () => {
      fc.assert(
        fc.property(scenario, (request) => {
          const result = planSubscriptions(request);
          const byId = new Map(request.fronts.map((f) => [f.id, f]));
          const counts = loads(result);
          for (const [frontId, count] of Object.entries(counts)) {
            const f = byId.get(frontId);
            expect(f?.healthy).toBe(true);
            expect(count).toBeLessThanOrEqual(f?.maxSubscriptions ?? 0);
          }
          expect([...result.assignment.keys(), ...result.unassigned].sort()).toEqual([...request.instruments].sort());
          if (result.unassigned.length > 0) {
            for (const f of request.fronts) if (f.healthy) expect(counts[f.id] ?? 0).toBeGreaterThanOrEqual(f.maxSubscriptions);
          }
          expect(planSubscriptions(request)).toEqual(result); // deterministic
        }),
        { numRuns: 200 },
      );
    });

    it('in sticky mode never moves an instrument off a healthy front (up to the front’s capacity)', () => {
      fc.assert(
        fc.property(scenario, (request) => {
          const result = planSubscriptions({ ...request, rebalance: false });
          const byId = new Map(request.fronts.map((f) => [f.id, f]));
          const kept = new Map<string, number>();
          for (const instrument of request.instruments) {
            const frontId = request.current.get(instrument);
            const f = frontId === undefined ? undefined : byId.get(frontId);
            if (f === undefined || !f.healthy) continue;
            const held = kept.get(f.id) ?? 0;
            if (held >= f.maxSubscriptions) continue;
            kept.set(f.id, held + 1);
            expect(result.assignment.get(instrument)).toBe(frontId);
          }
        }),
        { numRuns: 200 },
      );
    });

    it('on rebalance, puts an instrument on a worse tier only when every better-tier healthy front is full', () => {
      fc.assert(
        fc.property(scenario, (request) => {
          const result = planSubscriptions({ ...request, rebalance: true });
          const byId = new Map(request.fronts.map((f) => [f.id, f]));
          const counts = loads(result);
          for (const frontId of result.assignment.values()) {
            const priority = byId.get(frontId)?.priority ?? 0;
            for (const f of request.fronts) if (f.healthy && f.priority < priority) expect(counts[f.id] ?? 0).toBe(f.maxSubscriptions);
          }
        }),
        { numRuns: 200 },
      );
    });

    it('hash: removing one front moves only that front’s instruments, sticky or not', () => {
      const hashScenario = fc.record({
        instruments: fc.shuffledSubarray(pool, { minLength: 1 }),
        frontCount: fc.integer({ min: 2, max: 6 }),
        removed: fc.nat(),
        rebalance: fc.boolean(),
      });
      fc.assert(
        fc.property(hashScenario, ({ instruments, frontCount, removed, rebalance }) => {
          const fronts = Array.from({ length: frontCount }, (_, i) => front(`md-${i}`));
          const before = planSubscriptions({ strategy: 'hash', instruments, fronts, current: new Map(), rebalance: true });
          const gone = fronts[removed % frontCount]?.id;
          const after = planSubscriptions({
            strategy: 'hash',
            instruments,
            fronts: fronts.filter((f) => f.id !== gone),
            current: before.assignment,
            rebalance,
          });
          for (const instrument of instruments) {
            if (before.assignment.get(instrument) !== gone)
              expect(after.assignment.get(instrument)).toBe(before.assignment.get(instrument));
          }
        }),
        { numRuns: 200 },
      );
    });
  });
});
