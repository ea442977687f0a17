import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { joinNegativeValues } from '../../cli/run-cli.js';
import { runCli } from '../support/run-cli.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'tickflow-usage-'));

describe('joinNegativeValues', () => {
  const options = { duration: { type: 'string', short: 'd' }, set: { type: 'string', multiple: true }, open: { type: 'boolean' } } as const;

  it('takes a negative number after an option that takes a value as its value, long or short', () => {
    expect(joinNegativeValues(['demo', '--duration', '-1'], options)).toEqual(['demo', '--duration=-1']);
    expect(joinNegativeValues(['-d', '-0.5', '--set', '-.5', '--duration', '-1e3'], options)).toEqual([
      '--duration=-0.5',
      '--set=-.5',
      '--duration=-1e3',
    ]);
  });

  it('leaves flags, booleans, unknown options, inline values and what follows -- alone', () => {
    expect(joinNegativeValues(['--duration', '--set', 'a.b=1'], options)).toEqual(['--duration', '--set', 'a.b=1']);
    expect(joinNegativeValues(['--open', '-1'], options)).toEqual(['--open', '-1']);
    expect(joinNegativeValues(['--colour', '-1', '--__proto__', '-1'], options)).toEqual(['--colour', '-1', '--__proto__', '-1']);
    expect(joinNegativeValues(['--duration=-2', '-1'], options)).toEqual(['--duration=-2', '-1']);
    expect(joinNegativeValues(['--', '--duration', '-1'], options)).toEqual(['--', '--duration', '-1']);
    expect(joinNegativeValues(['--duration'], options)).toEqual(['--duration']);
  });
});

describe('tickflow messages and exit codes', () => {
  it("a negative number given to a flag is judged as that flag's value (exit 2), not reported as a missing value", async () => {
    for (const args of [['--duration', '-1'], ['-d', '-1'], ['--duration=-1']]) {
      const { code, stderr } = await runCli(['run', 'demo', ...args]);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr, args.join(' ')).toContain("tickflow run: --duration must be a positive number of seconds; got '-1'");
      expect(stderr).not.toContain('needs a value');
    }
    const port = await runCli(['run', 'demo', '--port', '-1']);
    expect(port.code).toBe(2);
    expect(port.stderr).toContain("--port must be an integer from 0 to 65535 (0 picks a free port); got '-1'");
    const missing = await runCli(['run', 'demo', '--duration']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("flag '--duration' needs a value");
  });

  it('a bad --set value, an unknown stage and an unknown field exit 2, each naming its --set, all at once', async () => {
    const { code, stderr } = await runCli([
      'run',
      'demo',
      '--set',
      'feed-a.rate=fast',
      '--set',
      'nosuch.rate=5',
      '--set',
      'feed-b.colour=red',
      '--set',
      'feed-a.count=3',
    ]);
    expect(code).toBe(2);
    expect(stderr).toContain('tickflow run: 3 problems with --set:\n');
    expect(stderr).toContain(`  - --set feed-a.rate: stage 'feed-a' (sim): 'rate' must be a number, got "fast"\n`);
    expect(stderr).toMatch(
      / {2}- --set nosuch\.rate: unknown stage 'nosuch'; stages of pipeline 'demo': feed-a, feed-b, .*dead-letter-file\n/,
    );
    expect(stderr).toMatch(
      / {2}- --set feed-b\.colour: stage 'feed-b' \(sim\): unknown field 'colour'; known fields: instruments, seed, rate, /,
    );
    const one = await runCli(['run', 'demo', '--set', 'feed-a.rate=-5']);
    expect(one.code).toBe(2);
    expect(one.stderr).toContain("tickflow run: --set feed-a.rate: stage 'feed-a' (sim): 'rate' must be at least 0, got -5\n");
  });

  it('names a --set by STAGE.FIELD, so a secret value beside a refused one is not echoed', async () => {
    const { code, stderr } = await runCli([
      'run',
      'demo',
      '--set',
      'redis.url=redis://:hunter2@127.0.0.1:1',
      '--set',
      'redis.passwrd=hunter2',
    ]);
    expect(code).toBe(2);
    expect(stderr).toContain("--set redis.passwrd: stage 'redis' (redis): unknown field 'passwrd'");
    expect(stderr).not.toContain('hunter2');
  });

  it('a --set for a field a definition file leaves to it is taken', async () => {
    const dir = tmp();
    const recording = join(dir, 'ticks.ndjson');
    writeFileSync(recording, '');
    const file = join(dir, 'replay.yaml');
    writeFileSync(
      file,
      `name: replay\nstages:\n  - { id: recorded, use: file }\n  - { id: out, use: ndjson-file, from: recorded, config: { path: ${JSON.stringify(join(dir, 'out.ndjson'))} } }\n`,
    );
    const { code, stderr } = await runCli(['run', file, '--port', '0', '--set', `recorded.path=${recording}`]);
    expect(stderr).toContain("pipeline 'replay' finished");
    expect(code).toBe(0);
  });

  it("lint names a 'from' that names no stage, into an ndjson-file or a pass-through", async () => {
    const dir = tmp();
    const sink = join(dir, 'sink.yaml');
    writeFileSync(
      sink,
      'name: s\nstages:\n  - { id: market, use: sim }\n  - { id: out, use: ndjson-file, from: nosuch }\n  - { id: out2, use: ndjson-file, from: market }\n',
    );
    const passThrough = join(dir, 'pass.yaml');
    writeFileSync(
      passThrough,
      'name: p\nstages:\n  - { id: market, use: sim }\n  - { id: extra, use: pass-through, from: nosuch }\n  - { id: out, use: ndjson-file, from: [market, extra] }\n',
    );
    const { code, stderr } = await runCli(['lint', sink, passThrough]);
    expect(code).toBe(2);
    expect(stderr).toBe(
      `${sink}: pipeline 's': stage 'out' reads from unknown stage 'nosuch'; stages: market, out, out2\n` +
        `${passThrough}: pipeline 'p': stage 'extra' reads from unknown stage 'nosuch'; stages: market, extra, out\n`,
    );
  });

  it('lint reports a schema mismatch and a dangling stage of one file together', async () => {
    const dir = tmp();
    const file = join(dir, 'both.yaml');
    writeFileSync(
      file,
      'name: both\nstages:\n  - { id: market, use: sim }\n  - { id: extra, use: pass-through, from: market }\n  - { id: bars, use: bars, from: market }\n  - { id: q, use: quote-diff, from: bars }\n  - { id: out, use: ndjson-file, from: q }\n',
    );
    const { code, stderr } = await runCli(['lint', file]);
    expect(code).toBe(2);
    expect(stderr).toBe(
      `${file}: pipeline 'both': 2 problems:\n` +
        "  - dangling stage 'extra': its output (Tick) goes to no stage; connect it to a sink or remove it\n" +
        "  - edge bars -> q: stage 'bars' writes Bar, stage 'q' reads Tick: writer record tickflow.Bar is not reader record tickflow.Tick\n",
    );
  });
});
