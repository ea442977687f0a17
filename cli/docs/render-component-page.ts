import type { ComponentFacts, FieldFacts } from './component-facts.js';
import { GENERATED_NOTICE } from './generated-notice.js';
import { renderStageExample } from './render-stage-example.js';

/** Text safe in a Markdown table cell: a `|` would end the cell, a line break the row. */
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** A value as JSON in a code span, safe in a table cell. */
const code = (value: unknown): string => cell(`\`${JSON.stringify(value)}\``);

/** A schema linked to its Avro file (the pages live in docs/components/, the schemas in schemas/). */
const schemaLink = (schema: string, anyMeans: string): string =>
  schema === 'any' ? `\`any\` (${anyMeans})` : `[\`${schema}\`](../../schemas/${schema}.avsc)`;

function schemaRows(facts: ComponentFacts): string[] {
  const rows: string[] = [];
  if (typeof facts.in === 'string') rows.push(`| input | ${schemaLink(facts.in, 'whatever its input carries')} |`);
  else if (facts.in !== null)
    for (const [port, schema] of Object.entries(facts.in))
      rows.push(`| input port \`${port}\` | ${schemaLink(schema, 'whatever its input carries')} |`);
  if (facts.out !== null) rows.push(`| output | ${schemaLink(facts.out, 'the schema of its input')} |`);
  for (const [side, schema] of Object.entries(facts.sideOutputs))
    rows.push(`| side output \`${side}\`, read as \`STAGE.${side}\` | ${schemaLink(schema, '')} |`);
  return rows;
}

function fieldRows(fields: readonly FieldFacts[], prefix = ''): string[] {
  return fields.flatMap((f) => {
    const type = f.type === 'choice' ? `one of ${(f.choices ?? []).map((c) => `\`${c}\``).join(', ')}` : `\`${f.type}\``;
    const dflt = f.required ? 'required' : f.secret ? 'not shown (secret)' : code(f.default);
    const bounds = [f.min === null ? '' : `min ${f.min}`, f.max === null ? '' : `max ${f.max}`].filter((b) => b !== '').join(', ');
    const env = f.env === null ? '' : `\`${f.env}\``;
    const row = `| \`${prefix}${f.name}\` | ${cell(type)} | ${dflt} | ${bounds} | ${env} | ${f.secret ? 'yes' : ''} | ${code(f.example)} | ${cell(f.description)} |`;
    return [row, ...fieldRows(f.items ?? [], `${prefix}${f.name}[].`)];
  });
}

/**
 * The Markdown page of one component, `docs/components/<name>.md`: what it
 * reads and writes, its config fields, the rules a config must satisfy, what
 * only a run can check, its metrics, drop reasons and events, and a minimal stage. A pure function of the facts,
 * so the committed page can be compared with a fresh rendering.
 */
export function renderComponentPage(facts: ComponentFacts): string {
  const kind = `${facts.kind[0]?.toUpperCase() ?? ''}${facts.kind.slice(1)}`;
  const lines = [`<!-- ${GENERATED_NOTICE} -->`, '', `# ${facts.name}`, '', `${kind}. ${facts.description}`, ''];
  if (facts.boundary)
    lines.push('Its records cross a process boundary here (files, network), so `validation: boundary` checks its edges too.', '');
  lines.push('## Schemas', '', '| stream | schema |', '| --- | --- |', ...schemaRows(facts), '');
  lines.push('## Config', '');
  if (facts.fields.length === 0) lines.push('None: a stage of it takes no `config`.', '');
  else {
    const legend = [
      ...(facts.fields.some((f) => f.env !== null)
        ? ['Env: the environment variable a field is read from when the config leaves it out.']
        : []),
      ...(facts.fields.some((f) => f.secret) ? ['A secret is never logged, and its default is not shown.'] : []),
    ];
    if (legend.length > 0) lines.push(legend.join(' '), '');
    lines.push(
      '| field | type | default | bounds | env | secret | example | description |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      ...fieldRows(facts.fields),
      '',
    );
  }
  lines.push('## Rules', '');
  if (facts.rules.length === 0) lines.push(facts.fields.length === 0 ? 'None.' : "None besides each field's type and bounds.", '');
  else
    lines.push(
      "Besides each field's type and bounds, a config must satisfy these (`tickflow lint` checks them, as a run does):",
      '',
      ...facts.rules.map((r) => `- ${r}`),
      '',
    );
  lines.push('## Checked only at start', '');
  if (facts.checkedAtStart.length === 0) lines.push('Nothing beyond what `tickflow lint` checks.', '');
  else
    lines.push(
      'These need the outside world, so `tickflow lint` cannot check them; a run finds them out when it starts:',
      '',
      ...facts.checkedAtStart.map((c) => `- ${c}`),
      '',
    );
  lines.push('## Metrics', '');
  if (facts.metrics.length === 0)
    lines.push(
      'Only the per-stage ones every stage has (`tickflow_stage_…`: records in, out, dropped by reason, errors, processing time).',
      '',
    );
  else {
    lines.push(
      'Besides the per-stage ones every stage has (`tickflow_stage_…`), each labelled with `stage`:',
      '',
      '| metric | type | labels | help |',
      '| --- | --- | --- | --- |',
      ...facts.metrics.map((m) => `| \`${m.name}\` | ${m.type} | ${m.labels.map((l) => `\`${l}\``).join(', ')} | ${cell(m.help)} |`),
      '',
    );
  }
  lines.push('## Drop reasons', '');
  lines.push(
    ...(facts.drops.length === 0
      ? ['None of its own; `invalid`, a record an input edge rejected, is counted for every stage.']
      : [
          'Counted in `tickflow_stage_records_dropped_total` by `reason`, besides `invalid` (a record an input edge rejected):',
          '',
          ...facts.drops.map((d) => `- \`${d.reason}\`: ${d.meaning}`),
        ]),
    '',
  );
  if (facts.events.length > 0) lines.push('## Instrumentation events', '', ...facts.events.map((e) => `- \`${e.type}\`: ${e.meaning}`), '');
  lines.push(
    '## Example',
    '',
    facts.fields.length === 0
      ? 'A stage in a pipeline definition file:'
      : facts.fields.some((f) => f.required)
        ? 'A minimal stage in a pipeline definition file: the required fields set to their examples (every other field has its default).'
        : 'A minimal stage in a pipeline definition file: every field has a default, so it needs no `config`.',
    '',
    '```yaml',
    renderStageExample(facts).trimEnd(),
    '```',
    '',
  );
  return lines.join('\n');
}
