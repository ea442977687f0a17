// The TSDoc marble diagrams of the sources. Those that run on the scheduler
// alone (the pacer, the sim source) run on the TestScheduler; those that read
// files run for real with a virtual clock the test advances between reads.
import { tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { validateComponentConfig } from '../../pipeline/components/validate-component-config.js';
import { paceTicks } from '../../sources/file/pace-ticks.js';
import { simSource } from '../../sources/sim-source.js';
import { createTestScheduler } from '../support/marbles.js';
import { makeTick } from '../support/make-tick.js';
import { testContext } from '../support/test-context.js';
import { readDiagram, type DiagramLine } from '../support/tsdoc-diagrams.js';

/** `a@0 b@3ms c@1000.3` → value letter and number, in order. */
function timesOf(line: DiagramLine): [string, number][] {
  const times = line.marbles.split(' ').map((token): [string, number] => {
    const match = /^(\w)@(\d+(?:\.\d+)?)(?:ms)?$/.exec(token);
    if (match === null) throw new Error(`line ${line.line}: '${token}' is not 'letter@time'`);
    return [match[1] as string, Number(match[2])];
  });
  expect(times.length).toBeGreaterThan(0);
  return times;
}

/** `speed 10, cap 5` → { speed: 10, cap: 5 }: the options a diagram line's label names. */
function optionsOf(label: string): Record<string, number> {
  return Object.fromEntries(
    label.split(', ').map((part) => {
      const match = /^(\w+) (\d+)$/.exec(part);
      if (match === null) throw new Error(`label '${label}': '${part}' is not 'name number'`);
      return [match[1] as string, Number(match[2])];
    }),
  );
}

describe('TSDoc marble diagrams: sources', () => {
  it('paceTicks: each record at its recorded gap divided by the speed, each gap capped', () => {
    const diagram = readDiagram('sources/file/pace-ticks.ts', 'paceTicks');
    const start = makeTick().ts_event;
    const ticks = Object.fromEntries(timesOf(diagram.get('ts_event')).map(([letter, ms]) => [letter, makeTick({ ts_event: start + ms * 1000, sequence: letter.charCodeAt(0) })]));
    const paced = diagram.lines.filter((l) => l.label.startsWith('speed'));
    expect(paced.map((l) => l.label)).toEqual(['speed 1, cap 0', 'speed 1, cap 5', 'speed 10, cap 0']);
    for (const line of paced) {
      const { speed, cap } = optionsOf(line.label);
      if (speed === undefined || cap === undefined) throw new Error(`label '${line.label}' names no speed and cap`);
      const times: [string, number][] = [];
      // A scheduler of its own per line: each line starts at frame 0.
      const scheduler = createTestScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        const source = cold(diagram.marbles('source'), ticks);
        const out = source.pipe(paceTicks({ speed, maxGapMs: cap, scheduler }));
        if (line.marbles.includes('@')) {
          // Times of a fraction of a frame: read off the scheduler as the records leave.
          out.pipe(tap((tick) => times.push([String.fromCharCode(tick.sequence), scheduler.now()]))).subscribe();
        } else {
          expectObservable(out).toBe(line.marbles, ticks);
        }
      });
      if (line.marbles.includes('@')) {
        const expected = timesOf(line);
        expect(times.map(([letter]) => letter)).toEqual(expected.map(([letter]) => letter));
        times.forEach(([, ms], i) => expect(ms).toBeCloseTo(expected[i]?.[1] ?? NaN, 9));
      }
    }
  });

  it('simSource: rate ticks a second on the scheduler, or all at once at rate 0; completes after count', () => {
    const diagram = readDiagram('sources/sim-source.ts', 'simSource');
    expect(diagram.lines.map((l) => l.label)).toEqual(['rate 2, count 3', 'rate 0, count 3']);
    for (const line of diagram.lines) {
      const { rate, count } = optionsOf(line.label);
      const scheduler = createTestScheduler();
      scheduler.run(({ expectObservable }) => {
        const ticks$ = simSource.create(validateComponentConfig(simSource, { rate, count }), testContext(scheduler, simSource));
        const nth = (sequence: number) => expect.objectContaining({ sequence, feed_id: 'sim' });
        expectObservable(ticks$).toBe(line.marbles, { a: nth(1), b: nth(2), c: nth(3) });
      });
    }
  });
});
