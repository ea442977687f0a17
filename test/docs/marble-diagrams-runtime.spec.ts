// The TSDoc marble diagrams of the framework's stage helpers (pipeline/runtime/),
// each run as written on the TestScheduler.
import { map, NEVER, take, timer, type Observable } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { handWrittenStage } from '../../pipeline/runtime/hand-written-stage.js';
import { sinkStage } from '../../pipeline/runtime/sink-stage.js';
import { StageMeter } from '../../pipeline/runtime/stage-meter.js';
import { StageMetrics } from '../../pipeline/runtime/stage-metrics.js';
import { validateRecords } from '../../pipeline/runtime/validate-records.js';
import { SchemaCatalog, type RecordProblem } from '../../pipeline/schemas/schema-catalog.js';
import { createTestScheduler } from '../support/marbles.js';
import { makeTick } from '../support/make-tick.js';
import { readDiagram } from '../support/tsdoc-diagrams.js';

/**
 * A PromiseLike fulfilled at the first value of `signal`, calling back in
 * that very scheduler action: a Promise would call back in a microtask,
 * after the TestScheduler's flush, so its frame would be lost. The sink
 * stage takes any PromiseLike.
 */
function fulfilledBy(signal: Observable<unknown>): PromiseLike<void> {
  return {
    then(onFulfilled) {
      // What onFulfilled returns would settle the thenable `then` returns, which never settles: it is dropped on purpose.
      signal.pipe(take(1)).subscribe(() => void onFulfilled?.(undefined));
      return fulfilledBy(NEVER) as never;
    },
  };
}

describe('TSDoc marble diagrams: the stage helpers', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = createTestScheduler();
  });

  it('handWrittenStage: emits what the handlers emit, completes once both inputs have; a throwing handler errors it and unsubscribes the input', () => {
    const diagram = readDiagram('pipeline/runtime/hand-written-stage.ts', 'handWrittenStage');
    const [both, failing] = diagram.sections;
    if (both === undefined || failing === undefined) throw new Error('the diagram of handWrittenStage has two sections');
    expect(both.call).toBe('handWrittenStage(start)');
    const digits = { 1: 1, 2: 2, 3: 3, 4: 4, 6: 6 };
    scheduler.run(({ cold, expectObservable }) => {
      const a = cold(both.marbles('input a'), digits);
      const b = cold(both.marbles('input b'), digits);
      const doubled = handWrittenStage<number>((stage) => {
        const double = (x: number): void => stage.emit(x * 2);
        stage.follow(a, double);
        stage.follow(b, double);
      });
      expectObservable(doubled).toBe(both.marbles('result'), digits);
    });

    const thrown = new Error('the handler throws at x');
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold(failing.marbles('input'), { ...digits, x: 0 });
      const result = failing.marbles('result');
      const failed = handWrittenStage<number>((stage) => {
        stage.follow(e1, (x) => {
          if (x === 0) throw thrown;
          stage.emit(x * 2);
        });
      });
      expectObservable(failed).toBe(result, digits, thrown);
      // Unsubscribed in the frame of the error.
      expectSubscriptions(e1.subscriptions).toBe(`^${'-'.repeat(result.indexOf('#') - 1)}!`);
    });
  });

  it('sinkStage: acknowledgements in the order of the writes, a pending write holding back the ones after it; completes once closed', () => {
    const diagram = readDiagram('pipeline/runtime/sink-stage.ts', 'sinkStage');
    const input = diagram.get('in');
    const close = diagram.get('close');
    let closeCalledAt: number | undefined;
    scheduler.run(({ cold, expectObservable }) => {
      const records = { a: 'a', b: 'b', c: 'c' };
      const writer = {
        // b's promise resolves 3 frames later, as the diagram's note says; a and c are written at once.
        write: (_port: string, record: string) => (record === 'b' ? fulfilledBy(timer(3)) : undefined),
        close: () => {
          closeCalledAt = scheduler.now();
          // The close line, from the frame close is called.
          return fulfilledBy(cold(close.marbles));
        },
      };
      const acks = sinkStage(writer, (error) => {
        throw error;
      })({ in: cold(input.marbles, records) });
      expectObservable(acks).toBe(diagram.marbles('acks'), records);
    });
    // The close line starts, aligned, at the input's end.
    expect(closeCalledAt).toBe(close.column - input.column);
    expect(closeCalledAt).toBe(input.marbles.indexOf('|'));
  });

  it('StageMeter: records pass through the metered stage; each is counted in and out and timed', () => {
    const diagram = readDiagram('pipeline/runtime/stage-meter.ts', 'StageMeter');
    expect(diagram.call).toBe('source.pipe(meter.input(), map(f), meter.output())');
    expect(diagram.get('result').note).toBe('metrics: in 3, out 3, 3 latencies');
    const metrics = new StageMetrics('double', 'inline', [0.001, 0.01, 0.1]);
    const meter = new StageMeter(metrics);
    const f = (x: number): number => x * 2;
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold(diagram.marbles('source'), { a: 1, b: 2, c: 3 });
      expectObservable(source.pipe(meter.input(), map(f), meter.output())).toBe(diagram.marbles('result'), { A: 2, B: 4, C: 6 });
    });
    expect([metrics.recordsIn, metrics.recordsOut, metrics.latencyCount]).toEqual([3, 3, 3]);
  });

  it('validateRecords: valid records pass in order; an invalid one goes to reject with its problem', () => {
    const diagram = readDiagram('pipeline/runtime/validate-records.ts', 'validateRecords');
    expect(diagram.call).toBe('validateRecords(tickCodec, reject)');
    const tickCodec = SchemaCatalog.default().codec('Tick');
    const { trading_day: _lacking, ...X } = makeTick({ sequence: 3 });
    const values = { a: makeTick({ sequence: 1 }), b: makeTick({ sequence: 2 }), X, c: makeTick({ sequence: 4 }) };
    const rejected: [unknown, RecordProblem][] = [];
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold<unknown>(diagram.marbles('source'), values);
      expectObservable(source.pipe(validateRecords(tickCodec, (record, problem) => rejected.push([record, problem])))).toBe(
        diagram.marbles('result'),
        values,
      );
    });
    expect(rejected).toEqual([[X, expect.objectContaining({ path: 'trading_day' })]]);
  });
});
