import { builtinComponents } from '../builtin-components.js';
import { namedPipelines } from '../pipelines/named-pipelines.js';
import type { ConfigSpec, FieldSpec } from '../../pipeline/config/config-spec.js';
import type { CliCommand } from '../cli-command.js';

/** One line of `tickflow list` for a config field: its type (or choices), default, bounds and description. */
function describeField(label: string, f: FieldSpec<unknown>): string {
  const dflt = f.default === undefined ? 'required' : `default ${JSON.stringify(f.default)}`;
  const bounds = [f.min === undefined ? '' : `, min ${f.min}`, f.max === undefined ? '' : `, max ${f.max}`].join('');
  return `${label} (${f.type === 'choice' ? (f.choices ?? []).join('|') : f.type}, ${dflt}${bounds}): ${f.description}`;
}

/** `tickflow list`: the named pipelines, then every component with its schemas and config fields. */
export const listCommand: CliCommand = {
  name: 'list',
  summary: 'List the named pipelines and the components with their schemas and config fields.',
  usage: '',
  options: {},
  optionHelp: {},
  async run(_args, io) {
    const lines = ['Pipelines:'];
    for (const p of namedPipelines.values()) lines.push(`  ${p.name.padEnd(16)} ${p.description}`);
    lines.push('', 'Components:');
    for (const c of builtinComponents().all()) {
      const reads = c.kind === 'source' ? '' : typeof c.in === 'string' ? c.in : Object.entries(c.in as Record<string, string>).map(([port, schema]) => `${port}:${schema}`).join(',');
      const schemas = c.kind === 'source' ? `-> ${c.out}` : c.kind === 'sink' ? `${reads} ->` : `${reads} -> ${c.out}`;
      lines.push(`  ${c.kind.padEnd(8)} ${c.name.padEnd(16)} ${schemas.padEnd(16)} ${c.description}`);
      for (const [name, f] of Object.entries(c.spec as ConfigSpec)) {
        lines.push(describeField(`      ${name}`, f));
        for (const [item, itemSpec] of Object.entries(f.items ?? {})) lines.push(describeField(`        ${name}[].${item}`, itemSpec));
      }
    }
    io.out(`${lines.join('\n')}\n`);
    return 0;
  },
};
