import type { RecordTypes } from '../../schemas/generated.js';
import type { SideOutputs } from '../components/component-definition.js';
import type { SchemaName } from '../schemas/schema-catalog.js';
import type { StageInput } from './pipeline-graph.js';

/**
 * A handle on an output of a stage while a graph is built in code: which
 * stage, which schema. It carries the record type so that TypeScript checks
 * every connection (a `Stream<'OrderAccepted'>` may feed a stage that reads
 * `OrderEvent`, a `Stream<'Bar'>` may not feed one that reads `Tick`).
 */
export interface Stream<S extends SchemaName> {
  readonly schema: S;
  /** Phantom: never set at run time; gives the stream its record type. */
  readonly record?: RecordTypes[S];
  /** The edge this stream is, as an input of the stage that reads it. */
  input(): StageInput;
}

/** The main output of a stage with side outputs, and a way to reach those. */
export interface StageStream<S extends SchemaName, Sides extends SideOutputs> extends Stream<S> {
  /** The stream of one side output, e.g. `merged.side('status')`. */
  side<K extends keyof Sides & string>(name: K): Stream<Sides[K]>;
}
