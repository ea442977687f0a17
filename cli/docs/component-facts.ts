import type { AnyComponentDefinition, ComponentKind, SchemaSlot } from '../../pipeline/components/component-definition.js';
import type { ConfigSpec, FieldSpec, FieldType } from '../../pipeline/config/config-spec.js';
import type { MetricType } from '../../pipeline/runtime/metric-declaration.js';
import { metricName } from '../../pipeline/runtime/metric-name.js';

/** What `tickflow list` and the generated docs say of one config field; `default` is null when the field is required or secret. */
export interface FieldFacts {
  readonly name: string;
  readonly type: FieldType;
  readonly choices: readonly string[] | null;
  readonly required: boolean;
  readonly default: unknown;
  readonly min: number | null;
  readonly max: number | null;
  readonly env: string | null;
  readonly secret: boolean;
  readonly example: unknown;
  readonly description: string;
  /** The fields of each item of a `record[]` field. */
  readonly items: readonly FieldFacts[] | null;
}

/** Everything `tickflow list` and the generated docs say of one component, in the order they say it. */
export interface ComponentFacts {
  readonly name: string;
  readonly kind: ComponentKind;
  readonly description: string;
  /** One schema, named ports, or null for a source. */
  readonly in: SchemaSlot | Readonly<Record<string, SchemaSlot>> | null;
  /** Null for a sink. */
  readonly out: SchemaSlot | null;
  readonly sideOutputs: Readonly<Record<string, string>>;
  readonly boundary: boolean;
  readonly fields: readonly FieldFacts[];
  readonly rules: readonly string[];
  readonly checkedAtStart: readonly string[];
  /** The component's own Prometheus metrics, by full name; each is labelled with `stage` besides the labels listed. */
  readonly metrics: readonly MetricFacts[];
  /** Why the component drops records (counted in `tickflow_stage_records_dropped_total` by `reason`). */
  readonly drops: readonly { readonly reason: string; readonly meaning: string }[];
  /** The instrumentation events the component emits. */
  readonly events: readonly { readonly type: string; readonly meaning: string }[];
}

export interface MetricFacts {
  readonly name: string;
  readonly type: MetricType;
  readonly labels: readonly string[];
  readonly help: string;
}

function fieldFacts(name: string, spec: FieldSpec<unknown>): FieldFacts {
  const required = spec.default === undefined;
  return {
    name,
    type: spec.type,
    choices: spec.choices ?? null,
    required,
    // A secret's default is never shown, whatever it is: the hiding happens here, once, for every reader.
    default: required || spec.secret === true ? null : spec.default,
    min: spec.min ?? null,
    max: spec.max ?? null,
    env: spec.env ?? null,
    secret: spec.secret === true,
    example: spec.example,
    description: spec.description,
    items: spec.items === undefined ? null : fieldsOf(spec.items),
  };
}

function fieldsOf(spec: ConfigSpec): FieldFacts[] {
  return Object.entries(spec).map(([name, f]) => fieldFacts(name, f));
}

/**
 * The facts of a component as its definition states them, in a fixed key
 * order with every key present, so that `list`, the Markdown pages and the
 * JSON pages all read one source and say the same.
 */
export function componentFacts(definition: AnyComponentDefinition): ComponentFacts {
  return {
    name: definition.name,
    kind: definition.kind,
    description: definition.description,
    in: definition.kind === 'source' ? null : (definition.in as ComponentFacts['in']),
    out: definition.kind === 'sink' ? null : (definition.out as SchemaSlot),
    sideOutputs: definition.kind === 'sink' ? {} : ((definition.sideOutputs ?? {}) as Record<string, string>),
    boundary: definition.boundary === true,
    fields: fieldsOf(definition.spec as ConfigSpec),
    rules: (definition.validate ?? []).map((r) => r.rule),
    checkedAtStart: [...(definition.checkedAtStart ?? [])],
    metrics: Object.entries(definition.metrics ?? {}).map(([name, m]) => ({
      name: metricName(definition.name, name),
      type: m.type,
      labels: [...(m.labels ?? [])],
      help: m.help,
    })),
    drops: Object.entries(definition.drops ?? {}).map(([reason, meaning]) => ({ reason, meaning })),
    events: Object.entries(definition.events ?? {}).map(([type, meaning]) => ({ type, meaning })),
  };
}
