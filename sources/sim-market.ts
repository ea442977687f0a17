import type { ProductSpec } from '../domain/product-table.js';
import { TradingSessions } from '../domain/trading-sessions.js';
import { ConfigError } from '../errors/errors.js';
import { InstrumentId, type Tick } from '../schemas/generated.js';

/** Options of {@link SimMarket}. */
export interface SimMarketOptions {
  /** Exchange-prefixed instrument ids, e.g. `SHFE.rb2501`; an id without prefix gets its product's exchange. */
  readonly instruments: readonly string[];
  /** Same seed and options, same ticks. */
  readonly seed: number;
  /** Market time of the first tick, epoch microseconds; moved to the next session open when outside every session. */
  readonly start: number;
  /** Market time between two rounds over all instruments, in milliseconds. */
  readonly tickIntervalMs: number;
  readonly feedId: string;
  /** Added to the event time to make the receive time, in microseconds. */
  readonly latencyUs: number;
}

const MICROS_PER_MS = 1000;
const MAX_TRADE_QTY = 30;
const MAX_BOOK_QTY = 500;
const TRADE_PROBABILITY = 0.8;
/** A round needs at most one jump; more means the session calendar is inconsistent. */
const MAX_JUMPS_PER_ROUND = 8;

/**
 * mulberry32: a 32-bit Weyl sequence scrambled by two multiply-xorshift
 * rounds. Tiny, fast and well distributed enough for simulated prices; not
 * for anything needing cryptographic or long-period randomness.
 */
class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
}

/** Daily and running state of one instrument. Prices are held as whole ticks so they stay exact multiples of the tick size. */
class InstrumentState {
  tradingDay: string | undefined = undefined;
  lastTicks: number;
  preSettlementTicks: number;
  preCloseTicks: number;
  preOpenInterest: number;
  upperLimitTicks = 0;
  lowerLimitTicks = 0;
  openTicks: number | null = null;
  highTicks: number | null = null;
  lowTicks: number | null = null;
  volume = 0;
  turnover = 0;
  openInterest: number;
  private readonly priceScale: number;

  constructor(
    readonly instrumentId: InstrumentId,
    readonly spec: ProductSpec,
    openInterest: number,
  ) {
    this.priceScale = 10 ** (String(spec.tickSize).split('.')[1]?.length ?? 0);
    this.lastTicks = Math.round(spec.basePrice / spec.tickSize);
    this.preSettlementTicks = this.lastTicks;
    this.preCloseTicks = this.lastTicks;
    this.openInterest = openInterest;
    this.preOpenInterest = openInterest;
  }

  /** Rounded to the tick size's decimals so that 31001 × 0.02 reads 620.02, not 620.0200000000001. */
  price(ticks: number): number {
    return Math.round(ticks * this.spec.tickSize * this.priceScale) / this.priceScale;
  }

  /** A book level's price, or null when it lies beyond the limits (the level is empty). */
  levelPrice(ticks: number): number | null {
    return ticks >= this.lowerLimitTicks && ticks <= this.upperLimitTicks ? this.price(ticks) : null;
  }

  levelVolume(ticks: number, random: SeededRandom): number {
    return ticks >= this.lowerLimitTicks && ticks <= this.upperLimitTicks ? random.int(1, MAX_BOOK_QTY) : 0;
  }

  averagePrice(): number | null {
    return this.volume === 0 ? null : this.turnover / (this.volume * this.spec.multiplier);
  }

  /** Starts a trading day: the previous day's settlement (its VWAP, as on SHFE), close and open interest become the pre_* values. */
  startTradingDay(tradingDay: string): void {
    if (this.tradingDay !== undefined) {
      const average = this.averagePrice();
      const settlementTicks = average === null ? this.preSettlementTicks : Math.round(average / this.spec.tickSize);
      this.preSettlementTicks = Math.min(this.upperLimitTicks, Math.max(this.lowerLimitTicks, settlementTicks));
      this.preCloseTicks = this.lastTicks;
      this.preOpenInterest = this.openInterest;
    }
    this.tradingDay = tradingDay;
    const band = (this.preSettlementTicks * this.spec.limitPercent) / 100;
    // Limits round inward to whole ticks, so they never exceed the percentage band (epsilon absorbs float error).
    this.upperLimitTicks = Math.floor(this.preSettlementTicks + band + 1e-9);
    this.lowerLimitTicks = Math.ceil(this.preSettlementTicks - band - 1e-9);
    this.openTicks = null;
    this.highTicks = null;
    this.lowTicks = null;
    this.volume = 0;
    this.turnover = 0;
  }

  trade(priceTicks: number, qty: number, openInterestChange: number): void {
    this.lastTicks = priceTicks;
    this.openTicks ??= priceTicks;
    this.highTicks = this.highTicks === null ? priceTicks : Math.max(this.highTicks, priceTicks);
    this.lowTicks = this.lowTicks === null ? priceTicks : Math.min(this.lowTicks, priceTicks);
    this.volume += qty;
    // Cents, so the sum does not pick up float noise over a day.
    this.turnover = Math.round((this.turnover + this.price(priceTicks) * qty * this.spec.multiplier) * 100) / 100;
    this.openInterest = Math.max(0, this.openInterest + openInterestChange);
  }
}

/**
 * A seeded, deterministic simulated China futures market: `next()` returns
 * the next {@link Tick} of a random walk per instrument, with a 5-level book,
 * daily cumulative volume, turnover and open interest, and price limits.
 *
 * Instruments tick round robin. Each round advances market time by
 * `tickIntervalMs`; within a round the instruments are 1 ms apart (less when
 * the interval is too short). Instruments outside their trading session skip
 * the round; when none is in session the clock jumps to the next session
 * open, so every tick lies inside its instrument's session and event times
 * never go backwards. The generator reads no clock: same seed and options,
 * same ticks, byte for byte.
 *
 * @example
 * ```ts
 * const market = new SimMarket({ instruments: ['SHFE.rb2501'], seed: 1, start: Date.parse('2025-01-02T21:00:00+08:00') * 1000, tickIntervalMs: 500, feedId: 'sim', latencyUs: 2000 });
 * const tick = market.next();
 * console.log(tick.instrument_id, tick.trading_day, tick.sequence);
 * // Logs: SHFE.rb2501 20250103 1
 * ```
 */
export class SimMarket {
  private readonly sessions = new TradingSessions();
  private readonly random: SeededRandom;
  private readonly states: readonly InstrumentState[];
  private readonly intervalUs: number;
  /** Spacing of the instruments' event times within a round. */
  private readonly slotUs: number;
  private readonly feedId: string;
  private readonly latencyUs: number;
  private readonly inSession: boolean[];
  private roundStart: number;
  /** Index of the instrument whose turn is next in the current round. */
  private slot = 0;
  private sequence = 0;

  /** @throws ConfigError naming every invalid option, or the first unknown instrument. */
  constructor(options: SimMarketOptions) {
    const problems: string[] = [];
    if (options.instruments.length === 0) problems.push(`'instruments' must name at least one instrument`);
    const duplicates = options.instruments.filter((id, i) => options.instruments.indexOf(id) !== i);
    if (duplicates.length > 0) problems.push(`'instruments' lists ${[...new Set(duplicates)].join(', ')} more than once`);
    if (!Number.isSafeInteger(options.start)) problems.push(`'start' must be epoch microseconds (a safe integer), got ${options.start}`);
    if (!Number.isInteger(options.tickIntervalMs) || options.tickIntervalMs < 1) {
      problems.push(`'tickIntervalMs' must be a positive integer, got ${options.tickIntervalMs}`);
    } else if (options.tickIntervalMs * MICROS_PER_MS < options.instruments.length) {
      // Each instrument needs its own microsecond within a round.
      problems.push(`'tickIntervalMs' of ${options.tickIntervalMs} is too short for ${options.instruments.length} instruments`);
    }
    if (!Number.isInteger(options.latencyUs) || options.latencyUs < 0)
      problems.push(`'latencyUs' must be a non-negative integer, got ${options.latencyUs}`);
    if (!Number.isFinite(options.seed)) problems.push(`'seed' must be a finite number, got ${options.seed}`);
    if (problems.length > 0) throw new ConfigError('sim market', problems);

    this.random = new SeededRandom(options.seed);
    this.states = options.instruments.map((id) => {
      const spec = this.sessions.productOf(id);
      const prefixed = id.includes('.') ? id : `${spec.exchange}.${id}`;
      // The configured names are where instrument ids enter.
      return new InstrumentState(InstrumentId(prefixed), spec, this.random.int(50_000, 300_000));
    });
    this.intervalUs = options.tickIntervalMs * MICROS_PER_MS;
    this.slotUs = Math.min(MICROS_PER_MS, Math.floor(this.intervalUs / this.states.length));
    this.feedId = options.feedId;
    this.latencyUs = options.latencyUs;
    this.inSession = new Array<boolean>(this.states.length).fill(false);
    this.roundStart = options.start;
    this.planRound();
  }

  /** The next tick, in event-time order. */
  next(): Tick {
    const count = this.states.length;
    // planRound guarantees a tick in every round, so two rounds always suffice.
    for (let step = 0; step <= 2 * count; step++) {
      if (this.slot === count) {
        this.roundStart += this.intervalUs;
        this.planRound();
      }
      const index = this.slot++;
      const state = this.states[index];
      if (state !== undefined && this.inSession[index] === true) return this.tick(state, this.roundStart + index * this.slotUs);
    }
    throw new Error('SimMarket: no instrument in session after a full round');
  }

  /** Marks who trades this round; when nobody does, moves the round to the earliest next session open. */
  private planRound(): void {
    this.slot = 0;
    for (let jump = 0; jump <= MAX_JUMPS_PER_ROUND; jump++) {
      let earliestOpen = Infinity;
      let anyInSession = false;
      for (let i = 0; i < this.states.length; i++) {
        const id = (this.states[i] as InstrumentState).instrumentId;
        const at = this.roundStart + i * this.slotUs;
        const inSession = this.sessions.isInSession(id, at);
        this.inSession[i] = inSession;
        anyInSession ||= inSession;
        if (!inSession) earliestOpen = Math.min(earliestOpen, this.sessions.nextSessionStart(id, at));
      }
      if (anyInSession) return;
      this.roundStart = earliestOpen;
    }
    throw new Error('SimMarket: the session calendar offers no session to jump to');
  }

  private tick(s: InstrumentState, tsEvent: number): Tick {
    const random = this.random;
    const tradingDay = this.sessions.tradingDay(s.instrumentId, tsEvent);
    if (tradingDay !== s.tradingDay) s.startTradingDay(tradingDay);
    const volumeBefore = s.volume;

    // The day's first tick always trades, so open, high, low and last are set from then on.
    if (s.openTicks === null || random.next() < TRADE_PROBABILITY) {
      const move = random.next();
      const step = move < 0.3 ? -1 : move < 0.7 ? 0 : 1;
      const priceTicks = Math.min(s.upperLimitTicks, Math.max(s.lowerLimitTicks, s.lastTicks + step));
      const qty = random.int(1, MAX_TRADE_QTY);
      s.trade(priceTicks, qty, random.int(-qty, qty));
    }

    // The last trade sits at the bid or the ask; the spread is one tick, sometimes two. One tick of room is kept below the upper limit.
    const bid1 = Math.min(s.upperLimitTicks - 1, Math.max(s.lowerLimitTicks, random.next() < 0.5 ? s.lastTicks : s.lastTicks - 1));
    const ask1 = Math.min(s.upperLimitTicks, bid1 + (random.next() < 0.9 ? 1 : 2));
    const high = s.highTicks;
    const low = s.lowTicks;
    const open = s.openTicks;

    this.sequence++;
    return {
      instrument_id: s.instrumentId,
      trading_day: tradingDay,
      action_day: this.sessions.actionDay(tsEvent),
      ts_event: tsEvent,
      last_price: s.price(s.lastTicks),
      pre_settlement: s.price(s.preSettlementTicks),
      pre_close: s.price(s.preCloseTicks),
      pre_open_interest: s.preOpenInterest,
      open: open === null ? null : s.price(open),
      high: high === null ? null : s.price(high),
      low: low === null ? null : s.price(low),
      // Exchanges set close and settlement only after the close; intraday they are unset (DBL_MAX in CTP).
      close: null,
      settlement: null,
      upper_limit: s.price(s.upperLimitTicks),
      lower_limit: s.price(s.lowerLimitTicks),
      average_price: s.averagePrice(),
      volume: s.volume,
      last_volume: s.volume - volumeBefore,
      turnover: s.turnover,
      open_interest: s.openInterest,
      bid_price1: s.levelPrice(bid1),
      bid_volume1: s.levelVolume(bid1, random),
      ask_price1: s.levelPrice(ask1),
      ask_volume1: s.levelVolume(ask1, random),
      bid_price2: s.levelPrice(bid1 - 1),
      bid_volume2: s.levelVolume(bid1 - 1, random),
      ask_price2: s.levelPrice(ask1 + 1),
      ask_volume2: s.levelVolume(ask1 + 1, random),
      bid_price3: s.levelPrice(bid1 - 2),
      bid_volume3: s.levelVolume(bid1 - 2, random),
      ask_price3: s.levelPrice(ask1 + 2),
      ask_volume3: s.levelVolume(ask1 + 2, random),
      bid_price4: s.levelPrice(bid1 - 3),
      bid_volume4: s.levelVolume(bid1 - 3, random),
      ask_price4: s.levelPrice(ask1 + 3),
      ask_volume4: s.levelVolume(ask1 + 3, random),
      bid_price5: s.levelPrice(bid1 - 4),
      bid_volume5: s.levelVolume(bid1 - 4, random),
      ask_price5: s.levelPrice(ask1 + 4),
      ask_volume5: s.levelVolume(ask1 + 4, random),
      feed_id: this.feedId,
      ts_recv: tsEvent + this.latencyUs,
      sequence: this.sequence,
    };
  }
}
