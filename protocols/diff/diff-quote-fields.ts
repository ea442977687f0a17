import type { Tick } from '../../schemas/generated.js';

/**
 * The Tick fields that make up a quote: all but the instrument (the key) and
 * what belongs to one feed (`last_volume` is derived by each feed from its own
 * previous tick, so two feeds of one market event may differ in it).
 */
export type QuoteField = Exclude<keyof Tick, 'instrument_id' | 'last_volume' | 'feed_id' | 'ts_recv' | 'sequence'>;

const MICROS_PER_SECOND = 1_000_000;
/** Exchange time is China Standard Time, UTC+8 all year. */
const UTC8_OFFSET_MICROS = 8 * 3600 * MICROS_PER_SECOND;
const DATETIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{6})$/;

/**
 * How tickflow's Tick fields appear in a DIFF-protocol quote (the `aid`
 * protocol of tqsdk): the names tqsdk uses where it has one (`highest`,
 * `lowest`, `amount`, `average`, `datetime`), the Tick's own names for the
 * rest. `ts_event` travels as tqsdk's `datetime`, exchange local time with
 * microseconds, which converts back exactly.
 */
export const DiffQuoteFields = {
  /** Tick field → DIFF quote key, for every quote field. */
  keyOf: {
    trading_day: 'trading_day',
    action_day: 'action_day',
    ts_event: 'datetime',
    last_price: 'last_price',
    pre_settlement: 'pre_settlement',
    pre_close: 'pre_close',
    pre_open_interest: 'pre_open_interest',
    open: 'open',
    high: 'highest',
    low: 'lowest',
    close: 'close',
    settlement: 'settlement',
    upper_limit: 'upper_limit',
    lower_limit: 'lower_limit',
    average_price: 'average',
    volume: 'volume',
    turnover: 'amount',
    open_interest: 'open_interest',
    bid_price1: 'bid_price1',
    bid_volume1: 'bid_volume1',
    ask_price1: 'ask_price1',
    ask_volume1: 'ask_volume1',
    bid_price2: 'bid_price2',
    bid_volume2: 'bid_volume2',
    ask_price2: 'ask_price2',
    ask_volume2: 'ask_volume2',
    bid_price3: 'bid_price3',
    bid_volume3: 'bid_volume3',
    ask_price3: 'ask_price3',
    ask_volume3: 'ask_volume3',
    bid_price4: 'bid_price4',
    bid_volume4: 'bid_volume4',
    ask_price4: 'ask_price4',
    ask_volume4: 'ask_volume4',
    bid_price5: 'bid_price5',
    bid_volume5: 'bid_volume5',
    ask_price5: 'ask_price5',
    ask_volume5: 'ask_volume5',
  } as const satisfies Record<QuoteField, string>,

  /** `YYYY-MM-DD HH:MM:SS.ffffff` in exchange time (UTC+8) for epoch microseconds. */
  formatDatetime(tsMicros: number): string {
    const local = tsMicros + UTC8_OFFSET_MICROS;
    const micros = ((local % MICROS_PER_SECOND) + MICROS_PER_SECOND) % MICROS_PER_SECOND;
    const iso = new Date((local - micros) / 1000).toISOString(); // 2025-01-02T21:00:00.000Z, already shifted to UTC+8
    return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${String(micros).padStart(6, '0')}`;
  },

  /** Epoch microseconds of a DIFF `datetime`, or `undefined` when the text is not one. */
  parseDatetime(text: string): number | undefined {
    const m = DATETIME.exec(text);
    if (m === null) return undefined;
    const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
    return Number.isNaN(ms) ? undefined : ms * 1000 + Number(m[7]) - UTC8_OFFSET_MICROS;
  },
};
