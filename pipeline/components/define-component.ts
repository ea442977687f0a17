import type { ConfigSpec } from '../config/config-spec.js';
import type { SchemaName } from '../schemas/schema-catalog.js';
import type { OperatorDefinition, SchemaSlot, SinkDefinition, SourceDefinition } from './component-definition.js';

/**
 * Declares a component. Returns its argument unchanged; it exists so that
 * TypeScript infers the record types of `create` from `in`/`out` and the
 * config type from `spec`.
 */
export function defineComponent<const Out extends SchemaName, const S extends ConfigSpec>(definition: SourceDefinition<Out, S>): SourceDefinition<Out, S>;
export function defineComponent<const In extends SchemaSlot, const Out extends SchemaSlot, const S extends ConfigSpec>(
  definition: OperatorDefinition<In, Out, S>,
): OperatorDefinition<In, Out, S>;
export function defineComponent<const In extends SchemaSlot, const S extends ConfigSpec>(definition: SinkDefinition<In, S>): SinkDefinition<In, S>;
export function defineComponent(definition: unknown): unknown {
  return definition;
}
