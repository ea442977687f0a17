import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOneBenchmark } from '../../bench/run-one-benchmark.js';

/** A built checkout of its own: dist/bench holds the benchmarks these tests run, each a real module run in a real process. */
let root: string;

const benchmark = (name: string, source: string): void => writeFileSync(join(root, 'dist', 'bench', `${name}.js`), source);

/** Whether a process is gone (or a zombie nobody reaped yet, which runs nothing). */
const gone = (pid: number): boolean => {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return true;
  try {
    return readFileSync(stat, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
  } catch {
    return true;
  }
};

/** Waits until `condition` holds, checking every 50 ms for at most `ms`. */
async function waitFor(condition: () => boolean, ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += 50) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tickflow-run-one-benchmark-'));
  mkdirSync(join(root, 'dist', 'bench'), { recursive: true });
  benchmark(
    'tiny-bench',
    `export async function tinyBench() {
      const held = Array.from({ length: 200_000 }, (_, i) => ({ i }));
      return ['200,000 objects held:', '  held    ' + held.length.toLocaleString('en-US') + ' records/s'];
    }`,
  );
  benchmark('throwing-bench', `export async function throwingBench() { throw new Error('redis-server did not start'); }`);
  benchmark('misnamed-bench', `export async function somethingElse() { return []; }`);
  benchmark(
    'open-handle-bench',
    `import { spawn } from 'node:child_process';
    export async function openHandleBench() {
      setInterval(() => {}, 1000);
      // A process left running that holds the benchmark's stdout open.
      spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600_000)'], { stdio: 'inherit' });
      return ['  done    1 records/s'];
    }`,
  );
  benchmark(
    'endless-bench',
    `import { spawn } from 'node:child_process';
    import { writeFileSync } from 'node:fs';
    export async function endlessBench() {
      const helper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600_000)'], { stdio: 'ignore' });
      writeFileSync(${JSON.stringify(join(root, 'helper.pid'))}, String(helper.pid));
      await new Promise(() => setInterval(() => {}, 1000));
    }`,
  );
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('runOneBenchmark', () => {
  it("runs the benchmark's camelCase export in a process of its own and gives its lines and that process's usage", async () => {
    const run = await runOneBenchmark(root, 'tiny-bench');
    expect(run).toMatchObject({
      name: 'tiny-bench',
      outcome: 'ran',
      exitCode: 0,
      lines: ['200,000 objects held:', '  held    200,000 records/s'],
    });
    expect(run.usage?.peakRssMB).toBeGreaterThan(10);
    expect(run.usage?.cpuSeconds).toBeGreaterThan(0);
    expect(run.usage?.wallSeconds).toBeGreaterThan(0);
  });

  it('reports a benchmark that throws as failed, with its stderr as it comes and its tail', async () => {
    const chunks: string[] = [];
    const run = await runOneBenchmark(root, 'throwing-bench', { onStderr: (chunk) => chunks.push(chunk) });
    expect(run).toMatchObject({ outcome: 'failed', exitCode: 1, lines: [] });
    expect(run.usage).toBeUndefined();
    expect(run.stderrTail).toContain('Error: redis-server did not start');
    expect(chunks.join('')).toBe(run.stderrTail);
  });

  it('reports a file without the export of its name as failed, saying so', async () => {
    const run = await runOneBenchmark(root, 'misnamed-bench');
    expect(run.outcome).toBe('failed');
    expect(run.stderrTail).toContain('exports no function misnamedBench');
  });

  it('reports a benchmark missing from dist/bench as not built, without starting a process', async () => {
    expect(await runOneBenchmark(root, 'full-chain-replay')).toMatchObject({ outcome: 'not built', exitCode: null, lines: [] });
  });

  it('ends when the benchmark returns, though it left a handle open and a process holding its stdout', async () => {
    const run = await runOneBenchmark(root, 'open-handle-bench', { timeoutMs: 120_000 });
    expect(run).toMatchObject({ outcome: 'ran', lines: ['  done    1 records/s'] });
  }, 60_000);

  it('ends a benchmark that outlives its time, and the processes it started with it', async () => {
    const helperPid = join(root, 'helper.pid');
    const run = await runOneBenchmark(root, 'endless-bench', { timeoutMs: 5000 });
    expect(run).toMatchObject({ outcome: 'timed out', exitCode: null });
    expect(existsSync(helperPid)).toBe(true);
    expect(await waitFor(() => gone(Number(readFileSync(helperPid, 'utf8'))), 10_000)).toBe(true);
  }, 60_000);
});
