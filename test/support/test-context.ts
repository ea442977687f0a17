import type { Logger } from 'pino';
import type { SchedulerLike } from 'rxjs';
import { standaloneContext, type StandaloneContext } from '../../pipeline/components/standalone-context.js';

/** A component context as the runner builds it, for testing a component without a graph; side outputs are Subjects in `sides`, controls in `controls`. */
export function testContext(scheduler: SchedulerLike, options: { stage?: string; logger?: Logger } = {}): StandaloneContext {
  return standaloneContext(scheduler, { stage: options.stage ?? 's', logger: options.logger });
}
