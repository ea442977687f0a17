import { Observable, type SchedulerAction } from 'rxjs';
import { defineComponent } from '../pipeline/components/define-component.js';
import { field } from '../pipeline/config/field.js';
import { ConfigError } from '../errors/errors.js';
import type { Tick } from '../schemas/generated.js';
import { SimMarket, type SimMarketOptions } from './sim-market.js';

/** Paced emission never reschedules more often than this, so high rates emit in small batches instead of one timer per tick. */
const MIN_PERIOD_MS = 10;
/** Paced emission reschedules at least this often, so a slow rate never asks for a timer longer than a timer can wait (2^31 − 1 ms). */
const MAX_PERIOD_MS = 1000;
/** Ticks per scheduler action when unpaced, so the event loop stays responsive. */
const UNPACED_CHUNK = 1000;
/** Highest paced `rate`, in ticks per second: more than any exchange sends, and about what one process can carry. */
export const MAX_SIM_RATE = 100_000;
/**
 * Most ticks one scheduler action emits, whatever the rate or however far
 * behind it is (two periods' worth at the highest rate), so that signals,
 * `--duration` and the other stages' timers always get their turn.
 */
export const MAX_SIM_BATCH = Math.ceil((2 * MAX_SIM_RATE * MIN_PERIOD_MS) / 1000);

/** `2025-01-02T21:00:00+08:00`: date, time (seconds and up to 6 fraction digits optional) and a mandatory offset, so the instant never depends on the machine's time zone. */
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|([+-])(\d{2}):(\d{2}))$/;

/** Epoch microseconds of an ISO-8601 instant with offset, or `undefined` when the text is not one. */
function parseInstantMicros(text: string): number | undefined {
  const match = ISO_INSTANT.exec(text);
  if (match === null) return undefined;
  const [year, month, day, hour, minute] = match.slice(1, 6).map(Number) as [number, number, number, number, number];
  const second = Number(match[6] ?? '0');
  const offset = match[8] ?? 'Z';
  const offsetMinutes = offset === 'Z' ? 0 : (match[9] === '-' ? -1 : 1) * (Number(match[10]) * 60 + Number(match[11]));
  const epochMs = Date.parse(`${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${String(second).padStart(2, '0')}${offset}`);
  if (Number.isNaN(epochMs)) return undefined;
  // Date.parse rolls 2025-02-30 over into March and accepts 24:00; reading the fields back rejects both.
  const local = new Date(epochMs + offsetMinutes * 60_000);
  const sameFields =
    local.getUTCFullYear() === year &&
    local.getUTCMonth() + 1 === month &&
    local.getUTCDate() === day &&
    local.getUTCHours() === hour &&
    local.getUTCMinutes() === minute &&
    local.getUTCSeconds() === second;
  return sameFields ? epochMs * 1000 + Number((match[7] ?? '').padEnd(6, '0')) : undefined;
}

interface MarketConfig {
  readonly instruments: readonly string[];
  readonly seed: number;
  readonly start: string;
  readonly tick_interval_ms: number;
  readonly feed_id: string;
  readonly latency_us: number;
}

/** The market's options; `start` must already have passed the definition's rule. */
function marketOptionsOf(config: MarketConfig): SimMarketOptions {
  return {
    instruments: config.instruments,
    seed: config.seed,
    start: parseInstantMicros(config.start) ?? 0,
    tickIntervalMs: config.tick_interval_ms,
    feedId: config.feed_id,
    latencyUs: config.latency_us,
  };
}

/** What the market would refuse (unknown instruments): building one checks its options. */
function marketProblems(config: MarketConfig): readonly string[] {
  try {
    new SimMarket(marketOptionsOf(config));
    return [];
  } catch (error: unknown) {
    if (!(error instanceof ConfigError)) throw error;
    // An unknown instrument's error names it in its subject.
    return error.context.instrument === undefined ? error.problems : [`'instruments': ${error.message}`];
  }
}

/**
 * The embedded default market data source: a seeded, deterministic simulated
 * China futures market (see {@link SimMarket}), paced on the pipeline's
 * scheduler.
 *
 * Emits `rate` ticks per second across all instruments, in batches at most
 * every 10 ms (and at least every second) and counted against elapsed
 * scheduler time, so the long-run rate is exact; `rate: 0` emits as fast as
 * possible, 1000 ticks per scheduler turn. No turn emits more than
 * {@link MAX_SIM_BATCH} ticks, so even at {@link MAX_SIM_RATE}, or far
 * behind after a stall, the event loop stays free for signals and timers. Completes after `count` ticks (0: never). Each
 * subscription replays the same ticks from the start. Market time
 * (`ts_event`) follows the simulated session calendar, not the scheduler.
 *
 * ```
 * rate 2, count 3:   500ms a 499ms b 499ms (c|)     one tick every 500 ms (a frame is 1 ms)
 * rate 0, count 3:   (abc|)                         all at once, no time passes
 * ```
 *
 * @example
 * ```ts
 * const ticks$ = simSource.create(validateComponentConfig(simSource, { rate: 0, count: 2 }), ctx);
 * ticks$.subscribe((tick) => console.log(`${tick.sequence} ${tick.instrument_id}`));
 * // Logs: 1 SHFE.rb2501
 * // Logs: 2 SHFE.cu2501
 * ```
 */
export const simSource = defineComponent({
  name: 'sim',
  kind: 'source',
  out: 'Tick',
  description: 'A seeded, deterministic simulated China futures market with trading sessions, price limits and a 5-level book.',
  spec: {
    instruments: field.stringList({
      description: 'Exchange-prefixed instruments to simulate; they tick in turn, each within its trading sessions',
      default: ['SHFE.rb2501', 'SHFE.cu2501', 'DCE.m2501', 'CZCE.SR501', 'CFFEX.IF2501', 'INE.sc2501'],
      example: ['SHFE.rb2501', 'DCE.i2501'],
    }),
    seed: field.integer({
      description: 'Seed of the random walk, a 32-bit unsigned integer; the same seed and config give the same ticks',
      default: 1,
      example: 42,
      min: 0,
      max: 4_294_967_295,
    }),
    rate: field.number({
      description: 'Ticks per second across all instruments, paced on the scheduler; 0 emits as fast as possible',
      default: 20,
      example: 1000,
      min: 0,
      max: MAX_SIM_RATE,
    }),
    count: field.integer({
      description: 'Number of ticks after which the source completes; 0 never completes',
      default: 0,
      example: 10_000,
      min: 0,
      max: Number.MAX_SAFE_INTEGER,
    }),
    start: field.string({
      description:
        'Market time of the first tick, an ISO-8601 instant with offset; moved to the next session open when outside every session',
      default: '2025-01-02T21:00:00+08:00',
      example: '2025-01-06T09:00:00+08:00',
    }),
    tick_interval_ms: field.integer({
      description: 'Market time between two rounds over all instruments, in milliseconds',
      default: 500,
      example: 250,
      min: 1,
      max: 86_400_000,
    }),
    feed_id: field.string({ description: 'Feed id written into every tick', default: 'sim', example: 'sim-a' }),
    latency_us: field.integer({
      description: 'Simulated receive latency: ts_recv = ts_event + latency_us',
      default: 2000,
      example: 500,
      min: 0,
      max: 60_000_000,
    }),
  },
  validate: [
    {
      rule: "'start' is an ISO-8601 instant with an offset",
      problems: (config) =>
        parseInstantMicros(config.start) === undefined
          ? [`'start' must be an ISO-8601 instant with an offset, e.g. 2025-01-02T21:00:00+08:00, got ${JSON.stringify(config.start)}`]
          : [],
    },
    {
      rule: "'instruments' are distinct products the simulated market knows, each with its microsecond in 'tick_interval_ms'",
      problems: (config) => marketProblems(config),
    },
  ],
  create(config, ctx) {
    const options = marketOptionsOf(config);
    const { rate, count } = config;
    const limit = count > 0 ? count : Infinity;
    const scheduler = ctx.scheduler;

    return new Observable<Tick>((subscriber) => {
      const market = new SimMarket(options);
      let emitted = 0;
      /** Emits up to `n` ticks; false once the subscriber is done (closed, or completed at `count`). */
      const emit = (n: number): boolean => {
        for (let i = 0; i < n && !subscriber.closed; i++) {
          const tick = market.next();
          emitted++; // counted before `next`, which may re-enter through a synchronous unsubscribe
          subscriber.next(tick);
        }
        if (emitted >= limit) subscriber.complete();
        return !subscriber.closed;
      };

      ctx.logger.info({ instruments: config.instruments, seed: config.seed, rate, count, start: config.start }, 'sim market started');

      if (rate === 0) {
        return scheduler.schedule(function (this: SchedulerAction<undefined>) {
          if (emit(Math.min(UNPACED_CHUNK, limit - emitted))) this.schedule(undefined, 0);
        }, 0);
      }
      const periodMs = Math.min(Math.max(1000 / rate, MIN_PERIOD_MS), MAX_PERIOD_MS);
      // A stalled event loop is caught up, but at most two periods' worth a turn (and never more than MAX_SIM_BATCH), so catching up cannot stall it again.
      const maxBurst = Math.min(MAX_SIM_BATCH, Math.max(UNPACED_CHUNK, Math.ceil((2 * rate * periodMs) / 1000)));
      const startedAt = scheduler.now();
      return scheduler.schedule(function (this: SchedulerAction<undefined>) {
        // The epsilon keeps float error in rate × elapsed from delaying a tick by a whole period.
        const due = Math.min(limit, Math.floor((rate * (scheduler.now() - startedAt)) / 1000 + 1e-9));
        if (emit(Math.min(maxBurst, due - emitted))) this.schedule(undefined, periodMs);
      }, periodMs);
    });
  },
});
