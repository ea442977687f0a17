import type { ConfigSpec } from '../config/config-spec.js';
import type { SchemaName } from '../schemas/schema-catalog.js';
import type { OperatorDefinition, SchemaSlot, SideOutputs, SinkDefinition, SourceDefinition, StageIn } from './component-definition.js';

/**
 * Declares a component. Returns its argument unchanged; it exists so that
 * TypeScript infers the record types of `create` from `in`/`out` and the
 * config type from `spec`.
 */
export function defineComponent<
  const Out extends SchemaName,
  const S extends ConfigSpec,
  const Sides extends SideOutputs = Record<never, never>,
>(definition: SourceDefinition<Out, S, Sides>): SourceDefinition<Out, S, Sides>;
export function defineComponent<
  const In extends StageIn,
  const Out extends SchemaSlot,
  const S extends ConfigSpec,
  const Sides extends SideOutputs = Record<never, never>,
>(definition: OperatorDefinition<In, Out, S, Sides>): OperatorDefinition<In, Out, S, Sides>;
export function defineComponent<const In extends StageIn, const S extends ConfigSpec>(
  definition: SinkDefinition<In, S>,
): SinkDefinition<In, S>;
export function defineComponent(definition: unknown): unknown {
  return definition;
}
