import { defineComponent } from '../pipeline/components/define-component.js';
import { passThrough } from './pass-through.js';

/** The `pass-through` component: any schema in, the same records out. */
export const passThroughOperator = defineComponent({
  name: 'pass-through',
  kind: 'operator',
  description: 'Emits every record unchanged; a placeholder stage and the baseline of the benchmarks.',
  in: 'any',
  out: 'any',
  spec: {},
  create: () => passThrough(),
});
