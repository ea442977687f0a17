import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli.js';

/** A pipeline file of a sim source, STAGE (reading `market`) and an NDJSON sink reading `checked`, in a fresh folder. */
function pipelineWith(stages: readonly string[]): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tickflow-lint-'));
  const file = join(dir, 'pipeline.yaml');
  writeFileSync(
    file,
    [
      'name: lint-equals-run',
      'stages:',
      '  - { id: market, use: sim, config: { instruments: [SHFE.rb2501], rate: 50 } }',
      ...stages,
      '  - { id: out, use: ndjson-file, from: checked, config: { path: out/ticks.ndjson } }',
    ].join('\n'),
  );
  return { dir, file };
}

// Each case breaks a rule of one component's definition that its fields alone cannot express.
const cases: readonly { name: string; stages: readonly string[]; problem: string }[] = [
  {
    name: "dedup-merge's down_after_ms below stale_after_ms",
    stages: ['  - { id: checked, use: dedup-merge, from: market, config: { down_after_ms: 100, stale_after_ms: 5000 } }'],
    problem: "stage 'checked' (dedup-merge): 'down_after_ms' must exceed 'stale_after_ms' (5000), got 100",
  },
  {
    name: 'bars with a period that does not divide a day',
    stages: ['  - { id: checked, use: bars, from: market, config: { period_s: 7 } }'],
    problem: "stage 'checked' (bars): 'period_s' must divide a day (86400 s), e.g. 1, 60, 300, 3600; got 7",
  },
  {
    name: 'a CTP front address that is no tcp://host:port',
    stages: [
      '  - { id: md, use: ctp, config: { library_path: /nonexistent/thostmduserapi_se.so, fronts: [{ name: a, front_addr: "127.0.0.1:41205", broker_id: "9999" }], instruments: [SHFE.rb2501] } }',
      '  - { id: checked, use: dedup-merge, from: [market, md] }',
    ],
    problem: `stage 'md' (ctp): 'fronts[0].front_addr' must look like tcp://host:port, got "127.0.0.1:41205"`,
  },
  {
    name: 'a feed URL with the wrong scheme',
    stages: [
      '  - { id: up, use: ws-feed, config: { url: "http://127.0.0.1:7001/", instruments: [SHFE.rb2501] } }',
      '  - { id: checked, use: dedup-merge, from: [market, up] }',
    ],
    problem: `stage 'up' (ws-feed): 'url' must start with ws:// or wss://, got "http://127.0.0.1:7001/"`,
  },
];

describe('tickflow lint accepts exactly what run accepts', () => {
  it.each(cases)('lint and run both refuse $name, with the same message, and run starts nothing', async ({ stages, problem }) => {
    const { dir, file } = pipelineWith(stages);
    const lint = await runCli(['lint', file], 20_000, dir);
    expect(lint.code, lint.stderr).toBe(2);
    expect(lint.stderr).toContain(problem);
    const run = await runCli(['run', file, '--port', '0'], 20_000, dir);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain(problem);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('lint says ok to the same file with valid values, and lists what only a run can check', async () => {
    const { dir, file } = pipelineWith([
      '  - { id: md, use: ctp, config: { library_path: /nonexistent/thostmduserapi_se.so, fronts: [{ name: a, front_addr: "tcp://127.0.0.1:1", broker_id: "9999" }], instruments: [SHFE.rb2501] } }',
      '  - { id: checked, use: dedup-merge, from: [market, md], config: { down_after_ms: 10000, stale_after_ms: 5000 } }',
    ]);
    const lint = await runCli(['lint', file], 20_000, dir);
    expect(lint.code, lint.stderr).toBe(0);
    expect(lint.stdout).toContain("ok (pipeline 'lint-equals-run', 4 stages)");
    expect(lint.stdout).toContain(
      "not checked until it runs (needs the outside world):\n    - stage 'md' (ctp): that 'library_path' is a CTP market-data library of a supported version (loaded at start)",
    );
    expect(lint.stdout).toContain("stage 'out' (ndjson-file): that 'path' can be written");
    // That check is run's: the missing library stops the run before it starts.
    const run = await runCli(['run', file, '--port', '0'], 20_000, dir);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain('/nonexistent/thostmduserapi_se.so: no such file');
  });
});
