import { defineComponent } from '../pipeline/components/define-component.js';
import { field } from '../pipeline/config/field.js';
import { bars } from './bars.js';

const SECONDS_PER_DAY = 86_400;

/** The `bars` component: ticks in, session-aware OHLC bars per instrument out. */
export const barsOperator = defineComponent({
  name: 'bars',
  kind: 'operator',
  description:
    'Builds OHLC bars per instrument from ticks, aligned to the period from local midnight (UTC+8) and cut at session breaks; a bar closes at the first tick at or after its end, or on a timer; ticks outside sessions or older than the current bar are dropped.',
  in: 'Tick',
  out: 'Bar',
  spec: {
    period_s: field.integer({
      description:
        'Bar length in seconds, dividing a day (86400); common values 1, 60, 300. Bars start at multiples of it from local midnight (UTC+8) and are cut at session breaks',
      default: 60,
      example: 300,
      min: 1,
      max: SECONDS_PER_DAY,
    }),
    close_delay_ms: field.integer({
      description: "How long after a bar's end, in scheduler time, to close it by timer when no later tick of its instrument came",
      default: 1000,
      example: 2000,
      min: 0,
      max: 86_400_000, // one day, well inside a timer's 2^31 - 1 ms
    }),
  },
  validate: [
    {
      rule: "'period_s' must divide a day (86400 s)",
      problems: (config) =>
        SECONDS_PER_DAY % config.period_s === 0
          ? []
          : [`'period_s' must divide a day (86400 s), e.g. 1, 60, 300, 3600; got ${config.period_s}`],
    },
  ],
  drops: {
    'outside-session': 'A tick outside the trading sessions of its exchange (no bar holds it)',
    late: 'A tick of a bar that was already closed (event time before the open bar)',
  },
  create(config, ctx) {
    return bars({ periodS: config.period_s, closeDelayMs: config.close_delay_ms, scheduler: ctx.scheduler, metrics: ctx.metrics });
  },
});
