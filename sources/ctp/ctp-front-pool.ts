import type { SchedulerLike, Subscription } from 'rxjs';
import type { Logger } from 'pino';
import type { CtpDepthMarketData } from '../../native/ctp-depth-market-data.js';
import type { NativeAddonError } from '../../errors/errors.js';
import type { Instrumentation } from '../../pipeline/runtime/instrumentation.js';
import type { CounterSeries, GaugeSeries, StageMetric, StageMetrics } from '../../pipeline/runtime/stage-metrics.js';
import type { FeedState, FeedStatus, Tick } from '../../schemas/generated.js';
import { CtpFront, type CtpFrontListener, type CtpFrontOptions, type CtpFrontState } from './ctp-front.js';
import type { OpenCtpFrontApi } from './ctp-front-api.js';
import { CtpEvents } from './ctp-events.js';
import { CtpTickConverter } from './ctp-tick-converter.js';
import type { DistributionStrategy } from './distribution-strategy.js';
import { planSubscriptions } from './plan-subscriptions.js';

/** What a ctp source is configured with, resolved. */
export interface CtpFrontPoolOptions {
  readonly feedId: string;
  /** Exchange-prefixed (`SHFE.rb2501`) or bare CTP ids. */
  readonly instruments: readonly string[];
  readonly strategy: DistributionStrategy;
  /** `on_recovery`: when a front comes back, instruments are placed afresh, so those that fled it return. */
  readonly migrateBack: 'on_recovery' | 'never';
  readonly fronts: readonly CtpFrontOptions[];
}

/** Where the pool's records go. */
export interface CtpFrontPoolOutput {
  tick(tick: Tick): void;
  status(status: FeedStatus): void;
}

const FEED_STATE: Readonly<Record<CtpFrontState, FeedState>> = { connecting: 'DOWN', 'logging-in': 'DOWN', ready: 'UP', stale: 'STALE' };

/** Repeated warnings are logged one by one at first, then every thousandth, so a broken front cannot flood the log. */
const shouldLog = (count: number): boolean => count <= 10 || count % 1000 === 0;

/** `SHFE.rb2501` → `rb2501`: CTP subscribes and reports bare instrument ids. */
const ctpIdOf = (instrument: string): string => instrument.slice(instrument.indexOf('.') + 1);

/**
 * The fronts of one ctp source and the instruments spread over them. Each
 * instrument is subscribed on one front at a time, the one the planner
 * chose (its target). On a disconnect or staleness the target moves to a
 * healthy front; when a front comes back, instruments are placed afresh
 * (`migrate_back: on_recovery`) or stay (`never`). A move is
 * make-before-break: the new front is subscribed first and becomes the
 * instrument's owner at its first tick, and only then is the old one
 * unsubscribed, so a move to a front that turns out silent loses nothing.
 * Ticks from any other front are dropped as overlap.
 *
 * ```
 * script:   -------------x------     x: front a dies (its instrument is subscribed on b at once)
 *   fronts a (preferred) and b, one instrument ticking every 4 ms   (1 ms a frame)
 * ticks:    --------a---a---b---     the instrument's ticks, by the front they came from: b from its first
 * moves:    --------a-------b---     the instrument's owner: a, then b at b's first tick
 * status:   (dD)--(uU)---d------     lower case front a, upper case b: DOWN (connecting), UP
 * ```
 */
export class CtpFrontPool implements CtpFrontListener {
  private readonly fronts: CtpFront[];
  private readonly ctpIds: readonly string[];
  private readonly known: ReadonlySet<string>;
  private readonly converter: CtpTickConverter;
  /** The front each instrument should be on. */
  private readonly target = new Map<string, CtpFront>();
  /** The front whose ticks of an instrument are taken. */
  private readonly owner = new Map<string, CtpFront>();
  private readonly everReady = new Set<CtpFront>();
  private readonly reported = new Map<CtpFront, FeedState>();
  private readonly warnings = new Map<string, number>();
  private unassigned = '';
  private timer: Subscription | undefined;
  private readonly frontUp: StageMetric<GaugeSeries>;
  private readonly frontInstruments: StageMetric<GaugeSeries>;
  private readonly moves: StageMetric<CounterSeries>;
  private readonly queueDropped: StageMetric<CounterSeries>;

  /**
   * @param openApi opens each front's API: `CtpMdApi.open` in the ctp source, a scripted one in tests
   * @param random the jitter of the fronts' login backoff, in [0, 1)
   */
  constructor(
    private readonly options: CtpFrontPoolOptions,
    private readonly scheduler: SchedulerLike,
    private readonly logger: Logger,
    private readonly metrics: StageMetrics,
    private readonly instrumentation: Instrumentation,
    private readonly out: CtpFrontPoolOutput,
    openApi: OpenCtpFrontApi,
    random: () => number = Math.random,
  ) {
    this.fronts = options.fronts.map((f) => new CtpFront(f, scheduler, logger, this, openApi, random));
    this.ctpIds = options.instruments.map(ctpIdOf);
    this.known = new Set(this.ctpIds);
    this.converter = new CtpTickConverter({ feedId: options.feedId });
    this.frontUp = metrics.gauge('front_up');
    this.frontInstruments = metrics.gauge('front_instruments');
    this.moves = metrics.counter('instrument_moves_total');
    this.queueDropped = metrics.counter('queue_dropped_total');
    for (const { name: front } of this.fronts) {
      this.frontUp.labels({ front }).set(0);
      this.frontInstruments.labels({ front }).set(0);
      this.queueDropped.labels({ front }).inc(0);
    }
  }

  /** Opens every front; the staleness check runs on the scheduler. */
  start(staleAfterMs: number): void {
    for (const front of this.fronts) {
      this.report(front, 'connecting', `connecting to ${front.options.address}`);
      front.start();
    }
    const period = Math.max(10, Math.floor(staleAfterMs / 4));
    const check = (): void => {
      for (const front of this.fronts) if (!front.checkStale()) front.recheck();
      // Instruments of a stale front move as soon as another front is healthy, not only when some front changes state.
      if (this.fronts.some((f) => f.holdsStaleInstruments())) this.replan(false);
      this.timer = this.scheduler.schedule(check, period);
    };
    this.timer = this.scheduler.schedule(check, period);
  }

  close(): void {
    this.timer?.unsubscribe();
    for (const front of this.fronts) front.close();
  }

  onState(front: CtpFront, previous: CtpFrontState, detail: string): void {
    this.report(front, front.state, detail);
    const type = front.state === 'ready' ? CtpEvents.FRONT_READY : CtpEvents.FRONT_UNAVAILABLE;
    this.instrumentation.emit(type, { feed: this.options.feedId, front: front.name, state: front.state, previous, detail });
    if (front.state === 'ready') {
      // A front's first login is a placement from scratch (the others may have taken everything while it connected).
      const first = !this.everReady.has(front);
      this.everReady.add(front);
      // Data coming back to a front that kept its instruments (every front goes quiet in a market break) is no recovery.
      const recovered = previous !== 'stale' || front.subscribed.size === 0;
      this.replan(first || (recovered && this.options.migrateBack === 'on_recovery'));
    } else {
      this.replan(false);
    }
  }

  onSubscribed(front: CtpFront, instrumentId: string, error: NativeAddonError | null): void {
    if (error !== null)
      this.warn(
        `refused:${front.name}:${instrumentId}`,
        { front: front.name, instrument: instrumentId, err: error },
        `ctp front ${front.name} refused ${instrumentId}: ${error.message}`,
      );
  }

  onDepth(front: CtpFront, data: CtpDepthMarketData): void {
    const id = data.InstrumentID;
    if (!this.known.has(id)) {
      this.drop(front, 'unrequested', `${front.name} sent ${JSON.stringify(id)}, which this source did not ask for`);
      return;
    }
    const owner = this.owner.get(id);
    if (front !== owner) {
      if (front !== this.target.get(id)) {
        this.metrics.dropped('overlap');
        front.unsubscribe([id]); // left over from a move; no-op when already gone
        return;
      }
      // The new front delivers: it owns the instrument from this tick on, and the old one can let go.
      this.owner.set(id, front);
      if (owner !== undefined) owner.unsubscribe([id]);
      if (owner !== undefined) this.frontInstruments.labels({ front: owner.name }).dec();
      this.frontInstruments.labels({ front: front.name }).inc();
      this.moves.inc();
      this.instrumentation.emit(CtpEvents.INSTRUMENT_MOVED, {
        feed: this.options.feedId,
        instrument: id,
        from: owner?.name ?? null,
        to: front.name,
      });
    }
    const tick = this.converter.convert(data, Math.round(this.scheduler.now() * 1000));
    if ('reason' in tick) {
      this.drop(front, tick.reason, tick.detail);
      return;
    }
    front.lastTickTs = tick.ts_event;
    this.out.tick(tick);
  }

  onLoginFailed(front: CtpFront, detail: string): void {
    // Still DOWN, but the status says why, so a refused login is visible on the feed panel too.
    this.report(front, front.state, detail, true);
  }

  onOverflow(front: CtpFront, dropped: number): void {
    this.metrics.dropped('queue-overflow', dropped);
    this.queueDropped.labels({ front: front.name }).inc(dropped);
    front.dropCount += dropped;
    this.warn(
      `overflow:${front.name}`,
      { front: front.name, dropped },
      `ctp front ${front.name}: the addon's queue was full; ${dropped} ticks dropped (JavaScript fell behind the callback thread)`,
    );
  }

  /** Places instruments by the strategy and subscribes what moved. `rebalance`: from scratch, else only what sits on no healthy front. */
  private replan(rebalance: boolean): void {
    const current = new Map<string, string>();
    for (const [id, front] of this.target) current.set(id, front.name);
    const { assignment, unassigned } = planSubscriptions({
      strategy: this.options.strategy,
      instruments: this.ctpIds,
      fronts: this.fronts.map((f) => f.view()),
      current,
      rebalance,
    });
    const byName = new Map(this.fronts.map((f) => [f.name, f]));
    const asks = new Map<CtpFront, string[]>();
    for (const id of this.ctpIds) {
      const next = byName.get(assignment.get(id) ?? '');
      if (next === undefined) continue; // no healthy front has room: the instrument stays where it was
      const previous = this.target.get(id);
      if (previous !== next) {
        this.target.set(id, next);
        // A move that never delivered is called off; the owner keeps serving until the new front's first tick.
        if (previous !== undefined && previous !== this.owner.get(id)) previous.unsubscribe([id]);
      }
      if (!next.subscribed.has(id) && !next.pending.has(id)) asks.set(next, [...(asks.get(next) ?? []), id]);
    }
    for (const [front, ids] of asks) front.subscribe(ids);
    const missing = unassigned.join(',');
    if (missing !== this.unassigned) {
      this.unassigned = missing;
      // With no front logged in yet (start-up, or every front down) the fronts' own DOWN reports say it all.
      if (missing !== '' && this.fronts.some((f) => f.isHealthy()))
        this.logger.warn(
          { feed: this.options.feedId, instruments: unassigned },
          `ctp: no healthy front has room for ${unassigned.length} instruments: ${unassigned.join(', ')}`,
        );
    }
  }

  /** Reports a front's FeedStatus when its state changed, or always (`problem`: logged as a warning). */
  private report(front: CtpFront, state: CtpFrontState, detail: string, problem = false): void {
    const feedState = FEED_STATE[state];
    if (this.reported.get(front) === feedState && !problem) return;
    this.reported.set(front, feedState);
    this.frontUp.labels({ front: front.name }).set(feedState === 'UP' ? 1 : 0);
    const feedId = `${this.options.feedId}/${front.name}`;
    this.logger[problem ? 'warn' : 'info'](
      { feed: feedId, state: feedState, front: front.options.address },
      `ctp front ${front.name} ${feedState}: ${detail}`,
    );
    this.out.status({
      feed_id: feedId,
      state: feedState,
      ts_event: Math.round(this.scheduler.now() * 1000),
      last_tick_ts: front.lastTickTs,
      lead_count: 0,
      lag_count: 0,
      gap_count: 0,
      drop_count: front.dropCount,
      detail,
    });
  }

  private drop(front: CtpFront, reason: string, detail: string): void {
    this.metrics.dropped(reason);
    front.dropCount++;
    this.warn(`drop:${reason}`, { front: front.name, reason }, `ctp front ${front.name}: tick dropped (${reason}): ${detail}`);
  }

  private warn(key: string, fields: Record<string, unknown>, message: string): void {
    const count = (this.warnings.get(key) ?? 0) + 1;
    this.warnings.set(key, count);
    if (shouldLog(count)) this.logger.warn({ ...fields, count }, message);
  }
}
