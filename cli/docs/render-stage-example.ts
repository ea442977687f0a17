import { stringify as toYaml } from 'yaml';
import type { ComponentFacts } from './component-facts.js';
import { exampleConfig } from './example-config.js';

const COMMENT_COLUMN = 28;

/** `text` followed by `# comment`, the comments of consecutive lines lined up. */
const withComment = (text: string, comment: string): string => `${text.padEnd(COMMENT_COLUMN)} # ${comment}`;

/** What an input edge must carry, in words. */
const feeding = (schema: string): string => `a stage or side output (STAGE.NAME) writing ${schema === 'any' ? 'any schema' : schema}`;

/** YAML of one config field, as lines (a list or a record spans several), without a trailing newline. */
const fieldYaml = (name: string, value: unknown): string[] =>
  toYaml({ [name]: value }, { lineWidth: 0 })
    .trimEnd()
    .split('\n');

/**
 * A minimal stage of the component as a pipeline definition file writes it:
 * its inputs fed by placeholder stages, its required fields set to their
 * examples, and a comment for each secret field saying which environment
 * variable to set instead of writing the secret into the file.
 */
export function renderStageExample(facts: ComponentFacts): string {
  const indent = (lines: readonly string[], by: string): string[] => lines.map((l) => `${by}${l}`);
  const lines = ['stages:', `  - id: ${facts.name}`, `    use: ${facts.name}`];
  if (typeof facts.in === 'string') lines.push(withComment('    from: upstream', feeding(facts.in)));
  else if (facts.in !== null) {
    lines.push('    from:');
    for (const [port, schema] of Object.entries(facts.in)) lines.push(withComment(`      ${port}: ${port}`, feeding(schema)));
  }
  const config = exampleConfig(facts);
  const secretNotes = facts.fields
    .filter((f) => f.secret && !f.required)
    .map(
      (f) =>
        `# ${f.name} is secret: ${f.env === null ? 'it is never logged' : `set ${f.env} in the environment rather than writing it here`}`,
    );
  if (Object.keys(config).length === 0) {
    // A `config:` holding only comments would be YAML null, which no stage accepts: the notes stay at stage level.
    lines.push(...indent(secretNotes, '    '));
  } else {
    lines.push('    config:');
    for (const f of facts.fields.filter((x) => x.required)) {
      if (f.env !== null) lines.push(`      # or set ${f.env} in the environment`);
      lines.push(...indent(fieldYaml(f.name, config[f.name]), '      '));
    }
    lines.push(...indent(secretNotes, '      '));
  }
  return `${lines.join('\n')}\n`;
}
