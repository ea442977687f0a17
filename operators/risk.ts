import { asyncScheduler, type Observable, type Observer, type SchedulerLike } from 'rxjs';
import { TradingSessions } from '../domain/trading-sessions.js';
import { validateConfig } from '../pipeline/config/validate-config.js';
import { handWrittenStage } from '../pipeline/runtime/hand-written-stage.js';
import type { StageMetrics } from '../pipeline/runtime/stage-metrics.js';
import type { CancelOrder, OrderCommand, OrderDenied, OrderEvent, RiskControlChanged, Tick, TradingState } from '../schemas/generated.js';
import { checkTradingState } from './risk/check-trading-state.js';
import { riskLimitSpec, type RiskLimits } from './risk/risk-limits.js';
import type { RiskDenial } from './risk/risk-rule.js';
import { riskRules } from './risk/risk-rules.js';
import { RiskState } from './risk/risk-state.js';
import type { RiskControlRequest } from './risk/parse-risk-control.js';

export interface RiskOptions {
  /** The stage: prefix of every id risk makes (`risk-denied-1`, `risk-control-1`, `risk-cancel-1`) and `stage` of its control records. Default `risk`. */
  readonly stage?: string;
  /** Limits and rule switches; a missing field takes its default from `riskLimitSpec`. */
  readonly limits?: Partial<RiskLimits>;
  /** Trading state at subscribe time. Default ACTIVE. */
  readonly initialState?: TradingState;
  /** Receives an OrderDenied for every denied command. A `next` that throws fails the stream. */
  readonly denials?: Pick<Observer<OrderDenied>, 'next'>;
  /** Receives a RiskControlChanged for every applied control request, before the cancels it causes. A `next` that throws fails the stream. */
  readonly control?: Pick<Observer<RiskControlChanged>, 'next'>;
  /** Counts denied commands as dropped, reason `denied`. */
  readonly metrics?: Pick<StageMetrics, 'dropped'>;
  /** The clock of rate buckets, the duplicate window and the times of the records risk makes. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** The session calendar and product table. Default `new TradingSessions()`. */
  readonly sessions?: TradingSessions;
}

/** The streams risk reads: the ports of the risk stage, and run-time control requests. */
export interface RiskInputs {
  /** Commands to check. */
  readonly commands: Observable<OrderCommand>;
  /** Market data: the latest tick of each instrument prices market orders and sets price bands. */
  readonly ticks: Observable<Tick>;
  /** The order router's events: fills move positions; final events end working orders. */
  readonly events: Observable<OrderEvent>;
  /** Validated control requests (`parseRiskControl`), applied at once. Followed until the other inputs complete; its end ends nothing. */
  readonly controls?: Observable<RiskControlRequest>;
}

const SUBMIT_RULES = riskRules.filter((rule) => rule.appliesTo.includes('SubmitOrder'));
const CANCEL_RULES = riskRules.filter((rule) => rule.appliesTo.includes('CancelOrder'));

/**
 * Pre-trade risk: passes the commands every enabled rule allows, turns the
 * rest into OrderDenied events, and carries the kill switch.
 *
 * Each command goes through the trading state (HALTED denies submits,
 * REDUCING passes only submits that reduce a position), then the rules of
 * `riskRules` that are switched on, in order; the first denial wins, and a
 * denial is an OrderDenied on `denials` (its `causation_id` the command's
 * id), never an error. What passes is recorded before it is emitted: a
 * working order, daily counts, rate tokens. Events from the order router
 * move positions and end working orders; ticks keep the latest quote of each
 * instrument. A control request changes the state or the limits at once and
 * is reported on `control`; HALTED then emits a CancelOrder for every working
 * order without a pending cancel (`causation_id` the change's id). Rate
 * buckets and the duplicate window run on the scheduler; sessions and
 * trading days on market time (the instrument's latest tick's event time). Completes when commands, ticks and
 * events have all completed. An observer, hook or calendar of the options
 * that throws fails the stream with its error, after the records risk made
 * before it (a kill switch's cancels included); nothing is processed after.
 *
 * ```
 * commands: -a-b-c---d-     a, c, d submits; b breaks a limit
 * events:   ---f-------     f: a filled
 * controls: -------h---     h: { trading_state: HALTED }, while c is working
 *   risk({ scheduler, denials, control })
 * result:   -a---c-x---     x: CancelOrder of c, caused by h
 * denials:  ---B-----D-     B: OrderDenied of b (MAX_ORDER_VOLUME_EXCEEDED); D: of d (TRADING_HALTED)
 * control:  -------H---     H: RiskControlChanged, trading_state HALTED
 * ```
 *
 * @example
 * ```ts
 * import { EMPTY, of, Subject } from 'rxjs';
 * import { SimMarket } from '../sources/sim-market.js';
 * const tick = new SimMarket({ instruments: ['SHFE.rb2501'], seed: 1, start: Date.parse('2025-01-03T09:00:00+08:00') * 1000, tickIntervalMs: 500, feedId: 'sim', latencyUs: 0 }).next();
 * const submit: SubmitOrder = {
 *   type: 'SubmitOrder', command_id: 'c-1', client_order_id: ClientOrderId('o-1'), strategy_id: StrategyId('ma'), account_id: AccountId('paper'), instrument_id: tick.instrument_id,
 *   side: 'BUY', order_type: 'LIMIT', time_in_force: 'GFD', position_effect: 'OPEN', quantity: 1, price: tick.ask_price1, venue: null, ts_init: tick.ts_event, causation_id: null,
 * };
 * const denials = new Subject<OrderDenied>();
 * denials.subscribe((d) => console.log(d.reason_code, d.reason));
 * risk({ limits: { max_order_volume: 10 }, denials })({ commands: of({ ...submit, quantity: 20 }), ticks: of(tick), events: EMPTY })
 *   .subscribe({ next: (c) => console.log('passed', c.type), complete: () => console.log('done') });
 * // Logs: MAX_ORDER_VOLUME_EXCEEDED max-order-volume: quantity 20 lots exceeds max_order_volume 10
 * // Logs: done      (nothing passed)
 * ```
 *
 * @param options Limits, initial state, the denial and control observers, metrics, the scheduler and the session calendar.
 * @returns A function of the input streams to the stream of commands that pass, with the kill switch's cancels.
 * @throws {ConfigError} When a limit in `options.limits` is unknown or out of range (every problem at once).
 */
export function risk(options: RiskOptions = {}): (inputs: RiskInputs) => Observable<OrderCommand> {
  const initialLimits = validateConfig('risk options', riskLimitSpec, options.limits ?? {});
  const stageName = options.stage ?? 'risk';
  const initialState = options.initialState ?? 'ACTIVE';
  const scheduler = options.scheduler ?? asyncScheduler;
  const sessions = options.sessions ?? new TradingSessions();
  const { denials, control, metrics } = options;

  return (inputs) =>
    handWrittenStage<OrderCommand>((stage) => {
      const state = new RiskState(initialLimits, initialState, sessions);
      let deniedSeq = 0;
      let changeSeq = 0;
      let cancelSeq = 0;

      const evaluate = (command: OrderCommand): RiskDenial | undefined => {
        const gate = checkTradingState(command, state);
        if (gate !== undefined) return gate;
        const limits = state.limits;
        for (const rule of command.type === 'SubmitOrder' ? SUBMIT_RULES : CANCEL_RULES) {
          if (!limits[rule.switchKey]) continue;
          const denial = rule.check(command, state);
          if (denial !== undefined) return denial;
        }
        return undefined;
      };

      const decide = (command: OrderCommand): void => {
        const nowMs = scheduler.now();
        state.nowMs = nowMs;
        const denial = evaluate(command);
        if (denial === undefined) {
          // Recorded before it leaves: a subscriber may answer with events or commands at once.
          if (command.type === 'SubmitOrder') state.recordSubmit(command);
          else state.recordCancel(command);
          stage.emit(command);
          return;
        }
        metrics?.dropped('denied');
        const ts = Math.round(nowMs * 1000);
        // At once, not queued: a command the observer sends in answer is decided before the next one.
        denials?.next({
          type: 'OrderDenied',
          event_id: `${stageName}-denied-${++deniedSeq}`,
          client_order_id: command.client_order_id,
          strategy_id: command.strategy_id,
          account_id: command.account_id,
          instrument_id: command.instrument_id,
          reason_code: denial.code,
          reason: denial.message,
          ts_event: ts,
          ts_init: ts,
          causation_id: command.command_id,
        } satisfies OrderDenied);
      };

      const apply = (request: RiskControlRequest): void => {
        const ts = Math.round(scheduler.now() * 1000);
        const changeId = `${stageName}-control-${++changeSeq}`;
        const cancels: CancelOrder[] = [];
        if (request.control === 'limits') {
          state.limits = { ...state.limits, ...request.limits };
        } else {
          state.tradingState = request.tradingState;
          if (request.tradingState === 'HALTED') {
            for (const order of state.workingOrders()) {
              if (order.cancelPending) continue;
              state.recordKillSwitchCancel(order, ts);
              const { submit } = order;
              cancels.push({
                type: 'CancelOrder',
                command_id: `${stageName}-cancel-${++cancelSeq}`,
                client_order_id: submit.client_order_id,
                strategy_id: submit.strategy_id,
                account_id: submit.account_id,
                instrument_id: submit.instrument_id,
                venue: order.venue,
                ts_init: ts,
                causation_id: changeId,
              });
            }
          }
        }
        stage.emitTo(control, {
          change_id: changeId,
          stage: stageName,
          trading_state: state.tradingState,
          limits_json: JSON.stringify(state.limits),
          reason: request.reason,
          principal: request.principal,
          ts_event: ts,
        } satisfies RiskControlChanged);
        for (const cancel of cancels) stage.emit(cancel);
      };

      // Feedback and market data first, so that synchronous sources have set the state before the first command.
      stage.follow(inputs.events, (event) => state.applyEvent(event));
      stage.follow(inputs.ticks, (tick) => state.applyTick(tick));
      if (inputs.controls !== undefined) stage.follow(inputs.controls, apply, { awaited: false });
      stage.follow(inputs.commands, decide);
    });
}
