import type { Observable, OperatorFunction } from 'rxjs';
import type { ComponentContext } from '../components/component-definition.js';
import type { SchemaName } from '../schemas/schema-catalog.js';

/** The id of the built-in stream of records that failed edge validation (schema `DeadLetter`). */
export const DEAD_LETTERS = 'dead-letters';

/** One input of a stage: the stage it reads from, and whether that edge is a declared feedback edge. */
export interface StageInput {
  readonly from: string;
  readonly feedback: boolean;
}

interface StageBase {
  readonly id: string;
  /** The component's name, or `inline` for an RxJS operator given in code. */
  readonly component: string;
  readonly boundary: boolean;
  /** Validated config, for display (secrets already masked). */
  readonly config: Readonly<Record<string, unknown>>;
  readonly inputs: readonly StageInput[];
}

export interface SourceStage extends StageBase {
  readonly kind: 'source';
  readonly out: SchemaName;
  readonly create: (ctx: ComponentContext) => Observable<unknown>;
}

export interface OperatorStage extends StageBase {
  readonly kind: 'operator';
  readonly in: SchemaName;
  readonly out: SchemaName;
  readonly create: (ctx: ComponentContext) => OperatorFunction<unknown, unknown>;
}

export interface SinkStage extends StageBase {
  readonly kind: 'sink';
  readonly in: SchemaName;
  readonly create: (ctx: ComponentContext) => OperatorFunction<unknown, unknown>;
}

export type Stage = SourceStage | OperatorStage | SinkStage;

/** A built pipeline: stages with their inputs, ready to check, print or run. */
export interface PipelineGraph {
  readonly name: string;
  readonly description: string;
  readonly stages: readonly Stage[];
}
