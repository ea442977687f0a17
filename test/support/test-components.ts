import { Observable, from, map } from 'rxjs';
import type {
  OperatorDefinition,
  RecordOf,
  SchemaSlot,
  SinkDefinition,
  SourceDefinition,
  StageFunction,
} from '../../pipeline/components/component-definition.js';
import type { SchemaName } from '../../pipeline/schemas/schema-catalog.js';
import type { RecordTypes } from '../../schemas/generated.js';

type NoConfig = Record<string, never>;

/** A source component that emits the given records, then completes (or follows the Observable given). */
export function recordsSource<S extends SchemaName>(
  name: string,
  out: S,
  records: readonly RecordTypes[S][] | Observable<RecordTypes[S]>,
): SourceDefinition<S, NoConfig> {
  return {
    name,
    kind: 'source',
    out,
    description: `Test source of ${out}`,
    spec: {},
    create: () => (records instanceof Observable ? records : from(records)),
  };
}

/** A sink component that keeps what it receives in `into`, acknowledging each record. */
export function collectingSink<S extends SchemaSlot>(
  name: string,
  input: S,
  into: unknown[],
  options: { boundary?: boolean } = {},
): SinkDefinition<S, NoConfig> {
  return {
    name,
    kind: 'sink',
    in: input,
    description: `Test sink of ${input}`,
    boundary: options.boundary ?? false,
    spec: {},
    create: () => ({
      write: (_port, record) => void into.push(record),
      close: async () => undefined,
    }),
  };
}

/** An operator component that applies `fn` to every record. */
export function mappingOperator<I extends SchemaName, O extends SchemaName>(
  name: string,
  input: I,
  out: O,
  fn: (r: RecordOf<I>) => RecordOf<O>,
): OperatorDefinition<I, O, NoConfig> {
  return {
    name,
    kind: 'operator',
    in: input,
    out,
    description: `Test operator ${input} -> ${out}`,
    spec: {},
    create: () => map(fn) as StageFunction<I, RecordOf<O>>,
  };
}
