import type { ComponentKind } from '../../pipeline/components/component-definition.js';
import type { ComponentFacts } from './component-facts.js';
import { GENERATED_NOTICE } from './generated-notice.js';

const KIND_ORDER: readonly ComponentKind[] = ['source', 'operator', 'sink'];

/** What a component reads, for the index: a schema, its ports, or nothing. */
const reads = (facts: ComponentFacts): string =>
  facts.in === null
    ? ''
    : typeof facts.in === 'string'
      ? `\`${facts.in}\``
      : Object.entries(facts.in)
          .map(([port, schema]) => `${port}: \`${schema}\``)
          .join(', ');

/** What it writes: its output, then its side outputs. */
const writes = (facts: ComponentFacts): string =>
  [
    ...(facts.out === null ? [] : [`\`${facts.out}\``]),
    ...Object.entries(facts.sideOutputs).map(([side, schema]) => `${side}: \`${schema}\``),
  ].join(', ');

/** `docs/components/README.md`: every component's page, sources first, then operators, then sinks, each by name. */
export function renderComponentsIndex(all: readonly ComponentFacts[]): string {
  const sorted = [...all].sort(
    (a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  return [
    `<!-- ${GENERATED_NOTICE} -->`,
    '',
    '# Components',
    '',
    'One page per built-in component, generated from its definition: the facts `tickflow list` prints, with a table of config fields and a minimal stage. Each page is also written as JSON (`NAME.json`), for programs.',
    '',
    '| component | kind | reads | writes (side outputs by name) | description |',
    '| --- | --- | --- | --- | --- |',
    ...sorted.map(
      (f) =>
        `| [${f.name}](${f.name}.md) ([json](${f.name}.json)) | ${f.kind} | ${reads(f)} | ${writes(f)} | ${f.description.replace(/\|/g, '\\|')} |`,
    ),
    '',
  ].join('\n');
}
