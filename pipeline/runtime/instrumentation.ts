import type { SchedulerLike } from 'rxjs';
import { ConfigError } from '../../errors/errors.js';

/** The names of the events the framework emits; components declare their own in their definition's `events`. */
export const InstrumentationEvents = {
  PIPELINE_STARTED: 'pipeline.started',
  PIPELINE_STOPPING: 'pipeline.stopping',
  PIPELINE_STOPPED: 'pipeline.stopped',
  STAGE_COMPLETED: 'stage.completed',
  STAGE_FAILED: 'stage.failed',
  RECORD_REJECTED: 'edge.record_rejected',
} as const;

/** The one envelope every instrumentation event has. */
export interface InstrumentationEvent<P = Readonly<Record<string, unknown>>> {
  readonly id: number;
  readonly type: string;
  /** Scheduler time in milliseconds. */
  readonly timestamp: number;
  readonly payload: P;
}

type Listener = (event: InstrumentationEvent) => void;

/**
 * Namespaced events about a running pipeline, for tests, dashboards and
 * hooks: the framework's ({@link InstrumentationEvents}) and those the
 * pipeline's components declare (`events` of a definition, e.g.
 * `source.ctp.moved`). Listening to or emitting any other name throws.
 */
export class Instrumentation {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly known: ReadonlySet<string>;
  private nextId = 1;

  constructor(
    private readonly scheduler: SchedulerLike,
    componentEvents: Readonly<Record<string, string>> = {},
  ) {
    this.known = new Set([...Object.values(InstrumentationEvents), ...Object.keys(componentEvents)]);
  }

  /** Listens to one event type; throws on an unknown name; returns the function that stops listening. */
  on(type: string, listener: Listener): () => void {
    this.check(type);
    let set = this.listeners.get(type);
    if (set === undefined) this.listeners.set(type, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  emit(type: string, payload: Readonly<Record<string, unknown>>): void {
    this.check(type);
    const set = this.listeners.get(type);
    if (set === undefined || set.size === 0) return;
    const event: InstrumentationEvent = { id: this.nextId++, type, timestamp: this.scheduler.now(), payload };
    for (const listener of set) listener(event);
  }

  private check(type: string): void {
    if (!this.known.has(type))
      throw new ConfigError('instrumentation', [`unknown event '${type}'; known events: ${[...this.known].join(', ')}`]);
  }
}
