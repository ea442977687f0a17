import type { Registry } from 'prom-client';

/**
 * The metric `name` if another stage of the same component already
 * registered it in the pipeline's registry, else a new one from `create`:
 * several stages of one component share a metric, told apart by their
 * `stage` label.
 */
export function reuseMetric<M>(registry: Registry, name: string, create: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? create();
}
