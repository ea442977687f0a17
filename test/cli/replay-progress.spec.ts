import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, stopCli } from '../support/run-cli.js';
import { startCliInTerminal } from '../support/run-in-terminal.js';
import { waitFor } from '../support/wait-for.js';
import { simTicks, writeNdjson } from '../sources/file/recorded-files.js';

/** One drawing of the bar, as the terminal showed it. */
interface Frame {
  readonly percent: number;
  readonly records: number;
  readonly rate: number | undefined;
  readonly eventTime: string | undefined;
  readonly eta: string | undefined;
  readonly took: string | undefined;
}

const FRAME =
  /^recorded {2}\[[#-]{20}\] +([\d.]+)% {2}([\d,]+) records(?: {2}([\d,]+) records\/s)?(?: {2}event (\S+))?(?: {2}ETA (\S+)| {2}in (\S+))$/;
const num = (text: string): number => Number(text.replaceAll(',', ''));

/** Every drawing of the bar in what the terminal showed (redrawn in place: `\r` before, erase-to-end after). */
function framesOf(terminal: string): Frame[] {
  return terminal
    .split(/[\r\n]/)
    .map((line) => line.replaceAll('\x1b[K', ''))
    .flatMap((line) => {
      const m = FRAME.exec(line);
      if (m === null) return [];
      const [, percent = '', records = '', rate, eventTime, eta, took] = m;
      return [{ percent: Number(percent), records: num(records), rate: rate === undefined ? undefined : num(rate), eventTime, eta, took }];
    });
}

/** Drawn while running, with records replayed. */
const moving = (frames: readonly Frame[]): Frame[] => frames.filter((f) => f.took === undefined && f.records > 0);
const distinct = <T>(values: readonly T[]): number => new Set(values).size;
const nonDecreasing = (values: readonly (number | string)[]): boolean =>
  values.every((v, i) => i === 0 || v >= (values[i - 1] as number | string));

describe('file replay progress on a terminal', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tickflow-replay-progress-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A definition replaying `recording` at `speed` into an ndjson-file sink, with the bar `progress`. */
  function replayDefinition(recording: string, speed: number, progress = 'auto'): string {
    const path = join(dir, 'replay.yaml');
    writeFileSync(
      path,
      [
        'name: replay',
        'stages:',
        `  - { id: recorded, use: file, config: { path: ${JSON.stringify(recording)}, speed: ${speed}, progress: ${progress} } }`,
        `  - { id: out, use: ndjson-file, from: recorded, config: { path: ${JSON.stringify(join(dir, 'out.ndjson'))} } }`,
      ].join('\n'),
    );
    return path;
  }

  it('moves while a paced replay runs: records, rate, event time reached and an ETA, though the whole file is read in its first moments', async () => {
    // 900 ticks over 150 s of event time, 740 KB (all read within the first batches): at speed 5 a 30 s replay, which the test ends once the bar has moved.
    const recording = join(dir, 'ticks.ndjson');
    await writeNdjson(recording, simTicks(900));
    const child = startCliInTerminal(['run', replayDefinition(recording, 5), '--port', '0', '--log-level', 'warn']);
    try {
      let frames: Frame[] = [];
      try {
        await waitFor(
          'the bar to show four different record counts and event times, and an ETA',
          () => {
            frames = framesOf(child.output().stdout);
            const running = moving(frames);
            const ok =
              distinct(running.map((f) => f.records)) >= 4 &&
              distinct(running.map((f) => f.eventTime)) >= 4 &&
              running.some((f) => /^\d+:\d\d$/.test(f.eta ?? ''));
            return ok ? true : undefined;
          },
          25_000,
        );
      } catch (error) {
        throw new Error(`${(error as Error).message}; the terminal showed: ${JSON.stringify(child.output().stdout.slice(-1500))}`, {
          cause: error,
        });
      }
      const running = moving(frames);
      expect(nonDecreasing(running.map((f) => f.records))).toBe(true);
      expect(nonDecreasing(running.map((f) => f.eventTime ?? ''))).toBe(true);
      expect(nonDecreasing(running.map((f) => f.percent))).toBe(true);
      // The percentage is of what has been replayed, not of the bytes read ahead of the pacer.
      for (const f of running) expect(f.percent).toBeLessThan(100);
      expect(running.every((f) => f.rate !== undefined && f.rate > 0)).toBe(true);
      for (const f of running) expect(f.eventTime).toMatch(/^2025-01-02T13:0\d:\d\dZ$/);
    } finally {
      await stopCli(child);
    }
  });

  it('ends with a last line of every record, 100% and the time taken', async () => {
    const recording = join(dir, 'ticks.ndjson');
    await writeNdjson(recording, simTicks(300));
    const child = startCliInTerminal(['run', replayDefinition(recording, 0), '--port', '0', '--log-level', 'warn']);
    try {
      await waitFor('the replay to end', () => (child.exitCode !== null ? true : undefined), 25_000);
      expect(child.exitCode).toBe(0);
      const last = framesOf(child.output().stdout).at(-1);
      expect(last).toMatchObject({ percent: 100, records: 300, eventTime: '2025-01-02T13:00:49Z' });
      expect(last?.took).toMatch(/^\d+:\d\d$/);
    } finally {
      await stopCli(child);
    }
  });

  it('is not drawn when stderr is not a terminal; progress: on says why', async () => {
    const recording = join(dir, 'ticks.ndjson');
    await writeNdjson(recording, simTicks(30));
    const { code, stderr } = await runCli(['run', replayDefinition(recording, 0, 'on'), '--port', '0', '--log-level', 'warn']);
    expect(code).toBe(0);
    expect(framesOf(stderr)).toEqual([]);
    expect(stderr).toContain('no progress bar: stderr is not a terminal');
  });
});
