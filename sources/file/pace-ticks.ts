import { Observable, type MonoTypeOperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import { MAX_TIMER_MS } from '../../pipeline/runtime/set-long-timeout.js';

export interface PaceTicksOptions {
  /** Replay speed: 1 is the recorded pace, 10 ten times faster, 0.5 half as fast; 0 does not pace at all. */
  readonly speed: number;
  /** Longest wait between two records, in milliseconds of scheduler time (after `speed`); 0 for no cap but the longest timer. */
  readonly maxGapMs: number;
  /** The clock the pace follows. */
  readonly scheduler: SchedulerLike;
}

/** Most records emitted in one scheduler action when many are due at once (catching up). */
const MAX_PER_ACTION = 1000;

/**
 * Paces records at their recorded event time, sped up by `speed`.
 *
 * Emits each record `(ts_event − previous ts_event) / speed` milliseconds
 * of scheduler time after the one before it, every gap capped at
 * `maxGapMs`. The first record goes out when it arrives; from then on the
 * pace is locked to event time, not to arrivals: a record that arrives
 * after its due time is emitted at once, and the ones after it keep their
 * own due times, so a slow reader does not stretch the replay. Gaps count
 * from the latest `ts_event` seen: a record older than that (ticks slightly
 * out of order across instruments or files) has a gap of 0 and adds no
 * delay. Completion waits for the records still due; errors pass at once,
 * dropping them. When many records are due at once, at most 1000 go out
 * per scheduler action. `speed` 0 returns the source unchanged.
 *
 * ```
 * ts_event:         a@0 b@3ms c@10003ms d@10005ms
 * source:           (abcd|)                       all four arrive at once
 * speed 1, cap 0:   a 2ms b 9999ms c 1ms (d|)     a@0 b@3 c@10003 d@10005
 * speed 1, cap 5:   a 2ms b 4ms c 1ms (d|)        a@0 b@3 c@8 d@10
 * speed 10, cap 0:  a@0 b@0.3 c@1000.3 d@1000.5   (ms of scheduler time)
 * ```
 *
 * @example
 * ```ts
 * import { asyncScheduler, of } from 'rxjs';
 * const at = Date.parse('2025-01-03T09:00:00+08:00') * 1000;
 * // Recorded one second apart: paced at 10x speed, 100 ms apart.
 * const ticks$ = of({ instrument_id: 'SHFE.rb2501', ts_event: at }, { instrument_id: 'DCE.m2501', ts_event: at + 1_000_000 });
 * ticks$.pipe(paceTicks({ speed: 10, maxGapMs: 5000, scheduler: asyncScheduler }))
 *   .subscribe((tick) => console.log(tick.instrument_id));
 * // Logs: SHFE.rb2501
 * // Logs: DCE.m2501   (a tenth of its recorded gap after the one before)
 * ```
 *
 * @param options Speed, gap cap and scheduler.
 * @returns An operator that delays records to their paced time.
 */
export function paceTicks<T extends { readonly ts_event: number }>(options: PaceTicksOptions): MonoTypeOperatorFunction<T> {
  const { speed, maxGapMs, scheduler } = options;
  if (!(speed > 0)) return (source) => source;
  // A timer longer than 2^31 - 1 ms fires at once: the longest wait there is.
  const cap = maxGapMs > 0 ? maxGapMs : MAX_TIMER_MS;

  return (source) =>
    new Observable<T>((subscriber) => {
      /** Records waiting for their time, oldest first, with their due times; `head` is the next to emit. */
      let queue: T[] = [];
      let dues: number[] = [];
      let head = 0;
      let lastTs: number | undefined;
      let lastDue = 0;
      let sourceDone = false;
      let draining = false;
      let scheduled: Subscription | undefined;

      /** Emits what is due, then waits for the next due time (or completes). Not re-entered: a record arriving during emission is queued and handled by the loop. */
      const drain = (): void => {
        draining = true;
        const now = scheduler.now();
        let n = 0;
        // Bounded by MAX_PER_ACTION.
        while (head < queue.length && n < MAX_PER_ACTION && !subscriber.closed && (dues[head] as number) <= now) {
          const value = queue[head] as T;
          head++; // state before emission
          n++;
          subscriber.next(value);
        }
        draining = false;
        if (subscriber.closed) return;
        if (head === queue.length) {
          queue = [];
          dues = [];
          head = 0;
          if (sourceDone) subscriber.complete();
          return;
        }
        if (head > 1024 && head * 2 > queue.length) {
          queue = queue.slice(head);
          dues = dues.slice(head);
          head = 0;
        }
        scheduled ??= scheduler.schedule(run, Math.max(0, (dues[head] as number) - now));
      };
      const run = (): void => {
        scheduled = undefined;
        drain();
      };

      const subscription = source.subscribe({
        next(value) {
          const now = scheduler.now();
          const gap = lastTs === undefined ? 0 : Math.min(Math.max(0, (value.ts_event - lastTs) / 1000 / speed), cap);
          const due = lastTs === undefined ? now : lastDue + gap;
          // Gaps count from the latest event time seen, so ticks slightly out of order add no delay.
          if (lastTs === undefined || value.ts_event > lastTs) lastTs = value.ts_event;
          lastDue = due;
          queue.push(value);
          dues.push(due);
          // With an action pending, the new record (due no earlier than the head) waits its turn.
          if (!draining && scheduled === undefined) drain();
        },
        error(error: unknown) {
          subscriber.error(error);
        },
        complete() {
          sourceDone = true;
          if (!draining && head === queue.length) subscriber.complete();
        },
      });

      return () => {
        subscription.unsubscribe();
        scheduled?.unsubscribe();
        queue = [];
        dues = [];
      };
    });
}
