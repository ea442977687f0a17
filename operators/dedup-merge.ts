import { asyncScheduler, type MonoTypeOperatorFunction, type Observer, type SchedulerLike, type Subscription } from 'rxjs';
import { ConfigError } from '../errors/errors.js';
import { handWrittenStage } from '../pipeline/runtime/hand-written-stage.js';
import type { StageMetrics } from '../pipeline/runtime/stage-metrics.js';
import { DiffQuoteFields, type QuoteField } from '../protocols/diff/diff-quote-fields.js';
import type { FeedState, FeedStatus, Tick } from '../schemas/generated.js';

export interface DedupMergeOptions {
  /** A feed that delivers no tick for this long (scheduler time) is reported STALE. */
  readonly staleAfterMs: number;
  /** A feed that delivers no tick for this long is reported DOWN; must exceed `staleAfterMs`. */
  readonly downAfterMs: number;
  /** Feeds known from the start: reported DOWN at subscribe time until their first tick. Other feeds count from their first tick. */
  readonly expectedFeeds?: readonly string[];
  /** Receives a record for every change of a feed's state. A `next` that throws fails the stream. */
  readonly status?: Pick<Observer<FeedStatus>, 'next'>;
  /** Counts the ticks dropped, as `duplicate` or `stale`. A hook that throws fails the stream. */
  readonly metrics?: Pick<StageMetrics, 'dropped'>;
  /** Called for each tick with what became of it (`lead`: passed first; `lag`: a copy another feed delivered first; `stale`; `duplicate`) and for each sequence `gap`; for per-feed metrics. A `count` that throws fails the stream. */
  readonly count?: (feedId: string, outcome: 'lead' | 'lag' | 'stale' | 'duplicate' | 'gap') => void;
  /** The clock of feed health; tick order uses event time only. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/**
 * How many distinct market events of one instrument sharing one `ts_event` are
 * remembered. CTP snapshots an instrument every 500 ms, so more than a handful
 * at one instant means a broken feed; past the cap the oldest is forgotten and
 * a late copy of it would pass as new.
 */
const MAX_EVENTS_PER_TIMESTAMP = 64;

/** The fields that identify a market event: all but the feed's own (`feed_id`, `ts_recv`, `sequence`) and the instrument (the state's key). */
const MARKET_FIELDS = Object.keys(DiffQuoteFields.keyOf) as readonly QuoteField[];

/**
 * Whether two ticks carry the same market fields. Generated once as one
 * straight-line comparison, each field read by its name: a loop over the
 * field names does a keyed load per field, several times slower on every
 * tick (as quote-diff found). The names are our own constants, never input.
 */
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from our own field names, as said above
const isSameMarketEvent = new Function('a', 'b', `return ${MARKET_FIELDS.map((f) => `a.${f} === b.${f}`).join(' && ')};`) as (
  a: Tick,
  b: Tick,
) => boolean;

/** What one instrument needs to recognise a copy: anything older than `latestTs` is stale, so only the newest instant is kept. */
interface InstrumentState {
  latestTs: number;
  /** The ticks emitted at `latestTs`, oldest first. Kept whole and compared field by field: no fingerprint string is built per tick. */
  readonly emittedAtLatest: Tick[];
}

/** Health and accounting of one feed. */
interface FeedAccount {
  readonly feedId: string;
  state: FeedState;
  /** Scheduler time (ms) of the feed's last tick. */
  lastArrivalMs: number;
  lastTickTs: number | null;
  lastSequence: number | null;
  leadCount: number;
  lagCount: number;
  gapCount: number;
  dropCount: number;
}

function newFeedAccount(feedId: string, nowMs: number): FeedAccount {
  // DOWN until its first tick: a feed is UP only while it delivers.
  return {
    feedId,
    state: 'DOWN',
    lastArrivalMs: nowMs,
    lastTickTs: null,
    lastSequence: null,
    leadCount: 0,
    lagCount: 0,
    gapCount: 0,
    dropCount: 0,
  };
}

function feedStatusOf(feed: FeedAccount, nowMs: number, detail: string): FeedStatus {
  return {
    feed_id: feed.feedId,
    state: feed.state,
    ts_event: Math.round(nowMs * 1000),
    last_tick_ts: feed.lastTickTs,
    lead_count: feed.leadCount,
    lag_count: feed.lagCount,
    gap_count: feed.gapCount,
    drop_count: feed.dropCount,
    detail,
  };
}

/**
 * Merges the ticks of redundant feeds of one market into one stream: the
 * first copy of each market event passes, later copies and older ticks do not.
 *
 * A market event is identified by its market fields, everything but
 * `feed_id`, `ts_recv` and `sequence`. A tick whose `ts_event` is older than
 * the last one emitted for its instrument is dropped as stale, so per
 * instrument the output never goes back in event time; a copy that arrives
 * after a newer event of its instrument counts as stale, not as lagging.
 * Memory per instrument is the newest `ts_event` and the events emitted at it.
 *
 * Alongside, each feed is accounted for (ticks it led with, lagged with, had
 * dropped, sequence gaps) and its health is tracked on the scheduler: UP from
 * its first tick, STALE after `staleAfterMs` without one, DOWN after
 * `downAfterMs`. Every change of state goes to `status` at the exact
 * scheduler time it happens; a single timer, armed for the earliest deadline,
 * runs only while subscribed. A callback of the options that throws fails the
 * stream with its error, after the ticks before it; nothing is processed after.
 *
 * ```
 * source:  -x-X-y-Y-z--------     x y z from feed a; X Y from feed b, the same events later
 *   dedupMerge({ staleAfterMs: 4, downAfterMs: 8 })      (1 ms a frame)
 * result:  -x---y---z--------
 * status:  -u-U-------S-s-D-d     lower case feed a, upper case feed b: UP, STALE, DOWN
 * ```
 *
 * @example
 * ```ts
 * import { merge, of } from 'rxjs';
 * import { SimMarket } from '../sources/sim-market.js';
 * const tick = new SimMarket({ instruments: ['SHFE.rb2501'], seed: 1, start: Date.parse('2025-01-03T09:00:00+08:00') * 1000, tickIntervalMs: 500, feedId: 'sim', latencyUs: 0 }).next();
 * const feedA$ = of({ ...tick, feed_id: 'a' });
 * const feedB$ = of({ ...tick, feed_id: 'b', ts_recv: tick.ts_recv + 1000 }); // the same market event, 1 ms later
 * merge(feedA$, feedB$)
 *   .pipe(dedupMerge({ staleAfterMs: 2000, downAfterMs: 10_000, status: { next: (s) => console.log(s.feed_id, s.state) } }))
 *   .subscribe((t) => console.log('tick from', t.feed_id));
 * // Logs: tick from a      (once: feed b's copy does not pass)
 * // Logs: a UP
 * // Logs: b UP
 * ```
 *
 * @param options Health thresholds, the status observer, metrics and the scheduler.
 * @returns An operator that emits each market event once, in the order of first arrival.
 * @throws {ConfigError} When a threshold is not positive or `downAfterMs` does not exceed `staleAfterMs`.
 */
export function dedupMerge(options: DedupMergeOptions): MonoTypeOperatorFunction<Tick> {
  const { staleAfterMs, downAfterMs, status, metrics, count } = options;
  const problems: string[] = [];
  if (!(staleAfterMs > 0)) problems.push(`'staleAfterMs' must be positive, got ${staleAfterMs}`);
  if (!(downAfterMs > staleAfterMs)) problems.push(`'downAfterMs' must exceed 'staleAfterMs' (${staleAfterMs}), got ${downAfterMs}`);
  if (problems.length > 0) throw new ConfigError('dedupMerge options', problems);
  const scheduler = options.scheduler ?? asyncScheduler;
  const expectedFeeds = options.expectedFeeds ?? [];

  return (source) =>
    handWrittenStage<Tick>((stage) => {
      const feeds = new Map<string, FeedAccount>();
      const instruments = new Map<string, InstrumentState>();
      let healthCheck: Subscription | undefined;
      let healthCheckDueMs = Infinity;

      /** Arms the timer for `dueMs` unless it is already armed as early. */
      const scheduleHealthCheck = (dueMs: number): void => {
        if (dueMs >= healthCheckDueMs) return;
        healthCheck?.unsubscribe();
        healthCheckDueMs = dueMs;
        healthCheck = stage.schedule(scheduler, checkHealth, Math.max(0, dueMs - scheduler.now()));
      };

      // Ticks never touch the timer while their feed stays UP; the timer, when it fires, finds the next deadline itself.
      const checkHealth = (): void => {
        healthCheck = undefined;
        healthCheckDueMs = Infinity;
        const nowMs = scheduler.now();
        let nextDueMs = Infinity;
        for (const feed of feeds.values()) {
          if (feed.state === 'DOWN') continue;
          // State and next deadline come from the same sums, so a deadline is always later than now and the timer cannot spin.
          const staleAtMs = feed.lastArrivalMs + staleAfterMs;
          const downAtMs = feed.lastArrivalMs + downAfterMs;
          // A timer that fires late (a blocked event loop) may skip STALE and report DOWN at once.
          const state: FeedState = nowMs >= downAtMs ? 'DOWN' : nowMs >= staleAtMs ? 'STALE' : 'UP';
          if (state !== feed.state) {
            feed.state = state;
            stage.emitTo(status, feedStatusOf(feed, nowMs, `no tick for ${nowMs - feed.lastArrivalMs} ms`));
          }
          if (state !== 'DOWN') nextDueMs = Math.min(nextDueMs, state === 'UP' ? staleAtMs : downAtMs);
        }
        if (nextDueMs !== Infinity) scheduleHealthCheck(nextDueMs);
      };

      /** Decides whether `tick` is the first copy of a market event, counting it against its feed. */
      const admit = (tick: Tick, feed: FeedAccount): boolean => {
        const instrument = instruments.get(tick.instrument_id);
        if (instrument === undefined) {
          instruments.set(tick.instrument_id, { latestTs: tick.ts_event, emittedAtLatest: [tick] });
          feed.leadCount++;
          count?.(feed.feedId, 'lead');
          return true;
        }
        if (tick.ts_event < instrument.latestTs) {
          feed.dropCount++;
          metrics?.dropped('stale');
          count?.(feed.feedId, 'stale');
          return false;
        }
        const emitted = instrument.emittedAtLatest;
        if (tick.ts_event > instrument.latestTs) {
          instrument.latestTs = tick.ts_event;
          emitted.length = 0;
        } else {
          for (const earlier of emitted) {
            if (!isSameMarketEvent(earlier, tick)) continue;
            feed.dropCount++;
            // A feed repeating its own tick is not behind another feed.
            if (earlier.feed_id !== tick.feed_id) feed.lagCount++;
            metrics?.dropped('duplicate');
            count?.(feed.feedId, earlier.feed_id !== tick.feed_id ? 'lag' : 'duplicate');
            return false;
          }
          if (emitted.length >= MAX_EVENTS_PER_TIMESTAMP) emitted.shift();
        }
        emitted.push(tick);
        feed.leadCount++;
        count?.(feed.feedId, 'lead');
        return true;
      };

      const nowMs = scheduler.now();
      for (const feedId of expectedFeeds) feeds.set(feedId, newFeedAccount(feedId, nowMs));
      for (const feed of feeds.values()) stage.emitTo(status, feedStatusOf(feed, nowMs, 'expected feed, no tick yet'));
      // Reported before the source is followed: a status observer that throws here means no feed is subscribed to.
      stage.flush();

      stage.follow(source, (tick) => {
        const arrivalMs = scheduler.now();
        let feed = feeds.get(tick.feed_id);
        if (feed === undefined) {
          feed = newFeedAccount(tick.feed_id, arrivalMs);
          feeds.set(tick.feed_id, feed);
        }
        let upDetail: string | undefined;
        if (feed.state !== 'UP') {
          upDetail = feed.lastTickTs === null ? 'first tick' : `tick after ${arrivalMs - feed.lastArrivalMs} ms without one`;
          feed.state = 'UP';
          scheduleHealthCheck(arrivalMs + staleAfterMs);
        }
        feed.lastArrivalMs = arrivalMs;
        feed.lastTickTs = tick.ts_event;
        if (feed.lastSequence !== null && tick.sequence > feed.lastSequence + 1) {
          feed.gapCount++;
          count?.(feed.feedId, 'gap');
        }
        feed.lastSequence = tick.sequence;
        // The tick is queued before its feed's report, so a tick fed back in from `status` cannot overtake it.
        if (admit(tick, feed)) stage.emit(tick);
        if (upDetail !== undefined) stage.emitTo(status, feedStatusOf(feed, arrivalMs, upDetail));
      });
    });
}
