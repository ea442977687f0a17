import { Subject } from 'rxjs';
import { runStrategies } from '../operators/strategy.js';
import { StrategyId, type Bar, type OrderCommand, type OrderEvent, type Tick } from '../schemas/generated.js';
import { SimMarket } from '../sources/sim-market.js';
import { meanReversion } from '../strategies/mean-reversion.js';
import { movingAverageCrossover } from '../strategies/moving-average-crossover.js';
import type { Strategy } from '../strategies/strategy-api.js';
import { formatCount } from './format-count.js';

const TICKS = 300_000;
const SIM_START_US = Date.parse('2025-01-02T21:00:00+08:00') * 1000;
const INSTRUMENTS = ['SHFE.rb2501', 'SHFE.cu2501', 'DCE.m2501', 'CZCE.SR501', 'CFFEX.IF2501', 'INE.sc2501'];

function simTicks(n: number): Tick[] {
  const market = new SimMarket({ instruments: INSTRUMENTS, seed: 5, start: SIM_START_US, tickIntervalMs: 500, feedId: 'a', latencyUs: 0 });
  return Array.from({ length: n }, () => market.next());
}

/** One bar per tick (its last price as open, high, low and close): as many bars as ticks, to measure the bar path at volume. */
function barsOf(ticks: readonly Tick[]): Bar[] {
  return ticks.flatMap((t) => {
    const p = t.last_price;
    if (p === null) return [];
    return [
      {
        instrument_id: t.instrument_id,
        period_s: 1,
        trading_day: t.trading_day,
        ts_open: t.ts_event,
        ts_close: t.ts_event + 1,
        open: p,
        high: p,
        low: p,
        close: p,
        volume: 1,
        turnover: p,
        open_interest: t.open_interest,
        tick_count: 1,
      },
    ];
  });
}

/** A venue that fills every order in full at once, and confirms every cancel: submitted, accepted, filled. */
function instantFills(command: OrderCommand): OrderEvent[] {
  const common = {
    client_order_id: command.client_order_id,
    strategy_id: command.strategy_id,
    account_id: command.account_id,
    instrument_id: command.instrument_id,
    ts_event: command.ts_init,
    ts_init: command.ts_init,
  };
  if (command.type === 'CancelOrder') {
    return [
      {
        type: 'OrderCanceled',
        event_id: `x${command.command_id}`,
        ...common,
        venue_order_id: `v${command.client_order_id}`,
        filled_quantity: 0,
        causation_id: command.command_id,
      },
    ];
  }
  const c = command;
  return [
    {
      type: 'OrderSubmitted',
      event_id: `s${c.command_id}`,
      ...common,
      venue: 'bench',
      side: c.side,
      order_type: c.order_type,
      time_in_force: c.time_in_force,
      position_effect: c.position_effect,
      quantity: c.quantity,
      price: c.price,
      causation_id: c.command_id,
    },
    { type: 'OrderAccepted', event_id: `a${c.command_id}`, ...common, venue_order_id: `v${c.client_order_id}`, causation_id: c.command_id },
    {
      type: 'OrderFilled',
      event_id: `f${c.command_id}`,
      ...common,
      venue_order_id: `v${c.client_order_id}`,
      trade_id: `t${c.command_id}`,
      side: c.side,
      last_quantity: c.quantity,
      last_price: c.price ?? 0,
      cum_quantity: c.quantity,
      leaves_quantity: 0,
      causation_id: c.command_id,
    },
  ];
}

interface Outcome {
  readonly perSecond: number;
  readonly commands: number;
  readonly signals: number;
  readonly events: number;
}

/** Pushes `records` through `runStrategies` on the given port synchronously, the venue answering every command at once through the feedback Subject. */
function run(strategies: readonly Strategy[], port: 'ticks' | 'bars', records: readonly (Tick | Bar)[]): Outcome {
  const input = new Subject<Tick | Bar>();
  const events = new Subject<OrderEvent>();
  let commands = 0;
  let signals = 0;
  let fed = 0;
  const onError = (error: unknown, strategyId: string): void => {
    throw new Error(`strategy ${strategyId} failed in the benchmark`, { cause: error });
  };
  const stage = runStrategies(strategies, { onError, signals: { next: () => void signals++ } });
  const subscription = stage(
    port === 'ticks' ? { ticks: input as Subject<Tick>, events } : { bars: input as Subject<Bar>, events },
  ).subscribe((command) => {
    commands++;
    for (const event of instantFills(command)) {
      fed++;
      events.next(event);
    }
  });
  const started = performance.now();
  for (const record of records) input.next(record);
  const seconds = (performance.now() - started) / 1000;
  subscription.unsubscribe();
  return { perSecond: records.length / seconds, commands, signals, events: fed };
}

const count = (n: number): string => n.toLocaleString('en-US');

/** The strategy stage on sim ticks and bars: records in per second, with every order filled at once through the feedback edge. */
export async function strategyThroughput(): Promise<string[]> {
  const ticks = simTicks(TICKS);
  const bars = barsOf(ticks);
  const lines = [
    `${count(TICKS)} sim ticks (and ${count(bars.length)} bars, one per tick), six instruments, records in per second; a venue fills every order at once through the feedback edge:`,
  ];
  const noop = (id: string): Strategy => ({ id: StrategyId(id), onTick: () => undefined });
  for (let round = 0; round < 2; round++) {
    // The first round warms the JIT; the second is reported.
    const one = run([noop('n0')], 'ticks', ticks);
    const ten = run(
      Array.from({ length: 10 }, (_, i) => noop(`n${i}`)),
      'ticks',
      ticks,
    );
    const mr = run([meanReversion({ id: 'mr', instruments: INSTRUMENTS, window: 50, entryZ: 2, exitZ: 0.5, quantity: 1 })], 'ticks', ticks);
    const ma = run(
      [movingAverageCrossover({ id: 'ma', instruments: INSTRUMENTS, fastPeriod: 5, slowPeriod: 20, quantity: 1 })],
      'bars',
      bars,
    );
    if (round === 1) {
      lines.push(`  1 strategy doing nothing                         ${formatCount(one.perSecond)} ticks/s`);
      lines.push(`  10 strategies doing nothing                      ${formatCount(ten.perSecond)} ticks/s`);
      lines.push(
        `  mean reversion (window 50, entry 2, exit 0.5)    ${formatCount(mr.perSecond)} ticks/s (${count(mr.signals)} signals, ${count(mr.commands)} orders, ${count(mr.events)} events back)`,
      );
      lines.push(
        `  ma crossover (5 / 20)                            ${formatCount(ma.perSecond)} bars/s  (${count(ma.signals)} signals, ${count(ma.commands)} orders, ${count(ma.events)} events back)`,
      );
    }
  }
  return lines;
}
