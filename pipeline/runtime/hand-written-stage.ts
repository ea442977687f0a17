import { Observable, Subscription, type Observer, type SchedulerLike } from 'rxjs';

/** A side observer of a stage: a status or routing output given in its options. */
type SideObserver<V> = Pick<Observer<V>, 'next'>;

/** What a hand-written stage is given to do its work; every callback it hands over runs guarded (see `handWrittenStage`). */
export interface HandWrittenStage<T> {
  /** Queues `value` for the output. It leaves once the stage's current callback has returned, after what was queued before. */
  emit(value: T): void;
  /** Queues `value` for a side observer (none when undefined), in one order with the output. An observer that throws fails the stage; what was queued after it does not leave. */
  emitTo<V>(observer: SideObserver<V> | undefined, value: V): void;
  /** Delivers what is queued now, inside the current callback, where the stage needs it gone (a meter timing the delivery, reports due before an input is followed). No-op while a delivery is already running. */
  flush(): void;
  /** Completes the output once what is queued has left; nothing more is processed. */
  complete(): void;
  /**
   * Subscribes to `input` and hands each value to `handle`. Its error errors
   * the output. An awaited input (the default) counts towards completion:
   * once every awaited input has completed, `whenInputsComplete` runs.
   * @returns The input's subscription, to stop following it early (only an input that is not awaited).
   */
  follow<I>(input: Observable<I>, handle: (value: I) => void, options?: { readonly awaited?: boolean }): Subscription;
  /** Runs `work` on `scheduler` after `delayMs`, as a callback of the stage; cancelled by unsubscribing the result, and at teardown. */
  schedule(scheduler: SchedulerLike, work: () => void, delayMs: number): Subscription;
}

/** What `start` may hand back. */
export interface HandWrittenStageHooks {
  /** Runs, as a callback of the stage, once every awaited input has completed. Default: complete the output. */
  readonly whenInputsComplete?: () => void;
  /** Runs at teardown, after the inputs and timers are unsubscribed. */
  readonly teardown?: () => void;
}

/** Marks the end of the output in the delivery queue. */
const COMPLETE = Symbol('complete');
const NO_HOOKS: HandWrittenStageHooks = {};
/** Queue slots kept for the next delivery; a longer queue (a burst) is let go. */
const MAX_KEPT_QUEUE = 1024;

const rethrow = (error: unknown): never => {
  throw error;
};

/**
 * An Observable for a stage that subscribes to its inputs by hand: the
 * contract every such stage needs, written once. A callback handed to
 * `subscribe` that throws is reported as unhandled by RxJS and the record is
 * lost, so every callback of the stage (`start`, input handlers, timers, and
 * whatever user callbacks they call) runs guarded: a throw errors the output,
 * after what the stage queued before it has left, and no callback runs after.
 *
 * Emissions are queued and delivered when the outermost callback returns, so
 * a value that a subscriber feeds back while one is delivered (feedback loops:
 * order events go back to strategies) is handled at once, against complete
 * state, and what it emits leaves after what was queued before it. The output
 * completes when all awaited inputs have (or as `whenInputsComplete` decides);
 * an input's error errors it; teardown unsubscribes inputs and cancels timers.
 *
 * ```
 * input a:  -1---2-|        the handler of both inputs emits each value doubled
 * input b:  --3-------|
 *   handWrittenStage(start)
 * result:   -26--4----|     completes once both inputs have
 *
 * input:    -1-x-3-|        the handler throws at x
 * result:   -2-#            the error, and the input is unsubscribed
 * ```
 *
 * @example
 * ```ts
 * import { of, type Observable } from 'rxjs';
 * const doubled = (source: Observable<number>) => handWrittenStage<number>((stage) => {
 *   stage.follow(source, (x) => stage.emit(x * 2));
 * });
 * doubled(of(1, 2)).subscribe((x) => console.log(x));
 * // Logs: 2
 * // Logs: 4
 * ```
 *
 * @param start Runs at subscribe, as a callback of the stage: follows the inputs and keeps the stage's state.
 * @returns The stage's output.
 */
export function handWrittenStage<T>(start: (stage: HandWrittenStage<T>) => HandWrittenStageHooks | void): Observable<T> {
  return new Observable<T>((subscriber) => {
    const owned = new Subscription();
    /** Target and value pairs waiting to leave (an observer, null for the output, or COMPLETE), in the first `queued` slots. */
    let queue: unknown[] = [];
    // A count rather than `queue.length = 0`, which frees the array's storage: one allocation per record otherwise.
    let queued = 0;
    let depth = 0;
    let delivering = false;
    /** Set by the first throw; the output errors with it once the queue has left. */
    let failure: { readonly error: unknown } | undefined;
    /** Failed or completing: no callback runs, nothing more is queued. */
    let ending = false;
    let started = false;
    let awaitedOpen = 0;
    let hooks = NO_HOOKS;

    const deliver = (): void => {
      if (delivering) return;
      delivering = true;
      let delivered = 0;
      try {
        // A value fed back meanwhile is handled at once and its emissions join the end of the queue.
        while (delivered < queued && !subscriber.closed) {
          const target = queue[delivered];
          const value = queue[delivered + 1];
          // Cleared as it leaves, so the queue keeps no record alive (targets are the stage's long-lived observers).
          queue[delivered + 1] = undefined;
          delivered += 2;
          if (target === null) subscriber.next(value as T);
          else if (target === COMPLETE) subscriber.complete();
          else (target as SideObserver<unknown>).next(value);
        }
      } catch (error: unknown) {
        // A side observer that throws: what is queued after it stays undelivered.
        failure ??= { error };
        ending = true;
      } finally {
        // What was left undelivered (closed, or failed) or a burst's long queue is let go with the array.
        if (delivered < queued || queued > MAX_KEPT_QUEUE) queue = [];
        queued = 0;
        delivering = false;
      }
      if (failure !== undefined) subscriber.error(failure.error);
    };

    const call = <V>(handle: (value: V) => void, value: V): void => {
      if (ending || subscriber.closed) return;
      depth++;
      try {
        handle(value);
      } catch (error: unknown) {
        // An outer callback may still throw after a value it fed back failed the stage: the first error is the cause.
        failure ??= { error };
        ending = true;
      } finally {
        depth--;
      }
      // Most records leave nothing queued (dropped, or only state changed): no delivery to set up then.
      if (depth === 0 && (queued > 0 || failure !== undefined)) deliver();
    };

    const enqueue = (target: unknown, value: unknown): void => {
      if (ending) return;
      queue[queued++] = target;
      queue[queued++] = value;
      if (depth === 0) deliver();
    };

    const complete = (): void => {
      enqueue(COMPLETE, undefined);
      ending = true;
    };

    const inputsComplete = (): void => (hooks.whenInputsComplete ?? complete)();
    const awaitedInputCompleted = (): void => {
      if (--awaitedOpen === 0 && started) inputsComplete();
    };

    const stage: HandWrittenStage<T> = {
      emit: (value) => enqueue(null, value),
      emitTo: (observer, value) => {
        if (observer !== undefined) enqueue(observer, value);
      },
      flush: deliver,
      complete,
      follow(input, handle, options) {
        if (ending || subscriber.closed) return Subscription.EMPTY;
        const awaited = options?.awaited ?? true;
        if (awaited) awaitedOpen++;
        const subscription = input.subscribe({
          next: (value) => call(handle, value),
          error: (error: unknown) => call(rethrow, error),
          complete: () => {
            if (awaited) call(awaitedInputCompleted, undefined);
          },
        });
        owned.add(subscription);
        return subscription;
      },
      schedule(scheduler, work, delayMs) {
        if (ending || subscriber.closed) return Subscription.EMPTY;
        // The action leaves `owned` when it fires, so a stage re-arming for hours holds only its pending ones;
        // one the stage unsubscribes leaves it by itself. A scheduler may run it at once, before it is known here.
        let action: Subscription | undefined;
        let fired = false;
        // eslint-disable-next-line prefer-const -- a const would be read before its initialization when the work runs at once
        action = scheduler.schedule(() => {
          fired = true;
          if (action !== undefined) owned.remove(action);
          call(work, undefined);
        }, delayMs);
        if (!fired) owned.add(action);
        return action;
      },
    };

    call(() => {
      hooks = start(stage) ?? NO_HOOKS;
      started = true;
      // Inputs that completed while `start` ran count now that every input is followed.
      if (awaitedOpen === 0) inputsComplete();
    }, undefined);

    return () => {
      owned.unsubscribe();
      hooks.teardown?.();
    };
  });
}
