import { ConfigError } from '../errors/errors.js';
import { type Bar, type OrderCommand, type Signal, StrategyId } from '../schemas/generated.js';
import {
  barId,
  type OrderRequest,
  type Strategy,
  type StrategyContext,
  type StrategyPosition,
  type StrategyResult,
} from './strategy-api.js';

export interface MovingAverageCrossoverParams {
  /** Strategy id. */
  readonly id: string;
  /** Instruments traded; bars of others are ignored. */
  readonly instruments: readonly string[];
  /** Bars in the fast simple moving average. */
  readonly fastPeriod: number;
  /** Bars in the slow simple moving average; more than `fastPeriod`. */
  readonly slowPeriod: number;
  /** Lots held after a cross. */
  readonly quantity: number;
  /** After a death cross hold `quantity` lots short (true) or nothing (false). Default false. */
  readonly allowShort?: boolean;
}

/** Differences of the averages smaller than this share of the slow average count as zero, so rounding noise on a flat market is no cross. */
const RELATIVE_EPSILON = 1e-9;

interface InstrumentState {
  /** The last `slowPeriod` closes, a ring written at `next`. */
  readonly closes: Float64Array;
  next: number;
  count: number;
  /** Sign of the last difference that was not zero; 0 before the first. */
  lastSign: -1 | 0 | 1;
  /** Net lots to hold, set by the last cross; null until the first cross. */
  target: number | null;
  /** `ts_close` of the bar whose close priced the working order. */
  orderBarClose: number;
}

/** Mean of the `n` closes before ring position `next`. */
function meanOfLast(closes: Float64Array, next: number, n: number): number {
  let sum = 0;
  for (let i = 1; i <= n; i++) sum += closes[(next - i + closes.length) % closes.length] as number;
  return sum / n;
}

/** The next order toward `target` net lots, closing the leg over its share before opening the other: China futures close and open in separate orders. */
function stepToward(target: number, position: StrategyPosition): Pick<OrderRequest, 'side' | 'position_effect' | 'quantity'> | undefined {
  const wantLong = Math.max(target, 0);
  const wantShort = Math.max(-target, 0);
  if (position.short > wantShort) return { side: 'BUY', position_effect: 'CLOSE', quantity: position.short - wantShort };
  if (position.long > wantLong) return { side: 'SELL', position_effect: 'CLOSE', quantity: position.long - wantLong };
  if (position.long < wantLong) return { side: 'BUY', position_effect: 'OPEN', quantity: wantLong - position.long };
  if (position.short < wantShort) return { side: 'SELL', position_effect: 'OPEN', quantity: wantShort - position.short };
  return undefined;
}

/**
 * Moving-average crossover on bars: long after the fast average crosses above
 * the slow one (golden cross), flat (or short, with `allowShort`) after it
 * crosses below (death cross).
 *
 * Each bar, once `slowPeriod` bars of its instrument are in, emits the signal
 * `ma_cross` with the value fast − slow (caused by the bar). Before the first
 * cross after warm-up the strategy holds nothing; from then on it works
 * toward the position of the last cross with limit orders at the bar close,
 * one working order per instrument at a time (caused by the signal). An
 * order still working at a later bar is canceled, and the strategy quotes
 * again at a later close once the cancel is confirmed; so a cross missed
 * while an order works is still acted on. Positions come from the
 * strategy's own fills. `stop` cancels the working orders and leaves
 * positions as they are.
 *
 * @example
 * ```ts
 * import { AccountId, InstrumentId } from '../schemas/generated.js';
 * import { createStrategyContext } from './strategy-api.js';
 * const ma = movingAverageCrossover({ id: 'ma', instruments: ['SHFE.rb2501'], fastPeriod: 2, slowPeriod: 4, quantity: 1 });
 * const { context } = createStrategyContext({ strategyId: ma.id, accountId: AccountId('paper'), now: () => 0 });
 * const bar: Bar = { instrument_id: InstrumentId('SHFE.rb2501'), period_s: 60, trading_day: '20250103', ts_open: 0, ts_close: 60_000_000, open: 10, high: 10, low: 10, close: 10, volume: 1, turnover: 0, open_interest: 0, tick_count: 1 };
 * const actions = [10, 10, 10, 10, 9, 8, 12].map((close) => ma.onBar?.({ ...bar, close }, context)?.commands?.[0]?.type ?? '-');
 * console.log(actions.join(' '));
 * // Logs: - - - - - - SubmitOrder      (falling after warm-up, then the golden cross at 12)
 * ```
 *
 * @param params Instruments, periods, quantity, and whether to go short.
 * @returns A strategy to run with `runStrategies`.
 * @throws {ConfigError} Listing every parameter out of range.
 */
export function movingAverageCrossover(params: MovingAverageCrossoverParams): Strategy {
  const { id, instruments, fastPeriod, slowPeriod, quantity } = params;
  const allowShort = params.allowShort ?? false;
  const problems: string[] = [];
  if (id === '') problems.push("'id' must not be empty");
  if (instruments.length === 0) problems.push("'instruments' must name at least one instrument");
  if (!Number.isInteger(fastPeriod) || fastPeriod < 1) problems.push(`'fastPeriod' must be a positive integer, got ${fastPeriod}`);
  if (!Number.isInteger(slowPeriod) || !(slowPeriod > fastPeriod))
    problems.push(`'slowPeriod' must be an integer above 'fastPeriod' (${fastPeriod}), got ${slowPeriod}`);
  if (!Number.isInteger(quantity) || quantity < 1) problems.push(`'quantity' must be a positive integer, got ${quantity}`);
  if (problems.length > 0) throw new ConfigError(`movingAverageCrossover '${id}'`, problems);

  let states = new Map<string, InstrumentState>();
  const reset = (): void => {
    states = new Map(
      instruments.map((instrument) => [
        instrument,
        { closes: new Float64Array(slowPeriod), next: 0, count: 0, lastSign: 0, target: null, orderBarClose: -Infinity },
      ]),
    );
  };
  reset();

  /** The command, if any, that moves the instrument toward its target; cancels an order left from an earlier bar first. */
  const steer = (bar: Bar, state: InstrumentState, signal: Signal, ctx: StrategyContext): OrderCommand | undefined => {
    if (state.target === null) return undefined;
    const working = ctx.workingOrders(bar.instrument_id);
    if (working.length > 0) {
      const order = working[0];
      if (order === undefined || order.cancel_requested || bar.ts_close <= state.orderBarClose) return undefined;
      return ctx.cancelOrder(order, signal.signal_id);
    }
    const step = stepToward(state.target, ctx.position(bar.instrument_id));
    if (step === undefined) return undefined;
    state.orderBarClose = bar.ts_close;
    return ctx.submitOrder({
      ...step,
      instrument_id: bar.instrument_id,
      price: bar.close,
      order_type: 'LIMIT',
      time_in_force: 'GFD',
      causation_id: signal.signal_id,
    });
  };

  return {
    id: StrategyId(id),
    init() {
      reset();
    },
    onBar(bar, ctx): StrategyResult | undefined {
      const state = states.get(bar.instrument_id);
      if (state === undefined) return undefined;
      state.closes[state.next] = bar.close;
      state.next = (state.next + 1) % slowPeriod;
      state.count++;
      if (state.count < slowPeriod) return undefined;

      const slow = meanOfLast(state.closes, state.next, slowPeriod);
      const diff = meanOfLast(state.closes, state.next, fastPeriod) - slow;
      const sign = Math.abs(diff) <= Math.abs(slow) * RELATIVE_EPSILON ? 0 : diff > 0 ? 1 : -1;
      if (sign !== 0) {
        if (state.lastSign !== 0 && sign !== state.lastSign) state.target = sign > 0 ? quantity : allowShort ? -quantity : 0;
        state.lastSign = sign;
      }
      const signal = ctx.signal({
        instrument_id: bar.instrument_id,
        name: 'ma_cross',
        value: diff,
        ts_event: bar.ts_close,
        causation_id: barId(bar),
      });
      const command = steer(bar, state, signal, ctx);
      return { signals: [signal], commands: command === undefined ? [] : [command] };
    },
    stop(ctx) {
      return {
        commands: ctx
          .workingOrders()
          .filter((order) => !order.cancel_requested)
          .map((order) => ctx.cancelOrder(order, null)),
      };
    },
  };
}
