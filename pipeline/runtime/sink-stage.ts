import { Observable, Subscription } from 'rxjs';
import type { InputPorts, SinkAcknowledgements, SinkWriter, SinkWriteResult } from '../components/component-definition.js';
import { StageError } from '../../errors/errors.js';
import type { StageRun } from '../graph/pipeline-graph.js';
import type { PortBacklog, SinkSettlement } from './sink-settlement.js';

/** The writes that returned one promise: a batching sink returns the same one for every record of a batch. */
interface WriteGroup {
  settled: boolean;
  /** What the promise resolved with; undefined: each record is its own acknowledgement. */
  value: unknown;
  /** For a sink that acknowledges batches: the writes that returned the promise, on every port; 0 otherwise. */
  writes: number;
  /** The queues a batch has its one entry in (each port it was written from): it is acknowledged once first in all of them. */
  readonly queues: AcknowledgementQueue[];
}

/**
 * One port's writes not yet acknowledged: (group, record) pairs, oldest
 * first from `head` (one pair per batch, with no record, for a sink that
 * acknowledges batches), and the group of the last promise.
 */
interface AcknowledgementQueue {
  entries: unknown[];
  head: number;
  /** Entries queued and acknowledged so far, for {@link SinkSettlement}. */
  readonly backlog: PortBacklog;
  lastResult: PromiseLike<unknown> | undefined;
  lastGroup: WriteGroup | undefined;
}

/** The queues of a group that is not a batch: none (one array for them all). */
const NOT_A_BATCH: AcknowledgementQueue[] = [];
/** The group of writes acknowledged at once. */
const WRITTEN: WriteGroup = { settled: true, value: undefined, writes: 0, queues: NOT_A_BATCH };

/** Whether `value` can be a batch's acknowledgements: a length and `at`, as an array has. */
const isAcknowledgements = (value: unknown): value is SinkAcknowledgements =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as SinkAcknowledgements).length === 'number' &&
  typeof (value as SinkAcknowledgements).at === 'function';

/**
 * Runs a sink's {@link SinkWriter} as a stage: subscribes every port, calls
 * `write(port, record)` for each record and emits one acknowledgement per
 * record written, in the order of that port's writes (a write that returns
 * nothing is acknowledged at once, unless an earlier write of its port is
 * still pending; a promise when it resolves, as its value or else the
 * record; `false` never). A sink that acknowledges batches returns one
 * promise for a batch and resolves it with the batch's acknowledgements,
 * one per write, which are emitted in order: the stage keeps a count per
 * batch, no record. Once every port completed it calls `close()`,
 * and completes when `close()` resolved and every write was acknowledged.
 *
 * Failures: a write that throws or rejects stops the inputs (no later
 * write), then `close()` releases what the sink holds and the stage errors
 * with the write's error. An input's error stops the other inputs too, but
 * what was written is still acknowledged before the stage errors with it. A
 * `close()` that throws or rejects is the stage's error, unless an earlier
 * failure is (closing after a failed write often fails for the same cause);
 * after an unsubscribe, it goes to `reportUnheardError`. Unsubscribing (a
 * stop that timed out) stops the inputs and calls `close()` when it was not
 * called yet.
 *
 * ```
 * in:    -a-b-c--|          a, c: written at once; b: its promise resolves 3 frames later
 * close:         ---r       called at the input's end, resolves 3 frames later
 * acks:  -a----(bc)-|       c waits for b; completes once closed
 * ```
 *
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * const lines: string[] = [];
 * const writer = { write: (_port: string, line: string) => void lines.push(line), close: async () => console.log(lines) };
 * sinkStage(writer, console.error)({ in: of('a', 'b') }).subscribe({ complete: () => console.log('done') });
 * // Logs: [ 'a', 'b' ]
 * // Logs: done
 * ```
 *
 * @param writer The sink's writer, made by its `create`.
 * @param reportUnheardError Where a failure of `close()` goes once the stage was unsubscribed.
 * @param settlement The run's {@link SinkSettlement}, told what each port still owes, so a source can ask whether its
 *   records are through (`ctx.pipeline.sinksSettled()`); none outside a pipeline.
 * @param stage The stage's id, as the settlement names it.
 * @returns The stage's run: port streams in, acknowledgements out.
 */
export function sinkStage(
  writer: SinkWriter<InputPorts>,
  reportUnheardError: (error: unknown) => void,
  settlement?: SinkSettlement,
  stage = 'sink',
): StageRun {
  return (ports) =>
    new Observable<unknown>((subscriber) => {
      const watched = settlement?.watch(stage);
      /** Tells the settlement once how the stage ended. */
      let endReported = false;
      const reportEnd = (error?: unknown): void => {
        if (endReported) return;
        endReported = true;
        watched?.ended(error);
      };
      const inputs = new Subscription();
      const batches = writer.acknowledgesBatches === true;
      let openPorts = Object.keys(ports).length;
      /** Promises of writes not settled yet (one per group). */
      let unsettledWrites = 0;
      let closeCalled = false;
      let closed = false;
      /** A write threw or rejected: the stage errors with it once closed, without waiting for other writes. */
      let writeFailure: { error: unknown } | undefined;
      /** An input errored: the stage errors with it once what was written is acknowledged and the sink closed. */
      let inputFailure: { error: unknown } | undefined;

      const settle = (): void => {
        if (!closed) return;
        if (writeFailure !== undefined) {
          reportEnd(writeFailure.error);
          subscriber.error(writeFailure.error);
        } else if (unsettledWrites > 0) return;
        else if (inputFailure !== undefined) {
          reportEnd(inputFailure.error);
          subscriber.error(inputFailure.error);
        } else {
          reportEnd();
          subscriber.complete();
        }
      };
      const closeFailed = (error: unknown): void => {
        reportEnd(error);
        if (subscriber.closed) return reportUnheardError(error);
        subscriber.error((writeFailure ?? inputFailure ?? { error }).error);
      };
      const close = (): void => {
        if (closeCalled) return;
        closeCalled = true;
        let closing: PromiseLike<void>;
        try {
          closing = writer.close();
        } catch (error) {
          return closeFailed(error);
        }
        closing.then(() => {
          closed = true;
          settle();
        }, closeFailed);
      };
      const endInputs = (): void => {
        inputs.unsubscribe();
        close();
      };
      const writeFailed = (error: unknown): void => {
        if (writeFailure !== undefined) return;
        writeFailure = { error };
        reportEnd(error);
        endInputs();
        settle();
      };
      /** Every port's queue. */
      const queues: AcknowledgementQueue[] = [];
      /** Acknowledges what is first in `queue` and settled; whether it acknowledged anything. */
      const drainQueue = (queue: AcknowledgementQueue): boolean => {
        const { entries } = queue;
        let drained = false;
        while (queue.head < entries.length && (entries[queue.head] as WriteGroup).settled) {
          const group = entries[queue.head] as WriteGroup;
          if (group.writes > 0) {
            // A batch written from several ports waits until it is first on each, so each port's order holds, and
            // its acknowledgements go out in the order of its writes across them.
            if (!group.queues.every((q) => q.entries[q.head] === group)) break;
            const acknowledgements = group.value as SinkAcknowledgements;
            // Its entries stay first until all of them are out: a write they cause on those ports queues behind them.
            for (let i = 0; i < group.writes && writeFailure === undefined; i++) subscriber.next(acknowledgements.at(i));
            for (const q of group.queues) {
              q.head += 2;
              q.backlog.acknowledged++;
            }
          } else {
            const record = entries[queue.head + 1];
            queue.head += 2;
            queue.backlog.acknowledged++;
            if (writeFailure === undefined) subscriber.next(group.value === undefined ? record : group.value);
          }
          drained = true;
        }
        if (queue.head === entries.length) {
          queue.entries = [];
          queue.head = 0;
        }
        return drained;
      };
      let draining = false;
      let drainAgain = false;
      /** Acknowledges on every port what can be: a batch that went out on one port can free another. */
      const drain = (): void => {
        // A promise of a write made while acknowledging may settle at once; the loop that runs takes it.
        if (draining) {
          drainAgain = true;
          return;
        }
        draining = true;
        try {
          // Bounded: each round acknowledges something, or is the last.
          do {
            drainAgain = false;
            for (const queue of queues) if (drainQueue(queue)) drainAgain = true;
          } while (drainAgain);
        } finally {
          draining = false;
        }
        watched?.acknowledged();
      };
      /** The batch the sink's writes went to last, on any port (a sink that acknowledges batches). */
      let lastBatch: WriteGroup | undefined;
      let lastBatchResult: PromiseLike<unknown> | undefined;
      const write = (port: string, queue: AcknowledgementQueue, record: unknown): void => {
        if (writeFailure !== undefined) return;
        let result: SinkWriteResult;
        try {
          result = writer.write(port, record);
        } catch (error) {
          return writeFailed(error);
        }
        if (result === false) return;
        if (result === undefined) {
          // The hot path: nothing pending on the port, so no queue entry.
          if (queue.head === queue.entries.length) subscriber.next(record);
          else {
            queue.entries.push(WRITTEN, record);
            queue.backlog.queued++;
          }
          return;
        }
        if (batches) return writeToBatch(port, queue, result);
        // One reaction per promise, not per record: a batch of a thousand records waits as one group.
        if (result === queue.lastResult && queue.lastGroup?.settled === false) {
          queue.entries.push(queue.lastGroup, record);
          queue.backlog.queued++;
          return;
        }
        const group: WriteGroup = { settled: false, value: undefined, writes: 0, queues: NOT_A_BATCH };
        queue.lastResult = result;
        queue.lastGroup = group;
        queue.entries.push(group, record);
        queue.backlog.queued++;
        unsettledWrites++;
        result.then((acknowledgement) => {
          group.settled = true;
          group.value = acknowledgement;
          if (queue.lastGroup === group) queue.lastResult = queue.lastGroup = undefined;
          unsettledWrites--;
          drain();
          settle();
        }, writeFailed);
      };
      /** A write of a sink that acknowledges batches: counted in its batch, with one entry per port, and no record kept. */
      const writeToBatch = (port: string, queue: AcknowledgementQueue, result: PromiseLike<unknown>): void => {
        if (result === lastBatchResult && lastBatch?.settled === false) {
          lastBatch.writes++;
          if (queue.lastGroup !== lastBatch) {
            queue.entries.push(lastBatch, undefined);
            queue.backlog.queued++;
            queue.lastGroup = lastBatch;
            lastBatch.queues.push(queue);
          }
          return;
        }
        const group: WriteGroup = { settled: false, value: undefined, writes: 1, queues: [queue] };
        lastBatch = group;
        lastBatchResult = result;
        queue.lastGroup = group;
        queue.entries.push(group, undefined);
        queue.backlog.queued++;
        unsettledWrites++;
        result.then((acknowledgement) => {
          if (!(isAcknowledgements(acknowledgement) && acknowledgement.length === group.writes)) {
            const got = isAcknowledgements(acknowledgement) ? `${acknowledgement.length} acknowledgements` : 'no acknowledgements';
            return writeFailed(new StageError(`a batch of ${group.writes} writes (port '${port}' first) was resolved with ${got}`));
          }
          group.settled = true;
          group.value = acknowledgement;
          if (lastBatch === group) lastBatch = lastBatchResult = undefined;
          for (const q of group.queues) if (q.lastGroup === group) q.lastGroup = undefined;
          unsettledWrites--;
          drain();
          settle();
        }, writeFailed);
      };

      for (const [port, records] of Object.entries(ports)) {
        // A synchronous input may already have ended the others.
        if (inputs.closed) break;
        const queue: AcknowledgementQueue = {
          entries: [],
          head: 0,
          backlog: watched?.port() ?? { queued: 0, acknowledged: 0 },
          lastResult: undefined,
          lastGroup: undefined,
        };
        queues.push(queue);
        inputs.add(
          records.subscribe({
            next: (record) => write(port, queue, record),
            error: (error: unknown) => {
              if (writeFailure !== undefined || inputFailure !== undefined) return;
              inputFailure = { error };
              endInputs();
            },
            complete: () => {
              if (--openPorts === 0) endInputs();
            },
          }),
        );
      }
      if (openPorts === 0) close();
      return () => {
        inputs.unsubscribe();
        close();
        // Unsubscribed (a stop that timed out): what is still pending will not be acknowledged.
        reportEnd(new StageError(`sink '${stage}' was unsubscribed`));
      };
    });
}
