import { ConfigError } from '../errors/errors.js';
import { type OrderCommand, StrategyId, type Tick, type TimeInForce } from '../schemas/generated.js';
import { tickId, type Strategy, type StrategyResult } from './strategy-api.js';

export interface MeanReversionParams {
  /** Strategy id. */
  readonly id: string;
  /** Instruments traded; ticks of others are ignored. */
  readonly instruments: readonly string[];
  /** Ticks with a last price in the rolling window (at least 2). */
  readonly window: number;
  /** Enter when the z-score is beyond ± this. */
  readonly entryZ: number;
  /** Leave a position once the z-score is back within ± this of the mean; below `entryZ`. */
  readonly exitZ: number;
  /** Lots per position. */
  readonly quantity: number;
  /** Of every order. Default FAK: the order takes the best opposite price or nothing, so none is left resting. */
  readonly timeInForce?: TimeInForce;
}

interface InstrumentState {
  /** The last `window` last prices, a ring written at `next`. */
  readonly prices: Float64Array;
  next: number;
  count: number;
}

/**
 * Mean reversion on ticks: buys when the price is unusually far below its
 * recent mean, sells when it is unusually far above, and leaves the position
 * when the price comes back.
 *
 * The z-score is (last price − mean) / standard deviation of the last
 * `window` last prices, the current one included (population deviation);
 * ticks without a last price are skipped. Once the window is full, each tick
 * whose window is not flat emits the signal `zscore` (caused by the tick).
 * Flat, the strategy buys `quantity` below −`entryZ` at the best ask and
 * sells above +`entryZ` at the best bid; long, it sells to close once the
 * z-score is at or above −`exitZ`; short, it buys to close at or below
 * +`exitZ`. Orders are limit orders at the best opposite price (none when
 * that side of the book is empty), caused by the signal, one working order
 * per instrument at a time. `stop` cancels working orders and leaves
 * positions as they are.
 *
 * @example
 * ```ts
 * import { AccountId } from '../schemas/generated.js';
 * import { SimMarket } from '../sources/sim-market.js';
 * import { createStrategyContext } from './strategy-api.js';
 * const mr = meanReversion({ id: 'mr', instruments: ['SHFE.rb2501'], window: 5, entryZ: 1.5, exitZ: 0.5, quantity: 1 });
 * const { context } = createStrategyContext({ strategyId: mr.id, accountId: AccountId('paper'), now: () => 0 });
 * const tick = new SimMarket({ instruments: ['SHFE.rb2501'], seed: 1, start: Date.parse('2025-01-03T09:00:00+08:00') * 1000, tickIntervalMs: 500, feedId: 'sim', latencyUs: 0 }).next();
 * const prices = [100, 100, 100, 100, 90].map((p) => {
 *   const command = mr.onTick?.({ ...tick, last_price: p, ask_price1: p + 1 }, context)?.commands?.[0];
 *   return command?.type === 'SubmitOrder' ? command.price : '-';
 * });
 * console.log(prices.join(' '));
 * // Logs: - - - - 91      (z = -2 at 90: buy at the best ask)
 * ```
 *
 * @param params Instruments, window, thresholds, quantity and time in force.
 * @returns A strategy to run with `runStrategies`.
 * @throws {ConfigError} Listing every parameter out of range.
 */
export function meanReversion(params: MeanReversionParams): Strategy {
  const { id, instruments, window, entryZ, exitZ, quantity } = params;
  const timeInForce = params.timeInForce ?? 'FAK';
  const problems: string[] = [];
  if (id === '') problems.push("'id' must not be empty");
  if (instruments.length === 0) problems.push("'instruments' must name at least one instrument");
  if (!Number.isInteger(window) || window < 2) problems.push(`'window' must be an integer of at least 2, got ${window}`);
  if (!(exitZ >= 0) || !Number.isFinite(exitZ)) problems.push(`'exitZ' must be a number of at least 0, got ${exitZ}`);
  if (!(entryZ > exitZ) || !Number.isFinite(entryZ)) problems.push(`'entryZ' must be a number above 'exitZ' (${exitZ}), got ${entryZ}`);
  if (!Number.isInteger(quantity) || quantity < 1) problems.push(`'quantity' must be a positive integer, got ${quantity}`);
  if (problems.length > 0) throw new ConfigError(`meanReversion '${id}'`, problems);

  let states = new Map<string, InstrumentState>();
  const reset = (): void => {
    states = new Map(instruments.map((instrument) => [instrument, { prices: new Float64Array(window), next: 0, count: 0 }]));
  };
  reset();

  return {
    id: StrategyId(id),
    init() {
      reset();
    },
    onTick(tick: Tick, ctx): StrategyResult | undefined {
      const state = states.get(tick.instrument_id);
      const price = tick.last_price;
      if (state === undefined || price === null) return undefined;
      const prices = state.prices;
      prices[state.next] = price;
      state.next = (state.next + 1) % window;
      state.count++;
      if (state.count < window) return undefined;

      let sum = 0;
      for (let i = 0; i < window; i++) sum += prices[i] as number;
      const mean = sum / window;
      let squares = 0;
      for (let i = 0; i < window; i++) {
        const d = (prices[i] as number) - mean;
        squares += d * d;
      }
      const deviation = Math.sqrt(squares / window);
      // A flat window has no z-score; rounding can leave a residue far below any tick size.
      if (!(deviation > Math.abs(mean) * 1e-12)) return undefined;
      const z = (price - mean) / deviation;
      const signal = ctx.signal({
        instrument_id: tick.instrument_id,
        name: 'zscore',
        value: z,
        ts_event: tick.ts_event,
        causation_id: tickId(tick),
      });
      if (ctx.workingOrders(tick.instrument_id).length > 0) return { signals: [signal] };

      const position = ctx.position(tick.instrument_id);
      let command: OrderCommand | undefined;
      const order = (side: 'BUY' | 'SELL', effect: 'OPEN' | 'CLOSE', lots: number): OrderCommand | undefined => {
        const bestOpposite = side === 'BUY' ? tick.ask_price1 : tick.bid_price1;
        if (bestOpposite === null) return undefined;
        return ctx.submitOrder({
          instrument_id: tick.instrument_id,
          side,
          quantity: lots,
          price: bestOpposite,
          position_effect: effect,
          order_type: 'LIMIT',
          time_in_force: timeInForce,
          causation_id: signal.signal_id,
        });
      };
      if (position.long > 0 && z >= -exitZ) command = order('SELL', 'CLOSE', position.long);
      else if (position.short > 0 && z <= exitZ) command = order('BUY', 'CLOSE', position.short);
      else if (position.long <= 0 && position.short <= 0) {
        if (z < -entryZ) command = order('BUY', 'OPEN', quantity);
        else if (z > entryZ) command = order('SELL', 'OPEN', quantity);
      }
      return { signals: [signal], commands: command === undefined ? [] : [command] };
    },
    stop(ctx) {
      return {
        commands: ctx
          .workingOrders()
          .filter((o) => !o.cancel_requested)
          .map((o) => ctx.cancelOrder(o, null)),
      };
    },
  };
}
