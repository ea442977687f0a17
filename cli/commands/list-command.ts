import { builtinComponents } from '../builtin-components.js';
import { componentFacts, type ComponentFacts, type FieldFacts } from '../docs/component-facts.js';
import { namedPipelines } from '../pipelines/named-pipelines.js';
import type { CliCommand } from '../cli-command.js';

/** One line of `tickflow list` for a config field: its type (or choices), default, bounds, environment variable, example and description. */
function describeField(label: string, f: FieldFacts): string {
  const facts = [
    f.type === 'choice' ? (f.choices ?? []).join('|') : f.type,
    ...(f.secret ? ['secret'] : []),
    // The facts carry no secret default; saying so keeps the line from reading as "no default".
    f.required ? 'required' : f.secret ? 'default not shown' : `default ${JSON.stringify(f.default)}`,
    ...(f.min === null ? [] : [`min ${f.min}`]),
    ...(f.max === null ? [] : [`max ${f.max}`]),
    ...(f.env === null ? [] : [`env ${f.env}`]),
    `e.g. ${JSON.stringify(f.example)}`,
  ];
  return `${label} (${facts.join(', ')}): ${f.description}`;
}

/** The lines of one component: what it reads and writes, then its side outputs, fields, rules, what only a run checks, its metrics, drop reasons and events. */
function describeComponent(c: ComponentFacts): string[] {
  const reads =
    c.in === null
      ? ''
      : typeof c.in === 'string'
        ? c.in
        : Object.entries(c.in)
            .map(([port, schema]) => `${port}:${schema}`)
            .join(',');
  const schemas = c.kind === 'source' ? `-> ${c.out}` : c.kind === 'sink' ? `${reads} ->` : `${reads} -> ${c.out}`;
  const lines = [`  ${c.kind.padEnd(8)} ${c.name.padEnd(16)} ${schemas.padEnd(16)} ${c.description}`];
  for (const [side, schema] of Object.entries(c.sideOutputs)) lines.push(`      side output ${side}: ${schema} (read as STAGE.${side})`);
  for (const f of c.fields) {
    lines.push(describeField(`      ${f.name}`, f));
    for (const item of f.items ?? []) lines.push(describeField(`        ${f.name}[].${item.name}`, item));
  }
  for (const rule of c.rules) lines.push(`      rule: ${rule}`);
  for (const what of c.checkedAtStart) lines.push(`      checked at start: ${what}`);
  for (const m of c.metrics) lines.push(`      metric ${m.name} (${[m.type, ...m.labels.map((l) => `by ${l}`)].join(', ')}): ${m.help}`);
  for (const d of c.drops) lines.push(`      drops ${d.reason}: ${d.meaning}`);
  for (const e of c.events) lines.push(`      event ${e.type}: ${e.meaning}`);
  return lines;
}

/** `tickflow list`: the named pipelines, then every component as its definition states it (the facts `tickflow docs` writes). */
export const listCommand: CliCommand = {
  name: 'list',
  summary:
    'List the named pipelines and the components: schemas, side outputs, config fields, rules, what only a run checks, metrics, drop reasons and events.',
  usage: '',
  options: {},
  optionHelp: {},
  async run(_args, io) {
    const lines = ['Pipelines:'];
    for (const p of namedPipelines.values()) lines.push(`  ${p.name.padEnd(16)} ${p.description}`);
    lines.push(
      '',
      'Components:',
      '  (a field: NAME (type, default, bounds, env VAR: read when the config leaves the field out, e.g. EXAMPLE): description.',
      '   A rule is checked by lint and run alike; what is checked at start, only a run can check.)',
    );
    for (const c of builtinComponents().all()) lines.push(...describeComponent(componentFacts(c)));
    io.out(`${lines.join('\n')}\n`);
    return 0;
  },
};
