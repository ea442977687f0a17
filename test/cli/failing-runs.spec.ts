import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli.js';

/** A pipeline file in a fresh folder, run from there. */
function pipelineFile(yaml: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tickflow-failing-'));
  const file = join(dir, 'pipeline.yaml');
  writeFileSync(file, yaml);
  return { dir, file };
}

interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly err?: { readonly message: string };
}

const errorLines = (stderr: string): LogLine[] =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine)
    .filter((l) => l.level === 50);

const occurrences = (text: string, part: string): number => text.split(part).length - 1;

// The market source ticks on a timer: a run that did not end it would never exit, and the child would be killed (code null).
const MARKET = '  - { id: market, use: sim, config: { instruments: [SHFE.rb2501], rate: 50 } }';

describe('tickflow run when a stage fails', () => {
  it('exits 1 when a stage cannot start, with the other stages already created, and names the stage once', async () => {
    const { dir, file } = pipelineFile(
      [
        'name: cannot-start',
        'stages:',
        MARKET,
        '  - { id: md, use: ctp, config: { library_path: /nonexistent/thostmduserapi_se.so, fronts: [{ name: a, front_addr: "tcp://127.0.0.1:1", broker_id: "9999" }], instruments: [SHFE.rb2501] } }',
        '  - { id: merge, use: dedup-merge, from: [market, md] }',
        '  - { id: out, use: ndjson-file, from: merge, config: { path: out/ticks.ndjson } }',
      ].join('\n'),
    );
    const result = await runCli(['run', file, '--port', '0'], 30_000, dir);
    expect(result.code, result.stderr).toBe(1);
    const [failure, ...others] = errorLines(result.stderr);
    expect(others).toEqual([]);
    expect(failure?.msg).toMatch(/^stage 'md' \(ctp\) could not start: \/nonexistent\/thostmduserapi_se\.so: no such file/);
    expect(occurrences(failure?.msg ?? '', "stage 'md'")).toBe(1);
    expect(occurrences(failure?.err?.message ?? '', 'no such file')).toBe(1);
  });

  it('exits 1 when a sink fails later in the run, its cause quoted once', async () => {
    const { dir, file } = pipelineFile(
      ['name: fails-later', 'stages:', MARKET, '  - { id: out, use: ndjson-file, from: market, config: { path: /dev/full } }'].join('\n'),
    );
    const result = await runCli(['run', file, '--port', '0'], 30_000, dir);
    expect(result.code, result.stderr).toBe(1);
    const failure = errorLines(result.stderr).find((l) => l.msg.startsWith("stage 'out' failed"));
    expect(failure?.msg).toContain('ENOSPC');
    expect(occurrences(failure?.msg ?? '', 'no space left on device')).toBe(1);
    expect(occurrences(failure?.err?.message ?? '', 'no space left on device')).toBe(1);
  });
});
