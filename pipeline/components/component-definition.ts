import type { Observable, OperatorFunction, SchedulerLike } from 'rxjs';
import type { Logger } from 'pino';
import type { RecordTypes } from '../../schemas/generated.js';
import type { ConfigOf, ConfigSpec } from '../config/config-spec.js';
import type { ConfigRule } from '../config/config-rule.js';
import type { SchemaCatalog, SchemaName } from '../schemas/schema-catalog.js';
import type { Instrumentation } from '../runtime/instrumentation.js';
import type { PipelineHealth } from '../runtime/run-pipeline.js';
import type { StageMetrics } from '../runtime/stage-metrics.js';
import type { MetricDeclarations } from '../runtime/metric-declaration.js';
import type { DEFAULT_PORT } from '../graph/pipeline-graph.js';

export type ComponentKind = 'source' | 'operator' | 'sink';

/** A schema name, or `any`: the stage takes whatever schema its input carries (and an `any` output repeats it). */
export type SchemaSlot = SchemaName | 'any';

/** The record type of a slot: `unknown` for `any`. */
export type RecordOf<S extends SchemaSlot> = S extends SchemaName ? RecordTypes[S] : unknown;

/** Named inputs of a stage that reads records of several schemas, e.g. `{ quotes: 'QuoteDiff', feeds: 'FeedStatus' }`. */
export type InputPorts = { readonly [port: string]: SchemaSlot };

/** What a stage reads: one schema, or named ports. */
export type StageIn = SchemaSlot | InputPorts;

/** The streams a ported stage gets, one per port; a port no edge feeds is an empty stream. */
export type PortStreams<P extends InputPorts> = { readonly [K in keyof P]: Observable<RecordOf<P[K]>> };

/** How a stage turns its input into its output: an RxJS operator, or a function of its port streams. */
export type StageFunction<In extends StageIn, R> = In extends SchemaSlot
  ? OperatorFunction<RecordOf<In>, R>
  : In extends InputPorts
    ? (inputs: PortStreams<In>) => Observable<R>
    : never;

/** Extra outputs of a stage besides its main one, e.g. `{ status: 'FeedStatus' }`. */
export type SideOutputs = { readonly [name: string]: SchemaName };

/** Where a stage writes records of a side output. */
export interface SideOutput<R> {
  next(record: R): void;
}

/** Who sent a control request: the principal its credential names (`tickflow halt` by a holder of the control token `ops`: `ops`). */
export interface ControlCaller {
  readonly principal: string;
}

/** A run-time control of a stage: the request's JSON body and its authenticated caller in, the JSON answer out. */
export type ControlHandler = (body: unknown, caller: ControlCaller) => unknown;

/** What a component's `create` gets from the runner besides its config. */
export interface ComponentContext {
  /** The stage's id in its pipeline. */
  readonly stage: string;
  /** A child logger bound to the stage. */
  readonly logger: Logger;
  /** The only clock a component may read. */
  readonly scheduler: SchedulerLike;
  /** The environment the pipeline was built in, the only one a component may read (credentials named by its config). */
  readonly env: NodeJS.ProcessEnv;
  /**
   * The stage's figures: records dropped, by one of the reasons the
   * definition's `drops` declares, and the component's own metrics its
   * `metrics` declares (`ctx.metrics.counter('commands_total')`), named
   * `tickflow_<component>_…` and labelled with the stage.
   */
  readonly metrics: StageMetrics;
  /** Events about the running pipeline; a component emits only those its definition's `events` declares. */
  readonly instrumentation: Instrumentation;
  readonly schemas: SchemaCatalog;
  /**
   * The schema each input port reads, as the graph resolved it (an `any`
   * port: the schema of the edge that feeds it), e.g. `{ in: 'Tick' }`;
   * absent for a source and for a component created outside a pipeline.
   */
  readonly inputSchemas?: Readonly<Record<string, SchemaName>>;
  /** The writer of one of the component's declared side outputs (records go nowhere when no stage reads it). */
  sideOutput<R = unknown>(name: string): SideOutput<R>;
  /**
   * Sends input the stage could not accept from outside (an upstream message,
   * a replayed record) to the pipeline's dead-letter stream, naming the stage,
   * where it came from (`origin`, e.g. `ws://host:port/` or `file.ndjson:12`),
   * the schema it should have matched and the reason. Counting the drop in the
   * stage's metrics stays the stage's job.
   */
  deadLetter(letter: { readonly origin: string; readonly schema: string; readonly reason: string; readonly payload: unknown }): void;
  /**
   * Takes an exclusive resource (a listening port, a directory's writer
   * lock) before any stage of the pipeline starts. Call it from `create`:
   * the runner connects no stage, so no stage writes anything, until every
   * stage's `take` has succeeded; when one fails, the run fails naming that
   * stage and no stage starts, and what the others took is given back with
   * their `release`. Once the run starts, the stage owns the resource and
   * releases it itself when it closes. Resolves with what `take` gave.
   */
  acquire<T>(take: () => Promise<T> | T, release: (resource: T) => Promise<void> | void): Promise<T>;
  /**
   * Registers a run-time control of the stage, served as `POST /control/{stage}/{name}`
   * with a JSON body on the pipeline's HTTP port (e.g. the risk stage's `halt`). The
   * handler gets the body and the authenticated caller; its result is the JSON
   * answer; a thrown `ConfigError` is a 400 naming the problem.
   */
  control(name: string, handler: ControlHandler): void;
  /** The running pipeline's health and metrics, for components that serve them (the WebSocket sink's HTTP server). */
  readonly pipeline: {
    health(): PipelineHealth;
    metrics(): Promise<string>;
    /**
     * Resolves once every record written to a sink of the pipeline so far
     * has been acknowledged by it (at once when none is pending; outside a
     * pipeline, where there is no sink, always at once); rejects when a sink
     * fails or stops before acknowledging them. What a source asks before it
     * gives up its input for good (the `kafka` source commits offsets then).
     * A record an operator still holds (bars, a delay) is not waited for:
     * see `SinkSettlement`.
     */
    sinksSettled(): Promise<void>;
  };
}

interface DefinitionBase<S extends ConfigSpec> {
  /** Unique name, kebab-case, used in definition files and the CLI. */
  readonly name: string;
  /** One sentence for `tickflow list` and the generated docs. */
  readonly description: string;
  readonly spec: S;
  /** True when records cross a process boundary here (files, network); `boundary` validation checks these edges. */
  readonly boundary?: boolean;
  /** Checks between fields and of forms the spec cannot express; applied wherever a config is validated, before `create`. */
  readonly validate?: readonly ConfigRule<ConfigOf<S>>[];
  /** What only a start can check, because it needs the outside world (loading a library, reaching a server, reading files); `lint` says so. */
  readonly checkedAtStart?: readonly string[];
  /** The component's own Prometheus metrics (`metric.counter(help)` …), by name without the `tickflow_<component>_` prefix. */
  readonly metrics?: MetricDeclarations;
  /** The reasons the component drops records for, each with what it means; `invalid` (a record an input edge rejected) is counted for every stage. */
  readonly drops?: Readonly<Record<string, string>>;
  /** The instrumentation events the component emits, each with what it means (`source.ctp.moved`). */
  readonly events?: Readonly<Record<string, string>>;
}

/** What a definition declares about its figures: its own metrics, drop reasons and instrumentation events. */
export type ComponentDeclarations = Pick<DefinitionBase<ConfigSpec>, 'metrics' | 'drops' | 'events'>;

export interface SourceDefinition<
  Out extends SchemaName,
  S extends ConfigSpec,
  Sides extends SideOutputs = SideOutputs,
> extends DefinitionBase<S> {
  readonly kind: 'source';
  /** The schema of its records; with {@link outOf}, the schema a config that chooses none gets, and the one TypeScript sees. */
  readonly out: Out;
  /**
   * The schema a config chooses, for a source whose records' schema is its
   * config's (the `kafka` source: `schema: Bar`). The graph carries it on
   * the source's edges and checks them by it when built; records are of
   * that schema, whatever `Out` says to code that builds the graph.
   */
  readonly outOf?: (config: ConfigOf<S>) => SchemaName;
  readonly sideOutputs?: Sides;
  create(config: ConfigOf<S>, ctx: ComponentContext): Observable<RecordTypes[Out]>;
}

export interface OperatorDefinition<
  In extends StageIn,
  Out extends SchemaSlot,
  S extends ConfigSpec,
  Sides extends SideOutputs = SideOutputs,
> extends DefinitionBase<S> {
  readonly kind: 'operator';
  readonly in: In;
  readonly out: Out;
  readonly sideOutputs?: Sides;
  create(config: ConfigOf<S>, ctx: ComponentContext): StageFunction<In, RecordOf<Out>>;
}

/** The port names of a sink: the default port (`in`) for a sink that reads one schema. */
export type SinkPort<In extends StageIn> = In extends SchemaSlot ? typeof DEFAULT_PORT : keyof In & string;

/** The arguments of one write: a port and a record of that port's schema. */
export type SinkWriteArguments<In extends StageIn> = In extends SchemaSlot
  ? [port: typeof DEFAULT_PORT, record: RecordOf<In>]
  : In extends InputPorts
    ? { [K in keyof In & string]: [port: K, record: RecordOf<In[K]>] }[keyof In & string]
    : never;

/**
 * What a write says about its record:
 * - nothing (`undefined`): handed over now; acknowledged at once, with no Promise (the hot path);
 * - `false`: dropped on purpose, the drop counted by the sink; never acknowledged;
 * - a promise: acknowledged when it resolves, as the value it resolves with or, when that is
 *   `undefined`, the record; a rejection fails the stage. From a sink that sets
 *   {@link SinkWriter.acknowledgesBatches} (the audit sink: one promise per block, each write
 *   acknowledged as its AuditRecord), the writes returning one promise are acknowledged by the
 *   {@link SinkAcknowledgements} it resolves with.
 */
export type SinkWriteResult = void | false | PromiseLike<unknown>;

/**
 * What the promise of a batch resolves with, from a sink that sets
 * {@link SinkWriter.acknowledgesBatches}: one acknowledgement per write that
 * returned the promise, in the order of those writes. An array is one; a
 * sink may answer `at` lazily, so that nothing is built per record before it
 * is emitted.
 */
export interface SinkAcknowledgements {
  readonly length: number;
  at(index: number): unknown;
}

/**
 * What a sink's `create` returns (modelled on a producer's send/disconnect):
 * the runner subscribes the ports, calls `write` for each record, emits the
 * acknowledgements, in the order of each port's writes, calls `close` once
 * no write will follow (every port completed, a write failed, or the stage
 * was unsubscribed), and completes when every write is acknowledged and
 * `close` resolved. A throw or rejection of either fails the stage.
 */
export interface SinkWriter<In extends StageIn> {
  write(...write: SinkWriteArguments<In>): SinkWriteResult;
  /**
   * Set by a sink that returns one promise for a batch of writes (on a
   * port) and resolves it with their {@link SinkAcknowledgements}, so the
   * runner keeps a count per batch, not the records. Unset, a promise
   * acknowledges each write that returned it with its value, or the record.
   */
  readonly acknowledgesBatches?: boolean;
  /** Flushes what is held and releases what the sink holds (files, connections, servers); resolves when done. Writes it flushes still settle. */
  close(): PromiseLike<void>;
}

/** A sink consumes records; see {@link SinkWriter} for how it writes, acknowledges and closes. */
export interface SinkDefinition<In extends StageIn, S extends ConfigSpec> extends DefinitionBase<S> {
  readonly kind: 'sink';
  readonly in: In;
  create(config: ConfigOf<S>, ctx: ComponentContext): SinkWriter<In>;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- the registry holds definitions of every schema and spec */
export type AnyComponentDefinition = SourceDefinition<any, any, any> | OperatorDefinition<any, any, any, any> | SinkDefinition<any, any>;
