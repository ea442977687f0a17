import type { Tick } from '../../schemas/generated.js';
import { fromPlainIds, type PlainIds } from './plain-ids.js';

/** A valid Tick of SHFE.rb2501 at 2025-01-02 21:00:00 +08:00, with the given fields changed (ids as plain strings). */
export function makeTick(changes: Partial<PlainIds<Tick>> = {}): Tick {
  const ts = 1_735_822_800_000_000;
  return fromPlainIds<Tick>({
    instrument_id: 'SHFE.rb2501',
    trading_day: '20250103',
    action_day: '20250102',
    ts_event: ts,
    last_price: 3500,
    pre_settlement: 3490,
    pre_close: 3488,
    pre_open_interest: 1_000_000,
    open: 3495,
    high: 3510,
    low: 3480,
    close: null,
    settlement: null,
    upper_limit: 3769,
    lower_limit: 3211,
    average_price: 3498.5,
    volume: 12_000,
    last_volume: null,
    turnover: 419_820_000,
    open_interest: 1_002_000,
    bid_price1: 3499, bid_volume1: 10, ask_price1: 3500, ask_volume1: 12,
    bid_price2: 3498, bid_volume2: 20, ask_price2: 3501, ask_volume2: 22,
    bid_price3: 3497, bid_volume3: 30, ask_price3: 3502, ask_volume3: 32,
    bid_price4: 3496, bid_volume4: 40, ask_price4: 3503, ask_volume4: 42,
    bid_price5: 3495, bid_volume5: 50, ask_price5: 3504, ask_volume5: 52,
    feed_id: 'test',
    ts_recv: ts + 2_000,
    sequence: 1,
    ...changes,
  });
}
