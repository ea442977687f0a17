import { StageError } from '../../errors/errors.js';

/**
 * One port of a sink stage, as {@link sinkStage} counts it: entries queued
 * behind a write not yet acknowledged, and how many of them went out, both
 * only ever growing. A write acknowledged at once with nothing before it is
 * never queued (the hot path counts nothing); a batch is one entry per port.
 */
export interface PortBacklog {
  queued: number;
  acknowledged: number;
}

/** What one waiter of {@link SinkSettlement.settled} waits for: a port's backlog to reach a count. */
interface Mark {
  readonly sink: WatchedSink;
  readonly port: PortBacklog;
  readonly target: number;
}

interface Waiter {
  readonly marks: readonly Mark[];
  resolve(): void;
  reject(error: unknown): void;
}

/** A sink stage's ports while it runs, and how it ended. */
export class WatchedSink {
  readonly ports: PortBacklog[] = [];
  /** Why its pending writes will never be acknowledged, once it failed or was unsubscribed. */
  failure: unknown = undefined;

  constructor(
    readonly stage: string,
    private readonly settlement: SinkSettlement,
  ) {}

  /** A new port's backlog, which sinkStage counts into. */
  port(): PortBacklog {
    const port: PortBacklog = { queued: 0, acknowledged: 0 };
    this.ports.push(port);
    return port;
  }

  /** Acknowledgements went out: resolves the waiters they satisfy. */
  acknowledged(): void {
    this.settlement.check();
  }

  /** The stage ended: with every write acknowledged (no `error`), or failed or unsubscribed with its pending writes lost. */
  ended(error?: unknown): void {
    if (error === undefined) return this.settlement.check();
    this.failure ??= error;
    this.settlement.failed(this);
  }
}

/**
 * The smallest end-to-end acknowledgement the runtime has: whether every
 * record written to a sink so far has been acknowledged by it, which a
 * source that must not lose records asks before it gives its input up (the
 * `kafka` source commits a batch's offsets only then). One per run; each
 * sink stage registers its ports (see {@link sinkStage}) and reports as its
 * acknowledgements go out.
 *
 * Limits, by design: it knows of writes already made, so a record an
 * operator still holds (bars until the bar closes, a `delay`, a buffer of
 * records) or filtered out is not waited for; and it says nothing of what
 * a stateful operator derived from a record. Exactly-once across such
 * state is Kafka transactions' job (DESIGN §11).
 *
 * For example: a and b written, then `settled()` asked, then c written:
 * the promise resolves once a and b are acknowledged, whatever c does.
 *
 * @example
 * ```ts
 * const settlement = new SinkSettlement();
 * const sink = settlement.watch('out');
 * const port = sink.port();
 * port.queued++; // a write waits for its promise
 * void settlement.settled().then(() => console.log('settled'));
 * port.acknowledged++;
 * sink.acknowledged();
 * // Logs: settled
 * ```
 */
export class SinkSettlement {
  private readonly sinks = new Set<WatchedSink>();
  private waiters: Waiter[] = [];

  /** Registers a sink stage when it is subscribed. */
  watch(stage: string): WatchedSink {
    const sink = new WatchedSink(stage, this);
    this.sinks.add(sink);
    return sink;
  }

  /**
   * Resolves once every sink write issued so far is acknowledged (at once
   * when none is pending); rejects with a `StageError` naming the sink when
   * one fails or is unsubscribed before it acknowledged them.
   */
  settled(): Promise<void> {
    const marks: Mark[] = [];
    for (const sink of this.sinks) {
      for (const port of sink.ports) {
        if (port.acknowledged >= port.queued) continue;
        if (sink.failure !== undefined) return Promise.reject(notAcknowledged(sink));
        marks.push({ sink, port, target: port.queued });
      }
    }
    if (marks.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.waiters.push({ marks, resolve, reject }));
  }

  /** Resolves the waiters whose marks are all reached. */
  check(): void {
    if (this.waiters.length === 0) return;
    const waiting: Waiter[] = [];
    for (const waiter of this.waiters) {
      if (waiter.marks.every((m) => m.port.acknowledged >= m.target)) waiter.resolve();
      else waiting.push(waiter);
    }
    this.waiters = waiting;
  }

  /** Rejects the waiters that wait for writes of `sink`, which will never be acknowledged. */
  failed(sink: WatchedSink): void {
    const waiting: Waiter[] = [];
    for (const waiter of this.waiters) {
      if (waiter.marks.some((m) => m.sink === sink && m.port.acknowledged < m.target)) waiter.reject(notAcknowledged(sink));
      else waiting.push(waiter);
    }
    this.waiters = waiting;
  }
}

function notAcknowledged(sink: WatchedSink): StageError {
  const cause = sink.failure instanceof Error ? sink.failure.message : String(sink.failure);
  return new StageError(`sink '${sink.stage}' ended before it acknowledged the records written to it: ${cause}`, {
    cause: sink.failure,
    context: { stage: sink.stage },
  });
}
