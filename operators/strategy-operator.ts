import { defineComponent } from '../pipeline/components/define-component.js';
import { field } from '../pipeline/config/field.js';
import type { Signal } from '../schemas/generated.js';
import { meanReversion } from '../strategies/mean-reversion.js';
import { movingAverageCrossover } from '../strategies/moving-average-crossover.js';
import type { Strategy } from '../strategies/strategy-api.js';
import { runStrategies } from './strategy.js';

const STRATEGY = 'strategy';
const STRATEGY_ID = 'strategy_id';
const ACCOUNT_ID = 'account_id';
const INSTRUMENTS = 'instruments';
const QUANTITY = 'quantity';
const FAST_PERIOD = 'fast_period';
const SLOW_PERIOD = 'slow_period';
const WINDOW = 'window';
const ENTRY_Z = 'entry_z';
const EXIT_Z = 'exit_z';

/**
 * The `strategy` component: one built-in strategy per stage (run several
 * stages for several strategies). Ticks, bars and the stage's own order
 * events (a feedback edge) in; order commands out; signals on the `signals`
 * side output. A strategy that throws is logged at error with its id and
 * counted as dropped (`strategy-error`); the stage keeps running.
 */
export const strategyOperator = defineComponent({
  name: 'strategy',
  kind: 'operator',
  description:
    'Runs a built-in trading strategy (moving-average crossover on bars, mean reversion on ticks) on market data and its own order events; order commands out, signals as a side output.',
  in: { ticks: 'Tick', bars: 'Bar', events: 'OrderEvent' },
  out: 'OrderCommand',
  sideOutputs: { signals: 'Signal' },
  spec: {
    [STRATEGY]: field.choice(['ma-cross', 'mean-reversion'] as const, {
      description:
        "Which strategy: 'ma-cross' trades crosses of two moving averages of bar closes; 'mean-reversion' trades the z-score of tick prices",
      example: 'ma-cross',
    }),
    [STRATEGY_ID]: field.string({
      description:
        'Id of the strategy, stamped on its commands and signals; order events return to the stage by it. Unique in the pipeline (and across restarts in a trading day: order ids are `<id>-<n>`)',
      example: 'rb-ma-20250103',
    }),
    [ACCOUNT_ID]: field.string({ description: 'Trading account of the orders', default: 'paper', example: 'ctp-main' }),
    [INSTRUMENTS]: field.stringList({
      description: 'Instruments the strategy trades; data of others is ignored',
      example: ['SHFE.rb2501'],
    }),
    [QUANTITY]: field.integer({ description: 'Lots per position', default: 1, min: 1, max: 10_000, example: 2 }),
    [FAST_PERIOD]: field.integer({
      description: "Bars in the fast moving average ('ma-cross')",
      default: 5,
      min: 1,
      max: 10_000,
      example: 10,
    }),
    [SLOW_PERIOD]: field.integer({
      description: "Bars in the slow moving average, more than fast_period ('ma-cross')",
      default: 20,
      min: 2,
      max: 10_000,
      example: 60,
    }),
    [WINDOW]: field.integer({
      description: "Ticks in the rolling window of the z-score ('mean-reversion')",
      default: 50,
      min: 2,
      max: 100_000,
      example: 120,
    }),
    [ENTRY_Z]: field.number({
      description: "Enter when the z-score is beyond plus or minus this ('mean-reversion')",
      default: 2,
      min: 0,
      max: 100,
      example: 2.5,
    }),
    [EXIT_Z]: field.number({
      description: "Leave once the z-score is back within plus or minus this, less than entry_z ('mean-reversion')",
      default: 0.5,
      min: 0,
      max: 100,
      example: 0.2,
    }),
  },
  validate: [
    {
      rule: `'${STRATEGY_ID}' must not be empty`,
      problems: (config) => (config[STRATEGY_ID] === '' ? [`'${STRATEGY_ID}' must not be empty`] : []),
    },
    {
      rule: `'${INSTRUMENTS}' must name at least one instrument`,
      problems: (config) => (config[INSTRUMENTS].length === 0 ? [`'${INSTRUMENTS}' must name at least one instrument`] : []),
    },
    {
      rule: `'${SLOW_PERIOD}' must exceed '${FAST_PERIOD}' ('ma-cross')`,
      problems: (config) =>
        config[STRATEGY] === 'ma-cross' && config[SLOW_PERIOD] <= config[FAST_PERIOD]
          ? [`'${SLOW_PERIOD}' must exceed '${FAST_PERIOD}' (${config[FAST_PERIOD]}), got ${config[SLOW_PERIOD]}`]
          : [],
    },
    {
      rule: `'${ENTRY_Z}' must exceed '${EXIT_Z}' ('mean-reversion')`,
      problems: (config) =>
        config[STRATEGY] === 'mean-reversion' && config[ENTRY_Z] <= config[EXIT_Z]
          ? [`'${ENTRY_Z}' must exceed '${EXIT_Z}' (${config[EXIT_Z]}), got ${config[ENTRY_Z]}`]
          : [],
    },
  ],
  drops: {
    'strategy-error': 'What a strategy call produced when it threw or returned something not its own (nothing of that call is sent)',
    'order-event': 'An order event whose onOrderEvent threw',
  },
  create(config, ctx) {
    const strategy: Strategy =
      config[STRATEGY] === 'ma-cross'
        ? movingAverageCrossover({
            id: config[STRATEGY_ID],
            instruments: config[INSTRUMENTS],
            fastPeriod: config[FAST_PERIOD],
            slowPeriod: config[SLOW_PERIOD],
            quantity: config[QUANTITY],
          })
        : meanReversion({
            id: config[STRATEGY_ID],
            instruments: config[INSTRUMENTS],
            window: config[WINDOW],
            entryZ: config[ENTRY_Z],
            exitZ: config[EXIT_Z],
            quantity: config[QUANTITY],
          });
    return runStrategies([strategy], {
      accountId: config[ACCOUNT_ID],
      scheduler: ctx.scheduler,
      metrics: ctx.metrics,
      signals: ctx.sideOutput<Signal>('signals'),
      onError: (error, strategyId, method) => {
        ctx.logger.error(
          { err: error, strategy: strategyId, method },
          `strategy ${strategyId}: ${method} failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      },
    });
  },
});
