import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { Subject, type SchedulerLike } from 'rxjs';
import { Instrumentation } from '../runtime/instrumentation.js';
import { StageMetrics } from '../runtime/stage-metrics.js';
import { deadLetterOf } from '../runtime/dead-letter-of.js';
import { SchemaCatalog } from '../schemas/schema-catalog.js';
import type { DeadLetter } from '../../schemas/generated.js';
import type { AnyComponentDefinition, ComponentContext, ControlHandler } from './component-definition.js';

/** A component context plus what a standalone run reads back: side outputs as Subjects, dead letters, registered controls and the component's metrics. */
export interface StandaloneContext extends ComponentContext {
  readonly registry: Registry;
  readonly sides: Map<string, Subject<unknown>>;
  readonly deadLetters: DeadLetter[];
  readonly controls: Map<string, ControlHandler>;
}

/**
 * A component context for running one component outside a pipeline (tests,
 * benchmarks, embedding in another program): a silent logger unless one is
 * given, its own metrics and registry, side outputs as Subjects in `sides`,
 * dead letters in `deadLetters`, controls in `controls`; an empty environment
 * unless one is given. Given the `component` it creates, its metrics and
 * events are those the definition declares, as in a pipeline (its own
 * metrics in `registry`); without it, drops are not checked and it has no
 * metrics of its own.
 */
export function standaloneContext(
  scheduler: SchedulerLike,
  options: { stage?: string; logger?: Logger; env?: NodeJS.ProcessEnv; component?: AnyComponentDefinition } = {},
): StandaloneContext {
  const stage = options.stage ?? 'standalone';
  const { component } = options;
  const registry = new Registry();
  const sides = new Map<string, Subject<unknown>>();
  const controls = new Map<string, ControlHandler>();
  const deadLetters: DeadLetter[] = [];
  return {
    stage,
    logger: options.logger ?? pino({ level: 'silent' }),
    scheduler,
    env: options.env ?? {},
    metrics: new StageMetrics(
      stage,
      component?.name ?? 'standalone',
      [1e-3, 1],
      component && { registry, metrics: component.metrics, drops: component.drops },
    ),
    registry,
    instrumentation: new Instrumentation(scheduler, component?.events),
    schemas: SchemaCatalog.default(),
    sideOutput: (name: string) => {
      let side = sides.get(name);
      if (side === undefined) sides.set(name, (side = new Subject()));
      return side;
    },
    // Alone, nothing else must start first: take at once; the component releases what it took when it closes.
    acquire: async (take) => take(),
    deadLetter: (letter) => void deadLetters.push(deadLetterOf(stage, letter, scheduler)),
    // No sink: nothing is ever pending.
    pipeline: {
      health: () => ({ pipeline: stage, state: 'running', stages: {} }),
      metrics: async () => '',
      sinksSettled: async () => undefined,
    },
    control: (name, handler) => void controls.set(name, handler),
    sides,
    deadLetters,
    controls,
  };
}
