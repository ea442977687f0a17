import type { Observable, OperatorFunction, SchedulerLike } from 'rxjs';
import type { Logger } from 'pino';
import type { RecordTypes } from '../../schemas/generated.js';
import type { ConfigOf, ConfigSpec } from '../config/config-spec.js';
import type { SchemaCatalog, SchemaName } from '../schemas/schema-catalog.js';
import type { Instrumentation } from '../runtime/instrumentation.js';
import type { StageMetrics } from '../runtime/stage-metrics.js';

export type ComponentKind = 'source' | 'operator' | 'sink';

/** A schema name, or `any`: the stage takes whatever schema its input carries (and an `any` output repeats it). */
export type SchemaSlot = SchemaName | 'any';

/** The record type of a slot: `unknown` for `any`. */
export type RecordOf<S extends SchemaSlot> = S extends SchemaName ? RecordTypes[S] : unknown;

/** What a component's `create` gets from the runner besides its config. */
export interface ComponentContext {
  /** The stage's id in its pipeline. */
  readonly stage: string;
  /** A child logger bound to the stage. */
  readonly logger: Logger;
  /** The only clock a component may read. */
  readonly scheduler: SchedulerLike;
  /** Counters of the stage, for drops and component-specific figures. */
  readonly metrics: StageMetrics;
  readonly instrumentation: Instrumentation;
  readonly schemas: SchemaCatalog;
}

interface DefinitionBase<S extends ConfigSpec> {
  /** Unique name, kebab-case, used in definition files and the CLI. */
  readonly name: string;
  /** One sentence for `tickflow list` and the generated docs. */
  readonly description: string;
  readonly spec: S;
  /** True when records cross a process boundary here (files, network); `boundary` validation checks these edges. */
  readonly boundary?: boolean;
}

export interface SourceDefinition<Out extends SchemaName, S extends ConfigSpec> extends DefinitionBase<S> {
  readonly kind: 'source';
  readonly out: Out;
  create(config: ConfigOf<S>, ctx: ComponentContext): Observable<RecordTypes[Out]>;
}

export interface OperatorDefinition<In extends SchemaSlot, Out extends SchemaSlot, S extends ConfigSpec> extends DefinitionBase<S> {
  readonly kind: 'operator';
  readonly in: In;
  readonly out: Out;
  create(config: ConfigOf<S>, ctx: ComponentContext): OperatorFunction<RecordOf<In>, RecordOf<Out>>;
}

/**
 * A sink consumes records and emits one value per record it has written
 * (acknowledged); its Observable completes once everything is flushed and closed.
 */
export interface SinkDefinition<In extends SchemaSlot, S extends ConfigSpec> extends DefinitionBase<S> {
  readonly kind: 'sink';
  readonly in: In;
  create(config: ConfigOf<S>, ctx: ComponentContext): OperatorFunction<RecordOf<In>, unknown>;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- the registry holds definitions of every schema and spec */
export type AnyComponentDefinition = SourceDefinition<any, any> | OperatorDefinition<any, any, any> | SinkDefinition<any, any>;
