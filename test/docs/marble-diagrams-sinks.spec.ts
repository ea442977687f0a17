// The TSDoc marble diagrams of the sinks. A sink does real I/O (Redis, files
// with fdatasync, a WebSocket server), which no virtual clock drives, so
// each runs for real and the diagram is played in its order: the input
// lines' records go in frame by frame, and at each frame the
// acknowledgements so far must be those the diagram draws (in order and
// content), never one it does not draw; the stage completes after its
// inputs, with what the note says done. Frames are not measured: the sinks
// make no claim of milliseconds.
import { connect } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { asyncScheduler, Subject, type Subscription } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../pipeline/config/validate-config.js';
import { sinkStage } from '../../pipeline/runtime/sink-stage.js';
import type { OrderEvent, QuoteDiff, Tick } from '../../schemas/generated.js';
import { QuoteBook, type QuoteChange } from '../../protocols/diff/quote-book.js';
import { AuditFileReader } from '../../sinks/audit/audit-file-reader.js';
import { DiffSession } from '../../sinks/websocket/diff-session.js';
import { FeedBoard } from '../../sinks/websocket/feed-board.js';
import { ConflatedRecords } from '../../sinks/websocket/conflated-records.js';
import { QuoteFanout } from '../../sinks/websocket/quote-fanout.js';
import type { WebsocketInput } from '../../sinks/websocket/websocket-books.js';
import { redisSink } from '../../sinks/redis-sink.js';
import { auditFiles, manualScheduler, schemas, startAudit, tick, tmp } from '../support/audit-harness.js';
import { createTestScheduler } from '../support/marbles.js';
import { closeRedisServers, REDIS_INSTALL_TIMEOUT_MS, startRedisServer, type RedisServer } from '../support/redis-server.js';
import { testContext } from '../support/test-context.js';
import { readDiagram, type MarbleDiagram } from '../support/tsdoc-diagrams.js';
import { waitFor } from '../support/wait-for.js';
import {
  feedStatus,
  firstQuote,
  laterQuote,
  orderAccepted,
  orderSubmitted,
  startSink,
  stopAllSinks,
} from '../support/websocket-harness.js';

/** One event of a diagram line: a value (its letter) or the line's end (`letter` undefined), at its frame. */
interface Step {
  readonly frame: number;
  readonly label: string;
  readonly letter: string | undefined;
}

/** The events of the lines `labels`, in time order (a frame's events in the order of the lines), each line shifted by its column. */
function timeline(diagram: MarbleDiagram, labels: readonly string[]): Step[] {
  const lines = labels.map((label) => diagram.get(label));
  const left = Math.min(...diagram.lines.map((l) => l.column));
  const steps = lines.flatMap((line) =>
    createTestScheduler()
      .run(() => TestScheduler.parseMarbles(line.marbles, undefined, undefined, undefined, true))
      .filter(({ notification }) => notification.kind !== 'E')
      .map(({ frame, notification }) => ({
        frame: frame + line.column - left,
        label: line.label,
        letter: notification.kind === 'N' ? String(notification.value) : undefined,
      })),
  );
  // Array.prototype.sort is stable: same-frame events keep the order of the lines.
  return steps.sort((a, b) => a.frame - b.frame);
}

interface Played {
  /** The stage completed (it must not before every input has). */
  completed(): boolean;
}

/**
 * Plays `diagram` on a running sink: the records of the input lines go in
 * through `inputs`, frame by frame. After each frame the acknowledgements
 * so far must be the first ones the diagram draws; at a frame where it
 * draws some, the test waits (`release` is called while it waits, to let a
 * timer fire) until they came. At the end they must be exactly the drawn
 * ones. `recordOf` makes the nth record of a letter on a line, `ackOf` the
 * acknowledgement a record gets.
 */
async function play(
  diagram: MarbleDiagram,
  sink: { readonly inputs: Record<string, Subject<never>>; readonly acks: readonly unknown[]; readonly played: Played },
  recordOf: (label: string, letter: string, nth: number) => unknown,
  ackOf: (record: unknown, label: string) => unknown,
  options: { release?: () => void; early?: boolean } = {},
): Promise<void> {
  const inputLabels = Object.keys(sink.inputs);
  const acksLine = diagram.lines.find((l) => !inputLabels.includes(l.label))?.label ?? 'acks';
  const drawnAcks = timeline(diagram, [acksLine]).filter((s) => s.letter !== undefined);
  /** Records written and not yet acknowledged, by letter: a drawn ack is of the oldest record of its letter. */
  const unacknowledged = new Map<string, { record: unknown; label: string }[]>();
  const expected: unknown[] = [];
  const counts = new Map<string, number>();
  const steps = timeline(diagram, inputLabels);
  const frames = [...new Set([...steps, ...drawnAcks].map((s) => s.frame))].sort((a, b) => a - b);
  for (const frame of frames) {
    for (const step of steps.filter((s) => s.frame === frame)) {
      const input = sink.inputs[step.label] as Subject<unknown> | undefined;
      if (input === undefined) throw new Error(`no input '${step.label}'`);
      if (step.letter === undefined) {
        // Every input before the last still open: the stage cannot have completed.
        expect(sink.played.completed()).toBe(false);
        input.complete();
        continue;
      }
      const key = `${step.label}:${step.letter}`;
      const nth = counts.get(key) ?? 0;
      counts.set(key, nth + 1);
      const record = recordOf(step.label, step.letter, nth);
      unacknowledged.set(step.letter, [...(unacknowledged.get(step.letter) ?? []), { record, label: step.label }]);
      input.next(record);
    }
    for (const ack of drawnAcks.filter((s) => s.frame === frame)) {
      const oldest = unacknowledged.get(ack.letter as string)?.shift();
      if (oldest === undefined)
        throw new Error(`${diagram.file}: the diagram acknowledges a '${ack.letter}' at frame ${frame} before any was written`);
      expected.push(ackOf(oldest.record, oldest.label));
    }
    if (expected.length > sink.acks.length) {
      await waitFor(
        `the acknowledgements drawn up to frame ${frame}`,
        () => {
          options.release?.();
          return sink.acks.length >= expected.length ? true : undefined;
        },
        5_000,
      );
    }
    if (options.early === true) {
      // The drawn ones so far, in order; later ones may have come already, but only of records written.
      expect(sink.acks.slice(0, expected.length)).toEqual(expected);
      expect(sink.acks.length).toBeLessThanOrEqual([...unacknowledged.values()].reduce((n, queue) => n + queue.length, expected.length));
    } else {
      // None ahead of the drawing, none other than drawn.
      expect(sink.acks).toEqual(expected);
    }
  }
  expect(sink.acks).toEqual(expected);
}

describe('TSDoc marble diagrams: the WebSocket fan-out (no I/O, on virtual time)', () => {
  it('QuoteFanout: changes merged per epoch; a client at every flush gets one frame per epoch, one that peeks once gets them merged', () => {
    const diagram = readDiagram('sinks/websocket/quote-fanout.ts', 'QuoteFanout');
    const book = new QuoteBook();
    const fanout = new QuoteFanout(book);
    const feeds = new FeedBoard();
    const ids = { a: 'SHFE.rb2501', b: 'DCE.m2505' } as const;
    for (const id of Object.values(ids)) fanout.changed(book.apply(firstQuote(id, 3500)) as QuoteChange);
    const client = (): DiffSession => {
      const session = new DiffSession(fanout, feeds);
      session.subscribeQuote(Object.values(ids).join(','), 10);
      session.peekMessage();
      session.takeMessage();
      return session;
    };
    const frames: Record<'x' | 'y', string[]> = { x: [], y: [] };
    const sessions = { x: client(), y: client() };
    let seq = 1;
    const before = fanout.currentEpoch;
    createTestScheduler().run(({ cold }) => {
      cold(diagram.marbles('ticks')).subscribe((letter) => {
        seq++;
        const change = book.apply(laterQuote(ids[letter as 'a' | 'b'], seq, { last_price: 3500 + seq }));
        if (change !== undefined) fanout.changed(change);
      });
      cold(diagram.marbles('seal')).subscribe(() => fanout.seal());
      for (const name of ['x', 'y'] as const) {
        cold(diagram.marbles(name.toUpperCase())).subscribe(() => {
          sessions[name].peekMessage();
          frames[name].push(String(sessions[name].takeMessage()));
        });
      }
    });
    const quotesOf = (frame: string | undefined): Record<string, Record<string, unknown>> =>
      (JSON.parse(frame ?? '{}') as { data: { quotes: Record<string, Record<string, unknown>> }[] }).data[0]?.quotes ?? {};
    expect(fanout.currentEpoch - before).toBe(2);
    expect(frames.x).toHaveLength(2);
    expect(frames.y).toHaveLength(1);
    // Each of X's frames carries its epoch's changes of a and b; Y's carries the latest of both epochs, as X holds after both.
    expect(Object.keys(quotesOf(frames.x[0])).sort()).toEqual(Object.values(ids).sort());
    for (const id of Object.values(ids)) {
      expect(quotesOf(frames.y[0])[id]?.['last_price']).toBe(book.quote(id)?.['last_price']);
      expect(quotesOf(frames.x[1])[id]?.['last_price']).toBe(book.quote(id)?.['last_price']);
    }
    expect(quotesOf(frames.x[0])[ids.a]?.['last_price']).not.toBe(book.quote(ids.a)?.['last_price']);
  });
});

describe('TSDoc marble diagrams: what waits for a fan-out process (no I/O)', () => {
  it('ConflatedRecords: quote diffs merged per instrument, later changes winning; order events kept whole and first', () => {
    const diagram = readDiagram('sinks/websocket/conflated-records.ts', 'ConflatedRecords');
    const records: Record<string, WebsocketInput> = {
      a: ['quotes', firstQuote('SHFE.rb2501', 3500)],
      b: ['quotes', firstQuote('DCE.m2505', 2800)],
      c: ['quotes', laterQuote('SHFE.rb2501', 2, { last_price: 3505, volume: 12_010 })],
      o: ['orders', orderSubmitted('o-1', 'SHFE.rb2501', 'BUY', 1, 3500)],
      d: ['quotes', laterQuote('SHFE.rb2501', 3, { last_price: 3506 })],
    };
    const pending = new ConflatedRecords();
    const fed = createTestScheduler().run(() => TestScheduler.parseMarbles(diagram.marbles('in'), undefined, undefined, undefined, true));
    for (const { notification } of fed) if (notification.kind === 'N') pending.add(records[notification.value as string] as WebsocketInput);
    const [a, c, d] = [records['a'], records['c'], records['d']].map((r) => (r as ['quotes', QuoteDiff])[1]);
    const merged = { ...d, changes: { ...a?.changes, ...c?.changes, ...d?.changes } };
    const expected: Record<string, unknown> = { o: records['o'], x: ['quotes', merged], b: records['b'] };
    const taken = createTestScheduler().run(() =>
      TestScheduler.parseMarbles(diagram.marbles('taken'), undefined, undefined, undefined, true),
    );
    const drawn = taken.flatMap(({ notification }) => (notification.kind === 'N' ? [expected[notification.value as string]] : []));
    expect(pending.take()).toEqual(drawn);
    expect(pending.isEmpty).toBe(true);
    // The pipeline's records are shared by every process: merging never changes them.
    expect(a?.changes['last_price']).toBe(3500);
  });
});

describe('TSDoc marble diagrams: sinks (real I/O, in the order drawn)', () => {
  let redis: RedisServer;
  const cleanups: (() => unknown)[] = [];
  beforeAll(async () => {
    redis = await startRedisServer();
  }, REDIS_INSTALL_TIMEOUT_MS);
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
    await stopAllSinks();
  });
  afterAll(() => closeRedisServers());

  it('websocketSink (a real server): each record acknowledged as it is applied, an invalid transition not at all; completes after the server closed', async () => {
    const diagram = readDiagram('sinks/websocket-sink.ts', 'websocketSink');
    const sink = await startSink({}, { ordersOutliveOthers: true });
    let completed = false;
    void sink.done.then(() => (completed = true));
    const orders: Record<string, OrderEvent[]> = {
      o: [orderSubmitted('o-1', 'SHFE.rb2501', 'BUY', 1, 3500), orderAccepted('o-1', 'SHFE.rb2501')],
      // Submitted twice: the state machine has no such transition.
      x: [orderSubmitted('o-1', 'SHFE.rb2501', 'BUY', 1, 3500)],
    };
    const records = (label: string, letter: string, nth: number): unknown => {
      if (label === 'quotes')
        return nth === 0 ? firstQuote('SHFE.rb2501', 3500) : laterQuote('SHFE.rb2501', nth + 1, { last_price: 3500 + nth });
      if (label === 'feeds') return feedStatus('sim', nth === 0 ? 'UP' : 'STALE');
      return orders[letter]?.[nth];
    };
    await play(
      diagram,
      {
        inputs: { quotes: sink.quotes, feeds: sink.feeds, orders: sink.orders } as never,
        acks: sink.acks,
        played: { completed: () => completed },
      },
      records,
      (record) => record,
    );
    await within(sink.done, 'the sink to complete');
    // The server is gone: its port refuses connections.
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(sink.port, '127.0.0.1');
      socket.on('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.on('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  });

  it('redisSink (a real Redis): each record acknowledged once Redis answered its batch, in the order written (not at the frames drawn); completes after QUIT', async () => {
    const diagram = readDiagram('sinks/redis-sink.ts', 'redisSink');
    const ctx = testContext(asyncScheduler, redisSink, { stage: 'diagram', logger: pino({ level: 'silent' }) });
    const inputs = { quotes: new Subject<QuoteDiff>(), ticks: new Subject<Tick>() };
    const acks: unknown[] = [];
    let completed = false;
    let subscription: Subscription | undefined;
    const writer = redisSink.create(validateConfig('redis', redisSink.spec, { url: redis.url, key_prefix: 'diagram:' }), ctx);
    const done = new Promise<void>((resolve, reject) => {
      subscription = sinkStage(
        writer,
        reject,
      )(inputs).subscribe({
        next: (ack) => void acks.push(ack),
        error: reject,
        complete: () => {
          completed = true;
          resolve();
        },
      });
    });
    cleanups.push(() => subscription?.unsubscribe());
    const records = (label: string, _letter: string, nth: number): unknown =>
      label === 'quotes'
        ? nth === 0
          ? firstQuote('SHFE.rb2501', 3500)
          : laterQuote('SHFE.rb2501', nth + 1, { last_price: 3500 + nth })
        : { ...tick(nth + 1), instrument_id: 'SHFE.rb2501' };
    // When a batch goes depends on the connection and the flush window on the real clock: an acknowledgement may come before
    // the frame it is drawn at, never out of order.
    await play(diagram, { inputs: inputs as never, acks, played: { completed: () => completed } }, records, (record) => record, {
      early: true,
    });
    await within(done, 'the sink to complete');
    // What was acknowledged is in Redis, and the sink's connection is gone.
    const reader = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    cleanups.push(() => reader.disconnect());
    expect(await reader.xlen('diagram:ticks:SHFE.rb2501')).toBe(diagram.marbles('ticks').split('t').length - 1);
    expect(await reader.hget('diagram:quote:SHFE.rb2501', 'last_price')).toBe('3501');
    expect(String(await reader.client('LIST'))).not.toContain('name=tickflow:diagram');
  });

  it('auditSink (real files, its group-commit timer fired by the test): a block’s records acknowledged together after its fdatasync, as their AuditRecords; completes once closed', async () => {
    const diagram = readDiagram('sinks/audit-sink.ts', 'auditSink');
    const dir = tmp();
    const scheduler = manualScheduler();
    const sink = startAudit({ dir, group_commit_ms: 2 }, { scheduler });
    cleanups.push(() => sink.subscription.unsubscribe());
    // The ports the diagram does not draw carry nothing.
    for (const port of [sink.commands, sink.signals, sink.feeds, sink.controls]) port.complete();
    let completed = false;
    void sink.done.then(() => (completed = true));
    const event = orderSubmitted('o-1', 'SHFE.rb2501', 'BUY', 1, 3500);
    const records = (label: string, _letter: string, nth: number): unknown => (label === 'ticks' ? tick(nth + 1) : event);
    let seq = 0;
    const ackOf = (record: unknown, label: string): unknown =>
      expect.objectContaining({
        seq: ++seq,
        record_type: label === 'ticks' ? 'tickflow.Tick' : 'tickflow.OrderSubmitted',
        payload: label === 'ticks' ? schemas.codec('Tick').encode(record as Tick) : expect.any(Buffer),
      });
    // Nothing is committed until the test fires the group-commit timer, at the frames where the diagram draws acknowledgements.
    await play(
      diagram,
      { inputs: { ticks: sink.ticks, events: sink.events } as never, acks: sink.acks, played: { completed: () => completed } },
      records,
      ackOf,
      { release: () => scheduler.fire() },
    );
    await within(sink.done, 'the sink to complete');
    // One block per drawn group, and the lock released: another writer opens the directory.
    const groups = [
      ...new Set(
        timeline(diagram, ['acks'])
          .filter((s) => s.letter !== undefined)
          .map((s) => s.frame),
      ),
    ].map((frame) => timeline(diagram, ['acks']).filter((s) => s.frame === frame && s.letter !== undefined).length);
    expect(await blockCounts(join(dir, auditFiles(dir)[0] as string))).toEqual(groups);
    const next = startAudit({ dir }, {});
    cleanups.push(() => next.subscription.unsubscribe());
    next.ticks.next(tick(99));
    await within(next.end(), 'the second writer to complete');
    expect(next.acks.map((r) => r.seq)).toEqual([seq + 1]);
  });
});

/** `promise`, or an error naming `what` after 5 s. */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_resolve, reject) => (timer = setTimeout(() => reject(new Error(`timed out after 5 s waiting for ${what}`)), 5_000)),
  );
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Block sizes of an audit file, by record count. */
async function blockCounts(path: string): Promise<number[]> {
  const reader = await AuditFileReader.open(path);
  try {
    const header = await reader.header();
    if (header.kind !== 'ok') throw new Error(`${path}: bad header`);
    const counts: number[] = [];
    for await (const block of reader.blocks(header.header.end, header.header.sync)) counts.push(block.kind === 'block' ? block.count : -1);
    return counts;
  } finally {
    await reader.close();
  }
}
