import type { SchedulerLike } from 'rxjs';
import { ConfigError } from '../../errors/errors.js';

/** The names of every instrumentation event tickflow emits. */
export const InstrumentationEvents = {
  PIPELINE_STARTED: 'pipeline.started',
  PIPELINE_STOPPING: 'pipeline.stopping',
  PIPELINE_STOPPED: 'pipeline.stopped',
  STAGE_COMPLETED: 'stage.completed',
  STAGE_FAILED: 'stage.failed',
  RECORD_REJECTED: 'edge.record_rejected',
  /** A CTP front logged in (again), or its data came back after staleness. */
  CTP_FRONT_READY: 'source.ctp.ready',
  /** A CTP front disconnected, is logging in, or went stale. */
  CTP_FRONT_UNAVAILABLE: 'source.ctp.unavailable',
  /** An instrument's ticks now come from another front (its first tick there). */
  CTP_INSTRUMENT_MOVED: 'source.ctp.moved',
} as const;

export type InstrumentationEventType = (typeof InstrumentationEvents)[keyof typeof InstrumentationEvents];

/** The one envelope every instrumentation event has. */
export interface InstrumentationEvent<P = Readonly<Record<string, unknown>>> {
  readonly id: number;
  readonly type: InstrumentationEventType;
  /** Scheduler time in milliseconds. */
  readonly timestamp: number;
  readonly payload: P;
}

type Listener = (event: InstrumentationEvent) => void;

const KNOWN = new Set<string>(Object.values(InstrumentationEvents));

/** Namespaced events about a running pipeline, for tests, dashboards and hooks. */
export class Instrumentation {
  private readonly listeners = new Map<string, Set<Listener>>();
  private nextId = 1;

  constructor(private readonly scheduler: SchedulerLike) {}

  /** Listens to one event type; throws on an unknown name; returns the function that stops listening. */
  on(type: InstrumentationEventType, listener: Listener): () => void {
    if (!KNOWN.has(type)) {
      throw new ConfigError('instrumentation', [`unknown event '${type}'; known events: ${[...KNOWN].join(', ')}`]);
    }
    let set = this.listeners.get(type);
    if (set === undefined) this.listeners.set(type, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  emit(type: InstrumentationEventType, payload: Readonly<Record<string, unknown>>): void {
    const set = this.listeners.get(type);
    if (set === undefined || set.size === 0) return;
    const event: InstrumentationEvent = { id: this.nextId++, type, timestamp: this.scheduler.now(), payload };
    for (const listener of set) listener(event);
  }
}
