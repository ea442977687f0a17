import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { Subject, type SchedulerLike } from 'rxjs';
import type { ComponentContext } from '../../pipeline/components/component-definition.js';
import { Instrumentation } from '../../pipeline/runtime/instrumentation.js';
import { StageMetrics } from '../../pipeline/runtime/stage-metrics.js';
import { SchemaCatalog } from '../../pipeline/schemas/schema-catalog.js';

/** A component context as the runner builds it, for testing a component without a graph; side outputs are Subjects in `sides`. */
export function testContext(scheduler: SchedulerLike, options: { stage?: string; logger?: Logger } = {}): ComponentContext & { sides: Map<string, Subject<unknown>> } {
  const stage = options.stage ?? 's';
  const sides = new Map<string, Subject<unknown>>();
  return {
    stage,
    logger: options.logger ?? pino({ level: 'silent' }),
    scheduler,
    metrics: new StageMetrics(stage, 'test', [1e-3, 1]),
    registry: new Registry(),
    instrumentation: new Instrumentation(scheduler),
    schemas: SchemaCatalog.default(),
    sideOutput: <R>(name: string) => {
      let side = sides.get(name);
      if (side === undefined) sides.set(name, (side = new Subject()));
      return side as Subject<R>;
    },
    pipeline: { health: () => ({ pipeline: 'test', state: 'running', stages: {} }), metrics: async () => '' },
    sides,
  };
}
