import { Subject } from 'rxjs';
import { productTable } from '../domain/product-table.js';
import { orderRouter } from '../operators/order-router.js';
import { paperVenue } from '../operators/router/paper-venue.js';
import {
  AccountId,
  ClientOrderId,
  InstrumentId,
  StrategyId,
  type OrderCommand,
  type OrderEvent,
  type SubmitOrder,
  type Tick,
} from '../schemas/generated.js';
import { SimMarket } from '../sources/sim-market.js';
import { formatCount } from './format-count.js';

const TICKS = 200_000;
const INSTRUMENTS = ['SHFE.rb2501', 'SHFE.cu2501', 'DCE.m2501', 'CZCE.SR501', 'CFFEX.IF2501', 'INE.sc2501'].map(InstrumentId);
const SIM_START_US = Date.parse('2025-01-02T21:00:00+08:00') * 1000;

function simTicks(n: number): Tick[] {
  const market = new SimMarket({ instruments: INSTRUMENTS, seed: 5, start: SIM_START_US, tickIntervalMs: 500, feedId: 'a', latencyUs: 0 });
  return Array.from({ length: n }, () => market.next());
}

const STRATEGY = StrategyId('bench');
const ACCOUNT = AccountId('ACC1');

function submit(n: number, instrumentId: InstrumentId, changes: Partial<SubmitOrder>): SubmitOrder {
  return {
    type: 'SubmitOrder',
    command_id: `bench-cmd-${n}`,
    client_order_id: ClientOrderId(`bench-${n}`),
    strategy_id: STRATEGY,
    account_id: ACCOUNT,
    instrument_id: instrumentId,
    side: 'BUY',
    order_type: 'LIMIT',
    time_in_force: 'GFD',
    position_effect: 'OPEN',
    quantity: 1,
    price: null,
    venue: 'paper',
    ts_init: 0,
    causation_id: null,
    ...changes,
  };
}

/** A buy limit far below the market (half the product's base price, on its tick grid): it rests and is scanned on every tick, never filling. */
function farBelowMarket(instrumentId: string): number {
  const product = productTable[/^[A-Z]+\.([A-Za-z]+)\d+$/.exec(instrumentId)?.[1] ?? ''];
  if (product === undefined) throw new Error(`no product for ${instrumentId}`);
  return Math.round((product.basePrice * 0.5) / product.tickSize) * product.tickSize;
}

/** Ticks through the paper venue with `resting` GFD orders that never fill: ticks per second. */
function ticksWithRestingOrders(ticks: readonly Tick[], resting: number): number {
  const commands = new Subject<OrderCommand>();
  const market = new Subject<Tick>();
  let reports = 0;
  const subscription = paperVenue()({ commands, ticks: market }).subscribe(() => reports++);
  // One quote per instrument first, so the orders are accepted.
  for (const tick of ticks.slice(0, INSTRUMENTS.length)) market.next(tick);
  for (let i = 0; i < resting; i++) {
    const instrumentId = INSTRUMENTS[i % INSTRUMENTS.length] as InstrumentId;
    commands.next(submit(i, instrumentId, { price: farBelowMarket(instrumentId) }));
  }
  if (reports !== resting) throw new Error(`expected ${resting} acknowledgements, got ${reports}`);
  const started = performance.now();
  for (const tick of ticks) market.next(tick);
  const seconds = (performance.now() - started) / 1000;
  subscription.unsubscribe();
  return ticks.length / seconds;
}

/** Router and paper venue wired through a feedback Subject; a crossing FAK order every `every` ticks. Records (ticks and commands) in per second, and events out. */
function roundTrips(ticks: readonly Tick[], every: number): { perSecond: number; commands: number; events: number } {
  const commands = new Subject<OrderCommand>();
  const market = new Subject<Tick>();
  const reports = new Subject<OrderEvent>();
  const routed = new Subject<OrderCommand>();
  let events = 0;
  const venueSubscription = paperVenue()({ commands: routed, ticks: market }).subscribe(reports);
  const routerSubscription = orderRouter({ routed })({ commands, reports }).subscribe(() => events++);
  let sent = 0;
  const started = performance.now();
  for (let i = 0; i < ticks.length; i++) {
    const tick = ticks[i] as Tick;
    market.next(tick);
    if (i % every === 0 && tick.ask_price1 !== null) {
      commands.next(submit(sent++, tick.instrument_id, { venue: null, time_in_force: 'FAK', price: tick.ask_price1 }));
    }
  }
  const seconds = (performance.now() - started) / 1000;
  routerSubscription.unsubscribe();
  venueSubscription.unsubscribe();
  return { perSecond: (ticks.length + sent) / seconds, commands: sent, events };
}

/** The paper venue's tick throughput with resting orders, and router ⇄ paper venue round trips: records per second. */
export async function paperVenueThroughput(): Promise<string[]> {
  const ticks = simTicks(TICKS);
  const lines = [`${TICKS.toLocaleString('en-US')} sim ticks, six instruments, records in per second:`];
  for (let round = 0; round < 2; round++) {
    // The first round warms the JIT; the second is reported.
    const restingFigures = [0, 60, 600, 6000].map((resting) => [resting, ticksWithRestingOrders(ticks, resting)] as const);
    const trips = roundTrips(ticks, 4);
    if (round === 1) {
      for (const [resting, perSecond] of restingFigures) {
        lines.push(
          `  paper-venue, ${resting.toLocaleString('en-US').padStart(5)} resting orders (${(resting / INSTRUMENTS.length).toLocaleString('en-US')} per instrument)  ${formatCount(perSecond)} ticks/s`,
        );
      }
      lines.push(
        `  order-router ⇄ paper-venue, a filling FAK order every 4 ticks   ${formatCount(trips.perSecond)} records/s (${trips.commands.toLocaleString('en-US')} orders, ${trips.events.toLocaleString('en-US')} events out)`,
      );
    }
  }
  return lines;
}
