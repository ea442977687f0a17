import { EMPTY, asyncScheduler, type Observable, type Observer, type SchedulerLike } from 'rxjs';
import { ConfigError, StageError } from '../errors/errors.js';
import { handWrittenStage } from '../pipeline/runtime/hand-written-stage.js';
import type { StageMetrics } from '../pipeline/runtime/stage-metrics.js';
import { AccountId, type Bar, type OrderCommand, type OrderEvent, type Signal, type Tick } from '../schemas/generated.js';
import {
  createStrategyContext,
  type Strategy,
  type StrategyMethod,
  type StrategyOutput,
  type StrategyRuntime,
} from '../strategies/strategy-api.js';

export interface RunStrategiesOptions {
  /**
   * Told of every failure of a strategy: a method that threw, a command or
   * signal it returned that is not its own (dropped), an order event that
   * does not fit its orders (dropped, the strategy is not called). The
   * strategy keeps being called. A callback that throws fails the stream.
   */
  readonly onError: (error: unknown, strategyId: string, method: StrategyMethod) => void;
  /** Receives every signal the strategies return, before the commands of the same call. A `next` that throws fails the stream. */
  readonly signals?: Pick<Observer<Signal>, 'next'>;
  /** Account stamped on the strategies' commands. Default `paper`. */
  readonly accountId?: string;
  /** Counts failures as dropped: `strategy-error` (a call that threw, a record not sent) and `order-event` (an event that does not fit). A hook that throws fails the stream. */
  readonly metrics?: Pick<StageMetrics, 'dropped'>;
  /** The strategies' clock (`ctx.now()`). Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** Strategies running in some subscription: a strategy object holds state, so it runs in one at a time. */
const running = new WeakSet<Strategy>();

/** What `call` is given: a record of a port, or a step of the stage's life. */
const INIT = 0;
const TICK = 1;
const BAR = 2;
const EVENT = 3;
const FINISH = 4;
type Kind = typeof INIT | typeof TICK | typeof BAR | typeof EVENT | typeof FINISH;

interface Run {
  readonly strategy: Strategy;
  readonly runtime: StrategyRuntime;
}

/**
 * Runs strategies on market data and their own order events, and emits the
 * order commands they return.
 *
 * Ticks go to every strategy's `onTick`, bars to `onBar`, in the order the
 * strategies are given. An order event goes only to the strategy whose id is
 * its `strategy_id` (others' events are ignored): its orders and position in
 * `ctx` are updated from the event first, then `onOrderEvent` is called.
 * `init` is called on subscribe, then the events port is subscribed before
 * anything init returned leaves (so a venue that answers at once is heard,
 * and events already waiting come after init); `stop` once ticks and bars have both
 * completed, and the stream then completes. The events port is a feedback
 * edge and is not waited for: events after `stop` are not delivered. On an
 * error or an unsubscribe `stop` is not called. Signals go to `signals`
 * before the commands of the same call; every command is noted in its
 * strategy's context before it leaves.
 *
 * A strategy whose method throws is reported to `onError` with its id and
 * the method, and counted as dropped (`strategy-error`); so is each command or
 * signal it returns that carries another strategy's id (or reuses a client
 * order id), which is not sent while the rest of the call's output is. An
 * order event that its strategy's orders do not allow (unknown order,
 * duplicate, out of order) is reported and counted (`order-event`), and the
 * strategy is not called with it. In every case the strategy keeps receiving
 * calls, as the other strategies do: one broken strategy does not stop the
 * stage, and one that recovers resumes trading. What the strategies return
 * leaves once the record that caused it has reached every strategy, so a
 * record sent back at once (a synchronous venue answering a command) is
 * handled after that, and no strategy is ever called from inside another
 * call. An `onError`, `signals` or metrics hook that throws fails the stream
 * with its error, after what was sent before it; no strategy is called after.
 *
 * ```
 * ticks:   ---t-------t--|
 * bars:    -------b--------|
 * events:  -----e-----------
 *   runStrategies([s], { onError })
 * result:  i--c-d-b---C----(x|)    i: init's commands; c, C: onTick's; d: onOrderEvent's; b: onBar's; x: stop's
 * ```
 *
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { InstrumentId } from '../schemas/generated.js';
 * // bars$: 22 one-minute bars of SHFE.rb2501, falling from 120 to 100, then 160: the 5- and 20-bar averages cross upward at the last one.
 * const bar: Bar = { instrument_id: InstrumentId('SHFE.rb2501'), period_s: 60, trading_day: '20250103', ts_open: 0, ts_close: 60_000_000, open: 0, high: 0, low: 0, close: 0, volume: 1, turnover: 0, open_interest: 0, tick_count: 1 };
 * const closes = [...Array.from({ length: 21 }, (_, i) => 120 - i), 160];
 * const bars$ = of(...closes.map((close, i) => ({ ...bar, ts_open: i * 60_000_000, ts_close: (i + 1) * 60_000_000, open: close, high: close, low: close, close })));
 * const ma = movingAverageCrossover({ id: 'ma', instruments: ['SHFE.rb2501'], fastPeriod: 5, slowPeriod: 20, quantity: 1 });
 * runStrategies([ma], { onError: (e, id) => console.error(id, e), signals: { next: (s) => console.log(s.name, s.value.toFixed(1)) } })({ bars: bars$ })
 *   .subscribe((command) => console.log(command.type, command.client_order_id));
 * // Logs: ma_cross -7.5
 * // Logs: ma_cross -7.5
 * // Logs: ma_cross 1.7
 * // Logs: SubmitOrder ma-5     (the golden cross)
 * // Logs: CancelOrder ma-5     (at the end of the bars, stop cancels the working order)
 * ```
 *
 * @param strategies The strategies of the stage, each with its own id.
 * @param options Where failures and signals go, the account, metrics and the scheduler.
 * @returns A function of the stage's ports (a missing `ticks` or `bars` port is empty, a missing `events` port silent) to the strategies' commands.
 * @throws {ConfigError} When two strategies share an id or an id is empty.
 */
export function runStrategies(
  strategies: readonly Strategy[],
  options: RunStrategiesOptions,
): (inputs: {
  readonly ticks?: Observable<Tick>;
  readonly bars?: Observable<Bar>;
  readonly events?: Observable<OrderEvent>;
}) => Observable<OrderCommand> {
  const { onError, signals, metrics } = options;
  const accountId = AccountId(options.accountId ?? 'paper');
  const scheduler = options.scheduler ?? asyncScheduler;
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const strategy of strategies) {
    if (typeof strategy.id !== 'string' || strategy.id === '') problems.push(`a strategy has no id: ${JSON.stringify(strategy.id)}`);
    else if (ids.has(strategy.id)) problems.push(`strategy id '${strategy.id}' is used twice`);
    ids.add(strategy.id);
  }
  if (problems.length > 0) throw new ConfigError('runStrategies', problems);
  const now = (): number => Math.round(scheduler.now() * 1000);

  return (inputs) =>
    handWrittenStage<OrderCommand>((stage) => {
      const taken = strategies.find((strategy) => running.has(strategy));
      if (taken !== undefined) {
        throw new StageError(
          `strategy '${taken.id}' is already running in another subscription; a strategy keeps state, so give each run its own strategy object`,
        );
      }
      for (const strategy of strategies) running.add(strategy);
      const runs: Run[] = strategies.map((strategy) => ({
        strategy,
        runtime: createStrategyContext({ strategyId: strategy.id, accountId, now }),
      }));
      const byId = new Map(runs.map((run) => [run.strategy.id, run]));

      /** Counts and reports a failure of `run`. */
      const report = (run: Run, method: StrategyMethod, error: unknown, reason: string): void => {
        metrics?.dropped(reason);
        onError(error, run.strategy.id, method);
      };

      /** Notes the commands of one call in the strategy's context, then sends its signals and commands; a record that is not the strategy's is reported, not sent. */
      const deliver = (run: Run, method: StrategyMethod, output: StrategyOutput): void => {
        if (output === undefined || output === null) return;
        const { runtime, strategy } = run;
        const signalsOut = output.signals ?? NONE;
        const commands = output.commands ?? NONE;
        if (!Array.isArray(signalsOut) || !Array.isArray(commands)) {
          report(
            run,
            method,
            new StageError(`strategy ${strategy.id} returned signals or commands that are not arrays; nothing of this call was sent`),
            'strategy-error',
          );
          return;
        }
        let unsent: Set<unknown> | undefined;
        for (const signal of signalsOut as readonly Signal[]) {
          let owner: unknown;
          try {
            owner = signal.strategy_id;
          } catch (error: unknown) {
            owner = error;
          }
          if (owner === strategy.id) continue;
          (unsent ??= new Set()).add(signal);
          report(
            run,
            method,
            new StageError(`strategy ${strategy.id} returned a signal that is not its own (${String(owner)}); it was not sent`),
            'strategy-error',
          );
        }
        // State first: a command that comes straight back as an event must find its order.
        for (const command of commands as readonly OrderCommand[]) {
          try {
            runtime.track(command);
          } catch (error: unknown) {
            (unsent ??= new Set()).add(command);
            report(run, method, error, 'strategy-error');
          }
        }
        for (const signal of signalsOut as readonly Signal[]) {
          if (unsent?.has(signal) !== true) stage.emitTo(signals, signal);
        }
        for (const command of commands as readonly OrderCommand[]) {
          if (unsent?.has(command) !== true) stage.emit(command);
        }
      };

      /** Calls one method of one strategy (as a method, so `this` is the strategy) and delivers what it returns. */
      const call = (run: Run, kind: Kind, record: unknown): void => {
        const { strategy, runtime } = run;
        const ctx = runtime.context;
        let method: StrategyMethod = 'init';
        let output: StrategyOutput;
        try {
          switch (kind) {
            case INIT:
              output = strategy.init?.(ctx);
              break;
            case TICK:
              method = 'onTick';
              output = strategy.onTick?.(record as Tick, ctx);
              break;
            case BAR:
              method = 'onBar';
              output = strategy.onBar?.(record as Bar, ctx);
              break;
            case EVENT:
              method = 'onOrderEvent';
              output = strategy.onOrderEvent?.(record as OrderEvent, ctx);
              break;
            case FINISH:
              method = 'stop';
              output = strategy.stop?.(ctx);
              break;
          }
        } catch (error: unknown) {
          report(run, method, error, 'strategy-error');
          return;
        }
        deliver(run, method, output);
      };

      const onEvent = (event: OrderEvent): void => {
        const run = byId.get(event.strategy_id);
        if (run === undefined) return;
        try {
          run.runtime.apply(event);
        } catch (error: unknown) {
          report(run, 'onOrderEvent', error, 'order-event');
          return;
        }
        call(run, EVENT, event);
      };

      const callEach = (kind: Kind, record: unknown): void => {
        for (const run of runs) call(run, kind, record);
      };

      callEach(INIT, undefined);
      // After init, before what it returned leaves: a venue that answers init's commands at once is heard, and events already waiting come after init.
      const events = inputs.events === undefined ? undefined : stage.follow(inputs.events, onEvent, { awaited: false });
      stage.follow(inputs.bars ?? EMPTY, (bar) => callEach(BAR, bar));
      stage.follow(inputs.ticks ?? EMPTY, (tick) => callEach(TICK, tick));
      return {
        whenInputsComplete: () => {
          // Nothing more comes in once market data has ended: events that stop's commands cause are not delivered.
          events?.unsubscribe();
          callEach(FINISH, undefined);
          stage.complete();
        },
        teardown: () => {
          for (const strategy of strategies) running.delete(strategy);
        },
      };
    });
}

const NONE: readonly never[] = [];
