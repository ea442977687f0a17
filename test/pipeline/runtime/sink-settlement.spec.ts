import { Observable, Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { InputPorts, SinkWriter } from '../../../pipeline/components/component-definition.js';
import { defineComponent } from '../../../pipeline/components/define-component.js';
import { pipeline } from '../../../pipeline/graph/pipeline.js';
import { runPipeline } from '../../../pipeline/runtime/run-pipeline.js';
import { SinkSettlement } from '../../../pipeline/runtime/sink-settlement.js';
import { sinkStage } from '../../../pipeline/runtime/sink-stage.js';
import type { Tick } from '../../../schemas/generated.js';
import { makeTick } from '../../support/make-tick.js';

/** A promise and its resolving functions. */
function deferred<T = void>() {
  let resolve: (value: T) => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Whether `promise` settled (and how) after the microtasks queued so far ran. */
async function stateOf(promise: Promise<unknown>): Promise<'pending' | 'resolved' | 'rejected'> {
  let state: 'pending' | 'resolved' | 'rejected' = 'pending';
  promise.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return state;
}

describe('SinkSettlement', () => {
  it('resolves at once when no sink write is pending', async () => {
    const settlement = new SinkSettlement();
    const writer: SinkWriter<InputPorts> = { write: () => undefined, close: async () => undefined };
    const input = new Subject<unknown>();
    sinkStage(writer, () => undefined, settlement, 'out')({ in: input }).subscribe();
    input.next('a');
    expect(await stateOf(settlement.settled())).toBe('resolved');
  });

  it('waits for the writes issued before the call, not for later ones', async () => {
    const settlement = new SinkSettlement();
    const promises = [deferred(), deferred()];
    let n = 0;
    const writer: SinkWriter<InputPorts> = { write: () => promises[n++]?.promise, close: async () => undefined };
    const input = new Subject<unknown>();
    const acks: unknown[] = [];
    sinkStage(writer, () => undefined, settlement, 'out')({ in: input }).subscribe((a) => acks.push(a));
    input.next('a');
    const settled = settlement.settled();
    input.next('b');
    expect(await stateOf(settled)).toBe('pending');
    promises[0]?.resolve();
    expect(await stateOf(settled)).toBe('resolved');
    expect(acks).toEqual(['a']);
    expect(await stateOf(settlement.settled())).toBe('pending');
  });

  it('waits for every port of a sink that acknowledges batches, and for every sink', async () => {
    const settlement = new SinkSettlement();
    const batch = deferred<unknown[]>();
    const batching: SinkWriter<InputPorts> = { acknowledgesBatches: true, write: () => batch.promise, close: async () => undefined };
    const single = deferred();
    const one: SinkWriter<InputPorts> = { write: () => single.promise, close: async () => undefined };
    const [quotes, ticks, other] = [new Subject<unknown>(), new Subject<unknown>(), new Subject<unknown>()];
    sinkStage(batching, () => undefined, settlement, 'batched')({ quotes, ticks }).subscribe();
    sinkStage(one, () => undefined, settlement, 'single')({ in: other }).subscribe();
    quotes.next('q');
    ticks.next('t');
    other.next('o');
    const settled = settlement.settled();
    batch.resolve(['q!', 't!']);
    expect(await stateOf(settled)).toBe('pending');
    single.resolve();
    expect(await stateOf(settled)).toBe('resolved');
  });

  it('rejects naming the sink when it fails or is unsubscribed before acknowledging', async () => {
    const settlement = new SinkSettlement();
    const write = deferred();
    const writer: SinkWriter<InputPorts> = { write: () => write.promise, close: async () => undefined };
    const input = new Subject<unknown>();
    sinkStage(writer, () => undefined, settlement, 'out')({ in: input }).subscribe({ error: () => undefined });
    input.next('a');
    const settled = settlement.settled();
    write.reject(new Error('disk full'));
    await expect(settled).rejects.toThrow("sink 'out' ended before it acknowledged the records written to it: disk full");
    await expect(settlement.settled()).rejects.toThrow(/disk full/);

    const other = new SinkSettlement();
    const never: SinkWriter<InputPorts> = { write: () => new Promise(() => undefined), close: async () => undefined };
    const records = new Subject<unknown>();
    const subscription = sinkStage(never, () => undefined, other, 'stuck')({ in: records }).subscribe();
    records.next('a');
    const waiting = other.settled();
    subscription.unsubscribe();
    await expect(waiting).rejects.toThrow(
      "sink 'stuck' ended before it acknowledged the records written to it: sink 'stuck' was unsubscribed",
    );
  });

  it('is what a component of a running pipeline asks through ctx.pipeline.sinksSettled()', async () => {
    const write = deferred();
    const answers: string[] = [];
    const source = defineComponent({
      name: 'test-asking',
      kind: 'source',
      out: 'Tick',
      description: 'Emits one tick and asks whether the sinks settled (test).',
      spec: {},
      create: (_config, ctx) =>
        new Observable<Tick>((subscriber) => {
          subscriber.next(makeTick());
          void ctx.pipeline.sinksSettled().then(() => {
            answers.push('settled');
            subscriber.complete();
          });
        }),
    });
    const sink = defineComponent({
      name: 'test-deferred',
      kind: 'sink',
      in: 'Tick',
      description: 'Acknowledges when the test says (test).',
      spec: {},
      create: () => ({ write: () => write.promise, close: async () => undefined }),
    });
    const run = runPipeline(pipeline('asks', '', (g) => g.sink('out', sink, {}, g.source('in', source, {}))).build());
    expect(await stateOf(Promise.resolve())).toBe('resolved');
    expect(answers).toEqual([]);
    write.resolve();
    expect((await run.done).ok).toBe(true);
    expect(answers).toEqual(['settled']);
  });
});
