import { defineComponent } from '../../pipeline/components/define-component.js';
import { field } from '../../pipeline/config/field.js';
import { paperVenue } from './paper-venue.js';

/**
 * The `paper` venue component: the order router's `routed` commands in on
 * `commands` (it keeps those routed to its `venue`), live ticks in on
 * `ticks`, execution reports out (feed them back to the router's `reports`).
 */
export const paperVenueOperator = defineComponent({
  name: 'paper-venue',
  kind: 'operator',
  description:
    'Paper execution venue: matches the orders routed to it against live quotes (limit, market, GFD/FAK/FOK, partial fills by quoted volume, optional latency, GFD expiry at the trading-day change) and reports OrderEvents.',
  in: { commands: 'OrderCommand', ticks: 'Tick' },
  out: 'OrderEvent',
  spec: {
    venue: field.string({
      description: 'Venue name: only commands routed to it are executed; also the prefix of its order, trade and event ids',
      default: 'paper',
      example: 'paper',
    }),
    latency_ms: field.number({
      description:
        'Milliseconds (scheduler time) a command takes to reach the paper exchange; acknowledgements and fills at arrival happen this much later',
      default: 0,
      min: 0,
      max: 60_000,
      example: 5,
    }),
    partial_fills: field.boolean({
      description: 'Limit each fill to the volume quoted at the best opposite level; false fills any quantity at the best price',
      default: true,
      example: false,
    }),
  },
  validate: [
    { rule: "'venue' must not be empty", problems: (config) => (config.venue.trim() === '' ? ["'venue' must not be empty"] : []) },
  ],
  create(config, ctx) {
    return paperVenue({ venue: config.venue, latencyMs: config.latency_ms, partialFills: config.partial_fills, scheduler: ctx.scheduler });
  },
});
