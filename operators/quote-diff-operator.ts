import { defineComponent } from '../pipeline/components/define-component.js';
import { quoteDiff } from './quote-diff.js';

/** The `quote-diff` component: ticks in, the changed quote fields of each instrument out. */
export const quoteDiffOperator = defineComponent({
  name: 'quote-diff',
  kind: 'operator',
  description:
    'Emits the quote fields each tick changed since the previous tick of its instrument; the first tick of an instrument carries every field.',
  in: 'Tick',
  out: 'QuoteDiff',
  spec: {},
  create: () => quoteDiff(),
});
