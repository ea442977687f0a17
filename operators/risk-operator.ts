import { metric } from '../pipeline/runtime/metric-declaration.js';
import { Subject, tap } from 'rxjs';
import { defineComponent } from '../pipeline/components/define-component.js';
import { field } from '../pipeline/config/field.js';
import type { ControlCaller } from '../pipeline/components/component-definition.js';
import { ConfigError, StageError } from '../errors/errors.js';
import { TradingStateSymbols, type OrderDenied, type RiskControlChanged, type TradingState } from '../schemas/generated.js';
import { risk } from './risk.js';
import { parseRiskControl, type RiskControlName, type RiskControlRequest } from './risk/parse-risk-control.js';
import { limitsBeyondDefinition, riskLimitSpec } from './risk/risk-limits.js';

const STATE_VALUE: Readonly<Record<TradingState, number>> = { ACTIVE: 0, REDUCING: 1, HALTED: 2 };

/**
 * The `risk` component: order commands, ticks and the order router's events
 * in; the commands that pass out, with the kill switch's cancels; OrderDenied
 * events on `denials` and every run-time change on `control`.
 *
 * Controls: `POST /control/{stage}/state` with `{ "trading_state": "HALTED", "reason": "…" }`
 * and `POST /control/{stage}/limits` with any limit fields (and `reason`).
 * Both answer with the stage's trading state and limits after the change.
 * Every change is audited with the caller's authenticated principal. A
 * limits change may tighten what the definition set and loosen it again up
 * to the definition, never past it: a rule the definition switches on stays
 * on, and every limit has a hard maximum in its field spec.
 */
export const riskOperator = defineComponent({
  name: 'risk',
  kind: 'operator',
  description:
    'Pre-trade risk: checks submits and cancels against switchable rules (rates, volume, notional, position, active orders, daily counts, price band, duplicates, self-trade, sessions), denies as OrderDenied events, and carries the kill switch (ACTIVE, REDUCING, HALTED), controlled at run time.',
  in: { commands: 'OrderCommand', ticks: 'Tick', events: 'OrderEvent' },
  out: 'OrderCommand',
  sideOutputs: { denials: 'OrderEvent', control: 'RiskControlChanged' },
  spec: {
    ...riskLimitSpec,
    initial_state: field.choice(TradingStateSymbols, {
      description:
        'Trading state at start: ACTIVE (all rules apply), REDUCING (only orders that reduce a position) or HALTED (no new orders)',
      default: 'ACTIVE',
      example: 'REDUCING',
    }),
  },
  metrics: {
    denials_total: metric.counter('Commands pre-trade risk denied, by reason code.', { labels: ['reason'] }),
    trading_state: metric.gauge('Trading state of a risk stage: 0 ACTIVE, 1 REDUCING, 2 HALTED.'),
  },
  drops: { denied: 'A command a risk rule or the trading state denied (an OrderDenied on the denials output says why)' },
  create(config, ctx) {
    const { initial_state: initialState, ...limits } = config;
    const denialsOut = ctx.sideOutput<OrderDenied>('denials');
    const controlOut = ctx.sideOutput<RiskControlChanged>('control');
    const requests = new Subject<RiskControlRequest>();

    const denialCounter = ctx.metrics.counter('denials_total');
    const stateGauge = ctx.metrics.gauge('trading_state');
    stateGauge.set(STATE_VALUE[initialState]);

    let tradingState: TradingState = initialState;
    let lastChange: RiskControlChanged | undefined;
    let cancelsOfLastChange = 0;

    const operator = risk({
      stage: ctx.stage,
      limits,
      initialState,
      scheduler: ctx.scheduler,
      metrics: ctx.metrics,
      denials: {
        next(denial) {
          denialCounter.labels({ reason: denial.reason_code }).inc();
          ctx.logger.debug({ denial }, `denied ${denial.client_order_id}: ${denial.reason}`);
          denialsOut.next(denial);
        },
      },
      control: {
        next(change) {
          const previous = tradingState;
          tradingState = change.trading_state;
          lastChange = change;
          cancelsOfLastChange = 0;
          stateGauge.set(STATE_VALUE[change.trading_state]);
          const level = change.trading_state === 'HALTED' ? 'warn' : 'info';
          ctx.logger[level](
            { riskControl: change },
            `trading state ${previous} -> ${change.trading_state} (${change.change_id}) by ${change.principal}: ${change.reason}`,
          );
          controlOut.next(change);
        },
      },
    });

    const handler = (name: RiskControlName) => (body: unknown, caller: ControlCaller) => {
      const subject = `control ${ctx.stage}/${name}`;
      const request = parseRiskControl(subject, name, body, caller.principal);
      if (request.control === 'limits') {
        const beyond = limitsBeyondDefinition(request.limits, limits);
        if (beyond.length > 0) throw new ConfigError(subject, beyond);
      }
      const previous = tradingState;
      const before = lastChange;
      requests.next(request);
      const change = lastChange;
      if (change === undefined || change === before) {
        throw new StageError(`control ${ctx.stage}/${name}: stage '${ctx.stage}' (risk) is not running, so the change was not applied`, {
          context: { stage: ctx.stage },
        });
      }
      return {
        stage: ctx.stage,
        change_id: change.change_id,
        trading_state: change.trading_state,
        previous_trading_state: previous,
        limits: JSON.parse(change.limits_json) as unknown,
        reason: change.reason,
        principal: change.principal,
        ts_event: change.ts_event,
        cancels_sent: cancelsOfLastChange,
      };
    };
    ctx.control('state', handler('state'));
    ctx.control('limits', handler('limits'));

    return (inputs) =>
      operator({ ...inputs, controls: requests }).pipe(
        tap((command) => {
          if (command.type === 'CancelOrder' && lastChange !== undefined && command.causation_id === lastChange.change_id)
            cancelsOfLastChange++;
        }),
      );
  },
});
