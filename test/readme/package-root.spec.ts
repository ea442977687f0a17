import { describe, expect, it } from 'vitest';
import * as tickflow from '../../index.js';
import { builtinComponents } from '../../cli/builtin-components.js';
import { applyMergePatch } from '../../protocols/diff/apply-merge-patch.js';

// What the README's examples import from 'tickflow': the components of g.source / g.operator / g.sink, and the DIFF client's merge.
describe('the package root', () => {
  it('exports every built-in component definition, the same object the registry holds', () => {
    const exported = new Map(Object.entries(tickflow).map(([name, value]) => [value as unknown, name]));
    const missing = builtinComponents()
      .all()
      .filter((definition) => !exported.has(definition))
      .map((d) => `${d.kind} ${d.name}`);
    expect(missing).toEqual([]);
    expect(exported.get(builtinComponents().get('bars'))).toBe('barsOperator');
  });

  it('types the exported operator components for g.operator', () => {
    tickflow.pipeline('exports', '', (g) => {
      const ticks = g.source('market', tickflow.simSource, { count: 1 });
      const bars = g.operator('bars', tickflow.barsOperator, { period_s: 60 }, ticks);
      const quotes = g.operator('quotes', tickflow.quoteDiffOperator, {}, ticks);
      // @ts-expect-error bars reads Tick, not Bar
      g.operator('bars-of-bars', tickflow.barsOperator, { period_s: 60 }, bars);
      // @ts-expect-error period_s is a number
      g.operator('bad-period', tickflow.barsOperator, { period_s: 'one' }, ticks);
      g.sink('out', tickflow.ndjsonFileSink, { path: 'out/x.ndjson' }, [bars, quotes]);
    });
  });

  it('exports the RFC 7386 merge the DIFF protocol uses', () => {
    expect(tickflow.applyMergePatch).toBe(applyMergePatch);
    expect(tickflow.applyMergePatch({ a: 1, b: { c: 2 } }, { a: null, b: { d: 3 } })).toEqual({ b: { c: 2, d: 3 } });
  });
});
