import type { Observable } from 'rxjs';
import type { ComponentContext, ComponentDeclarations } from '../components/component-definition.js';
import type { SchemaName } from '../schemas/schema-catalog.js';
import type { SinkSettlement } from '../runtime/sink-settlement.js';

/** The id of the built-in stream of records that failed edge validation (schema `DeadLetter`). */
export const DEAD_LETTERS = 'dead-letters';

/** The port of a stage that reads one schema. */
export const DEFAULT_PORT = 'in';

/** One input of a stage: the stage it reads from, which of its outputs, into which port, and whether the edge is a declared feedback edge. */
export interface StageInput {
  readonly from: string;
  /** A side output of `from`; absent for its main output. */
  readonly side?: string;
  /** The reading stage's port; absent for a stage that reads one schema. */
  readonly port?: string;
  readonly feedback: boolean;
}

/** The function a stage runs, given its port streams (`{ in }` for a stage that reads one schema). */
export type StageRun = (inputs: Readonly<Record<string, Observable<unknown>>>) => Observable<unknown>;

interface StageBase {
  readonly id: string;
  /** The component's name, or `inline` for an RxJS operator given in code. */
  readonly component: string;
  readonly boundary: boolean;
  /** Validated config, for display (secrets already masked). */
  readonly config: Readonly<Record<string, unknown>>;
  readonly inputs: readonly StageInput[];
  /** What the component's definition declares about its figures; none for an inline operator. */
  readonly declarations?: ComponentDeclarations;
}

export interface SourceStage extends StageBase {
  readonly kind: 'source';
  readonly out: SchemaName;
  readonly sideOutputs: Readonly<Record<string, SchemaName>>;
  readonly create: (ctx: ComponentContext) => Observable<unknown>;
}

export interface OperatorStage extends StageBase {
  readonly kind: 'operator';
  /** The schema of each port; a stage that reads one schema has the single port `in`. */
  readonly in: Readonly<Record<string, SchemaName>>;
  readonly out: SchemaName;
  readonly sideOutputs: Readonly<Record<string, SchemaName>>;
  readonly create: (ctx: ComponentContext) => StageRun;
}

export interface SinkStage extends StageBase {
  readonly kind: 'sink';
  readonly in: Readonly<Record<string, SchemaName>>;
  /** `settlement`: the run's, told what the sink has not acknowledged yet (`ctx.pipeline.sinksSettled()`). */
  readonly create: (ctx: ComponentContext, settlement?: SinkSettlement) => StageRun;
}

export type Stage = SourceStage | OperatorStage | SinkStage;

/** A built pipeline: stages with their inputs, ready to check, print or run. */
export interface PipelineGraph {
  readonly name: string;
  readonly description: string;
  readonly stages: readonly Stage[];
  /** The environment the graph was built in (secrets included): what its stages read as `ctx.env`. Never rendered. */
  readonly env: NodeJS.ProcessEnv;
}
