import { describe, expect, it } from 'vitest';
import { checkInstrumentId, checkTickSanity, TickSanityBounds } from '../../domain/tick-sanity.js';
import type { Tick } from '../../schemas/generated.js';
import { makeTick } from '../support/make-tick.js';
import type { PlainIds } from '../support/plain-ids.js';

describe('checkTickSanity', () => {
  it('passes a plausible tick, with null prices, a negative price and an option id', () => {
    expect(checkTickSanity(makeTick())).toBeUndefined();
    expect(checkTickSanity(makeTick({ last_price: null, bid_price1: null, ask_price5: null, last_volume: 0 }))).toBeUndefined();
    expect(checkTickSanity(makeTick({ instrument_id: 'CFFEX.IO2501-C-4000', last_price: -37.63 }))).toBeUndefined();
    expect(checkTickSanity(makeTick({ instrument_id: 'CZCE.SR501', turnover: 0, volume: 0, open_interest: 0 }))).toBeUndefined();
  });

  it.each<[string, Partial<PlainIds<Tick>>, RegExp]>([
    [
      'an empty instrument id',
      { instrument_id: '' },
      /^'instrument_id' "" is not EXCHANGE\.symbol \(e\.g\. SHFE\.rb2501, at most 40 characters\)$/,
    ],
    ['an id without exchange', { instrument_id: 'rb2501' }, /'instrument_id' "rb2501"/],
    ['an over-long id, cut when quoted', { instrument_id: `SHFE.${'r'.repeat(100)}` }, /'instrument_id' "SHFE\.r{35}…"/],
    ['an id with a space', { instrument_id: 'DCE.SP m2501&m2505' }, /'instrument_id'/],
    ['a trading day that is not YYYYMMDD', { trading_day: '2025-01-03' }, /^'trading_day' "2025-01-03" is not a YYYYMMDD date$/],
    ['a price of 1e308', { last_price: 1e308 }, /^'last_price' 1e\+308 is not a price \(finite, magnitude below 1000000000000\) or null$/],
    ['a price of -1e12', { bid_price3: -1e12 }, /^'bid_price3' -1000000000000 is not a price/],
    ['a NaN price', { settlement: Number.NaN }, /^'settlement' NaN is not a price/],
    ['an infinite price', { ask_price1: Number.POSITIVE_INFINITY }, /^'ask_price1' Infinity is not a price/],
    ['a negative volume', { volume: -1 }, /^'volume' -1 is not a volume/],
    ['a volume beyond 2^53', { volume: 2 ** 60 }, /^'volume' 1152921504606847000 is not a volume/],
    ['a fractional last volume', { last_volume: 1.5 }, /^'last_volume' 1\.5 is not a volume/],
    ['a negative book volume', { bid_volume2: -4 }, /^'bid_volume2' -4 is not a volume \(an integer from 0 to 2147483647\)$/],
    ['a negative turnover', { turnover: -1 }, /^'turnover' -1 is not a turnover/],
    ['an infinite open interest', { open_interest: Number.POSITIVE_INFINITY }, /^'open_interest' Infinity is not an open interest/],
    ['an event time of 0', { ts_event: 0 }, /^'ts_event' 0 is not a time/],
    ['an event time in 2200', { ts_event: TickSanityBounds.maxTsEvent }, /^'ts_event' 7258118400000000 is not a time/],
  ])('refuses %s, naming the field', (_what, change, reason) => {
    expect(checkTickSanity(makeTick(change))).toMatch(reason);
  });

  it('does not check what the receiver stamps', () => {
    expect(checkTickSanity(makeTick({ feed_id: '', ts_recv: 0, sequence: 0 }))).toBeUndefined();
  });
});

describe('checkInstrumentId', () => {
  it('takes EXCHANGE.symbol of at most 40 characters, and names anything else by kind', () => {
    expect(checkInstrumentId('SHFE.rb2501')).toBeUndefined();
    expect(checkInstrumentId(`GFEX.${'s'.repeat(35)}`)).toBeUndefined();
    expect(checkInstrumentId(`GFEX.${'s'.repeat(36)}`)).toMatch(/is not EXCHANGE\.symbol/);
    expect(checkInstrumentId({ id: 1 })).toMatch(/^'instrument_id' an object is not/);
    expect(checkInstrumentId(7)).toMatch(/^'instrument_id' 7 is not/);
  });
});
