import { asyncScheduler, lastValueFrom, take, tap, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { StageError } from '../../../errors/errors.js';
import type { Tick } from '../../../schemas/generated.js';
import { CreditGate } from '../../../sources/file/credit-gate.js';
import type { ReplayFile } from '../../../sources/file/plan-replay.js';
import { readTicks } from '../../../sources/file/read-ticks.js';
import type { TickBatchReader } from '../../../sources/file/tick-batch-reader.js';
import { makeTick } from '../../support/make-tick.js';

/** A reader of `batches` (or endless batches of `endless` ticks) that records what was asked of it. */
class FakeReader implements TickBatchReader {
  nextCalls = 0;
  closed = false;
  bytesRead = 0;
  private sequence = 0;

  constructor(
    readonly path: string,
    private readonly batches: (number | Error)[] | { endless: number },
  ) {}

  async next(): Promise<Tick[] | undefined> {
    this.nextCalls++;
    await Promise.resolve();
    const size = Array.isArray(this.batches) ? this.batches.shift() : this.batches.endless;
    if (size === undefined) return undefined;
    if (size instanceof Error) throw size;
    this.bytesRead += size * 100;
    return Array.from({ length: size }, () => makeTick({ feed_id: this.path, sequence: ++this.sequence }));
  }

  close(): void {
    this.closed = true;
  }
}

const file = (path: string): ReplayFile => ({ path, format: 'ndjson', size: 0 });
/** Lets the reads and the scheduler's actions (timers) run for a while. */
const settle = () => new Promise((r) => setTimeout(r, 30));

describe('readTicks', () => {
  it('reads the files in order, each to its end, closes them and completes after the last', async () => {
    const readers = new Map<string, FakeReader>([
      ['a', new FakeReader('a', [2, 0, 1])],
      ['b', new FakeReader('b', [])],
      ['c', new FakeReader('c', [3])],
    ]);
    const ends: [string, number][] = [];
    const ticks = await lastValueFrom(
      readTicks([file('a'), file('b'), file('c')], {
        scheduler: asyncScheduler,
        open: (f) => readers.get(f.path) as FakeReader,
        onFileEnd: (f, n) => ends.push([f.path, n]),
      }).pipe(toArray()),
    );
    expect(ticks.map((t) => `${t.feed_id}${t.sequence}`)).toEqual(['a1', 'a2', 'a3', 'c1', 'c2', 'c3']);
    expect(ends).toEqual([
      ['a', 3],
      ['b', 0],
      ['c', 3],
    ]);
    expect([...readers.values()].map((r) => r.closed)).toEqual([true, true, true]);
  });

  it('completes at once without files', async () => {
    expect(await lastValueFrom(readTicks([], { scheduler: asyncScheduler, open: () => new FakeReader('x', []) }).pipe(toArray()))).toEqual(
      [],
    );
  });

  it('emits at most maxPerAction ticks per scheduler action, so other actions run between them', async () => {
    let emitted = 0;
    const seen: number[] = [];
    await lastValueFrom(
      readTicks([file('a')], { scheduler: asyncScheduler, open: () => new FakeReader('a', [25]), maxPerAction: 10 }).pipe(
        tap(() => {
          emitted++;
          if (emitted === 10) asyncScheduler.schedule(() => seen.push(emitted));
        }),
        toArray(),
      ),
    );
    expect(emitted).toBe(25);
    expect(seen).toEqual([10]);
  });

  it('emits batches read ahead in the same action, within its budget', async () => {
    const ticks = await lastValueFrom(
      readTicks([file('a')], { scheduler: asyncScheduler, open: () => new FakeReader('a', [3, 3, 3]) }).pipe(toArray()),
    );
    expect(ticks.map((t) => t.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('writes the configured feed id into every tick', async () => {
    const ticks = await lastValueFrom(
      readTicks([file('a')], { scheduler: asyncScheduler, open: () => new FakeReader('a', [3]), feedId: 'replay' }).pipe(toArray()),
    );
    expect(ticks.map((t) => t.feed_id)).toEqual(['replay', 'replay', 'replay']);
  });

  it('stops reading and closes the file when unsubscribed early from an endless file', async () => {
    const reader = new FakeReader('a', { endless: 5 });
    const ticks = await lastValueFrom(readTicks([file('a')], { scheduler: asyncScheduler, open: () => reader }).pipe(take(12), toArray()));
    expect(ticks.length).toBe(12);
    const calls = reader.nextCalls;
    await settle();
    expect(reader.closed).toBe(true);
    expect(calls).toBeLessThanOrEqual(3 + 4 + 1); // the batches emitted, those read ahead, one in flight
    expect(reader.nextCalls).toBe(calls);
  });

  it('reads no further batch while the credit gate is closed, and resumes when half the credits are back', async () => {
    const reader = new FakeReader('a', { endless: 4 });
    const gate = new CreditGate(10);
    const ticks: Tick[] = [];
    const sub = readTicks([file('a')], { scheduler: asyncScheduler, open: () => reader, gate }).subscribe((t) => ticks.push(t));
    await settle();
    // Reading stops once the limit is reached: beyond it at most the batch being emitted, four read ahead and one in flight.
    expect(gate.open).toBe(false);
    expect(ticks.length).toBeLessThanOrEqual(10 + 6 * 4);
    expect(gate.outstanding).toBe(ticks.length);
    const calls = reader.nextCalls;
    const before = ticks.length;
    gate.release(ticks.length - 6); // 6 out: more than half of 10
    await settle();
    expect(reader.nextCalls).toBe(calls);
    expect(ticks.length).toBe(before);
    gate.release(1); // 5 out: half
    await settle();
    expect(reader.nextCalls).toBeGreaterThan(calls);
    expect(ticks.length).toBeGreaterThan(before);
    expect(gate.open).toBe(false);
    sub.unsubscribe();
    expect(reader.closed).toBe(true);
  });

  it('reports progress after each batch and at the end of each file: bytes across files, ticks emitted and ticks read so far', async () => {
    const progress: [number, number, number][] = [];
    await lastValueFrom(
      readTicks([file('a'), file('b')], {
        scheduler: asyncScheduler,
        open: (f) => new FakeReader(f.path, f.path === 'a' ? [2, 1] : [4]),
        onProgress: (bytes, ticks, read) => progress.push([bytes, ticks, read]),
      }).pipe(toArray()),
    );
    expect(progress.map(([bytes]) => bytes)).toEqual([200, 300, 300, 700, 700]);
    expect(progress.map(([, ticks]) => ticks)).toEqual([...progress.map(([, ticks]) => ticks)].sort((a, b) => a - b));
    // Read runs ahead of emitted: the count includes the batch just read, before any of it is emitted.
    expect(progress.map(([, , read]) => read)).toEqual([2, 3, 3, 7, 7]);
    for (const [, ticks, read] of progress) expect(ticks).toBeLessThanOrEqual(read);
  });

  it('errors with a StageError naming the file when a read fails, after the ticks before it', async () => {
    const ticks: Tick[] = [];
    const error = await new Promise<unknown>((resolve) => {
      readTicks([file('a')], { scheduler: asyncScheduler, open: () => new FakeReader('a', [2, new Error('EIO: i/o error')]) }).subscribe({
        next: (t) => ticks.push(t),
        error: resolve,
      });
    });
    expect(ticks.length).toBe(2);
    expect(error).toBeInstanceOf(StageError);
    expect((error as Error).message).toBe('file: cannot replay a (ndjson): EIO: i/o error');
  });

  it('errors with a StageError when a file cannot be opened', async () => {
    const opening = readTicks([file('a')], {
      scheduler: asyncScheduler,
      open: () => {
        throw new Error('EMFILE: too many open files');
      },
    });
    await expect(lastValueFrom(opening)).rejects.toThrow(/file: cannot replay a \(ndjson\): EMFILE/);
  });
});
