import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it, expect } from 'vitest';

const CHILD = fileURLToPath(new URL('fixtures/ctp-session-child.mjs', import.meta.url));
let nextPort = 48_000;

/** Runs the child fixture in `mode` (killed after 20 s) and returns how it ended. */
function runChild(
  mode: string,
  nodeArgs: readonly string[] = [],
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...nodeArgs, CHILD, mode, String(nextPort++)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('an open CTP session when the process ends', () => {
  it.each([
    ['exit-in-callback', /^exiting after \d+ ticks\n$/],
    ['exit-from-timer', /^exiting after \d+ ticks\n$/],
    ['end', /^ended after \d+ ticks\n$/],
  ])('%s during a callback storm: exits 0 without a signal', async (mode, output) => {
    const result = await runChild(mode);
    expect(result).toMatchObject({ code: 0, signal: null, stderr: '' });
    expect(result.stdout).toMatch(output);
  });

  it('a session collected without close(): its finalizer releases the API and the storm stops', async () => {
    const result = await runChild('gc', ['--expose-gc']);
    expect(result).toMatchObject({ code: 0, signal: null, stderr: '' });
    expect(result.stdout).toMatch(/^collected after \d+ ticks\n$/);
  });

  it('a worker terminated mid-storm: its environment cleanup closes the session', async () => {
    const result = await runChild('worker');
    expect(result).toMatchObject({ code: 0, signal: null, stderr: '' });
    expect(result.stdout).toMatch(/^worker terminated after \d+ ticks\n$/);
  });
});
