// The TSDoc marble diagrams of the sources. Those that run on the scheduler
// alone (the pacer, the sim source) run on the TestScheduler; those that read
// files run for real with a virtual clock the test advances between reads.
import { join } from 'node:path';
import { asyncScheduler, tap, VirtualTimeScheduler, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { validateComponentConfig } from '../../pipeline/components/validate-component-config.js';
import { SchemaCatalog } from '../../pipeline/schemas/schema-catalog.js';
import type { FeedStatus, Tick } from '../../schemas/generated.js';
import { fileSource } from '../../sources/file-source.js';
import { AvroTickReader } from '../../sources/file/avro-tick-reader.js';
import { NdjsonTickReader } from '../../sources/file/ndjson-tick-reader.js';
import { paceTicks } from '../../sources/file/pace-ticks.js';
import { planReplay } from '../../sources/file/plan-replay.js';
import { readTicks } from '../../sources/file/read-ticks.js';
import { simSource } from '../../sources/sim-source.js';
import { wsFeedSource } from '../../sources/ws-feed-source.js';
import { CtpEvents } from '../../sources/ctp/ctp-events.js';
import { runScriptedPool } from '../sources/ctp/run-scripted-pool.js';
import type { ScriptedPoolConfig, ScriptedPoolRun } from '../sources/ctp/start-scripted-pool.js';
import { tempDir, writeAvroTicks, writeNdjson } from '../sources/file/recorded-files.js';
import { firstQuote, laterQuote, startSink, stopAllSinks, type RunningSink } from '../support/websocket-harness.js';
import { waitFor } from '../support/wait-for.js';
import { createTestScheduler } from '../support/marbles.js';
import { makeTick } from '../support/make-tick.js';
import { testContext } from '../support/test-context.js';
import { readDiagram, type DiagramLine, type MarbleDiagram } from '../support/tsdoc-diagrams.js';

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

/** The marbles as TestScheduler draws them in run mode (a frame is 1 ms, time progression allowed); without `values`, each value is its letter. */
const drawn = (marbles: string, values?: Record<string, unknown>): Recorded =>
  createTestScheduler().run(() => TestScheduler.parseMarbles(marbles, values, undefined, undefined, true)) as Recorded;

/** What a scripted CTP run put out, one letter per record at the virtual time it came, as {@link drawn} draws a line. */
const recorded = (records: readonly [number, string][]): Recorded =>
  records.map(([frame, letter]) => ({ frame, notification: { kind: 'N', value: letter, error: undefined } }));

/**
 * Runs the scripted fronts of `config` until `endAt`, doing at each letter of
 * the diagram's `script` line what `actions` says for it.
 */
function runScript(
  diagram: MarbleDiagram,
  config: ScriptedPoolConfig,
  endAt: number,
  actions: Record<string, (run: ScriptedPoolRun) => void>,
): ScriptedPoolRun {
  const steps = drawn(diagram.marbles('script'));
  return runScriptedPool(config, endAt, (run, at) => {
    for (const { frame, notification } of steps) {
      const action = actions[String(notification.value)];
      if (action === undefined) throw new Error(`${diagram.file}: no action for '${String(notification.value)}' on the script line`);
      at(frame, () => action(run));
    }
  });
}

/** The front each tick came from (its owner then, as the move events say), as `letterOf` spells the front. */
function ticksByFront(run: ScriptedPoolRun, letterOf: (front: string) => string): [number, string][] {
  const moves = run.events.filter((e) => e.type === CtpEvents.INSTRUMENT_MOVED);
  return run.ticks.map((tick) => {
    const at = tick.ts_recv / 1000;
    const owner = moves.filter((m) => m.at <= at).at(-1)?.payload['to'];
    return [at, letterOf(String(owner))];
  });
}

/** Each FeedStatus as a letter: d, u, s for DOWN, UP, STALE, upper case for the second front. */
function statusLetters(run: ScriptedPoolRun, second: string): [number, string][] {
  return run.statuses.map((status) => {
    const letter = { DOWN: 'd', UP: 'u', STALE: 's' }[status.state];
    return [status.ts_event / 1000, status.feed_id === `ctp/${second}` ? letter.toUpperCase() : letter];
  });
}

describe('TSDoc marble diagrams: sources', () => {
  let dir: string;
  let remove: () => void;
  beforeEach(() => {
    ({ dir, remove } = tempDir());
  });
  afterEach(async () => {
    remove();
    await stopAllSinks();
  });

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

  // The ctp classes below run on scripted fronts (test/sources/ctp/): the vendor's library cannot run on virtual time.
  const twoFronts = (first: string, second: string): ScriptedPoolConfig => ({
    instruments: ['SHFE.rb2501'],
    fronts: [
      { name: first, priority: 0 },
      { name: second, priority: 1 },
    ],
    tickEveryMs: 4,
    firstTickAt: 8,
    timing: { connectMs: 5, replyMs: 1, reconnectMs: 5 },
  });

  it('CtpFrontPool (scripted fronts): a dead front’s instrument is subscribed on the other at once and taken from its first tick', () => {
    const diagram = readDiagram('sources/ctp/ctp-front-pool.ts', 'CtpFrontPool');
    expect(diagram.call).toBe('fronts a (preferred) and b, one instrument ticking every 4 ms');
    const ticks = diagram.marbles('ticks');
    const run = runScript(diagram, twoFronts('a', 'b'), ticks.length, { x: (r) => r.api('a').down() });
    expect(recorded(ticksByFront(run, (front) => front))).toEqual(drawn(ticks));
    const moves = run.events
      .filter((e) => e.type === CtpEvents.INSTRUMENT_MOVED)
      .map((e): [number, string] => [e.at, String(e.payload['to'])]);
    expect(recorded(moves)).toEqual(drawn(diagram.marbles('moves')));
    expect(recorded(statusLetters(run, 'b'))).toEqual(drawn(diagram.marbles('status')));
  });

  it('ctpSource (its front pool, on scripted fronts): failover to the other front, and back once the preferred one logs in again', () => {
    const diagram = readDiagram('sources/ctp-source.ts', 'ctpSource');
    expect(diagram.call).toBe('fronts front-1 (preferred) and front-2, one instrument ticking every 4 ms');
    const ticks = diagram.marbles('ticks');
    const run = runScript(diagram, { ...twoFronts('front-1', 'front-2'), migrateBack: 'on_recovery' }, ticks.length, {
      x: (r) => r.api('front-1').down(),
      y: (r) => r.api('front-1').up(),
    });
    expect(recorded(ticksByFront(run, (front) => front.slice('front-'.length)))).toEqual(drawn(ticks));
    expect(recorded(statusLetters(run, 'front-2'))).toEqual(drawn(diagram.marbles('status')));
  });

  it('CtpFront (a scripted front): logging in after each connect, stale after stale_after_ms of silence, connecting after a drop', () => {
    const diagram = readDiagram('sources/ctp/ctp-front.ts', 'CtpFront');
    expect(diagram.call).toBe('one front: connected 1 ms after a try, each answer 1 ms, a reconnect 3 ms; stale_after_ms 40');
    const state = drawn(diagram.marbles('state'));
    const run = runScript(
      diagram,
      {
        instruments: ['SHFE.rb2501'],
        fronts: [{ name: 'a' }],
        tickEveryMs: 5,
        firstTickAt: 5,
        staleAfterMs: 40,
        timing: { connectMs: 1, replyMs: 1, reconnectMs: 3 },
      },
      (state.at(-1)?.frame ?? 0) + 2,
      { s: (r) => r.api('a').stall(), x: (r) => r.api('a').disconnect() },
    );
    const letters: Record<string, string> = { 'logging-in': 'i', ready: 'r', stale: 't', connecting: 'n' };
    const changes = run.events
      .filter((e) => e.type === CtpEvents.FRONT_READY || e.type === CtpEvents.FRONT_UNAVAILABLE)
      .map((e): [number, string] => [e.at, letters[String(e.payload['state'])] ?? '?']);
    expect(recorded(changes)).toEqual(state);
  });

  it('wsFeedSource (a real upstream, a tickflow websocket sink): a tick per changed quote, DOWN when the connection drops, the fresh snapshot after the reconnect; in the order drawn', async () => {
    const diagram = readDiagram('sources/ws-feed-source.ts', 'wsFeedSource');
    let upstream: RunningSink = await startSink();
    const rb = firstQuote('SHFE.rb2501', 3500).instrument_id;
    const quotes = {
      a: firstQuote('SHFE.rb2501', 3500),
      b: laterQuote('SHFE.rb2501', 2, { last_price: 3501 }),
      c: laterQuote('SHFE.rb2501', 3, { last_price: 3502 }),
    };
    const ctx = testContext(asyncScheduler, wsFeedSource, { stage: 'diagram' });
    ctx.sideOutput<FeedStatus>('status');
    const statuses: string[] = [];
    ctx.sides
      .get('status')
      ?.subscribe((s) => statuses.push((s as FeedStatus).state === 'UP' ? 'u' : (s as FeedStatus).state === 'DOWN' ? 'd' : 's'));
    const prices: number[] = [];
    const config = validateComponentConfig(wsFeedSource, {
      url: upstream.wsUrl,
      instruments: [rb],
      retry_initial_ms: 20,
      retry_max_ms: 100,
      stale_after_ms: 60_000,
    });
    const subscription = wsFeedSource.create(config, ctx).subscribe((t) => prices.push(t.last_price ?? NaN));
    try {
      const price = { a: 3500, b: 3501, B: 3501, c: 3502 } as Record<string, number>;
      const upstreamSteps = drawn(diagram.marbles('upstream'));
      const ticksDrawn = drawn(diagram.marbles('ticks'));
      const statusDrawn = drawn(diagram.marbles('status'));
      for (const { frame, notification } of upstreamSteps) {
        const letter = String(notification.value);
        if (letter === 'x') {
          // The connection drops: the upstream stops; a new one comes up on the same port for the reconnect.
          upstream.quotes.complete();
          upstream.feeds.complete();
          await upstream.done;
        } else if (letter === 'B') {
          upstream = await startSink({ port: upstream.port });
          upstream.quotes.next(firstQuote('SHFE.rb2501', 3501));
        } else {
          upstream.quotes.next(quotes[letter as 'a' | 'b' | 'c']);
        }
        // Each line so far: what is drawn up to this frame, waited for, and nothing more.
        const ticksDue = ticksDrawn.filter((t) => t.frame <= frame).map((t) => price[String(t.notification.value)]);
        const statusDue = statusDrawn.filter((t) => t.frame <= frame).map((t) => String(t.notification.value));
        await waitFor(
          `what is drawn up to frame ${frame}`,
          () => (prices.length >= ticksDue.length && statuses.length >= statusDue.length ? true : undefined),
          5_000,
        );
        expect({ frame, prices, statuses }).toEqual({ frame, prices: ticksDue, statuses: statusDue });
      }
    } finally {
      subscription.unsubscribe();
    }
  });
});
