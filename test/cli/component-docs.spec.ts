import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { of } from 'rxjs';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { builtinComponents } from '../../cli/builtin-components.js';
import { componentDocFiles } from '../../cli/docs/component-doc-files.js';
import { componentFacts } from '../../cli/docs/component-facts.js';
import { GENERATED_NOTICE } from '../../cli/docs/generated-notice.js';
import { renderComponentJson } from '../../cli/docs/render-component-json.js';
import { renderComponentPage } from '../../cli/docs/render-component-page.js';
import { renderStageExample } from '../../cli/docs/render-stage-example.js';
import { defineComponent } from '../../pipeline/components/define-component.js';
import { validateComponentConfig } from '../../pipeline/components/validate-component-config.js';
import type { ConfigSpec } from '../../pipeline/config/config-spec.js';
import { field } from '../../pipeline/config/field.js';
import { fieldProblems } from '../../pipeline/config/validate-config.js';
import { ROOT, runCli } from '../support/run-cli.js';

const DOCS_DIR = 'docs/components';
const REGENERATE = 'run `npm run docs` (or `npx tickflow docs` after `npm run build`) and commit the pages';

/** How the files in `dir` differ from `expected`, one sentence per file. */
function differences(dir: string, expected: ReadonlyMap<string, string>): string[] {
  const present = existsSync(dir) ? readdirSync(dir) : [];
  return [
    ...[...expected].flatMap(([name, content]) => {
      const path = join(dir, name);
      if (!existsSync(path)) return [`${join(DOCS_DIR, name)} is missing: ${REGENERATE}`];
      return readFileSync(path, 'utf8') === content
        ? []
        : [`${join(DOCS_DIR, name)} differs from what the definitions make now: ${REGENERATE}`];
    }),
    ...present
      .filter((name) => !expected.has(name))
      .map(
        (name) =>
          `${join(DOCS_DIR, name)} is no component's page: ${REGENERATE}, which removes the pages it made and no component makes any more (delete any other file)`,
      ),
  ];
}

describe('component docs', () => {
  it('docs/components/ is what `tickflow docs` makes from the definitions: no page stale, missing or extra', () => {
    expect(differences(join(ROOT, DOCS_DIR), componentDocFiles(builtinComponents()))).toEqual([]);
  });

  it('every stage example is a config its component accepts, fed on each of its inputs', () => {
    for (const definition of builtinComponents().all()) {
      const facts = componentFacts(definition);
      const { stages } = parseYaml(renderStageExample(facts)) as {
        stages: { id: string; use: string; from?: unknown; config?: unknown }[];
      };
      expect(stages).toHaveLength(1);
      const [stage] = stages;
      expect(stage?.use, definition.name).toBe(definition.name);
      expect(() => validateComponentConfig(definition, stage?.config), definition.name).not.toThrow();
      if (facts.in === null) expect(stage?.from, definition.name).toBeUndefined();
      else if (typeof facts.in === 'string') expect(typeof stage?.from, definition.name).toBe('string');
      else expect(Object.keys(stage?.from as object), definition.name).toEqual(Object.keys(facts.in));
    }
  });

  it("every example a page shows is a value its field accepts, and a component's examples together satisfy its rules", () => {
    for (const definition of builtinComponents().all()) {
      const spec = definition.spec as ConfigSpec;
      for (const [name, f] of Object.entries(spec)) expect(fieldProblems(name, f, f.example), `${definition.name}.${name}`).toEqual([]);
      const everyExample = Object.fromEntries(Object.entries(spec).map(([name, f]) => [name, f.example]));
      expect(() => validateComponentConfig(definition, everyExample), definition.name).not.toThrow();
    }
  });

  it("never shows a secret's default; says the field is secret and names its environment variable", () => {
    const definition = defineComponent({
      name: 'vault-feed',
      kind: 'source',
      out: 'Tick',
      description: 'A test source with a secret.',
      spec: {
        password: field.string({
          description: 'The password',
          default: 'hunter2-default',
          example: 'change-me',
          secret: true,
          env: 'VAULT_FEED_PASSWORD',
        }),
        host: field.string({ description: 'Where', example: 'vault.example' }),
      },
      validate: [{ rule: "'host' is not empty", problems: (config) => (config.host === '' ? ["'host' must not be empty"] : []) }],
      checkedAtStart: ['that the vault answers'],
      create: () => of(),
    });
    const facts = componentFacts(definition);
    const page = renderComponentPage(facts);
    const json = renderComponentJson(facts);
    for (const text of [page, json]) expect(text).not.toContain('hunter2-default');
    expect(page).toContain(
      '| `password` | `string` | not shown (secret) |  | `VAULT_FEED_PASSWORD` | yes | `"change-me"` | The password |',
    );
    expect(page).toContain('# password is secret: set VAULT_FEED_PASSWORD in the environment rather than writing it here');
    expect(page).toContain("- 'host' is not empty");
    expect(page).toContain('- that the vault answers');
    expect(JSON.parse(json)).toMatchObject({
      $comment: GENERATED_NOTICE,
      fields: [
        { name: 'password', secret: true, default: null, env: 'VAULT_FEED_PASSWORD' },
        { name: 'host', required: true },
      ],
      exampleConfig: { host: 'vault.example' },
    });
  });

  it('tickflow docs DIR writes every page, leaves right ones alone, removes the pages no component makes and nothing else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tickflow-docs-'));
    const expected = componentDocFiles(builtinComponents());
    const first = await runCli(['docs', dir]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`${dir}: ${expected.size} files, ${expected.size} written, 0 already up to date, 0 removed`);
    expect(differences(dir, expected)).toEqual([]);

    writeFileSync(join(dir, 'gone-component.md'), `<!-- ${GENERATED_NOTICE} -->\n# gone-component\n`);
    writeFileSync(join(dir, 'notes.md'), '# Notes someone wrote\n');
    writeFileSync(join(dir, 'sim.md'), 'edited by hand\n');
    const second = await runCli(['docs', dir]);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(
      `${dir}: ${expected.size} files, 1 written, ${expected.size - 1} already up to date, 1 removed\n  wrote ${join(dir, 'sim.md')}\n  removed ${join(dir, 'gone-component.md')} (no component makes it)\n`,
    );
    expect(readdirSync(dir).sort()).toEqual([...expected.keys(), 'notes.md'].sort());

    const twoDirs = await runCli(['docs', dir, dir]);
    expect(twoDirs.code).toBe(2);
    expect(twoDirs.stderr).toContain('tickflow docs: expected at most one DIR, got 2');
  });
});
