import { pino, type Logger } from 'pino';
import {
  EMPTY,
  Observable,
  ReplaySubject,
  Subject,
  asyncScheduler,
  catchError,
  connectable,
  merge,
  takeUntil,
  tap,
  type Connectable,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import type { DeadLetter } from '../../schemas/generated.js';
import type { ComponentContext, ControlHandler } from '../components/component-definition.js';
import { StageError } from '../../errors/errors.js';
import { DEAD_LETTERS, DEFAULT_PORT, type PipelineGraph, type Stage, type StageInput } from '../graph/pipeline-graph.js';
import { SchemaCatalog, type RecordProblem } from '../schemas/schema-catalog.js';
import { Instrumentation, InstrumentationEvents } from './instrumentation.js';
import { StageMeter } from './stage-meter.js';
import { StageMetrics } from './stage-metrics.js';
import { PipelineMetrics } from './pipeline-metrics.js';
import { validateRecords } from './validate-records.js';
import { deadLetterOf, payloadJson } from './dead-letter-of.js';
import { SinkSettlement } from './sink-settlement.js';

/** `strict`: every edge validates every record; `boundary`: only edges into or out of a stage that crosses a process boundary. */
export type ValidationPolicy = 'strict' | 'boundary';

export interface RunOptions {
  /** The clock of every stage; default: RxJS's asyncScheduler (wall time). */
  readonly scheduler?: SchedulerLike;
  readonly logger?: Logger;
  readonly validation?: ValidationPolicy;
  readonly schemas?: SchemaCatalog;
  /** How long stop() waits for sinks to flush before giving up. */
  readonly drainTimeoutMs?: number;
}

export type StageState = 'created' | 'running' | 'completed' | 'failed';
export type PipelineState = 'running' | 'stopping' | 'stopped' | 'failed';

export interface StageHealth {
  readonly kind: Stage['kind'];
  readonly component: string;
  readonly state: StageState;
  readonly records_in: number;
  readonly records_out: number;
  readonly dropped: number;
  readonly errors: number;
}

export interface PipelineHealth {
  readonly pipeline: string;
  readonly state: PipelineState;
  readonly stages: Readonly<Record<string, StageHealth>>;
}

export interface StageFailure {
  readonly stage: string;
  readonly error: unknown;
}

export interface RunResult {
  readonly ok: boolean;
  readonly failures: readonly StageFailure[];
}

/** A running pipeline. */
export interface PipelineRun {
  /** Settles (never rejects) when every sink has completed: the sources ended, or stop() drained them. */
  readonly done: Promise<RunResult>;
  readonly metrics: PipelineMetrics;
  readonly instrumentation: Instrumentation;
  /** Run-time controls the stages registered, by stage and name (served by the HTTP server as POST /control/{stage}/{name}). */
  readonly controls: ReadonlyMap<string, ReadonlyMap<string, ControlHandler>>;
  /** Ends the sources, lets records drain through to the sinks, and waits for the sinks to close. */
  stop(reason?: string): Promise<RunResult>;
  health(): PipelineHealth;
}

/** Stages in an order where each comes after the stages it reads from (feedback edges aside). */
function topologicalOrder(stages: readonly Stage[]): Stage[] {
  const byId = new Map(stages.map((s) => [s.id, s]));
  const placed = new Set<string>();
  const order: Stage[] = [];
  const place = (stage: Stage): void => {
    if (placed.has(stage.id)) return;
    placed.add(stage.id);
    for (const input of stage.inputs) {
      const from = byId.get(input.from);
      if (!input.feedback && from !== undefined) place(from);
    }
    order.push(stage);
  };
  stages.forEach(place);
  return order;
}

/** Stage ids that read, directly or not, from the dead-letter stream. */
function deadLetterConsumers(stages: readonly Stage[]): Set<string> {
  const found = new Set<string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const s of stages) {
      if (!found.has(s.id) && s.inputs.some((i) => i.from === DEAD_LETTERS || found.has(i.from))) {
        found.add(s.id);
        grew = true;
      }
    }
  }
  return found;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** An error whose message starts by naming the stage is logged as it is, not named again. */
const namesStage = (error: unknown, stage: Stage): error is Error =>
  error instanceof Error && error.message.startsWith(`stage '${stage.id}' `);

/**
 * A stage's creation or its resource failed. The message names the stage
 * once: a cause that starts by naming it (components prefix their config
 * errors so that they read well on their own) is quoted without that prefix.
 */
function couldNotStart(stage: Stage, cause: unknown): StageError {
  const message = messageOf(cause);
  const prefix = [`stage '${stage.id}' (${stage.component}): `, `stage '${stage.id}': `].find((p) => message.startsWith(p));
  const reason = prefix === undefined ? message : message.slice(prefix.length);
  return new StageError(`stage '${stage.id}' (${stage.component}) could not start: ${reason}`, { cause, context: { stage: stage.id } });
}

/** Rejected records are logged one by one at first, then every thousandth per edge, so a flood cannot drown the log. */
const shouldLogRejection = (count: number): boolean => count <= 10 || count % 1000 === 0;

/**
 * Runs a checked pipeline graph: creates every stage with its context,
 * wires the edges (validating them per the policy, rejected records to the
 * dead-letter stream), counts and times every stage, and connects the
 * sources last so that nothing is emitted before every stage listens.
 *
 * A stage that fails is logged with its id and stops the whole pipeline:
 * the sources end, what is in flight drains to the sinks, and `done`
 * reports the failure.
 */
export function runPipeline(graph: PipelineGraph, options: RunOptions = {}): PipelineRun {
  const scheduler = options.scheduler ?? asyncScheduler;
  const logger = (options.logger ?? pino({ level: 'silent' })).child({ pipeline: graph.name });
  const policy = options.validation ?? 'strict';
  const schemas = options.schemas ?? SchemaCatalog.default();
  const metrics = new PipelineMetrics(graph.name);
  const instrumentation = new Instrumentation(
    scheduler,
    Object.fromEntries(graph.stages.flatMap((s) => Object.entries(s.declarations?.events ?? {}))),
  );
  const byId = new Map(graph.stages.map((s) => [s.id, s]));
  const order = topologicalOrder(graph.stages);
  const deadLetterSinks = deadLetterConsumers(graph.stages);
  const feedbackProducers = new Set(
    graph.stages.flatMap((s) => s.inputs.filter((i) => i.feedback && i.side === undefined).map((i) => i.from)),
  );

  // Replayed: a stop that happens before a source is connected (a stage failed while the pipeline started) still ends it.
  const stop$ = new ReplaySubject<void>(1);
  const deadLetters = new Subject<DeadLetter>();
  const outputs = new Map<string, Connectable<unknown>>();
  const feedbackSubjects = new Map<string, Subject<unknown>>();
  const sideSubjects = new Map<string, Subject<unknown>>();
  const controls = new Map<string, Map<string, ControlHandler>>();
  const states = new Map<string, StageState>(graph.stages.map((s) => [s.id, 'created']));
  const failures: StageFailure[] = [];
  const rejections = new Map<string, number>();
  const settlement = new SinkSettlement();
  let state: PipelineState = 'running';

  const stageMetrics = (stage: Stage) => metrics.stage(stage.id, stage.component, stage.declarations);
  /** Exclusive resources the stages take before any stage starts, with how to give each back if the run does not start. */
  const acquisitions: { stage: Stage; taken: Promise<unknown>; release: (resource: never) => Promise<void> | void }[] = [];

  const fail = (stage: Stage, error: unknown): void => {
    states.set(stage.id, 'failed');
    stageMetrics(stage).errors++;
    failures.push({ stage: stage.id, error });
    logger.error(
      { err: error, stage: stage.id, component: stage.component },
      namesStage(error, stage) ? error.message : `stage '${stage.id}' failed: ${messageOf(error)}`,
    );
    instrumentation.emit(InstrumentationEvents.STAGE_FAILED, { stage: stage.id, error: String(error) });
    state = 'failed';
    stop$.next();
  };

  const reject = (stage: Stage, input: StageInput, schema: string, record: unknown, problem: RecordProblem): void => {
    const edge = `${input.from}${input.side === undefined ? '' : `.${input.side}`} -> ${stage.id}${input.port === undefined ? '' : `.${input.port}`}`;
    const count = (rejections.get(edge) ?? 0) + 1;
    rejections.set(edge, count);
    stageMetrics(stage).dropped(StageMetrics.EDGE_REJECTED);
    if (shouldLogRejection(count)) {
      logger.warn(
        { stage: stage.id, edge, schema, field: problem.path, rejected: count },
        `record rejected on edge ${edge} (${schema}): ${problem.reason}`,
      );
    }
    instrumentation.emit(InstrumentationEvents.RECORD_REJECTED, { stage: stage.id, edge, reason: problem.reason });
    deadLetters.next({
      stage: stage.id,
      edge,
      schema,
      reason: problem.reason,
      payload_json: payloadJson(record),
      ts_init: Math.round(scheduler.now() * 1000),
    });
  };

  const feedbackSubject = (from: string): Subject<unknown> => {
    let subject = feedbackSubjects.get(from);
    if (subject === undefined) feedbackSubjects.set(from, (subject = new Subject()));
    return subject;
  };

  const sideSubject = (stage: string, side: string): Subject<unknown> => {
    const key = `${stage}.${side}`;
    let subject = sideSubjects.get(key);
    if (subject === undefined) sideSubjects.set(key, (subject = new Subject()));
    return subject;
  };

  const edge = (stage: Stage, input: StageInput): Observable<unknown> => {
    const upstream: Observable<unknown> =
      input.from === DEAD_LETTERS
        ? deadLetters
        : input.side !== undefined
          ? sideSubject(input.from, input.side)
          : input.feedback
            ? feedbackSubject(input.from)
            : (outputs.get(input.from) as Observable<unknown>);
    const from = byId.get(input.from);
    const reader = stage.kind === 'source' ? undefined : stage.in[input.port ?? DEFAULT_PORT];
    const validate = policy === 'strict' || stage.boundary || from?.boundary === true;
    if (!validate || reader === undefined) return upstream;
    return upstream.pipe(validateRecords(schemas.codec(reader), (record, problem) => reject(stage, input, reader, record, problem)));
  };

  /**
   * The stage's port streams: each port merges its edges. Feedback edges
   * are followed only until every ordinary input has completed; otherwise a
   * cycle could never end.
   */
  const portsOf = (stage: Stage, meter: StageMeter): Record<string, Observable<unknown>> => {
    const primary = stage.inputs.filter((i) => !i.feedback);
    const primaryDone = new ReplaySubject<void>(1);
    let open = primary.length;
    // Only a stage with feedback inputs needs to hear its ordinary inputs complete: a tap per record otherwise.
    const hasFeedback = primary.length < stage.inputs.length;
    const ports: Record<string, Observable<unknown>> = {};
    for (const port of stage.kind === 'source' ? [] : Object.keys(stage.in)) {
      const edges = stage.inputs
        .filter((i) => (i.port ?? DEFAULT_PORT) === port)
        .map((i) =>
          i.feedback
            ? edge(stage, i).pipe(takeUntil(primaryDone))
            : !hasFeedback
              ? edge(stage, i)
              : edge(stage, i).pipe(
                  tap({
                    complete: () => {
                      if (--open === 0) primaryDone.next();
                    },
                  }),
                ),
        );
      ports[port] = merge(...edges).pipe(meter.input());
    }
    return ports;
  };

  const guard = (stage: Stage, output: Observable<unknown>, counted: StageMetrics): Observable<unknown> =>
    output.pipe(
      // One tap for the three, not finalize and tap: each operator is a hop for every record.
      tap({
        // A source's records out are counted here (other stages' by their meter).
        next: stage.kind === 'source' ? () => counted.recordsOut++ : undefined,
        subscribe: () => states.set(stage.id, 'running'),
        complete: () => {
          if (states.get(stage.id) !== 'failed') states.set(stage.id, 'completed');
          instrumentation.emit(InstrumentationEvents.STAGE_COMPLETED, { stage: stage.id });
        },
        finalize: () => {
          for (const side of stage.kind === 'sink' ? [] : Object.keys(stage.sideOutputs)) sideSubject(stage.id, side).complete();
        },
      }),
      catchError((error: unknown) => {
        fail(stage, error);
        return EMPTY;
      }),
    );

  const sinkRuns: { stage: Stage; output: Observable<unknown> }[] = [];
  for (const stage of order) {
    const m = stageMetrics(stage);
    const ctx: ComponentContext = {
      stage: stage.id,
      logger: logger.child({ stage: stage.id }),
      scheduler,
      env: graph.env,
      metrics: m,
      instrumentation,
      schemas,
      inputSchemas: stage.kind === 'source' ? undefined : stage.in,
      sideOutput: (name: string) => {
        if (stage.kind === 'sink' || !(name in stage.sideOutputs)) {
          throw new StageError(`stage '${stage.id}' (${stage.component}) declares no side output '${name}'`, {
            context: { stage: stage.id },
          });
        }
        return sideSubject(stage.id, name);
      },
      deadLetter: (letter) => deadLetters.next(deadLetterOf(stage.id, letter, scheduler)),
      acquire: <T>(take: () => Promise<T> | T, release: (resource: T) => Promise<void> | void) => {
        const taken = Promise.resolve().then(take);
        acquisitions.push({ stage, taken, release });
        return taken;
      },
      pipeline: { health: () => health(), metrics: () => metrics.render(), sinksSettled: () => settlement.settled() },
      control: (name, handler) => {
        let stageControls = controls.get(stage.id);
        if (stageControls === undefined) controls.set(stage.id, (stageControls = new Map<string, ControlHandler>()));
        stageControls.set(name, handler);
      },
    };
    let output: Observable<unknown>;
    try {
      if (stage.kind === 'source') {
        output = stage.create(ctx).pipe(takeUntil(stop$));
      } else if (stage.kind === 'sink') {
        const meter = new StageMeter(m);
        output = stage.create(ctx, settlement)(portsOf(stage, meter)).pipe(meter.output());
      } else {
        const meter = new StageMeter(m);
        output = stage.create(ctx)(portsOf(stage, meter)).pipe(meter.output());
      }
    } catch (error) {
      fail(stage, couldNotStart(stage, error));
      output = EMPTY;
    }
    output = guard(stage, output, m);
    if (stage.kind === 'sink') {
      sinkRuns.push({ stage, output });
    } else {
      const shared = connectable(output, { connector: () => new Subject<unknown>(), resetOnDisconnect: false });
      outputs.set(stage.id, shared);
      // Feedback readers were wired before their producer existed; forward the producer to them.
      if (feedbackProducers.has(stage.id)) shared.subscribe(feedbackSubject(stage.id));
    }
  }

  const subscriptions: Subscription[] = [];
  let resolveDone: (result: RunResult) => void = () => undefined;
  const done = new Promise<RunResult>((resolve) => (resolveDone = resolve));
  const finish = (): void => {
    if (state !== 'failed') state = 'stopped';
    deadLetters.complete();
    instrumentation.emit(InstrumentationEvents.PIPELINE_STOPPED, { ok: failures.length === 0 });
    resolveDone({ ok: failures.length === 0, failures });
  };

  /** Subscribes the sinks, then connects the other stages downstream first, sources last, so every stage listens before the first record flows. */
  const connectStages = (): void => {
    let pendingPrimary = sinkRuns.filter((s) => !deadLetterSinks.has(s.stage.id)).length;
    let pendingAll = sinkRuns.length;
    if (pendingAll === 0) return finish();
    for (const { stage, output } of sinkRuns) {
      subscriptions.push(
        output.subscribe({
          complete: () => {
            if (!deadLetterSinks.has(stage.id) && --pendingPrimary === 0) deadLetters.complete();
            if (--pendingAll === 0) finish();
          },
        }),
      );
    }
    for (const stage of [...order].reverse()) {
      const shared = outputs.get(stage.id);
      if (shared !== undefined) subscriptions.push(shared.connect());
    }
    instrumentation.emit(InstrumentationEvents.PIPELINE_STARTED, { stages: graph.stages.length });
    logger.info({ stages: graph.stages.map((s) => s.id), validation: policy }, `pipeline '${graph.name}' started`);
  };

  /** Gives back what the stages took, when the run does not start. */
  const releaseAcquired = async (settled: readonly PromiseSettledResult<unknown>[]): Promise<void> => {
    await Promise.all(
      settled.map(async (result, i) => {
        const acquisition = acquisitions[i];
        if (result.status !== 'fulfilled' || acquisition === undefined) return;
        try {
          await acquisition.release(result.value as never);
        } catch (error) {
          logger.error(
            { err: error, stage: acquisition.stage.id },
            `stage '${acquisition.stage.id}': could not release what it took: ${(error as Error).message}`,
          );
        }
      }),
    );
  };

  const taking = Promise.allSettled(acquisitions.map((a) => a.taken));
  if (failures.length > 0) {
    // A stage could not be created: start none, give back what the others took.
    void taking.then(releaseAcquired).then(finish);
  } else if (acquisitions.length === 0) {
    // Nothing to take first: connect now, synchronously, as virtual-time tests expect.
    connectStages();
  } else {
    void taking.then(async (settled) => {
      settled.forEach((result, i) => {
        const acquisition = acquisitions[i];
        if (result.status === 'rejected' && acquisition !== undefined) {
          const { stage } = acquisition;
          fail(stage, couldNotStart(stage, result.reason));
        }
      });
      if (failures.length === 0 && state === 'running') return connectStages();
      // No stage started, so none wrote anything: give back what was taken and end the run.
      await releaseAcquired(settled);
      finish();
    });
  }

  const stop = async (reason = 'stop requested'): Promise<RunResult> => {
    if (state === 'running') state = 'stopping';
    instrumentation.emit(InstrumentationEvents.PIPELINE_STOPPING, { reason });
    logger.info({ reason }, `pipeline '${graph.name}' stopping: draining to sinks`);
    stop$.next();
    const timeoutMs = options.drainTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<RunResult>((resolve) => {
      timer = setTimeout(() => {
        for (const s of subscriptions) s.unsubscribe();
        const failure = { stage: graph.name, error: new StageError(`sinks did not drain within ${timeoutMs} ms`) };
        logger.error(`pipeline '${graph.name}': sinks did not drain within ${timeoutMs} ms; closing anyway`);
        state = 'failed';
        resolve({ ok: false, failures: [...failures, failure] });
      }, timeoutMs);
      timer.unref();
    });
    const result = await Promise.race([done, timedOut]);
    clearTimeout(timer);
    return result;
  };

  const health = (): PipelineHealth => {
    const stages: Record<string, StageHealth> = {};
    for (const s of graph.stages) {
      const m = stageMetrics(s);
      stages[s.id] = {
        kind: s.kind,
        component: s.component,
        state: states.get(s.id) ?? 'created',
        records_in: m.recordsIn,
        records_out: m.recordsOut,
        dropped: m.droppedTotal,
        errors: m.errors,
      };
    }
    return { pipeline: graph.name, state, stages };
  };

  return { done, metrics, instrumentation, controls, stop, health };
}
