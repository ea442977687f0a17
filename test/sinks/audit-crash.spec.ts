import { spawn } from 'node:child_process';
import { appendFileSync, readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { auditCommand } from '../../cli/commands/audit-command.js';
import { AuditFileReader } from '../../sinks/audit/audit-file-reader.js';
import { decodeAuditBlock } from '../../sinks/audit/decode-audit-block.js';
import { auditFiles, readTrail, schemas, seededRandom, tmp } from '../support/audit-harness.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHILD = 'test/support/audit-writer-child.ts';
const KILLS = 8;

interface ChildRun {
  /** Seqs the child printed as acknowledged, complete lines only. */
  readonly acked: number[];
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

/**
 * Runs the writer child on `dir`. With `killAfterMs`, kills it with SIGKILL that long after its first
 * acknowledgement; with `last`, lets it write up to record `last` and exit.
 */
function runChild(dir: string, options: { killAfterMs?: number; last?: number }): Promise<ChildRun> {
  const args = ['--import', 'tsx', CHILD, dir, ...(options.last === undefined ? [] : [String(options.last)])];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let killTimer: NodeJS.Timeout | undefined;
  const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (options.killAfterMs !== undefined && killTimer === undefined)
      killTimer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs);
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      clearTimeout(killTimer);
      // A line cut by the kill has no newline: it does not count as acknowledged.
      const complete = stdout.slice(0, stdout.lastIndexOf('\n') + 1);
      resolve({
        acked: complete
          .split('\n')
          .filter((l) => l !== '')
          .map(Number),
        code,
        signal,
        stderr,
      });
    });
  });
}

/** End of the last block of `path` holding a seq up to `acked` (the header's end when none does). */
async function endOfAcknowledged(path: string, acked: number): Promise<number | undefined> {
  const reader = await AuditFileReader.open(path);
  try {
    const header = await reader.header();
    if (header.kind !== 'ok') return undefined;
    let end = header.header.end;
    for await (const block of reader.blocks(header.header.end, header.header.sync)) {
      if (block.kind !== 'block') break;
      const decoded = decodeAuditBlock(block.data, block.count, path, block.offset);
      if (decoded.ok && (decoded.records[0]?.seq ?? Infinity) <= acked) end = block.end;
    }
    return end;
  } finally {
    await reader.close();
  }
}

/**
 * What a power failure could also do after the kill: lose part of what was written after the last
 * acknowledged block (never that block or earlier: those were fdatasync'ed), or leave a torn block of garbage.
 */
async function tearUnacknowledgedTail(dir: string, acked: number, random: () => number): Promise<string> {
  const newest = auditFiles(dir).at(-1);
  if (newest === undefined) return 'none';
  const path = join(dir, newest);
  const keep = await endOfAcknowledged(path, acked);
  if (keep === undefined) return 'none';
  const size = statSync(path).size;
  const choice = random();
  if (choice < 0.3) return 'none';
  if (choice < 0.6 && size > keep) {
    truncateSync(path, keep + Math.floor(random() * (size - keep)));
    return 'cut';
  }
  const garbage = Buffer.alloc(1 + Math.floor(random() * 3000), choice < 0.8 ? 0 : Math.floor(random() * 256));
  appendFileSync(path, garbage);
  return 'garbage';
}

describe('audit sink crash safety', () => {
  it(
    `loses and repeats no acknowledged record over ${KILLS} SIGKILLs at random moments, and the trail verifies`,
    { timeout: 60_000 },
    async () => {
      const dir = tmp();
      const random = seededRandom(20250103);
      const runs: ChildRun[] = [];
      const tears: string[] = [];
      for (let k = 0; k < KILLS; k++) {
        const run = await runChild(dir, { killAfterMs: 50 + Math.floor(random() * 350) });
        expect(run.signal, run.stderr).toBe('SIGKILL');
        runs.push(run);
        tears.push(await tearUnacknowledgedTail(dir, Math.max(0, ...runs.flatMap((r) => r.acked)), random));
      }
      const maxAcked = Math.max(0, ...runs.flatMap((r) => r.acked));
      const final = await runChild(dir, { last: maxAcked + 500 });
      expect(final.code, final.stderr).toBe(0);
      runs.push(final);

      const acked = runs.flatMap((r) => r.acked);
      // Every run continues right after what the one before left on disk: acknowledged seqs never repeat.
      expect(new Set(acked).size).toBe(acked.length);
      for (const run of runs) expect(run.acked).toEqual(run.acked.map((_, i) => (run.acked[0] as number) + i));
      expect(runs.filter((r) => r.acked.length > 0).length).toBeGreaterThanOrEqual(KILLS);

      const records = (await readTrail(dir)).flatMap((f) => f.records);
      const last = maxAcked + 500;
      expect(records.map((r) => r.seq)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
      // Record i is Tick i: nothing was skipped or written twice by the producer either.
      const tickCodec = schemas.codec('Tick');
      expect(records.every((r) => tickCodec.decode(r.payload).sequence === r.seq)).toBe(true);
      for (const seq of acked) expect(seq).toBeLessThanOrEqual(last);

      let out = '';
      let err = '';
      const code = await auditCommand.run(
        { values: {}, positionals: ['verify', dir] },
        { out: (t) => void (out += t), err: (t) => void (err += t), env: {} },
      );
      expect({ code, err }).toEqual({ code: 0, err: '' });
      expect(out).toContain(`${last} records, seq 1 to ${last}`);
      const files = readdirSync(dir).filter((n) => n.endsWith('.avro'));
      expect(files.length).toBeGreaterThan(1);
      // Garbage after the last block is a torn tail every time; the child's recovery cut it and said so.
      const repaired = runs.filter((r) => /torn tail|held no complete record/.test(r.stderr)).length;
      expect(repaired).toBeGreaterThanOrEqual(tears.filter((t) => t === 'garbage').length);
      expect(tears.filter((t) => t === 'garbage').length).toBeGreaterThan(0);
      process.stdout.write(
        `audit crash test: ${acked.length} acknowledged records over ${runs.length} runs, ${files.length} files, tears ${tears.join(',')}, ${repaired} repairs\n`,
      );
    },
  );
});
