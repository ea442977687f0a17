import { Observable, type SchedulerAction, type SchedulerLike, type Subscription } from 'rxjs';
import { StageError } from '../../errors/errors.js';
import type { Tick } from '../../schemas/generated.js';
import type { CreditGate } from './credit-gate.js';
import type { ReplayFile } from './plan-replay.js';
import type { TickBatchReader } from './tick-batch-reader.js';

export interface ReadTicksOptions {
  /** Every emission happens in an action of this scheduler. */
  readonly scheduler: SchedulerLike;
  /** Opens the reader of one file (called when the file's turn comes). */
  readonly open: (file: ReplayFile) => TickBatchReader;
  /** Back-pressure: no batch is read while the gate is closed. Without one, reading follows emission only. */
  readonly gate?: CreditGate;
  /** Most ticks emitted in one scheduler action. Default 10,000. */
  readonly maxPerAction?: number;
  /** An action also yields after this many milliseconds of scheduler time (checked every 128 ticks; frozen in virtual time). Default 5. */
  readonly sliceMs?: number;
  /** Written into every tick's `feed_id` when given. */
  readonly feedId?: string;
  /**
   * After every batch read and at the end of every file: bytes read so far
   * across all files, ticks emitted so far, and ticks read so far (emitted,
   * or read ahead and still to be emitted, in the order they will be).
   */
  readonly onProgress?: (bytes: number, ticks: number, read: number) => void;
  /** After a file is read to its end, with the number of ticks read from it. */
  readonly onFileEnd?: (file: ReplayFile, ticks: number) => void;
}

/** Decoded ticks are fresh objects owned by the replay, so a feed id is written in place rather than copied. */
type MutableTick = { -readonly [K in keyof Tick]: Tick[K] };

/** The read that found every file read. */
const END = Symbol('end');

/** Batches read ahead of emission at most: reading and decoding go on while an emission action waits for its turn. */
const READ_AHEAD = 4;

/**
 * The ticks of `files`, one file after the other, completing after the
 * last. Files are read a batch at a time, up to four batches ahead of
 * emission, so reading and decoding fill the time an emission action waits
 * for its turn; ticks are emitted only from actions of the
 * scheduler, each action yielding after `maxPerAction` ticks or `sliceMs`
 * of scheduler time so that other work runs between them. The next batch
 * is read only while the gate is open, so the ticks held downstream (by a
 * pacer) stay bounded; unsubscribing stops reading within a batch and
 * closes the file.
 *
 * ```
 * files:  [a.ndjson: a b c] [b.avro: d]
 * output: (abcd|)         in file order, as batches are read; no scheduler time of its own
 * ```
 *
 * A file that cannot be read errors the Observable with a `StageError`
 * naming it, after the ticks read before the failure. Each subscription
 * reads the files anew.
 */
export function readTicks(files: readonly ReplayFile[], options: ReadTicksOptions): Observable<Tick> {
  const { scheduler, gate } = options;
  const maxPerAction = options.maxPerAction ?? 10_000;
  const sliceMs = options.sliceMs ?? 5;
  const feedId = options.feedId;

  return new Observable<Tick>((subscriber) => {
    let index = 0;
    let reader: TickBatchReader | undefined;
    let bytesBefore = 0;
    let emitted = 0;
    let read = 0;
    let fileTicks = 0;
    let closed = false;
    /** The batch being emitted, from `at` on. */
    let batch: Tick[] = [];
    let at = 0;
    /** Batches read ahead and not yet taken. */
    let ready: Tick[][] = [];
    /** Every file has been read, or reading failed (`failure`). */
    let ended = false;
    let failure: { file: ReplayFile | undefined; error: unknown } | undefined;
    let reading = false;
    let action: Subscription | undefined;

    const fail = (file: ReplayFile | undefined, error: unknown): void => {
      const path = file?.path ?? '(none)';
      subscriber.error(
        new StageError(`file: cannot replay ${path} (${file?.format ?? '?'}): ${(error as Error)?.message ?? String(error)}`, {
          cause: error,
          context: { component: 'file', path },
        }),
      );
    };

    /** The next non-empty batch across the files, or END after the last file. */
    const readBatch = async (): Promise<Tick[] | typeof END> => {
      // Bounded: each turn reads one batch of a file, or moves on to the next file.
      for (;;) {
        const file = files[index];
        if (file === undefined || closed) return END;
        if (reader === undefined) {
          reader = options.open(file);
          fileTicks = 0;
        }
        const current = reader;
        const ticks = await current.next();
        if (closed) return END;
        if (ticks === undefined) {
          bytesBefore += current.bytesRead;
          current.close();
          reader = undefined;
          index++;
          options.onProgress?.(bytesBefore, emitted, read);
          options.onFileEnd?.(file, fileTicks);
          continue;
        }
        fileTicks += ticks.length;
        read += ticks.length;
        options.onProgress?.(bytesBefore + current.bytesRead, emitted, read);
        if (ticks.length > 0) return ticks;
      }
    };

    /** Starts reading the next batch unless one is being read, enough are read ahead, or the gate is closed. */
    const readAhead = (): void => {
      if (closed || reading || ended || ready.length >= READ_AHEAD) return;
      if (gate !== undefined && !gate.open) {
        gate.whenOpen(readAhead);
        return;
      }
      reading = true;
      readBatch().then(
        (result) => {
          reading = false;
          if (closed) return;
          if (result === END) ended = true;
          else ready.push(result);
          action ??= scheduler.schedule(emit);
          readAhead();
        },
        (error: unknown) => {
          reading = false;
          if (closed) return;
          // Reported after the ticks read before it.
          ended = true;
          failure = { file: files[index], error };
          action ??= scheduler.schedule(emit);
        },
      );
    };

    /** Emits until the budget of the action is spent, taking read-ahead batches as they come. */
    const emit = function (this: SchedulerAction<undefined>): void {
      const startedAt = scheduler.now();
      // Bounded by maxPerAction.
      for (let n = 0; !subscriber.closed; n++) {
        if (at === batch.length) {
          const next = ready.shift();
          if (next === undefined) {
            if (ended) {
              if (failure === undefined) subscriber.complete();
              else fail(failure.file, failure.error);
              return;
            }
            action = undefined;
            readAhead();
            return;
          }
          batch = next;
          at = 0;
          readAhead();
        }
        if (n === maxPerAction || (n % 128 === 127 && scheduler.now() - startedAt >= sliceMs)) {
          this.schedule(undefined, 0);
          return;
        }
        const tick = batch[at++] as Tick;
        if (feedId !== undefined) (tick as MutableTick).feed_id = feedId;
        emitted++;
        gate?.take(); // state before emission: `next` may release the credit, or unsubscribe
        subscriber.next(tick);
      }
    };

    readAhead();
    return () => {
      closed = true;
      gate?.cancel();
      action?.unsubscribe();
      reader?.close();
      reader = undefined;
      batch = [];
      ready = [];
    };
  });
}
