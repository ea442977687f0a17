import { describe, expect, it } from 'vitest';
import { applyMergePatch } from '../../protocols/diff/apply-merge-patch.js';
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
});
