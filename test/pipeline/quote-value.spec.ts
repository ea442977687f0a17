import { describe, expect, it } from 'vitest';
import { capProblems, cutText, MAX_LISTED_PROBLEMS, MAX_QUOTED_CHARS, quoteValue } from '../../pipeline/config/quote-value.js';

/** `[[[…]]]` nested `depth` levels, built without recursion. */
function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

describe('quoteValue', () => {
  it('writes short values as JSON', () => {
    expect(quoteValue('fast')).toBe('"fast"');
    expect(quoteValue(1.5)).toBe('1.5');
    expect(quoteValue(1e308)).toBe('1e+308');
    expect(quoteValue([1, [2, { a: true, b: null }]])).toBe('[1,[2,{"a":true,"b":null}]]');
    expect(quoteValue({})).toBe('{}');
    expect(quoteValue('a"b\n')).toBe('"a\\"b\\n"');
  });

  it('writes what JSON cannot hold as JavaScript does', () => {
    expect(quoteValue(Number.POSITIVE_INFINITY)).toBe('Infinity');
    expect(quoteValue(Number.NaN)).toBe('NaN');
    expect(quoteValue(undefined)).toBe('undefined');
    expect(quoteValue(10n)).toBe('10n');
    expect(quoteValue([undefined, () => 1])).toBe('[null,null]');
    expect(quoteValue({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(quoteValue(new Date(0))).toBe('"1970-01-01T00:00:00.000Z"');
    expect(quoteValue(Buffer.from('hi'))).toBe('{"type":"Buffer","data":[104,105]}');
  });

  it('cuts a long string after MAX_QUOTED_CHARS characters', () => {
    const quoted = quoteValue('x'.repeat(1_000_000));
    expect(quoted).toBe(`"${'x'.repeat(MAX_QUOTED_CHARS - 1)}…`);
    expect(quoteValue('x'.repeat(1000), 10)).toBe('"xxxxxxxxx…');
  });

  it('cuts a wide list or mapping without writing all of it', () => {
    expect(quoteValue(Array.from({ length: 1_000_000 }, (_, i) => i)).length).toBe(MAX_QUOTED_CHARS + 1);
    const wide = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`key${i}`, i]));
    expect(quoteValue(wide)).toMatch(/^\{"key0":0,"key1":1,.*…$/);
  });

  it('is safe on values nested far deeper than the stack, and on cycles', () => {
    expect(quoteValue(nested(1_000_000))).toBe(`${'['.repeat(MAX_QUOTED_CHARS)}…`);
    const cycle: Record<string, unknown> = { a: 1 };
    cycle['self'] = cycle;
    expect(quoteValue(cycle)).toMatch(/^\{"a":1,"self":\{"a":1,"self":.*…$/);
  });

  it('never returns more than MAX_QUOTED_CHARS characters and the mark', () => {
    for (const value of ['y'.repeat(5000), nested(300), { ['k'.repeat(5000)]: 1 }, [[['z'.repeat(400)]]]]) {
      expect(quoteValue(value).length).toBeLessThanOrEqual(MAX_QUOTED_CHARS + 1);
    }
  });
});

describe('cutText', () => {
  it('keeps short text and cuts long text, saying how long it was', () => {
    expect(cutText('colour')).toBe('colour');
    expect(cutText('k'.repeat(5000))).toBe(`${'k'.repeat(MAX_QUOTED_CHARS)}… (5000 characters)`);
  });
});

describe('capProblems', () => {
  it('lists at most MAX_LISTED_PROBLEMS problems and counts the rest', () => {
    const many = Array.from({ length: 1000 }, (_, i) => `problem ${i}`);
    const capped = capProblems(many);
    expect(capped).toHaveLength(MAX_LISTED_PROBLEMS);
    expect(capped.at(-2)).toBe(`problem ${MAX_LISTED_PROBLEMS - 2}`);
    expect(capped.at(-1)).toBe(`… and ${1000 - MAX_LISTED_PROBLEMS + 1} more problems`);
    expect(capProblems(['a', 'b'])).toEqual(['a', 'b']);
  });
});
