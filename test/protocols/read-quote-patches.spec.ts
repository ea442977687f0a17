import { describe, expect, it } from 'vitest';
import { readQuotePatches } from '../../protocols/diff/read-quote-patches.js';

describe('readQuotePatches', () => {
  it('reads the quote fields of every patch in order, leaving out other content and keys that are not DIFF quote fields', () => {
    const { updates, rejections } = readQuotePatches([
      {
        quotes: {
          'SHFE.rb2501': { last_price: 3500, datetime: '2025-01-02 21:00:00.000000', price_tick: 1, instrument_id: 'SHFE.rb2501' },
        },
      },
      { account: { CNY: { balance: 1 } } },
      { quotes: { 'SHFE.rb2501': { last_price: null }, 'DCE.m2501': null } },
    ]);
    expect(rejections).toEqual([]);
    expect(updates).toEqual([
      { instrumentId: 'SHFE.rb2501', fields: { last_price: 3500, datetime: '2025-01-02 21:00:00.000000' }, refused: {} },
      { instrumentId: 'SHFE.rb2501', fields: { last_price: null }, refused: {} },
      { instrumentId: 'DCE.m2501', fields: null, refused: {} },
    ]);
  });

  it('refuses a nested value, a non-finite or non-numeric number field and an over-long text field, keeping the rest of the quote', () => {
    const quote = {
      last_price: { a: 1 },
      volume: Number.POSITIVE_INFINITY,
      amount: '12',
      datetime: 'x'.repeat(33),
      open_interest: 5,
      note: [1],
    };
    const { updates, rejections } = readQuotePatches([{ quotes: { 'SHFE.rb2501': quote } }]);
    expect(updates).toEqual([
      {
        instrumentId: 'SHFE.rb2501',
        fields: { open_interest: 5 },
        refused: {
          last_price: "'last_price' holds a nested object; quote fields are numbers, strings, booleans or null",
          volume: "'volume' must be a finite number or null, got Infinity",
          amount: `'amount' must be a finite number or null, got "12"`,
          datetime: "'datetime' must be a string of at most 32 characters or null, got 33 characters",
        },
      },
    ]);
    expect(rejections).toEqual([
      {
        instrumentId: 'SHFE.rb2501',
        reason:
          "quote of SHFE.rb2501: 'last_price' holds a nested object; quote fields are numbers, strings, booleans or null (and 4 more)",
        payload: quote,
      },
    ]);
  });

  it('refuses data that is not a list, patches that are not objects, quotes that are not a map of objects, naming each', () => {
    expect(readQuotePatches({ quotes: {} }).rejections.map((r) => r.reason)).toEqual([
      "rtn_data 'data' must be an array of merge patches, got an object",
    ]);
    expect(readQuotePatches(undefined).rejections.map((r) => r.reason)).toEqual([
      "rtn_data 'data' must be an array of merge patches, got nothing",
    ]);
    const { updates, rejections } = readQuotePatches([null, 'x', { quotes: 3 }, { quotes: { 'SHFE.rb2501': [1], ['k'.repeat(100)]: 1 } }]);
    expect(rejections.map((r) => [r.instrumentId, r.reason])).toEqual([
      [undefined, 'merge patch 0 must be an object, got null'],
      [undefined, 'merge patch 1 must be an object, got a string'],
      [undefined, "merge patch 2: 'quotes' must be an object of instrument → quote, got a number"],
      ['SHFE.rb2501', 'quote of SHFE.rb2501: must be an object of fields or null, got an array'],
      ['k'.repeat(100), `quote of "${'k'.repeat(40)}…": must be an object of fields or null, got a number`],
    ]);
    // As a merge patch, a value that is not an object replaces the quote: what was held is gone.
    expect(updates.map((u) => [u.instrumentId.slice(0, 12), u.fields])).toEqual([
      ['SHFE.rb2501', null],
      ['kkkkkkkkkkkk', null],
    ]);
  });

  it('never walks into a value: a field nested 100,000 deep costs one check', () => {
    let nested: unknown = 1;
    for (let i = 0; i < 100_000; i++) nested = { a: nested };
    const { updates, rejections } = readQuotePatches([{ quotes: { 'SHFE.rb2501': { last_price: nested } } }]);
    expect(updates[0]?.refused).toEqual({ last_price: expect.stringContaining('nested object') });
    expect(rejections).toHaveLength(1);
  });
});
