import { InstrumentId, type Tick } from '../../schemas/generated.js';
import type { JsonValue } from './apply-merge-patch.js';
import { DiffQuoteFields } from './diff-quote-fields.js';

/** The feed-specific fields a receiver adds to a quote to make a Tick. */
export interface TickReceipt {
  readonly feedId: string;
  readonly tsRecv: number;
  readonly sequence: number;
}

const text = (v: JsonValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: JsonValue | undefined): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** A value as a reason quotes it, without walking it: text and numbers as JSON (text cut), anything else by its kind. */
function shown(v: JsonValue | undefined): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v !== 'object') return String(v);
  return Array.isArray(v) ? 'an array' : 'an object';
}

const k = DiffQuoteFields.keyOf;
/** The numeric keys a quote may leave out: prices (absent: not set, null) and book volumes (absent: an empty level, 0). */
const OPTIONAL_NUMBERS: readonly string[] = Object.entries(k)
  .filter(
    ([field]) => !['ts_event', 'trading_day', 'action_day', 'pre_open_interest', 'volume', 'turnover', 'open_interest'].includes(field),
  )
  .map(([, key]) => key);

/** A price the exchange has not set is absent (deleted by a merge patch) or null. */
const price = (v: JsonValue | undefined): number | null => num(v) ?? null;

/**
 * Rebuilds a Tick from a DIFF quote (keys as DiffQuoteFields names them).
 * Returns the Tick, or the reason it cannot be built (a required field is
 * missing or of the wrong type, a price or book volume is neither a finite
 * number nor null) naming the field. Values are quoted in the reason by
 * kind, never walked, so a quote holding anything cannot make this throw.
 */
export function tickFromDiffQuote(instrumentId: string, quote: Readonly<Record<string, JsonValue>>, receipt: TickReceipt): Tick | string {
  const datetime = text(quote[k.ts_event]);
  const tsEvent = datetime === undefined ? undefined : DiffQuoteFields.parseDatetime(datetime);
  const tradingDay = text(quote[k.trading_day]);
  const actionDay = text(quote[k.action_day]);
  const required = {
    pre_open_interest: num(quote[k.pre_open_interest]),
    volume: num(quote[k.volume]),
    turnover: num(quote[k.turnover]),
    open_interest: num(quote[k.open_interest]),
  };
  if (tsEvent === undefined)
    return `quote of ${instrumentId}: '${k.ts_event}' must be a datetime like 2025-01-02 21:00:00.500000, got ${shown(quote[k.ts_event])}`;
  if (tradingDay === undefined || actionDay === undefined)
    return `quote of ${instrumentId}: '${k.trading_day}' and '${k.action_day}' must be strings`;
  for (const [field, value] of Object.entries(required)) {
    if (value === undefined)
      return `quote of ${instrumentId}: '${k[field as keyof typeof required]}' must be a number, got ${shown(quote[k[field as keyof typeof required]])}`;
  }
  for (const key of OPTIONAL_NUMBERS) {
    const value = quote[key];
    if (value !== undefined && value !== null && num(value) === undefined)
      return `quote of ${instrumentId}: '${key}' must be a number or null, got ${shown(value)}`;
  }
  const volumeAt = (key: string): number => num(quote[key]) ?? 0;
  return {
    // The quote's key in the DIFF message is where the id enters.
    instrument_id: InstrumentId(instrumentId),
    trading_day: tradingDay,
    action_day: actionDay,
    ts_event: tsEvent,
    last_price: price(quote[k.last_price]),
    pre_settlement: price(quote[k.pre_settlement]),
    pre_close: price(quote[k.pre_close]),
    pre_open_interest: required.pre_open_interest as number,
    open: price(quote[k.open]),
    high: price(quote[k.high]),
    low: price(quote[k.low]),
    close: price(quote[k.close]),
    settlement: price(quote[k.settlement]),
    upper_limit: price(quote[k.upper_limit]),
    lower_limit: price(quote[k.lower_limit]),
    average_price: price(quote[k.average_price]),
    volume: required.volume as number,
    last_volume: null, // DIFF quotes carry only the cumulative volume
    turnover: required.turnover as number,
    open_interest: required.open_interest as number,
    bid_price1: price(quote[k.bid_price1]),
    bid_volume1: volumeAt(k.bid_volume1),
    ask_price1: price(quote[k.ask_price1]),
    ask_volume1: volumeAt(k.ask_volume1),
    bid_price2: price(quote[k.bid_price2]),
    bid_volume2: volumeAt(k.bid_volume2),
    ask_price2: price(quote[k.ask_price2]),
    ask_volume2: volumeAt(k.ask_volume2),
    bid_price3: price(quote[k.bid_price3]),
    bid_volume3: volumeAt(k.bid_volume3),
    ask_price3: price(quote[k.ask_price3]),
    ask_volume3: volumeAt(k.ask_volume3),
    bid_price4: price(quote[k.bid_price4]),
    bid_volume4: volumeAt(k.bid_volume4),
    ask_price4: price(quote[k.ask_price4]),
    ask_volume4: volumeAt(k.ask_volume4),
    bid_price5: price(quote[k.bid_price5]),
    bid_volume5: volumeAt(k.bid_volume5),
    ask_price5: price(quote[k.ask_price5]),
    ask_volume5: volumeAt(k.ask_volume5),
    feed_id: receipt.feedId,
    ts_recv: receipt.tsRecv,
    sequence: receipt.sequence,
  };
}
