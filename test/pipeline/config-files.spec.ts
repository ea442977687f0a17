import { spawn } from 'node:child_process';
import { mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRunSettings } from '../../cli/load-run-settings.js';
import { builtinComponents } from '../../cli/builtin-components.js';
import { MAX_QUOTED_CHARS } from '../../pipeline/config/quote-value.js';
import {
  MAX_CONFIG_FILE_BYTES,
  MAX_STAGES,
  MAX_VALUE_DEPTH,
  YAML_MAX_ALIAS_COUNT,
  readConfigFile,
} from '../../pipeline/config/read-config-file.js';
import { ConfigError, UsageError } from '../../errors/errors.js';
import { loadPipelineFile } from '../../pipeline/graph/load-pipeline-file.js';
import { namedPipelines } from '../../cli/pipelines/named-pipelines.js';

const dir = mkdtempSync(join(tmpdir(), 'tickflow-config-files-'));
let files = 0;
/** Writes `text` to a new file named `*.{ext}` and returns its path. */
function file(text: string | Buffer, ext = 'yaml'): string {
  const path = join(dir, `f${files++}.${ext}`);
  writeFileSync(path, text);
  return path;
}

/** The error `fn` throws. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

/** A YAML flow list nested `depth` levels: `[[[]]]` is 3. */
const deepList = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

const OUT = `{ id: out, use: ndjson-file, from: market, config: { path: ${join(dir, 'out.ndjson')} } }`;
/** A definition file whose sim stage has `config`. */
const definition = (config: string): string => `name: t\nstages:\n  - { id: market, use: sim, config: ${config} }\n  - ${OUT}\n`;
const demo = namedPipelines.get('demo');
if (demo === undefined) throw new Error('no demo pipeline');

describe('readConfigFile', () => {
  it(`reads a file of up to ${MAX_CONFIG_FILE_BYTES} bytes and refuses one byte more`, () => {
    const atLimit = Buffer.alloc(MAX_CONFIG_FILE_BYTES, ' ');
    atLimit.write('a: 1');
    expect(readConfigFile(file(atLimit), 'config file x')).toEqual({ a: 1 });
    const over = Buffer.alloc(MAX_CONFIG_FILE_BYTES + 1, ' ');
    const error = thrown(() => readConfigFile(file(over), 'config file x'));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe('config file x: is larger than 1 MiB (1048576 bytes), the most a definition or config file may hold');
  });

  it('reads no more than the limit of a huge file, /dev/zero or a pipe that never ends', async () => {
    const sparse = file('');
    truncateSync(sparse, 8 * 1024 ** 3); // 8 GiB of holes: reading it whole would take seconds and all the memory
    expect(thrown(() => readConfigFile(sparse, 's')).message).toContain('is larger than 1 MiB');
    expect(thrown(() => readConfigFile('/dev/zero', 's')).message).toContain('is larger than 1 MiB');

    const fifo = join(dir, 'fifo.yaml');
    await new Promise<void>((resolve, reject) =>
      spawn('mkfifo', [fifo]).on('close', (code) => (code === 0 ? resolve() : reject(new Error(`mkfifo exited ${code}`)))),
    );
    // `yes` writes until the reader closes the pipe, then dies of SIGPIPE.
    const writer = spawn('sh', ['-c', `exec yes > '${fifo}'`], { stdio: 'ignore' });
    try {
      expect(thrown(() => readConfigFile(fifo, 's')).message).toContain('is larger than 1 MiB');
    } finally {
      writer.kill('SIGKILL');
    }
  });

  it('names what cannot be read, and cuts the parser message short', () => {
    expect(thrown(() => readConfigFile(join(dir, 'missing.yaml'), 's')).message).toMatch(/^s: cannot be read: ENOENT/);
    expect(thrown(() => readConfigFile(dir, 's')).message).toMatch(/^s: cannot be read: EISDIR/);
    const badJson = thrown(() => readConfigFile(file(`{"a": ${'x'.repeat(100_000)}}`, 'json'), 's'));
    expect(badJson.message).toMatch(/^s: is not valid JSON: /);
    expect(badJson.message.length).toBeLessThan(3 * MAX_QUOTED_CHARS);
  });

  it(`limits YAML alias expansion to ${YAML_MAX_ALIAS_COUNT} ("billion laughs")`, () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (const [name, prev] of [
      ['b', 'a'],
      ['c', 'b'],
      ['d', 'c'],
      ['e', 'd'],
      ['f', 'e'],
      ['g', 'f'],
      ['h', 'g'],
      ['i', 'h'],
    ]) {
      lines.push(`${name}: &${name} [${Array.from({ length: 9 }, () => `*${prev}`).join(',')}]`);
    }
    const started = performance.now();
    const error = thrown(() => readConfigFile(file(lines.join('\n')), 's'));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(`s: expands its YAML aliases too often (at most ${YAML_MAX_ALIAS_COUNT} alias expansions in a file)`);
    // 9^9 strings had the aliases been expanded; refused long before (a generous bound, not a benchmark).
    expect(performance.now() - started).toBeLessThan(5000);
    // A few aliases, as people use them to share a block of config, still work.
    expect(readConfigFile(file('base: &base { rate: 5 }\nstages:\n  a: *base\n  b: *base\n'), 's')).toEqual({
      base: { rate: 5 },
      stages: { a: { rate: 5 }, b: { rate: 5 } },
    });
  });

  it('reports YAML nested too deeply for its parser as too deep, not as a stack trace', () => {
    const error = thrown(() => readConfigFile(file(`a: ${deepList(5000)}\n`), 's'));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(
      new RegExp(`^s: is nested too deeply to parse \\(.*\\); a value may be nested at most ${MAX_VALUE_DEPTH} levels$`),
    );
  });

  it('skips a byte order mark', () => {
    expect(readConfigFile(file('\uFEFF{"a": 1}', 'json'), 's')).toEqual({ a: 1 });
  });
});

describe('loadPipelineFile', () => {
  const registry = builtinComponents();
  const load = (path: string) => loadPipelineFile(path, registry).build();

  it(`names the stage and field of a value nested deeper than ${MAX_VALUE_DEPTH} levels`, () => {
    // At the limit the value is judged by its field (a list of lists is no list of strings), not refused for its depth.
    expect(thrown(() => load(file(definition(`{ instruments: ${deepList(MAX_VALUE_DEPTH)} }`)))).message).toContain(
      "'instruments' must be a list of strings",
    );
    for (const path of [
      file(definition(`{ instruments: ${deepList(MAX_VALUE_DEPTH + 1)} }`)),
      file(`{"name":"t","stages":[{"id":"market","use":"sim","config":{"instruments":${deepList(100_000)}}}]}`, 'json'),
    ]) {
      const error = thrown(() => load(path));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toBe(
        `pipeline file ${path}: stage 'market': field 'instruments' is nested deeper than ${MAX_VALUE_DEPTH} levels`,
      );
    }
    const from = file(`name: t\nstages:\n  - { id: market, use: sim }\n  - { id: out, use: ndjson-file, from: ${deepList(40)} }\n`);
    expect(thrown(() => load(from)).message).toBe(
      `pipeline file ${from}: stage 'out': 'from' is nested deeper than ${MAX_VALUE_DEPTH} levels`,
    );
    const top = file(`name: ${deepList(40)}\nstages: []\n`);
    expect(thrown(() => load(top)).message).toBe(`pipeline file ${top}: 'name' is nested deeper than ${MAX_VALUE_DEPTH} levels`);
  });

  it(`holds at most ${MAX_STAGES} stages`, () => {
    const stages = (n: number) =>
      [
        'name: many',
        'stages:',
        '  - { id: market, use: sim }',
        ...Array.from({ length: n - 1 }, (_, i) => `  - { id: s${i}, use: pass-through, from: market }`),
      ].join('\n');
    const over = file(stages(MAX_STAGES + 1));
    expect(thrown(() => load(over)).message).toBe(
      `pipeline file ${over}: has ${MAX_STAGES + 1} stages; a definition file may hold at most ${MAX_STAGES}`,
    );
    // At the limit the file is read; it fails only for what is wrong with it (here: pass-throughs nobody reads).
    const atLimit = thrown(() => load(file(stages(MAX_STAGES))));
    expect(atLimit.message).not.toContain('at most');
  });

  it('cuts every quoted value, key and id short', () => {
    const long = 'q'.repeat(100_000);
    const path = file(
      definition(`{ seed: "${long}", ${long}: 1 }`)
        .replace('{ id: market', `{ ${long.toUpperCase()}: 1, id: market`)
        .replace('from: market', `from: [market, ${long}]`),
    );
    const error = thrown(() => load(path));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(`unknown key '${'Q'.repeat(MAX_QUOTED_CHARS)}… (100000 characters)'`);
    expect(error.message).toContain(
      `stage 'out': 'from' must name stages (lower-case id, or STAGE.SIDE_OUTPUT), got "${'q'.repeat(MAX_QUOTED_CHARS - 1)}…`,
    );
    expect(error.message.length).toBeLessThan(5000);
    const badId = file(`name: t\nstages:\n  - { id: "${long}", use: sim }\n`);
    expect(thrown(() => load(badId)).message).toBe(
      `pipeline file ${badId}: stages[0]: 'id' must be at most 64 characters, got '${'q'.repeat(64)}… (100000 characters)'`,
    );
    const config = file(definition(`{ seed: "${long}", ${long}: 1 }`));
    const message = thrown(() => load(config)).message;
    expect(message).toContain(`stage 'market' (sim): unknown field '${'q'.repeat(MAX_QUOTED_CHARS)}… (100000 characters)'`);
    expect(message).toContain(`stage 'market' (sim): 'seed' must be an integer, got "${'q'.repeat(MAX_QUOTED_CHARS - 1)}…`);
    expect(message.length).toBeLessThan(3000);
  });

  it('lists a readable number of problems when there are thousands', () => {
    const keys = Array.from({ length: 5000 }, (_, i) => `k${i}: 1`).join(', ');
    const path = file(definition(`{ ${keys} }`));
    const error = thrown(() => load(path)) as ConfigError;
    expect(error.problems).toHaveLength(100);
    expect(error.problems.at(-1)).toMatch(/… and \d+ more problems$/);
  });

  it('does not take inherited names (toString, __proto__) for fields or ports', () => {
    const path = file(definition('{ toString: 1, __proto__: 2 }'));
    const message = thrown(() => load(path)).message;
    expect(message).toContain("unknown field 'toString'");
    expect(message).toContain("unknown field '__proto__'");
  });
});

describe('loadRunSettings with --config', () => {
  const registry = builtinComponents();
  const settings = (text: string, sets: string[] = []) => loadRunSettings({ config: file(text), set: sets }, demo, registry);

  it(`names the stage and field of a value nested deeper than ${MAX_VALUE_DEPTH} levels`, () => {
    const error = thrown(() => settings(`stages:\n  feed-a: { instruments: ${deepList(50)} }\n`));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(
      new RegExp(`^config file .*: stage 'feed-a': field 'instruments' is nested deeper than ${MAX_VALUE_DEPTH} levels$`),
    );
    expect(thrown(() => settings(`port: ${deepList(50)}\n`)).message).toMatch(/: 'port' is nested deeper than 32 levels$/);
    const set = thrown(() => loadRunSettings({ set: [`ctp.fronts=${deepList(50)}`] }, demo, registry));
    expect(set).toBeInstanceOf(UsageError);
    expect(set.message).toBe(`--set ctp.fronts is nested deeper than ${MAX_VALUE_DEPTH} levels`);
  });

  it(`configures at most ${MAX_STAGES} stages`, () => {
    const text = `stages:\n${Array.from({ length: MAX_STAGES + 1 }, (_, i) => `  s${i}: {}`).join('\n')}\n`;
    expect(thrown(() => settings(text)).message).toMatch(
      new RegExp(`: configures ${MAX_STAGES + 1} stages; a config file may configure at most ${MAX_STAGES}$`),
    );
  });

  it("refuses a stage config that is not a mapping, rather than spreading a string's characters into fields", () => {
    const error = thrown(() => settings(`stages:\n  feed-a: ${'abc'.repeat(100_000)}\n`)) as ConfigError;
    expect(error.problems).toEqual([
      `stage 'feed-a': config must be a mapping of field names to values, got "${'abc'.repeat(100).slice(0, MAX_QUOTED_CHARS - 1)}…`,
    ]);
  });

  it('cuts quoted keys, stage ids and values short', () => {
    const long = 'z'.repeat(100_000);
    // JSON: YAML itself refuses implicit keys over 1024 characters.
    const error = thrown(() =>
      loadRunSettings({ config: file(`{"${long}": 1, "stages": {"${long}": {}}}`, 'json') }, demo, registry),
    ) as ConfigError;
    expect(error.problems).toEqual([
      `unknown key '${'z'.repeat(MAX_QUOTED_CHARS)}… (100000 characters)'; known keys: validation, port, log_level, control_tokens_file, stages`,
      `'stages': a stage id must be at most 64 characters, got '${'z'.repeat(64)}… (100000 characters)'`,
    ]);
    expect(thrown(() => settings(`validation: ${long}\n`)).message).toBe(
      `--validation must be one of strict, boundary; got '${'z'.repeat(MAX_QUOTED_CHARS)}… (100000 characters)'`,
    );
    expect(thrown(() => settings(`log_level: [${long}]\n`)).message).toBe(
      `--log-level must be one of fatal, error, warn, info, debug, trace, silent; got ["${'z'.repeat(MAX_QUOTED_CHARS - 2)}…`,
    );
    expect(thrown(() => loadRunSettings({ set: [`feed-a.${long}`] }, demo, registry)).message).toMatch(
      /^--set 'feed-a\.z{193}… \(100007 characters\)' must look like STAGE.FIELD=VALUE/,
    );
  });

  it('keeps __proto__ a key like any other: an unknown field, not a prototype', () => {
    const fromFile = loadRunSettings({ config: file('{"stages": {"feed-a": {"__proto__": {"rate": 1}}}}', 'json') }, demo, registry);
    expect(thrown(() => demo.build({ overrides: fromFile.overrides })).message).toContain(
      "stage 'feed-a' (sim): unknown field '__proto__'",
    );
    const fromSet = thrown(() => loadRunSettings({ set: ['feed-b.__proto__=1'] }, demo, registry));
    expect(fromSet).toBeInstanceOf(UsageError);
    expect(fromSet.message).toContain("--set feed-b.__proto__: stage 'feed-b' (sim): unknown field '__proto__'");
  });
});
