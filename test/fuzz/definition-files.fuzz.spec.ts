import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadRunSettings } from '../../cli/load-run-settings.js';
import { builtinComponents } from '../../cli/builtin-components.js';
import type { ConfigSpec } from '../../pipeline/config/config-spec.js';
import { MAX_LISTED_PROBLEMS } from '../../pipeline/config/quote-value.js';
import { ConfigError, GraphError, SchemaMismatchError, UsageError } from '../../errors/errors.js';
import { loadPipelineFile } from '../../pipeline/graph/load-pipeline-file.js';
import { namedPipelines } from '../../cli/pipelines/named-pipelines.js';
import { valueNestingDepth } from '../../protocols/json/parse-bounded-json.js';
import { runCli } from '../support/run-cli.js';
import { fuzzSeed } from './fuzz-seed.js';

/**
 * Random and hostile definition files and run config files (deep nesting,
 * YAML aliases, huge strings, NUL bytes, wrong types, unknown and inherited
 * keys, mangled text) through the code `tickflow lint` and `tickflow run
 * --config` use: in this process for speed, and a few through the CLI.
 *
 * Property: each input is accepted, or refused with a ConfigError,
 * UsageError, GraphError or SchemaMismatchError whose message is bounded
 * (every line short, the whole a bounded number of lines); nothing else is
 * ever thrown, and nothing hangs (in-process a hang is the test's timeout;
 * through the CLI each child is killed after a bound and must have exited
 * before it).
 *
 * Seeded (`fuzzSeed`: fixed by default, `TICKFLOW_FUZZ_SEED=N` replays a
 * run, `random` explores); fast-check prints the seed and the shrunk input
 * of a failure. Bounded by runs and by time per property, so the file
 * stays well under 15 s (the time limit only lowers the count of runs,
 * never changes a verdict).
 */
const SEED = fuzzSeed('definition files');
/** Milliseconds each in-process property may run. */
const BUDGET_MS = 2500;
const RUNS = 400;
/** Longest line of a refusal: a problem names a stage, a field, a cut value and the valid choices. */
const MAX_LINE = 1000;
/** Longest refusal: at most MAX_LISTED_PROBLEMS problems, each one line. */
const MAX_MESSAGE = (MAX_LISTED_PROBLEMS + 2) * MAX_LINE;

const registry = builtinComponents();
const demo = namedPipelines.get('demo');
if (demo === undefined) throw new Error('no demo pipeline');
const dir = mkdtempSync(join(tmpdir(), 'tickflow-fuzz-definitions-'));
let written = 0;
const counts = { definitions: 0, definitionsAccepted: 0, configs: 0, configsAccepted: 0 };

// ——— values ———

const INHERITED = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];
const fieldNames = [
  ...new Set(
    registry.all().flatMap((c) => Object.entries(c.spec as ConfigSpec).flatMap(([name, f]) => [name, ...Object.keys(f.items ?? {})])),
  ),
];
const demoStages = demo.build().stages.map((s) => s.id);

const hostileString = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom(
    '',
    '\u0000',
    'a\u0000b',
    ...INHERITED,
    'SHFE.rb2501',
    'market',
    'merge.status',
    'x.y.z',
    '*a',
    '&a',
    '!!binary',
    '---',
    '...',
    '? x',
    '- y',
    'a: b',
    '#',
    '%YAML 1.2',
    '\t',
    '\r\n',
    '🙂',
  ),
  // Long enough to be cut in every message; the CLI case below adds one of 100 000 characters.
  fc.integer({ min: 300, max: 3000 }).map((n) => 'x'.repeat(n)),
);
const scalar = fc.oneof(
  hostileString,
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, 1, -1, 1e308, -1e308, 5e-324, 2 ** 31, 2 ** 53, 4_294_967_296, 100_001, true, false, null),
);
const key = fc.oneof(fc.constantFrom(...fieldNames, ...INHERITED, 'colour', ''), hostileString);
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', maxDepth: 4 }, scalar, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(key, tie('value'), { maxKeys: 4 }),
}));

/** A value nested `depth` levels (built without recursion). */
const deepValue = fc.tuple(fc.integer({ min: 20, max: 3000 }), fc.boolean(), scalar).map(([depth, lists, leaf]) => {
  let v: unknown = leaf;
  for (let i = 0; i < depth; i++) v = lists ? [v] : { a: v };
  return v;
});
const anyValue = fc.oneof({ weight: 8, arbitrary: value }, { weight: 1, arbitrary: deepValue });

// ——— definition files ———

const stageId = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('market', 'out', 'merge', 'feed-a', 'b', 'dead-letters') },
  { weight: 1, arbitrary: hostileString },
);
const ref = fc.oneof(stageId, fc.constantFrom('market.status', 'merge.status', 'dead-letters', 'nope'), value);
const from = fc.oneof(
  ref,
  fc.array(ref, { maxLength: 3 }),
  fc.dictionary(
    fc.constantFrom('quotes', 'feeds', 'orders', 'events', 'reports', 'controls', 'x', ...INHERITED),
    fc.oneof(ref, fc.array(ref, { maxLength: 2 })),
    { maxKeys: 3 },
  ),
);
const config = fc.oneof({ weight: 4, arbitrary: fc.dictionary(key, anyValue, { maxKeys: 5 }) }, { weight: 1, arbitrary: anyValue });
const stage = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record(
      { id: stageId, use: fc.oneof(fc.constantFrom(...registry.names()), hostileString), config, from, feedback_from: from },
      { requiredKeys: ['id', 'use'] },
    ),
  },
  { weight: 1, arbitrary: fc.record({ id: stageId, use: fc.constantFrom(...registry.names()), extra: anyValue }) },
  { weight: 1, arbitrary: anyValue },
);
const definition = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        name: fc.oneof(fc.constant('fuzz'), hostileString, value),
        description: fc.oneof(hostileString, value),
        stages: fc.oneof({ weight: 5, arbitrary: fc.array(stage, { maxLength: 8 }) }, { weight: 1, arbitrary: anyValue }),
      },
      { requiredKeys: ['stages'] },
    ),
  },
  { weight: 1, arbitrary: fc.record({ name: fc.constant('fuzz'), stages: fc.array(stage, { maxLength: 3 }), steps: anyValue }) },
  { weight: 1, arbitrary: anyValue },
);

// ——— run config files ———

const runConfig = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        validation: fc.oneof(fc.constantFrom('strict', 'boundary', 'loose'), value),
        port: fc.oneof(fc.constantFrom(0, 65535, 65536, -1, '9464', '0x10', ' 80', 1.5), value),
        log_level: fc.oneof(fc.constantFrom('info', 'silent', 'loud'), value),
        stages: fc.oneof(
          {
            weight: 5,
            arbitrary: fc.dictionary(
              fc.oneof(fc.constantFrom(...demoStages, 'nope', ...INHERITED), hostileString),
              fc.oneof({ weight: 4, arbitrary: fc.dictionary(key, anyValue, { maxKeys: 4 }) }, { weight: 1, arbitrary: anyValue }),
              { maxKeys: 4 },
            ),
          },
          { weight: 1, arbitrary: anyValue },
        ),
        speed: value,
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: anyValue },
);
const assignment = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(...demoStages, 'nope'),
      fc.oneof(fc.constantFrom(...fieldNames, ...INHERITED), fc.string({ maxLength: 8 })),
      hostileString,
    )
    .map(([s, f, v]) => `${s}.${f}=${v}`),
  fc
    .tuple(fc.constantFrom('ctp.fronts', 'feed-a.instruments', 'merge.feeds'), value)
    .map(([target, v]) => `${target}=${JSON.stringify(v) ?? ''}`),
  hostileString,
);

// ——— text: serializations and hostile YAML ———

/** A value written as JSON (`.json`), as YAML, or as JSON in a `.yaml` file. */
const asText = <T>(values: fc.Arbitrary<T>): fc.Arbitrary<{ text: string; ext: 'json' | 'yaml' }> =>
  fc.tuple(values, fc.constantFrom('json', 'yaml', 'json-as-yaml')).map(([v, how]) => {
    // The YAML writer recurses: a deep value goes as JSON, which is YAML too.
    if (how === 'yaml' && valueNestingDepth(v, 100) <= 100)
      return { text: toYaml(v, { aliasDuplicateObjects: false, lineWidth: 0 }), ext: 'yaml' as const };
    return { text: JSON.stringify(v) ?? 'null', ext: how === 'json' ? ('json' as const) : ('yaml' as const) };
  });

/** Aliases of aliases: `levels` lists, each of `width` aliases of the one before. */
const aliasBomb = fc
  .tuple(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 2, max: 12 }), fc.boolean())
  .map(([levels, width, definitionFile]) => {
    const rows = ['l0: &l0 [lol, lol, lol]'];
    for (let i = 1; i < levels; i++) rows.push(`l${i}: &l${i} [${Array.from({ length: width }, () => `*l${i - 1}`).join(', ')}]`);
    const last = `*l${levels - 1}`;
    return definitionFile
      ? `${rows.join('\n')}\nname: x\nstages: [{ id: market, use: sim, config: { instruments: ${last} } }]\n`
      : `${rows.join('\n')}\nstages: { feed-a: { instruments: ${last} } }\n`;
  });
/** YAML nested by flow brackets, by block indentation or by `- - -`, far past the depth limit, some past the parser's stack. */
const deepYaml = fc
  .tuple(fc.integer({ min: 30, max: 2500 }), fc.constantFrom('flow-list', 'flow-map', 'block-list', 'block-map'))
  .map(([depth, how]) => {
    const n = how.startsWith('block') ? Math.min(depth, 2000) : depth;
    const body =
      how === 'flow-list'
        ? `${'['.repeat(n)}${']'.repeat(n)}`
        : how === 'flow-map'
          ? `${'{a: '.repeat(n)}1${'}'.repeat(n)}`
          : how === 'block-list'
            ? `${'- '.repeat(n)}x`
            : Array.from({ length: n }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1';
    return `name: deep\nstages:\n  - id: market\n    use: sim\n    config:\n      instruments: ${
      how.startsWith('block')
        ? `\n${body
            .split('\n')
            .map((l) => `        ${l}`)
            .join('\n')}`
        : body
    }\n`;
  });
/** YAML features a config file should never need: tags, merge keys, self-referencing and unknown aliases, documents. */
const oddYaml = fc.constantFrom(
  'name: x\nstages: [{ id: market, use: sim, config: { seed: !!binary aGVsbG8= } }]\n',
  'name: x\nstages: [{ id: market, use: sim, config: { start: !!timestamp 2025-01-02 } }]\n',
  'name: x\nstages: [{ id: market, use: sim, config: { instruments: !!set { a, b } } }]\n',
  'name: x\nstages: [{ id: market, use: sim, config: !!js/function "() => 1" }]\n',
  'name: x\nstages: [{ id: market, use: sim, config: { <<: { rate: 1 }, seed: 2 } }]\n',
  'a: &a [*a]\nname: x\nstages: []\n',
  'name: *nothing\nstages: []\n',
  'name: x\n---\nname: y\n',
  '%YAML 1.1\n---\nname: x\nstages: [{ id: market, use: sim, config: { rate: 0x10, count: 0o7, seed: 1_000 } }]\n',
  '? [complex, key]\n: 1\nname: x\nstages: []\n',
  'name: x\nstages: [{ id: market, use: sim, config: { rate: .inf, count: .nan } }]\n',
  'name: x\nname: y\nstages: []\n',
  '\u0000\u0000\u0000',
  '\uFEFF\uFEFFname: x',
);
const VALID_DEFINITION =
  'name: fuzz\nstages:\n  - { id: market, use: sim, config: { rate: 0, count: 1, seed: 7 } }\n  - { id: merge, use: dedup-merge, from: market }\n  - { id: out, use: ndjson-file, from: merge, config: { path: out/fuzz.ndjson } }\n';
const VALID_CONFIG =
  'validation: boundary\nport: 0\nstages:\n  feed-a: { rate: 0, count: 5, instruments: [SHFE.rb2501] }\n  ticks-file: { path: out/t.ndjson }\n';
/** A good file with random edits: characters (NUL among them) inserted, removed or repeated. */
const mangled = (base: string) =>
  fc
    .array(
      fc.tuple(
        fc.nat({ max: base.length }),
        fc.nat({ max: 20 }),
        fc.constantFrom(
          '\u0000',
          '[',
          '{',
          '}',
          ']',
          ':',
          '-',
          '&a ',
          '*a',
          '"',
          "'",
          '\n',
          '\t',
          '#',
          '!',
          '%',
          '|',
          '>',
          ' ',
          'x'.repeat(400),
          '',
        ),
      ),
      { minLength: 1, maxLength: 6 },
    )
    .map((edits) => {
      let text = base;
      for (const [at, cut, insert] of edits) text = text.slice(0, at) + insert + text.slice(Math.min(text.length, at + cut));
      return text;
    });

/** A good definition with a few of its values replaced, good or hostile, so that some files pass and the graph is built and checked. */
const nearlyValid = fc
  .record(
    {
      rate: fc.oneof(fc.double({ min: 0, max: 100_000, noNaN: true }), scalar),
      seed: fc.oneof(fc.integer({ min: 0, max: 4_294_967_295 }), scalar),
      instruments: fc.oneof(fc.constant(['SHFE.rb2501', 'DCE.m2501']), value),
      stale_after_ms: fc.oneof(fc.integer({ min: 1, max: 1000 }), scalar),
      from: fc.oneof(fc.constant('market'), ref),
    },
    { requiredKeys: [] },
  )
  .map(({ from: mergeFrom, stale_after_ms, ...sim }) => ({
    name: 'nearly',
    stages: [
      { id: 'market', use: 'sim', config: { count: 1, ...sim } },
      { id: 'merge', use: 'dedup-merge', from: mergeFrom ?? 'market', config: stale_after_ms === undefined ? {} : { stale_after_ms } },
      { id: 'out', use: 'ndjson-file', from: 'merge', config: { path: join(dir, 'nearly.ndjson') } },
    ],
  }));

const definitionText = fc.oneof(
  { weight: 4, arbitrary: asText(definition) },
  { weight: 2, arbitrary: asText(nearlyValid) },
  { weight: 1, arbitrary: aliasBomb.map((text) => ({ text, ext: 'yaml' as const })) },
  { weight: 1, arbitrary: deepYaml.map((text) => ({ text, ext: 'yaml' as const })) },
  { weight: 1, arbitrary: oddYaml.map((text) => ({ text, ext: 'yaml' as const })) },
  { weight: 2, arbitrary: fc.tuple(mangled(VALID_DEFINITION), fc.constantFrom('yaml', 'json')).map(([text, ext]) => ({ text, ext })) },
);
const configText = fc.oneof(
  { weight: 6, arbitrary: asText(runConfig) },
  { weight: 1, arbitrary: aliasBomb.map((text) => ({ text, ext: 'yaml' as const })) },
  { weight: 1, arbitrary: oddYaml.map((text) => ({ text, ext: 'yaml' as const })) },
  { weight: 2, arbitrary: mangled(VALID_CONFIG).map((text) => ({ text, ext: 'yaml' as const })) },
);

// ——— the property ———

function write({ text, ext }: { text: string; ext: string }): string {
  const path = join(dir, `input-${written++}.${ext}`);
  writeFileSync(path, text);
  return path;
}

/** Fails unless `error` is a refusal we allow, with a bounded message. */
function expectRefusal(error: unknown, input: string): void {
  const allowed =
    error instanceof ConfigError || error instanceof UsageError || error instanceof GraphError || error instanceof SchemaMismatchError;
  if (!allowed)
    throw new Error(`threw ${(error as Error)?.name ?? typeof error} for ${input}: ${(error as Error)?.stack ?? String(error)}`);
  const message = (error as Error).message;
  expect(message.length, `message of ${input}`).toBeLessThanOrEqual(MAX_MESSAGE);
  const longest = Math.max(...message.split('\n').map((line) => line.length));
  expect(longest, `longest line of the message for ${input}: ${message.slice(0, 300)}`).toBeLessThanOrEqual(MAX_LINE);
}

/** What `tickflow lint FILE` does with the file. */
function lint(path: string): void {
  loadPipelineFile(path, registry).build({ env: {} });
}

/** What `tickflow run demo --config FILE --set …` does with it before anything runs. */
function runConfigOf(path: string, set: readonly string[]): void {
  const settings = loadRunSettings({ config: path, set }, demo as NonNullable<typeof demo>, registry);
  (demo as NonNullable<typeof demo>).build({ overrides: settings.overrides, env: {} });
}

const params = { seed: SEED, numRuns: RUNS, plugins: [fc.interruptAfterTimeLimit(BUDGET_MS)] };

describe('definition and config files, fuzzed', () => {
  it('a definition file is linted or refused with a typed, bounded error', () => {
    fc.assert(
      fc.property(definitionText, (input) => {
        const path = write(input);
        counts.definitions++;
        try {
          lint(path);
          counts.definitionsAccepted++;
        } catch (error) {
          expectRefusal(error, path);
        }
      }),
      params,
    );
    expect(counts.definitions).toBeGreaterThan(0);
  }, 20_000);

  it('a run config file and --set flags are taken or refused with a typed, bounded error', () => {
    fc.assert(
      fc.property(configText, fc.array(assignment, { maxLength: 3 }), (input, set) => {
        const path = write(input);
        counts.configs++;
        try {
          runConfigOf(path, set);
          counts.configsAccepted++;
        } catch (error) {
          expectRefusal(error, `${path} with --set ${JSON.stringify(set).slice(0, 200)}`);
        }
      }),
      params,
    );
    expect(counts.configs).toBeGreaterThan(0);
    console.log(`definition-files fuzz (seed ${SEED}): ${JSON.stringify(counts)}`);
  }, 20_000);

  it('through the CLI, hostile files end in exit 2 with a short message, never a crash or a hang', async () => {
    const samples = [
      ...fc.sample(aliasBomb, { seed: SEED, numRuns: 1 }),
      `a: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`,
      ...fc.sample(
        mangled(VALID_DEFINITION).map((t) => `${t}\u0000${'z'.repeat(100_000)}`),
        { seed: SEED, numRuns: 1 },
      ),
    ].map((text) => write({ text, ext: 'yaml' }));
    const [config, ...lints] = await Promise.all([
      runCli(['run', 'demo', '--config', samples[0] as string, '--port', '0'], 20_000),
      ...samples.map((path) => runCli(['lint', path], 20_000)),
    ]);
    // A mangled file may happen to be a good definition (exit 0); the alias bomb as a run config never is.
    for (const [i, result] of [...lints, config].entries()) {
      expect(i < lints.length ? [0, 2] : [2], `${samples[i] ?? 'config'}: ${result.stderr.slice(0, 300)}`).toContain(result.code);
      expect(result.stderr).not.toMatch(/unexpected error|\n\s+at /);
      expect(result.stderr.length).toBeLessThanOrEqual(MAX_MESSAGE);
    }
  }, 30_000);
});
