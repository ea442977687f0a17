import type { SchedulerLike } from 'rxjs';
import type { StandaloneContext } from '../../../pipeline/components/standalone-context.js';
import type { FeedStatus, Tick } from '../../../schemas/generated.js';
import { CtpEvents } from '../../../sources/ctp/ctp-events.js';
import { CtpFrontPool } from '../../../sources/ctp/ctp-front-pool.js';
import type { DistributionStrategy } from '../../../sources/ctp/distribution-strategy.js';
import { ctpSource } from '../../../sources/ctp-source.js';
import { testContext } from '../../support/test-context.js';
import { ScriptedMarket } from './scripted-market.js';
import type { ScriptedMdApi, ScriptedTiming } from './scripted-md-api.js';

/** The fronts and market of one scripted run; every field but `instruments` and `fronts` has a default. */
export interface ScriptedPoolConfig {
  readonly instruments: readonly string[];
  readonly fronts: readonly { readonly name: string; readonly priority?: number; readonly maxSubscriptions?: number }[];
  /** Default `hash`. */
  readonly strategy?: DistributionStrategy;
  /** Default `on_recovery`. */
  readonly migrateBack?: 'on_recovery' | 'never';
  /** Default 1000 (the staleness check runs every 250 ms). */
  readonly staleAfterMs?: number;
  /** Default 5000. */
  readonly staleHoldMs?: number;
  /** Jitter of the login backoff; default 0.5, which is none. */
  readonly random?: () => number;
  /** Default: ticks every 100 ms from 30 ms, so no tick falls on a staleness check. */
  readonly tickEveryMs?: number;
  readonly firstTickAt?: number;
  /** Exchange local time at virtual time 0, in a day session; default `2025-01-02T10:00:00` (Thursday morning). */
  readonly localStart?: string;
  /** Default: connect 10 ms, answers 5 ms, reconnect 100 ms. */
  readonly timing?: ScriptedTiming;
}

/** One instrumentation event of the source, at virtual time `at`. */
export interface RecordedEvent {
  readonly at: number;
  readonly type: string;
  readonly payload: Readonly<Record<string, unknown>>;
}

/** A running pool on scripted fronts, and everything it put out. */
export interface ScriptedPoolRun {
  readonly market: ScriptedMarket;
  readonly pool: CtpFrontPool;
  readonly ctx: StandaloneContext;
  readonly ticks: Tick[];
  readonly statuses: FeedStatus[];
  readonly events: RecordedEvent[];
  /** The scripted API of the front named `name`. */
  api(name: string): ScriptedMdApi;
  /** CTP id → the front whose ticks it takes, as the `source.ctp.moved` events say. */
  owners(): Map<string, string>;
}

/**
 * Starts a CtpFrontPool as the ctp source builds it (its context, metrics and
 * events from the source's definition), its fronts' APIs scripted on
 * `scheduler`. Fronts are at `tcp://127.0.0.1:41001`, `…:41002`, … in order.
 * Call inside `TestScheduler.run` and close the pool at the end of the
 * script, so the run ends.
 */
export function startScriptedPool(scheduler: SchedulerLike, config: ScriptedPoolConfig): ScriptedPoolRun {
  const ctx = testContext(scheduler, ctpSource, { stage: 'ctp' });
  const market = new ScriptedMarket(scheduler, {
    instruments: config.instruments,
    localStart: config.localStart ?? '2025-01-02T10:00:00',
    tickEveryMs: config.tickEveryMs ?? 100,
    firstTickAt: config.firstTickAt ?? 30,
    timing: config.timing ?? { connectMs: 10, replyMs: 5, reconnectMs: 100 },
  });
  const staleAfterMs = config.staleAfterMs ?? 1000;
  const addressOf = new Map(config.fronts.map((f, i) => [f.name, `tcp://127.0.0.1:${41_001 + i}`]));
  const fronts = config.fronts.map((f) => ({
    name: f.name,
    address: addressOf.get(f.name) as string,
    brokerId: '9999',
    userId: 'scripted',
    password: 'secret',
    maxSubscriptions: f.maxSubscriptions ?? 1000,
    priority: f.priority ?? 0,
    flowPath: `flow/${f.name}`,
    libraryPath: 'scripted',
    queueCapacity: 1024,
    maxBatch: 1024,
    staleAfterMs,
    staleHoldMs: config.staleHoldMs ?? 5000,
  }));
  const ticks: Tick[] = [];
  const statuses: FeedStatus[] = [];
  const events: RecordedEvent[] = [];
  for (const type of Object.values(CtpEvents))
    ctx.instrumentation.on(type, (e) => events.push({ at: e.timestamp, type: e.type, payload: e.payload }));
  const pool = new CtpFrontPool(
    {
      feedId: 'ctp',
      instruments: config.instruments,
      strategy: config.strategy ?? 'hash',
      migrateBack: config.migrateBack ?? 'on_recovery',
      fronts,
    },
    scheduler,
    ctx.logger,
    ctx.metrics,
    ctx.instrumentation,
    { tick: (t) => ticks.push(t), status: (s) => statuses.push(s) },
    market.open,
    config.random ?? (() => 0.5),
  );
  pool.start(staleAfterMs);
  return {
    market,
    pool,
    ctx,
    ticks,
    statuses,
    events,
    api: (name) => market.front(addressOf.get(name) ?? `(no front ${name})`),
    owners: () => {
      const owners = new Map<string, string>();
      for (const e of events)
        if (e.type === CtpEvents.INSTRUMENT_MOVED) owners.set(e.payload['instrument'] as string, e.payload['to'] as string);
      return owners;
    },
  };
}
