import { Subject, VirtualTimeScheduler } from 'rxjs';
import { risk } from '../operators/risk.js';
import {
  AccountId,
  ClientOrderId,
  InstrumentId,
  StrategyId,
  type OrderCommand,
  type OrderDenied,
  type OrderEvent,
  type SubmitOrder,
  type Tick,
} from '../schemas/generated.js';
import { formatCount } from './format-count.js';

const DECISIONS = 200_000;
/** Virtual time between commands: 500 commands a second across two accounts, under the default rate limits. */
const STEP_MS = 2;
const START_US = Date.parse('2025-01-02T21:00:00+08:00') * 1000;
const INSTRUMENTS = ['SHFE.rb2501', 'SHFE.hc2501', 'DCE.m2501', 'CZCE.SR501', 'SHFE.cu2501', 'DCE.i2501'].map(InstrumentId);
const PRICES = [3500, 3450, 2800, 5900, 74_000, 780] as const;
const TICK_SIZES = [1, 1, 1, 1, 10, 0.5] as const;
const ACCOUNTS = ['acc-1', 'acc-2'].map(AccountId);
const STRATEGY = StrategyId('mm');
const WORKING_PER_BOOK = 6;

function tickOf(i: number, tsUs: number): Tick {
  const price = PRICES[i] as number;
  const size = TICK_SIZES[i] as number;
  const level = (n: number) => ({ bid: price - n * size, ask: price + (n - 1) * size });
  return {
    instrument_id: INSTRUMENTS[i] as InstrumentId,
    trading_day: '20250103',
    action_day: '20250102',
    ts_event: tsUs,
    last_price: price,
    pre_settlement: price,
    pre_close: price,
    pre_open_interest: 1e6,
    open: price,
    high: price,
    low: price,
    close: null,
    settlement: null,
    upper_limit: price * 1.07,
    lower_limit: price * 0.93,
    average_price: price,
    volume: 1000,
    last_volume: 10,
    turnover: 1e8,
    open_interest: 1e6,
    bid_price1: level(1).bid,
    bid_volume1: 10,
    ask_price1: level(1).ask,
    ask_volume1: 10,
    bid_price2: level(2).bid,
    bid_volume2: 10,
    ask_price2: level(2).ask,
    ask_volume2: 10,
    bid_price3: level(3).bid,
    bid_volume3: 10,
    ask_price3: level(3).ask,
    ask_volume3: 10,
    bid_price4: level(4).bid,
    bid_volume4: 10,
    ask_price4: level(4).ask,
    ask_volume4: 10,
    bid_price5: level(5).bid,
    bid_volume5: 10,
    ask_price5: level(5).ask,
    ask_volume5: 10,
    feed_id: 'bench',
    ts_recv: tsUs,
    sequence: 1,
  };
}

interface Round {
  readonly perSecond: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly maxUs: number;
  readonly passed: number;
  readonly denied: number;
  readonly reasons: ReadonlyMap<string, number>;
}

/**
 * One round: a market maker quoting six instruments from two accounts, every
 * rule on. Each step sends a submit, or a cancel of the oldest working order
 * of a book with enough working; the order router's answers (OrderCanceled,
 * a fill for one submit in four) come back between decisions, as they would
 * from a venue. Only the decision (`commands.next`) is timed.
 */
function round(): Round {
  const scheduler = new VirtualTimeScheduler();
  const commands = new Subject<OrderCommand>();
  const ticks = new Subject<Tick>();
  const events = new Subject<OrderEvent>();
  const pendingEvents: OrderEvent[] = [];
  const working = new Map<string, SubmitOrder[]>();
  let passed = 0;
  let denied = 0;
  let eventSeq = 0;
  const reasons = new Map<string, number>();
  const denials = {
    next: (denial: OrderDenied) => {
      denied++;
      reasons.set(denial.reason_code, (reasons.get(denial.reason_code) ?? 0) + 1);
    },
  };
  // A day's counts of a busy market maker, not 400 s of one: the daily limits are raised so that they do not end the run early.
  const limits = { max_daily_orders: 1_000_000, max_daily_cancels: 1_000_000, max_daily_trades: 1_000_000 };
  // The subscriber only queues: what a venue answers is built between decisions, outside the timed part.
  const passedNow: OrderCommand[] = [];
  const subscription = risk({ scheduler, limits, denials })({ commands, ticks, events }).subscribe(
    (command) => void passedNow.push(command),
  );
  const route = (command: OrderCommand): void => {
    passed++;
    const ids = {
      event_id: `e${++eventSeq}`,
      client_order_id: command.client_order_id,
      strategy_id: command.strategy_id,
      account_id: command.account_id,
      instrument_id: command.instrument_id,
      ts_event: command.ts_init,
      ts_init: command.ts_init,
      causation_id: command.command_id,
    };
    if (command.type === 'CancelOrder') {
      pendingEvents.push({ ...ids, type: 'OrderCanceled', venue_order_id: null, filled_quantity: 0 });
    } else if (eventSeq % 4 === 0) {
      pendingEvents.push({
        ...ids,
        type: 'OrderFilled',
        venue_order_id: `v${eventSeq}`,
        trade_id: `t${eventSeq}`,
        side: command.side,
        last_quantity: command.quantity,
        last_price: command.price ?? 0,
        cum_quantity: command.quantity,
        leaves_quantity: 0,
      });
    } else {
      const key = `${command.account_id}/${command.instrument_id}`;
      let book = working.get(key);
      if (book === undefined) working.set(key, (book = []));
      book.push(command);
    }
  };

  const latenciesUs = new Float64Array(DECISIONS);
  let timedMs = 0;
  for (let i = 0; i < DECISIONS; i++) {
    scheduler.frame = i * STEP_MS;
    const tsUs = START_US + i * STEP_MS * 1000;
    for (const event of pendingEvents.splice(0)) events.next(event);
    const instrument = i % INSTRUMENTS.length;
    if (i % 50 < INSTRUMENTS.length) ticks.next(tickOf(instrument, tsUs));
    const account = ACCOUNTS[(i >> 3) % ACCOUNTS.length] as AccountId;
    const instrumentId = INSTRUMENTS[instrument] as InstrumentId;
    const book = working.get(`${account}/${instrumentId}`);
    let command: OrderCommand;
    if (book !== undefined && book.length >= WORKING_PER_BOOK) {
      const oldest = book.shift() as SubmitOrder;
      command = {
        type: 'CancelOrder',
        command_id: `c${i}`,
        client_order_id: oldest.client_order_id,
        strategy_id: STRATEGY,
        account_id: account,
        instrument_id: instrumentId,
        venue: null,
        ts_init: tsUs,
        causation_id: null,
      };
    } else {
      const k = Math.floor(i / INSTRUMENTS.length);
      // Distinct side, price and lots over 180 steps of a book, so that a second's submits are no duplicates.
      const side = Math.floor(k / 90) % 2 === 0 ? 'BUY' : 'SELL';
      const offset = (1 + (k % 30)) * (TICK_SIZES[instrument] as number);
      const price = (PRICES[instrument] as number) + (side === 'BUY' ? -offset : offset);
      command = {
        type: 'SubmitOrder',
        command_id: `c${i}`,
        client_order_id: ClientOrderId(`o${i}`),
        strategy_id: STRATEGY,
        account_id: account,
        instrument_id: instrumentId,
        side,
        order_type: 'LIMIT',
        time_in_force: 'GFD',
        position_effect: 'OPEN',
        quantity: 1 + (Math.floor(k / 30) % 3),
        price,
        venue: null,
        ts_init: tsUs,
        causation_id: null,
      };
    }
    const started = performance.now();
    commands.next(command);
    const elapsed = performance.now() - started;
    timedMs += elapsed;
    latenciesUs[i] = elapsed * 1000;
    for (const out of passedNow.splice(0)) route(out);
  }
  subscription.unsubscribe();
  latenciesUs.sort();
  const at = (q: number): number => latenciesUs[Math.min(DECISIONS - 1, Math.floor(q * DECISIONS))] as number;
  return {
    perSecond: DECISIONS / (timedMs / 1000),
    p50Us: at(0.5),
    p99Us: at(0.99),
    maxUs: latenciesUs[DECISIONS - 1] as number,
    passed,
    denied,
    reasons,
  };
}

/** Pre-trade risk decisions per second and decision latency, every rule on. */
export async function riskThroughput(): Promise<string[]> {
  round(); // warms the JIT
  const r = round();
  return [
    `${DECISIONS.toLocaleString('en-US')} commands (submits and cancels, 2 accounts × 6 instruments, fills and cancels fed back), every rule on:`,
    `  decisions           ${formatCount(r.perSecond)} /s   (${r.passed.toLocaleString('en-US')} passed, ${r.denied.toLocaleString('en-US')} denied: ${[...r.reasons].map(([code, n]) => `${code} ${n}`).join(', ') || 'none'})`,
    `  decision latency    p50 ${r.p50Us.toFixed(2)} µs, p99 ${r.p99Us.toFixed(2)} µs, max ${r.maxUs.toFixed(0)} µs`,
  ];
}
