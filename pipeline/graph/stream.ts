import type { RecordTypes } from '../../schemas/generated.js';
import type { SchemaName } from '../schemas/schema-catalog.js';
import type { StageInput } from './pipeline-graph.js';

/**
 * A handle on the output of a stage while a graph is built in code: which
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
