import type { Tick } from '../schemas/generated.js';

/**
 * The bounds a Tick from outside (an upstream feed, a replayed recording)
 * must keep to before strategies and risk see it. The schema says a price
 * is a double; these say it is a price.
 */
export const TickSanityBounds = {
  /** Longest instrument id: `EXCHANGE.symbol`, e.g. `CFFEX.IO2501-C-4000` (19). */
  maxInstrumentIdLength: 40,
  /** Largest price magnitude; far above any futures price, far below CTP's DBL_MAX for "unset". Prices may be negative (spreads, 2020 oil). */
  maxPrice: 1e12,
  /** Largest turnover (cumulative traded amount of the day). */
  maxTurnover: 1e18,
  /** Event time must be before 2200-01-01 (epoch microseconds), and after the epoch. */
  maxTsEvent: Date.UTC(2200, 0, 1) * 1000,
  /** Largest lots at one book level (the schema's int). */
  maxBookVolume: 2 ** 31 - 1,
} as const;

/** `EXCHANGE.symbol`: 2–8 capitals, a dot, then letters, digits, `-` and `_` (options: `DCE.m2501-C-3000`). */
const INSTRUMENT_ID = /^[A-Z]{2,8}\.[A-Za-z0-9][A-Za-z0-9_-]*$/;
const DAY = /^\d{8}$/;
/** Values are quoted at most this long in a problem: the text may be anything an upstream sent. */
const MAX_SHOWN = 40;

const PRICE_FIELDS = [
  'last_price',
  'pre_settlement',
  'pre_close',
  'open',
  'high',
  'low',
  'close',
  'settlement',
  'upper_limit',
  'lower_limit',
  'average_price',
  'bid_price1',
  'ask_price1',
  'bid_price2',
  'ask_price2',
  'bid_price3',
  'ask_price3',
  'bid_price4',
  'ask_price4',
  'bid_price5',
  'ask_price5',
] as const satisfies readonly (keyof Tick)[];
const BOOK_VOLUME_FIELDS = [
  'bid_volume1',
  'ask_volume1',
  'bid_volume2',
  'ask_volume2',
  'bid_volume3',
  'ask_volume3',
  'bid_volume4',
  'ask_volume4',
  'bid_volume5',
  'ask_volume5',
] as const satisfies readonly (keyof Tick)[];
const INTEREST_FIELDS = ['pre_open_interest', 'open_interest'] as const satisfies readonly (keyof Tick)[];

/** A value as a problem names it: text quoted and cut, numbers as JavaScript prints them (NaN, 1e+308), anything else by its kind. */
export function shownValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Why `id` is not an instrument id of the form `EXCHANGE.symbol` (e.g.
 * `SHFE.rb2501`) of at most 40 characters, or `undefined` when it is one.
 */
export function checkInstrumentId(id: unknown): string | undefined {
  if (typeof id === 'string' && id.length <= TickSanityBounds.maxInstrumentIdLength && INSTRUMENT_ID.test(id)) return undefined;
  return `'instrument_id' ${shownValue(id)} is not EXCHANGE.symbol (e.g. SHFE.rb2501, at most ${TickSanityBounds.maxInstrumentIdLength} characters)`;
}

const isNonNegativeSafeInteger = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * Instrument ids and days already found well-formed: a regular expression
 * costs about 0.1 µs a test, three per tick, and a replay sees the same few
 * hundred ids and two days again and again. Bounded: cleared when full.
 */
const knownInstrumentIds = new Set<string>();
const MAX_KNOWN_INSTRUMENT_IDS = 100_000;
let knownDays: readonly [string, string] = ['', ''];

function isKnownInstrumentId(id: unknown): boolean {
  if (typeof id !== 'string') return false;
  if (knownInstrumentIds.has(id)) return true;
  if (!(id.length <= TickSanityBounds.maxInstrumentIdLength && INSTRUMENT_ID.test(id))) return false;
  if (knownInstrumentIds.size >= MAX_KNOWN_INSTRUMENT_IDS) knownInstrumentIds.clear();
  knownInstrumentIds.add(id);
  return true;
}

function isKnownDay(day: unknown): boolean {
  if (typeof day !== 'string') return false;
  if (day === knownDays[0] || day === knownDays[1]) return true;
  if (!DAY.test(day)) return false;
  knownDays = [day, knownDays[0]];
  return true;
}

/**
 * The checks below as one straight-line expression, each field read by its
 * name, generated once from the field lists: a yes for the plausible ticks
 * (nearly all), so that the loops over field names, whose keyed loads cost
 * several times more on every tick of a replay, run only to say what is
 * wrong. It holds exactly when every check below passes.
 */
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from our own field names, never input
const buildPlausibleTick = new Function(
  'isInstrumentId',
  'isDay',
  `return (t) =>
    isInstrumentId(t.instrument_id) &&
    isDay(t.trading_day) && isDay(t.action_day) &&
    Number.isSafeInteger(t.ts_event) && t.ts_event > 0 && t.ts_event < ${TickSanityBounds.maxTsEvent} &&
    ${PRICE_FIELDS.map((f) => `(t.${f} === null || (typeof t.${f} === 'number' && Math.abs(t.${f}) < ${TickSanityBounds.maxPrice}))`).join(' &&\n    ')} &&
    Number.isSafeInteger(t.volume) && t.volume >= 0 &&
    (t.last_volume === null || (Number.isSafeInteger(t.last_volume) && t.last_volume >= 0)) &&
    ${BOOK_VOLUME_FIELDS.map((f) => `Number.isInteger(t.${f}) && t.${f} >= 0 && t.${f} <= ${TickSanityBounds.maxBookVolume}`).join(' &&\n    ')} &&
    typeof t.turnover === 'number' && t.turnover >= 0 && t.turnover < ${TickSanityBounds.maxTurnover} &&
    ${INTEREST_FIELDS.map((f) => `typeof t.${f} === 'number' && t.${f} >= 0 && t.${f} <= ${Number.MAX_SAFE_INTEGER}`).join(' &&\n    ')};`,
) as (isInstrumentId: (id: unknown) => boolean, isDay: (day: unknown) => boolean) => (tick: Tick) => boolean;
const isPlausibleTick = buildPlausibleTick(isKnownInstrumentId, isKnownDay);

/**
 * Why `tick` is not a plausible market tick, naming the first field that is
 * not, or `undefined` when it is. A tick that passed the schema may still
 * carry an instrument `""`, a price of 1e308 or NaN, a negative volume or a
 * time in the year 30,000; none of these may reach strategies and risk.
 *
 * - `instrument_id`: {@link checkInstrumentId}.
 * - `trading_day`, `action_day`: eight digits (YYYYMMDD).
 * - `ts_event`: an integer of microseconds after the epoch and before 2200.
 * - prices: null, or finite with a magnitude below 1e12.
 * - `volume`, `last_volume` (or null): non-negative safe integers; book
 *   volumes non-negative integers of at most 2^31 - 1.
 * - `turnover`: finite, non-negative, below 1e18; open interests finite,
 *   non-negative, at most 2^53 - 1.
 *
 * The fields a receiver stamps (`feed_id`, `ts_recv`, `sequence`) are not
 * checked: they are the receiver's, not the market's.
 *
 * @example
 * ```ts
 * import { SimMarket } from '../sources/sim-market.js';
 * const tick = new SimMarket({ instruments: ['SHFE.rb2501'], seed: 1, start: Date.parse('2025-01-02T21:00:00+08:00') * 1000, tickIntervalMs: 500, feedId: 'sim', latencyUs: 0 }).next();
 * console.log(checkTickSanity(tick), checkTickSanity({ ...tick, last_price: 1e308 }));
 * // Logs: undefined 'last_price' 1e+308 is not a price (finite, magnitude below 1000000000000) or null
 * ```
 */
export function checkTickSanity(tick: Tick): string | undefined {
  if (isPlausibleTick(tick)) return undefined;
  const idProblem = checkInstrumentId(tick.instrument_id);
  if (idProblem !== undefined) return idProblem;
  for (const field of ['trading_day', 'action_day'] as const) {
    const day = tick[field];
    if (typeof day !== 'string' || !DAY.test(day)) return `'${field}' ${shownValue(day)} is not a YYYYMMDD date`;
  }
  const ts = tick.ts_event;
  if (!Number.isSafeInteger(ts) || ts <= 0 || ts >= TickSanityBounds.maxTsEvent)
    return `'ts_event' ${shownValue(ts)} is not a time (microseconds after 1970 and before 2200)`;
  for (const field of PRICE_FIELDS) {
    const price = tick[field];
    if (price === null) continue;
    if (!(typeof price === 'number' && Math.abs(price) < TickSanityBounds.maxPrice)) {
      return `'${field}' ${shownValue(price)} is not a price (finite, magnitude below ${TickSanityBounds.maxPrice}) or null`;
    }
  }
  if (!isNonNegativeSafeInteger(tick.volume)) return `'volume' ${shownValue(tick.volume)} is not a volume (a non-negative safe integer)`;
  if (tick.last_volume !== null && !isNonNegativeSafeInteger(tick.last_volume))
    return `'last_volume' ${shownValue(tick.last_volume)} is not a volume (a non-negative safe integer) or null`;
  for (const field of BOOK_VOLUME_FIELDS) {
    const lots = tick[field];
    if (!(Number.isInteger(lots) && lots >= 0 && lots <= TickSanityBounds.maxBookVolume))
      return `'${field}' ${shownValue(lots)} is not a volume (an integer from 0 to ${TickSanityBounds.maxBookVolume})`;
  }
  const turnover = tick.turnover;
  if (!(typeof turnover === 'number' && turnover >= 0 && turnover < TickSanityBounds.maxTurnover))
    return `'turnover' ${shownValue(turnover)} is not a turnover (finite, non-negative, below ${TickSanityBounds.maxTurnover})`;
  for (const field of INTEREST_FIELDS) {
    const interest = tick[field];
    if (!(typeof interest === 'number' && interest >= 0 && interest <= Number.MAX_SAFE_INTEGER))
      return `'${field}' ${shownValue(interest)} is not an open interest (finite, non-negative)`;
  }
  return undefined;
}
