import { describe, expect, it } from 'vitest';
import { applyMergePatch, type JsonValue } from '../../protocols/diff/apply-merge-patch.js';
import { tickFromDiffQuote } from '../../protocols/diff/tick-from-diff-quote.js';
import { makeTick } from '../support/make-tick.js';
import { DiffQuoteFields } from '../../protocols/diff/diff-quote-fields.js';

describe('DiffQuoteFields', () => {
  it('formats event time as exchange-local datetime with microseconds, and parses it back exactly', () => {
    const ts = Date.parse('2025-01-02T21:00:00.5+08:00') * 1000 + 7;
    expect(DiffQuoteFields.formatDatetime(ts)).toBe('2025-01-02 21:00:00.500007');
    expect(DiffQuoteFields.parseDatetime('2025-01-02 21:00:00.500007')).toBe(ts);
    expect(DiffQuoteFields.formatDatetime(Date.parse('2025-01-03T00:59:59.999999+08:00') * 1000)).toBe('2025-01-03 00:59:59.999000');
    expect(DiffQuoteFields.parseDatetime('2025-01-02T21:00:00')).toBeUndefined();
  });

  it('maps Tick fields to the names tqsdk clients read', () => {
    expect(DiffQuoteFields.keyOf.high).toBe('highest');
    expect(DiffQuoteFields.keyOf.turnover).toBe('amount');
    expect(DiffQuoteFields.keyOf.ts_event).toBe('datetime');
    expect(new Set(Object.values(DiffQuoteFields.keyOf)).size).toBe(Object.keys(DiffQuoteFields.keyOf).length);
  });
});

describe('applyMergePatch', () => {
  it('merges objects, deletes on null, replaces everything else (RFC 7386 examples)', () => {
    expect(applyMergePatch({ a: 'b' }, { a: 'c' })).toEqual({ a: 'c' });
    expect(applyMergePatch({ a: 'b' }, { b: 'c' })).toEqual({ a: 'b', b: 'c' });
    expect(applyMergePatch({ a: 'b' }, { a: null })).toEqual({});
    expect(applyMergePatch({ a: ['b'] }, { a: 'c' })).toEqual({ a: 'c' });
    expect(applyMergePatch({ a: { b: 'c' } }, { a: { b: 'd', c: null } })).toEqual({ a: { b: 'd' } });
    expect(applyMergePatch(['a', 'b'], ['c', 'd'])).toEqual(['c', 'd']);
    expect(applyMergePatch({ e: null }, { a: 1 })).toEqual({ e: null, a: 1 });
    expect(applyMergePatch(undefined, { a: { bb: { ccc: null } } })).toEqual({ a: { bb: {} } });
  });

  /** `{ a: { a: … { leaf } } }` nested `depth` levels, built in memory without recursion. */
  function deep(depth: number, leaf: JsonValue): Record<string, JsonValue> {
    let value: Record<string, JsonValue> = { leaf };
    for (let i = 0; i < depth; i++) value = { a: value };
    return value;
  }

  it('merges a patch nested 100,000 deep without overflowing the stack, into a target as deep', () => {
    const target = deep(100_000, 1);
    const result = applyMergePatch(target, deep(100_000, 2)) as Record<string, JsonValue>;
    let at: JsonValue = result;
    for (let i = 0; i < 100_000; i++) at = (at as Record<string, JsonValue>)['a'] as JsonValue;
    expect(at).toEqual({ leaf: 2 });
    expect(result).toBe(target);
  });

  it('takes a key __proto__ as an ordinary key, never as the prototype', () => {
    const result = applyMergePatch({}, JSON.parse('{"__proto__":{"polluted":true},"a":{"__proto__":{"x":1}}}') as JsonValue) as Record<
      string,
      JsonValue
    >;
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.keys(result)).toEqual(['__proto__', 'a']);
    expect(Object.getOwnPropertyDescriptor(result, '__proto__')?.value).toEqual({ polluted: true });
  });

  it('refuses a cyclic patch with a TypeError, and merges an object shared by two keys into both', () => {
    const cyclic: Record<string, JsonValue> = { a: {} };
    (cyclic['a'] as Record<string, JsonValue>)['b'] = cyclic;
    expect(() => applyMergePatch({}, cyclic)).toThrow(TypeError);
    const shared = { x: 1 };
    expect(applyMergePatch({ p: { y: 2 } }, { p: shared, q: shared })).toEqual({ p: { x: 1, y: 2 }, q: { x: 1 } });
  });
});

describe('tickFromDiffQuote', () => {
  it('rebuilds every market field of a tick from its DIFF quote', () => {
    const tick = makeTick({ last_price: null, ts_event: 1_735_822_800_123_456 });
    const quote: Record<string, JsonValue> = {};
    for (const [field, key] of Object.entries(DiffQuoteFields.keyOf)) {
      const value = tick[field as keyof typeof DiffQuoteFields.keyOf];
      if (value === null) continue; // a merge patch deletes unset prices
      quote[key] = field === 'ts_event' ? DiffQuoteFields.formatDatetime(value as number) : value;
    }
    expect(tickFromDiffQuote(tick.instrument_id, quote, { feedId: tick.feed_id, tsRecv: tick.ts_recv, sequence: tick.sequence })).toEqual(
      tick,
    );
  });

  it('names a price or book volume that is neither a number nor null, quoting it without walking it', () => {
    const receipt = { feedId: 'f', tsRecv: 0, sequence: 1 };
    const complete: Record<string, JsonValue> = {
      datetime: '2025-01-02 21:00:00.000000',
      trading_day: '20250103',
      action_day: '20250102',
      pre_open_interest: 1,
      volume: 1,
      amount: 1,
      open_interest: 1,
    };
    expect(tickFromDiffQuote('SHFE.rb2501', { ...complete, last_price: '3500' }, receipt)).toBe(
      `quote of SHFE.rb2501: 'last_price' must be a number or null, got "3500"`,
    );
    expect(tickFromDiffQuote('SHFE.rb2501', { ...complete, bid_volume1: true }, receipt)).toBe(
      `quote of SHFE.rb2501: 'bid_volume1' must be a number or null, got true`,
    );
    let nested: JsonValue = [];
    for (let i = 0; i < 100_000; i++) nested = [nested];
    expect(tickFromDiffQuote('SHFE.rb2501', { ...complete, volume: nested }, receipt)).toBe(
      `quote of SHFE.rb2501: 'volume' must be a number, got an array`,
    );
    expect(tickFromDiffQuote('SHFE.rb2501', { ...complete, datetime: { a: nested } }, receipt)).toMatch(
      /'datetime' must be a datetime like .*, got an object$/,
    );
  });

  it('names the missing field', () => {
    expect(
      tickFromDiffQuote(
        'SHFE.rb2501',
        { datetime: '2025-01-02 21:00:00.000000', trading_day: '20250103', action_day: '20250102' },
        { feedId: 'f', tsRecv: 0, sequence: 1 },
      ),
    ).toBe("quote of SHFE.rb2501: 'pre_open_interest' must be a number, got null");
  });
});
