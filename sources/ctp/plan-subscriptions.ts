import type { DistributionStrategy } from './distribution-strategy.js';
import type { FrontView } from './front-view.js';

/** What `planSubscriptions` plans from. */
export interface SubscriptionPlanRequest {
  readonly strategy: DistributionStrategy;
  /** Every instrument the source wants, in order; repeats are ignored. */
  readonly instruments: readonly string[];
  /** The source's fronts, in configured order (the order breaks ties). */
  readonly fronts: readonly FrontView[];
  /** Instrument → id of the front it is subscribed on now. */
  readonly current: ReadonlyMap<string, string>;
  /** false: keep what sits on a healthy front (sticky); true: plan from scratch. */
  readonly rebalance: boolean;
}

/** Where each instrument goes. */
export interface SubscriptionPlan {
  /** Instrument → front id, in the order of `instruments`. */
  readonly assignment: Map<string, string>;
  /** Instruments no healthy front has room for, in the order of `instruments`. */
  readonly unassigned: string[];
}

/** A healthy front and the instruments placed on it so far in this plan. */
interface FrontLoad {
  readonly view: FrontView;
  load: number;
}

/** The healthy fronts of one priority, in configured order, and where the round-robin deal stands. */
interface Tier {
  readonly fronts: readonly FrontLoad[];
  cursor: number;
}

/** Weight of load in the quality score: a full front scores like one whose latest tick is a second old. */
const QUALITY_LOAD_WEIGHT = 1000;
/** Weight of one recent error in the quality score, in milliseconds of tick age. */
const QUALITY_ERROR_WEIGHT = 1000;

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a over UTF-16 code units, continuing from `hash`. */
function fnv1a(text: string, hash: number): number {
  let h = hash;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h;
}

/** MurmurHash3's finalizer: FNV-1a alone leaves close inputs (front-1, front-2) with close high bits. */
function mix32(hash: number): number {
  let h = hash;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Rendezvous weight of (instrument, front): FNV-1a of the instrument, a NUL
 * separator (so `ab`+`c` and `a`+`bc` differ) and the front id, then mixed.
 * `instrumentHash` is FNV-1a of the instrument, computed once per instrument.
 */
function rendezvousWeight(instrumentHash: number, frontId: string): number {
  const afterSeparator = Math.imul(instrumentHash, FNV_PRIME); // FNV-1a step of code unit 0: xor 0, multiply
  return mix32(fnv1a(frontId, afterSeparator));
}

const hasRoom = (front: FrontLoad): boolean => front.load < front.view.maxSubscriptions;

const qualityScore = (front: FrontLoad): number =>
  (front.view.tickAgeMs ?? 0) +
  QUALITY_ERROR_WEIGHT * front.view.recentErrors +
  QUALITY_LOAD_WEIGHT * (front.load / front.view.maxSubscriptions);

/** The front of `tier` the strategy picks for `instrument`, among those with room; undefined when all are full. */
function pickFront(strategy: DistributionStrategy, tier: Tier, instrumentHash: number): FrontLoad | undefined {
  const fronts = tier.fronts;
  switch (strategy) {
    case 'round_robin': {
      for (let step = 0; step < fronts.length; step++) {
        const index = (tier.cursor + step) % fronts.length;
        const front = fronts[index] as FrontLoad;
        if (hasRoom(front)) {
          tier.cursor = (index + 1) % fronts.length;
          return front;
        }
      }
      return undefined;
    }
    case 'least_subscriptions': {
      let best: FrontLoad | undefined;
      for (const front of fronts) if (hasRoom(front) && (best === undefined || front.load < best.load)) best = front;
      return best;
    }
    case 'quality': {
      let best: FrontLoad | undefined;
      let bestScore = Number.POSITIVE_INFINITY;
      for (const front of fronts) {
        if (!hasRoom(front)) continue;
        const score = qualityScore(front);
        if (best === undefined || score < bestScore) {
          best = front;
          bestScore = score;
        }
      }
      return best;
    }
    case 'hash': {
      let best: FrontLoad | undefined;
      let bestWeight = -1;
      for (const front of fronts) {
        if (!hasRoom(front)) continue;
        const weight = rendezvousWeight(instrumentHash, front.view.id);
        if (weight > bestWeight) {
          best = front;
          bestWeight = weight;
        }
      }
      return best;
    }
  }
}

/**
 * Plans which CTP front each instrument is subscribed on: the ctp source's
 * load balancer. Pure: no I/O, no clock, same input same plan.
 *
 * In plain words: instruments go to healthy fronts only, never more than a
 * front's `maxSubscriptions`, to the most preferred priority tier that still
 * has room (a worse tier takes only the overflow), and within a tier the
 * strategy picks the front. What fits nowhere comes back in `unassigned`.
 *
 * Strategies, each choosing among the tier's fronts that have room:
 * - `round_robin`: instruments dealt in turn to the fronts in configured
 *   order, skipping full ones. A fresh plan starts the deal at the first
 *   front. In sticky mode the deal resumes at position (instruments kept in
 *   the tier) mod (fronts in the tier), i.e. where a single deal of the kept
 *   instruments would have stopped, so adding instruments to a fresh deal
 *   continues it exactly and the instruments of a failed front are spread
 *   over the survivors in turn.
 * - `least_subscriptions`: the front with the fewest instruments at that
 *   moment, counting those kept; ties go to the earlier front.
 * - `quality`: the front with the lowest score
 *   `(tickAgeMs ?? 0) + 1000 × recentErrors + 1000 × load / maxSubscriptions`,
 *   recomputed after every placement, so a fresh error-free front is
 *   preferred but load still spreads; ties go to the earlier front. A front
 *   with no tick yet counts as fresh.
 * - `hash`: rendezvous (highest random weight) hashing: the front with the
 *   highest weight `murmur3-fmix32(FNV-1a(instrument ␀ frontId))` (32-bit,
 *   over UTF-16 code units). Stable across runs and processes; when a front
 *   fails only its instruments move, and when it recovers a rebalance brings
 *   exactly those back (as long as no front is full).
 *
 * Modes:
 * - `rebalance: false` (sticky; after a failure, or for new instruments): an
 *   instrument in `current` on a healthy front stays there, even if a better
 *   tier has room; up to the front's capacity, in instrument order (the
 *   excess, if the capacity was lowered, is placed anew). Only instruments
 *   that are new or sit on an unhealthy or unknown front are placed, counting
 *   the loads that remain. Instruments in `current` but not in `instruments`
 *   are dropped.
 * - `rebalance: true` (a front recovered and instruments should migrate
 *   back): `current` is ignored and the plan is the one a fresh start with
 *   these instruments and fronts would get. For `hash` that moves only what
 *   the recovered front wins back. For `round_robin` and
 *   `least_subscriptions` it is the deal in instrument order: instruments
 *   placed by earlier sticky plans (after a failure, or added later) and
 *   every instrument after a change in the list or the healthy fronts may
 *   move. For `quality` it depends on the fronts' current scores.
 *
 * @example
 * ```ts
 * import type { FrontView } from './front-view.js';
 * const front = (id: string): FrontView => ({ id, priority: 0, healthy: true, maxSubscriptions: 500, tickAgeMs: null, recentErrors: 0 });
 * const plan = planSubscriptions({
 *   strategy: 'round_robin',
 *   instruments: ['SHFE.rb2501', 'SHFE.cu2501', 'DCE.m2501'],
 *   fronts: [front('a'), front('b')],
 *   current: new Map(),
 *   rebalance: false,
 * });
 * console.log(Object.fromEntries(plan.assignment), plan.unassigned);
 * // Logs: { 'SHFE.rb2501': 'a', 'SHFE.cu2501': 'b', 'DCE.m2501': 'a' } []
 * ```
 *
 * @param request Strategy, wanted instruments, fronts, the current assignment, and the mode.
 * @returns The assignment (instrument → front id) and the instruments that fit nowhere.
 */
export function planSubscriptions(request: SubscriptionPlanRequest): SubscriptionPlan {
  const { strategy, fronts, current, rebalance } = request;
  const instruments = [...new Set(request.instruments)];

  const healthy = new Map<string, FrontLoad>();
  for (const view of fronts) if (view.healthy && !healthy.has(view.id)) healthy.set(view.id, { view, load: 0 });
  const priorities = [...new Set([...healthy.values()].map((f) => f.view.priority))].sort((a, b) => a - b);
  const tiers: Tier[] = priorities.map((priority) => ({
    fronts: [...healthy.values()].filter((f) => f.view.priority === priority),
    cursor: 0,
  }));

  const placed = new Map<string, string>();
  const toPlace: string[] = [];
  for (const instrument of instruments) {
    const front = rebalance ? undefined : healthy.get(current.get(instrument) ?? '');
    if (front !== undefined && hasRoom(front)) {
      placed.set(instrument, front.view.id);
      front.load++;
    } else {
      toPlace.push(instrument);
    }
  }
  for (const tier of tiers) {
    const kept = tier.fronts.reduce((sum, front) => sum + front.load, 0);
    tier.cursor = kept % tier.fronts.length;
  }

  const unassigned: string[] = [];
  for (const instrument of toPlace) {
    const instrumentHash = strategy === 'hash' ? fnv1a(instrument, FNV_OFFSET_BASIS) : 0;
    let front: FrontLoad | undefined;
    for (const tier of tiers) {
      front = pickFront(strategy, tier, instrumentHash);
      if (front !== undefined) break;
    }
    if (front === undefined) {
      unassigned.push(instrument);
    } else {
      placed.set(instrument, front.view.id);
      front.load++;
    }
  }

  const assignment = new Map<string, string>();
  for (const instrument of instruments) {
    const frontId = placed.get(instrument);
    if (frontId !== undefined) assignment.set(instrument, frontId);
  }
  return { assignment, unassigned };
}
