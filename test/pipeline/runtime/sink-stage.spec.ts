import { beforeEach, describe, expect, it } from 'vitest';
import type { TestScheduler } from 'rxjs/testing';
import type { InputPorts, SinkWriter, SinkWriteResult } from '../../../pipeline/components/component-definition.js';
import { sinkStage } from '../../../pipeline/runtime/sink-stage.js';
import { StageError } from '../../../errors/errors.js';
import { createTestScheduler } from '../../support/marbles.js';

/** How the test writer answers a write of a record, or its close. */
type Outcome = 'at once' | 'dropped' | 'throws' | { readonly settlesIn: number; readonly value?: string; readonly rejects?: true };

const failure = new Error('disk gone');

let scheduler: TestScheduler;
beforeEach(() => {
  scheduler = createTestScheduler();
});

/**
 * A thenable that settles `frames` frames from now on the TestScheduler and
 * calls back synchronously: a real Promise would settle only after the
 * virtual run, out of sight of the marbles.
 */
function settlesIn(
  frames: number,
  settle: (onFulfilled: (value: unknown) => void, onRejected: (error: unknown) => void) => void,
): PromiseLike<never> {
  const thenable = {
    then(onFulfilled?: (value: unknown) => unknown, onRejected?: (error: unknown) => unknown) {
      scheduler.schedule(
        () =>
          settle(
            (value) => onFulfilled?.(value),
            (error) => onRejected?.(error),
          ),
        frames,
      );
      return thenable;
    },
  };
  return thenable as PromiseLike<never>;
}

function answer(outcome: Outcome): SinkWriteResult {
  if (outcome === 'at once') return undefined;
  if (outcome === 'dropped') return false;
  if (outcome === 'throws') throw failure;
  return settlesIn(outcome.settlesIn, (resolve, reject) => (outcome.rejects === true ? reject(failure) : resolve(outcome.value)));
}

/** A writer whose writes answer as `plan` says per record (at once when unplanned), logging every call with its frame. */
function plannedWriter(
  plan: Readonly<Record<string, Outcome>>,
  close: Outcome = 'at once',
): { writer: SinkWriter<InputPorts>; calls: string[] } {
  const calls: string[] = [];
  const writer: SinkWriter<InputPorts> = {
    write(port, record) {
      calls.push(`${scheduler.now()}: write ${port} ${String(record)}`);
      return answer(plan[String(record)] ?? 'at once');
    },
    close() {
      calls.push(`${scheduler.now()}: close`);
      return (answer(close) ?? settlesIn(0, (resolve) => resolve(undefined))) as PromiseLike<void>;
    },
  };
  return { writer, calls };
}

const unheard: unknown[] = [];
const stage = (writer: SinkWriter<InputPorts>) => sinkStage(writer, (error) => void unheard.push(error));

describe('sinkStage', () => {
  it('acknowledges writes in their order: a write at once waits for an earlier pending one; completes once closed', () => {
    const { writer, calls } = plannedWriter({ b: { settlesIn: 3 } }, { settlesIn: 2 });
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('-a-b-c--|');
      expectObservable(stage(writer)({ in: input })).toBe('-a----(bc)|');
      expectSubscriptions(input.subscriptions).toBe('^-------!');
    });
    expect(calls).toEqual(['1: write in a', '3: write in b', '5: write in c', '8: close']);
  });

  it('acknowledges with the value a write resolves with, and never a dropped record', () => {
    const { writer } = plannedWriter({ a: { settlesIn: 1, value: 'A' }, b: 'dropped' });
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(stage(writer)({ in: cold('-a-b-c|') })).toBe('--A--c|');
    });
  });

  it('acknowledges the records of one shared promise (a batching sink) together, in order, with one reaction', () => {
    let reactions = 0;
    const batch = settlesIn(4, (resolve) => resolve(undefined));
    const counted: PromiseLike<never> = {
      then: (onFulfilled, onRejected) => {
        reactions++;
        return batch.then(onFulfilled, onRejected);
      },
    };
    const writer: SinkWriter<InputPorts> = {
      write: (_port, record) => (record === 'd' ? undefined : counted),
      close: () => settlesIn(0, (resolve) => resolve(undefined)),
    };
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(stage(writer)({ in: cold('-abcd|') })).toBe('-----(abcd|)');
    });
    expect(reactions).toBe(1);
  });

  it('acknowledges a batch of a sink that acknowledges batches with what its one promise resolves with, in write order, across ports', () => {
    let reactions = 0;
    /** The batches, by the letter of their first record; each resolves with its records in upper case. */
    const batches = new Map<string, PromiseLike<never>>();
    const batchOf = (first: string, frames: number, acknowledgements: string[]): PromiseLike<never> => {
      const batch = settlesIn(frames, (resolve) => resolve(acknowledgements));
      const counted: PromiseLike<never> = {
        then: (onFulfilled, onRejected) => {
          reactions++;
          return batch.then(onFulfilled, onRejected);
        },
      };
      batches.set(first, counted);
      return counted;
    };
    const writer: SinkWriter<InputPorts> = {
      acknowledgesBatches: true,
      // a, b, c share the first batch (settles 6 frames after a), d and e the second (1 frame after d), f is written at once.
      write: (_port, record) => {
        if (record === 'a') return batchOf('a', 6, ['A', 'B', 'C']);
        if (record === 'b' || record === 'c') return batches.get('a');
        if (record === 'd') return batchOf('d', 1, ['D', 'E']);
        if (record === 'e') return batches.get('d');
        return undefined;
      },
      close: () => settlesIn(0, (resolve) => resolve(undefined)),
    };
    scheduler.run(({ cold, expectObservable }) => {
      const quotes = cold('-a-c-df|');
      const ticks = cold(' --b---e|');
      // d and e settle first, but wait behind a, b, c on both ports; f, written at once, waits behind them on its port.
      expectObservable(stage(writer)({ quotes, ticks })).toBe('-------(ABCDEf|)');
    });
    expect(reactions).toBe(2);
  });

  it('fails when a batch resolves with a number of acknowledgements other than its writes', () => {
    const batch = settlesIn(2, (resolve) => resolve(['A']));
    const writer: SinkWriter<InputPorts> = {
      acknowledgesBatches: true,
      write: () => batch,
      close: () => settlesIn(0, (resolve) => resolve(undefined)),
    };
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(stage(writer)({ in: cold('-ab-|') })).toBe(
        '---#',
        undefined,
        new StageError("a batch of 2 writes (port 'in' first) was resolved with 1 acknowledgements"),
      );
    });
  });

  it('completes only after every write is acknowledged and close resolved', () => {
    const { writer, calls } = plannedWriter({ a: { settlesIn: 5 } }, { settlesIn: 1 });
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(stage(writer)({ in: cold('-a|') })).toBe('------(a|)');
    });
    expect(calls).toEqual(['1: write in a', '2: close']);
  });

  it('orders acknowledgements per port: a pending write holds back only its own port', () => {
    const { writer } = plannedWriter({ a: { settlesIn: 3 } });
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(stage(writer)({ quotes: cold('-a|'), ticks: cold('--b|') })).toBe('--b-(a|)');
    });
  });

  it('closes once, when the last of several ports completes', () => {
    const { writer, calls } = plannedWriter({});
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(stage(writer)({ quotes: cold('-a--|'), ticks: cold('--b-----|'), feeds: cold('|') })).toBe('-ab-----|');
    });
    expect(calls).toEqual(['1: write quotes a', '2: write ticks b', '8: close']);
  });

  it('fails with a throwing write, writing nothing after it, once closed', () => {
    const { writer, calls } = plannedWriter({ b: 'throws' });
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('-a-b-c-|');
      expectObservable(stage(writer)({ in: input })).toBe('-a-#', undefined, failure);
      expectSubscriptions(input.subscriptions).toBe('^--!');
    });
    expect(calls).toEqual(['1: write in a', '3: write in b', '3: close']);
  });

  it('fails with a rejecting write, acknowledging and writing nothing after it', () => {
    const { writer, calls } = plannedWriter({ b: { settlesIn: 2, rejects: true }, c: { settlesIn: 5 } });
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('-a-bc----d-|');
      expectObservable(stage(writer)({ in: input })).toBe('-a---#', undefined, failure);
      expectSubscriptions(input.subscriptions).toBe('^----!');
    });
    expect(calls).toEqual(['1: write in a', '3: write in b', '4: write in c', '5: close']);
  });

  it('acknowledges what was written before an input error, closes, then fails with it', () => {
    const upstream = new Error('upstream broke');
    const { writer, calls } = plannedWriter({ a: { settlesIn: 3 } });
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const other = cold('-----b-|');
      expectObservable(stage(writer)({ in: cold('-a-#', undefined, upstream), other })).toBe('----(a#)', undefined, upstream);
      expectSubscriptions(other.subscriptions).toBe('^--!');
    });
    expect(calls).toEqual(['1: write in a', '3: close']);
  });

  it('fails with a close that throws, or that rejects', () => {
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(stage(plannedWriter({}, 'throws').writer)({ in: cold('-a|') })).toBe('-a#', undefined, failure);
      expectObservable(stage(plannedWriter({}, { settlesIn: 2, rejects: true }).writer)({ in: cold('-a|') })).toBe(
        '-a--#',
        undefined,
        failure,
      );
    });
  });

  it('closes when unsubscribed, and reports a failure of that close, which no subscriber can hear', () => {
    unheard.length = 0;
    const { writer, calls } = plannedWriter({ b: { settlesIn: 5 } }, { settlesIn: 1, rejects: true });
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('-a-b---');
      expectObservable(stage(writer)({ in: input }), '^---!').toBe('-a--');
      expectSubscriptions(input.subscriptions).toBe('^---!');
    });
    expect(calls).toEqual(['1: write in a', '3: write in b', '4: close']);
    expect(unheard).toEqual([failure]);
  });

  it('closes a sink without ports at once', () => {
    const { writer, calls } = plannedWriter({});
    scheduler.run(({ expectObservable }) => {
      expectObservable(stage(writer)({})).toBe('|');
    });
    expect(calls).toEqual(['0: close']);
  });
});
