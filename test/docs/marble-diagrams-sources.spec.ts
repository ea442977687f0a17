// The TSDoc marble diagrams of the sources. Those that run on the scheduler
// alone (the pacer, the sim source) run on the TestScheduler; those that read
// files run for real with a virtual clock the test advances between reads.
import { join } from 'node:path';
import { tap, VirtualTimeScheduler, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { validateComponentConfig } from '../../pipeline/components/validate-component-config.js';
import { SchemaCatalog } from '../../pipeline/schemas/schema-catalog.js';
import type { Tick } from '../../schemas/generated.js';
import { fileSource } from '../../sources/file-source.js';
import { AvroTickReader } from '../../sources/file/avro-tick-reader.js';
import { NdjsonTickReader } from '../../sources/file/ndjson-tick-reader.js';
import { paceTicks } from '../../sources/file/pace-ticks.js';
import { planReplay } from '../../sources/file/plan-replay.js';
import { readTicks } from '../../sources/file/read-ticks.js';
import { simSource } from '../../sources/sim-source.js';
import { tempDir, writeAvroTicks, writeNdjson } from '../sources/file/recorded-files.js';
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

/** Notifications at their frames, shaped as RxJS makes them (every notification has a kind, a value and an error). */
type Recorded = { frame: number; notification: { kind: 'N' | 'E' | 'C'; value: unknown; error: unknown } }[];

/**
 * Runs `source$`, which reads files, on `clock`, whose time moves only when
 * the test flushes it: between flushes the event loop turns, so reads
 * complete; every notification is recorded at the virtual frame it came in,
 * as TestScheduler.parseMarbles draws them. At most 5 s and 10,000 turns.
 */
async function recordReading<T>(source$: Observable<T>, clock: VirtualTimeScheduler): Promise<Recorded> {
  const recorded: Recorded = [];
  let done = false;
  const at = (notification: Recorded[number]['notification']) => recorded.push({ frame: clock.now(), notification });
  const subscription = source$.subscribe({
    next: (value) => at({ kind: 'N', value, error: undefined }),
    error: (error: unknown) => {
      at({ kind: 'E', value: undefined, error });
      done = true;
    },
    complete: () => {
      at({ kind: 'C', value: undefined, error: undefined });
      done = true;
    },
  });
  const deadline = performance.now() + 5_000;
  for (let turn = 0; !done; turn++) {
    if (turn >= 10_000 || performance.now() > deadline) {
      subscription.unsubscribe();
      throw new Error(
        `the reading did not end within ${turn} turns of the event loop; recorded so far: ${JSON.stringify(recorded.map((r) => [r.frame, r.notification.kind]))}`,
      );
    }
    await new Promise((resolve) => setImmediate(resolve));
    clock.flush();
  }
  return recorded;
}

/** The marbles as TestScheduler draws them in run mode (a frame is 1 ms, time progression allowed), to compare with what {@link recordReading} recorded. */
const drawn = (marbles: string, values: Record<string, unknown>): Recorded =>
  createTestScheduler().run(() => TestScheduler.parseMarbles(marbles, values, undefined, undefined, true)) as Recorded;

describe('TSDoc marble diagrams: sources', () => {
  let dir: string;
  let remove: () => void;
  beforeEach(() => {
    ({ dir, remove } = tempDir());
  });
  afterEach(() => remove());

  it('paceTicks: each record at its recorded gap divided by the speed, each gap capped', () => {
    const diagram = readDiagram('sources/file/pace-ticks.ts', 'paceTicks');
    const start = makeTick().ts_event;
    const ticks = Object.fromEntries(
      timesOf(diagram.get('ts_event')).map(([letter, ms]) => [
        letter,
        makeTick({ ts_event: start + ms * 1000, sequence: letter.charCodeAt(0) }),
      ]),
    );
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

  it('readTicks: the ticks of the files in file order, then completion, all in one frame: reading takes no scheduler time (real files)', async () => {
    const diagram = readDiagram('sources/file/read-ticks.ts', 'readTicks');
    const files = [...diagram.marbles('files').matchAll(/\[([\w.]+): ([\w ]+)\]/g)].map((m) => ({
      name: m[1] as string,
      letters: (m[2] as string).split(' '),
    }));
    expect(files.map((f) => f.name)).toEqual(['a.ndjson', 'b.avro']);
    const ticks: Record<string, Tick> = {};
    let sequence = 0;
    for (const { name, letters } of files) {
      for (const letter of letters) ticks[letter] = makeTick({ sequence: ++sequence, ts_event: makeTick().ts_event + sequence * 500_000 });
      const written = letters.map((letter) => ticks[letter] as Tick);
      await (name.endsWith('.avro') ? writeAvroTicks(join(dir, name), written) : writeNdjson(join(dir, name), written));
    }
    const schemas = SchemaCatalog.default();
    const tickCodec = schemas.codec('Tick');
    const { files: planned } = planReplay({
      path: dir,
      format: 'auto',
      readers: { tick: tickCodec.type, audit: schemas.codec('AuditRecord').type },
      subject: 'the diagram',
    });
    expect(planned.map((f) => f.format)).toEqual(['ndjson', 'avro']);
    const invalid: string[] = [];
    const clock = new VirtualTimeScheduler();
    const ticks$ = readTicks(planned, {
      scheduler: clock,
      open: (file) =>
        file.format === 'ndjson'
          ? new NdjsonTickReader(file.path, { codec: tickCodec, onInvalid: (_at, reason) => invalid.push(reason) })
          : new AvroTickReader(file.path, {
              readerType: tickCodec.type,
              tickOf: (record) => record as Tick,
              onInvalid: (_at, reason) => invalid.push(reason),
            }),
    });
    expect(await recordReading(ticks$, clock)).toEqual(drawn(diagram.marbles('output'), ticks));
    expect(invalid).toEqual([]);
  });

  it('fileSource: as fast as read at speed 0; at speed 1 the recorded gaps on the scheduler, each capped at max_gap_ms (real files, a virtual clock)', async () => {
    const diagram = readDiagram('sources/file-source.ts', 'fileSource');
    const path = join(dir, 'recorded.ndjson');
    const ticks: Record<string, Tick> = {};
    let offsetUs = 0;
    for (const [, letter, gap, unit] of diagram.marbles('file').matchAll(/(\w)(?:\(\+(\d+)(ms|s)\))?/g)) {
      ticks[letter as string] = makeTick({ sequence: Object.keys(ticks).length + 1, ts_event: makeTick().ts_event + offsetUs });
      if (gap !== undefined) offsetUs += Number(gap) * (unit === 's' ? 1_000_000 : 1000);
    }
    expect(Object.keys(ticks)).toEqual(['a', 'b', 'c']);
    await writeNdjson(path, Object.values(ticks));
    const lines = diagram.lines.filter((l) => l.label !== 'file');
    expect(lines.map((l) => l.label)).toEqual(['speed 0', 'speed 1', 'speed 1, max_gap 0', 'speed 1, max_gap 5']);
    for (const line of lines) {
      const { speed, max_gap: maxGapMs } = optionsOf(line.label);
      const clock = new VirtualTimeScheduler();
      const config = validateComponentConfig(fileSource, {
        path,
        speed,
        progress: 'off',
        ...(maxGapMs === undefined ? {} : { max_gap_ms: maxGapMs }),
      });
      const recorded = await recordReading(fileSource.create(config, testContext(clock, fileSource)), clock);
      expect({ [line.label]: recorded }).toEqual({ [line.label]: drawn(line.marbles, ticks) });
    }
  });
});
