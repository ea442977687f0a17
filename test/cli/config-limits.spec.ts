import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_SIM_RATE } from '../../sources/sim-source.js';
import { runCli, startCli, stopCli as stop } from '../support/run-cli.js';
import { waitFor } from '../support/wait-for.js';

/**
 * The limits on what a user hands `tickflow` (definition and config files,
 * flags, numeric fields), tried from outside through the built CLI: each
 * bad input ends in a short message naming what is wrong and exit 2, never a
 * read without end, a stack trace, a hang or a run that stops too early.
 */

const tmp = () => mkdtempSync(join(tmpdir(), 'tickflow-limits-'));
const lines = (path: string): number =>
  statSync(path, { throwIfNoEntry: false }) === undefined ? 0 : readFileSync(path, 'utf8').split('\n').length - 1;

/** A definition file: a sim source with `config`, written to an NDJSON file. */
function simToFile(dir: string, config: string, out = join(dir, 'ticks.ndjson')): string {
  const path = join(dir, `sim-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    path,
    `name: sim-to-file\nstages:\n  - { id: market, use: sim, config: ${config} }\n  - { id: out, use: ndjson-file, from: market, config: { path: ${out} } }\n`,
  );
  return path;
}

describe('tickflow CLI limits', () => {
  it('lint /dev/zero, run --config /dev/zero and an endless pipe stop reading at 1 MiB and exit 2', async () => {
    const lint = await runCli(['lint', '/dev/zero']);
    expect(lint.code).toBe(2);
    expect(lint.stderr).toBe(
      '/dev/zero: pipeline file /dev/zero: is larger than 1 MiB (1048576 bytes), the most a definition or config file may hold\n',
    );
    const run = await runCli(['run', 'demo', '--config', '/dev/zero']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('tickflow run: config file /dev/zero: is larger than 1 MiB (1048576 bytes)');

    // A process substitution, <(yes): a pipe whose writer never stops.
    const piped = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn('bash', ['-c', `exec "${process.execPath}" dist/cli/main.js lint <(yes)`], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('close', (code) => {
        clearTimeout(killer);
        resolve({ code, stderr });
      });
    });
    expect(piped.code).toBe(2);
    expect(piped.stderr).toMatch(/^\/dev\/fd\/\d+: pipeline file \/dev\/fd\/\d+: is larger than 1 MiB/);
  });

  it('a definition with more than 500 stages, or a config configuring more, exits 2 naming the limit', async () => {
    const dir = tmp();
    const many = join(dir, 'many.yaml');
    writeFileSync(
      many,
      [
        'name: many',
        'stages:',
        '  - { id: market, use: sim }',
        ...Array.from({ length: 500 }, (_, i) => `  - { id: s${i}, use: pass-through, from: market }`),
      ].join('\n'),
    );
    const lint = await runCli(['lint', many]);
    expect(lint.code).toBe(2);
    expect(lint.stderr).toBe(`${many}: pipeline file ${many}: has 501 stages; a definition file may hold at most 500\n`);
    const config = join(dir, 'many-config.yaml');
    writeFileSync(config, `stages:\n${Array.from({ length: 501 }, (_, i) => `  s${i}: {}`).join('\n')}\n`);
    const run = await runCli(['run', 'demo', '--config', config]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`config file ${config}: configures 501 stages; a config file may configure at most 500`);
  });

  it('a deeply nested value is named by its stage and field, not a stack trace, and exits 2', async () => {
    const dir = tmp();
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    const yaml = simToFile(dir, `{ instruments: ${deep(40)} }`);
    const json = join(dir, 'deep.json');
    writeFileSync(
      json,
      `{"name":"deep","stages":[{"id":"market","use":"sim","config":{"instruments":${deep(100_000)}}},{"id":"out","use":"ndjson-file","from":"market"}]}`,
    );
    for (const path of [yaml, json]) {
      const lint = await runCli(['lint', path]);
      expect(lint.code).toBe(2);
      expect(lint.stderr).toBe(`${path}: pipeline file ${path}: stage 'market': field 'instruments' is nested deeper than 32 levels\n`);
    }
    const tooDeepToParse = simToFile(dir, `{ instruments: ${deep(100_000)} }`);
    const parse = await runCli(['lint', tooDeepToParse]);
    expect(parse.code).toBe(2);
    expect(parse.stderr).toMatch(/is nested too deeply to parse \(.*\); a value may be nested at most 32 levels\n$/);
    const config = join(dir, 'deep-config.yaml');
    writeFileSync(config, `stages:\n  feed-a: { instruments: ${deep(5000)} }\n`);
    const run = await runCli(['run', 'demo', '--config', config]);
    expect(run.code).toBe(2);
    for (const r of [parse, run]) expect(r.stderr).not.toMatch(/unexpected error|RangeError|\n\s+at /);
  });

  it('YAML aliases that expand exponentially ("billion laughs") are refused at once', async () => {
    const dir = tmp();
    const path = join(dir, 'laughs.yaml');
    const rows = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i < 9; i++)
      rows.push(`${'abcdefghi'[i]}: &${'abcdefghi'[i]} [${Array.from({ length: 9 }, () => `*${'abcdefghi'[i - 1]}`).join(', ')}]`);
    writeFileSync(path, `${rows.join('\n')}\nname: laughs\nstages: [{ id: market, use: sim, config: { instruments: *i } }]\n`);
    const { code, stderr } = await runCli(['lint', path]);
    expect(code).toBe(2);
    expect(stderr).toBe(`${path}: pipeline file ${path}: expands its YAML aliases too often (at most 100 alias expansions in a file)\n`);
  });

  it('a bad value is quoted cut to a few hundred characters, not echoed in full', async () => {
    const dir = tmp();
    const long = 'y'.repeat(100_000);
    const path = simToFile(dir, `{ seed: "${long}", feed_id: 7 }`);
    const { code, stderr } = await runCli(['lint', path]);
    expect(code).toBe(2);
    expect(stderr).toContain(`stage 'market' (sim): 'seed' must be an integer, got "${'y'.repeat(199)}…`);
    expect(stderr).toContain(`stage 'market' (sim): 'feed_id' must be a string, got 7`);
    expect(stderr.length).toBeLessThan(2000);
    const set = await runCli([
      'run',
      'demo',
      '--set',
      `feed-a.feed_id=${'x'.repeat(50_000)}`,
      '--set',
      `feed-a.rate=${'9'.repeat(50_000)}`,
    ]);
    expect(set.code).toBe(2);
    expect(set.stderr).toContain(`'rate' must be a number, got "${'9'.repeat(199)}…`);
    expect(set.stderr.length).toBeLessThan(2000);
  });

  it('a sim rate of 1e308 is refused (exit 2) naming stage, field, bound and value, where it used to block the event loop for good', async () => {
    const dir = tmp();
    const run = await runCli(['run', simToFile(dir, '{ rate: 1e308 }'), '--port', '0', '--duration', '2']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`stage 'market' (sim): 'rate' must be at most ${MAX_SIM_RATE}, got 1e+308`);
    const set = await runCli(['run', 'demo', '--set', 'feed-a.rate=1e308']);
    expect(set.code).toBe(2);
    expect(set.stderr).toContain(`stage 'feed-a' (sim): 'rate' must be at most ${MAX_SIM_RATE}, got 1e+308`);
  });

  it(`at the highest sim rate (${MAX_SIM_RATE}/s) --duration and SIGTERM still stop the run`, async () => {
    const dir = tmp();
    // Bounded by runCli's kill after 30 s (code null); a blocked event loop would never see the timer.
    const timed = await runCli(['run', simToFile(dir, `{ rate: ${MAX_SIM_RATE} }`, '/dev/null'), '--port', '0', '--duration', '2'], 30_000);
    expect(timed.stderr).toContain('--duration 2s elapsed');
    expect(timed.code).toBe(0);

    const out = join(dir, 'fast.ndjson');
    const child = startCli(['run', simToFile(dir, `{ rate: ${MAX_SIM_RATE} }`, out), '--port', '0']);
    try {
      await waitFor('ticks at the highest rate', () => (lines(out) > 1000 ? true : undefined), 20_000);
    } finally {
      expect(await stop(child)).toBe(0);
    }
  }, 60_000);

  it('--duration must be a positive number of seconds: -1, 0 and abc exit 2 naming the flag', async () => {
    for (const value of ['-1', '0', 'abc', '1e400', '']) {
      const { code, stderr } = await runCli(['run', 'demo', `--duration=${value}`]);
      expect(code, value).toBe(2);
      expect(stderr, value).toContain(`--duration must be a positive number of seconds; got '${value}' (e.g. 60 or 0.5)`);
    }
    const separate = await runCli(['run', 'demo', '--duration', '-1']);
    expect(separate.code).toBe(2);
    expect(separate.stderr).toContain("--duration must be a positive number of seconds; got '-1'");
  });

  it('--duration 2592000 (30 days, past what one timer can wait) does not stop the run early', async () => {
    const dir = tmp();
    const out = join(dir, 'ticks.ndjson');
    const child = startCli(['run', simToFile(dir, '{ rate: 500 }', out), '--port', '0', '--duration', '2592000']);
    try {
      // An overflowing timer stops the run within a millisecond of starting; 400 ticks at 500/s take most of a second.
      await waitFor('400 ticks, or the run ending', () => (child.exitCode !== null || lines(out) >= 400 ? true : undefined), 20_000);
      expect(child.exitCode).toBeNull();
      expect(child.output().stderr).not.toContain('elapsed');
    } finally {
      expect(await stop(child)).toBe(0);
    }
    expect(child.output().stderr).toContain('stopping: draining to sinks');
  }, 40_000);
});
