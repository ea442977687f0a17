import type { Logger } from 'pino';
import type { SchedulerLike } from 'rxjs';
import type { AnyComponentDefinition } from '../../pipeline/components/component-definition.js';
import { standaloneContext, type StandaloneContext } from '../../pipeline/components/standalone-context.js';

/**
 * A component context as the runner builds it for `component`, for testing it
 * without a graph; side outputs are Subjects in `sides`, controls in `controls`,
 * its own metrics in `registry`.
 */
export function testContext(
  scheduler: SchedulerLike,
  component: AnyComponentDefinition,
  options: { stage?: string; logger?: Logger } = {},
): StandaloneContext {
  return standaloneContext(scheduler, { stage: options.stage ?? 's', logger: options.logger, component });
}
