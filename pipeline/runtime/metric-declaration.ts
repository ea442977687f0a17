/** The Prometheus types a component's own metric can have. */
export type MetricType = 'counter' | 'gauge' | 'histogram';

/** One metric a component declares: its type, help text, labels besides `stage`, and a histogram's bucket bounds. */
export interface MetricDeclaration {
  readonly type: MetricType;
  readonly help: string;
  readonly labels?: readonly string[];
  readonly buckets?: readonly number[];
}

/** A component's own metrics, by name without the `tickflow_<component>_` prefix, e.g. `{ commands_total: metric.counter('…') }`. */
export type MetricDeclarations = { readonly [name: string]: MetricDeclaration };

type Labels = { readonly labels?: readonly string[] };

/** Builders of a definition's `metrics`: `metric.counter('Commands written.', { labels: ['code'] })`. */
export const metric = {
  counter: (help: string, options: Labels = {}): MetricDeclaration => ({ type: 'counter', help, ...options }),
  gauge: (help: string, options: Labels = {}): MetricDeclaration => ({ type: 'gauge', help, ...options }),
  histogram: (help: string, options: Labels & { readonly buckets: readonly number[] }): MetricDeclaration => ({
    type: 'histogram',
    help,
    ...options,
  }),
};
