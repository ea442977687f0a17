import { defineComponent } from '../pipeline/components/define-component.js';
import { field } from '../pipeline/config/field.js';
import { ConfigError } from '../errors/errors.js';
import type { OrderCommand } from '../schemas/generated.js';
import { orderRouter } from './order-router.js';
import { VenueRoutes } from './router/venue-routes.js';

/**
 * The `order-router` component: approved commands in on `commands`, venue
 * reports in on `reports` (a feedback edge from the venue stages), the order
 * lifecycle out, and every routed command, its venue set, on the `routed`
 * side output for the venue stages.
 */
/** What is wrong with the routing rules, each naming the field. */
function routeProblems(routes: readonly string[]): string[] {
  try {
    VenueRoutes.parse(routes, 'default');
    return [];
  } catch (error: unknown) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => `'routes': ${p}`);
  }
}

export const orderRouterOperator = defineComponent({
  name: 'order-router',
  kind: 'operator',
  description:
    'Routes approved order commands to venues by rule and owns the order state machine: emits OrderSubmitted / OrderPendingCancel, applies venue reports that are valid transitions, drops invalid ones and duplicate fills; routed commands on the side output.',
  in: { commands: 'OrderCommand', reports: 'OrderEvent' },
  out: 'OrderEvent',
  sideOutputs: { routed: 'OrderCommand' },
  spec: {
    routes: field.stringList({
      description:
        "Routing rules PATTERN=VENUE, first match wins; PATTERN is an instrument id (SHFE.rb2501), a prefix ending in '*' (SHFE.* for an exchange) or account:ACC; a command naming its venue keeps it",
      default: [],
      example: ['account:ACC2=kafka', 'SHFE.*=paper'],
    }),
    default_venue: field.string({ description: 'Venue of a command no rule matches', default: 'paper', example: 'paper' }),
    max_orders: field.integer({
      description:
        'Closed orders (filled, canceled, rejected, expired) remembered for late reports and cancels; the oldest is forgotten first',
      default: 10_000,
      min: 1,
      max: 1_000_000,
      example: 50_000,
    }),
  },
  validate: [
    {
      rule: "'default_venue' must not be empty",
      problems: (config) => (config.default_venue.trim() === '' ? ["'default_venue' must not be empty"] : []),
    },
    { rule: "every 'routes' entry is PATTERN=VENUE (see VenueRoutes)", problems: (config) => routeProblems(config.routes) },
  ],
  drops: {
    'invalid-transition': "An order event the order state machine does not allow from the order's state",
    'cancel-pending': 'A cancel of an order whose cancel is already pending',
    'unexpected-report': 'A venue report that does not fit the order (e.g. a fill of a rejected order)',
    'unknown-order': 'A venue report or cancel of an order the router never sent',
    'duplicate-fill': 'A fill the venue already reported (same trade id)',
  },
  create(config, ctx) {
    return orderRouter({
      routes: config.routes,
      defaultVenue: config.default_venue,
      maxOrders: config.max_orders,
      routed: ctx.sideOutput<OrderCommand>('routed'),
      idPrefix: ctx.stage,
      scheduler: ctx.scheduler,
      metrics: ctx.metrics,
      logger: ctx.logger,
    });
  },
});
