import { readFileSync, renameSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { auditCommand } from '../../cli/commands/audit-command.js';
import { UsageError } from '../../errors/errors.js';
import type { AuditRecord } from '../../schemas/generated.js';
import { verifyAuditTrail } from '../../sinks/audit/verify-audit-trail.js';
import { forge, readTrail, rewriteAuditFile, schemas, T0_MS, tick, tmp, writeTrail } from '../support/audit-harness.js';

const RECORDS = 60;

async function verify(...positionals: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await auditCommand.run({ values: {}, positionals }, { out: (t) => void (out += t), err: (t) => void (err += t), env: {} });
  return { code, out, err };
}

let dir: string;
/** The file holding `seq`, and the records of that file. */
let fileOf: (seq: number) => Promise<{ path: string; name: string; records: AuditRecord[] }>;

beforeEach(async () => {
  dir = tmp();
  // 60 records in blocks of 5, about five blocks a file: three files.
  await writeTrail(dir, RECORDS, { blockSize: 5, maxFileBytes: 10_000 });
  fileOf = async (seq) => {
    const trail = await readTrail(dir);
    const file = trail.find((f) => f.records.some((r) => r.seq === seq));
    if (file === undefined) throw new Error(`no file holds seq ${seq}`);
    return { path: join(dir, file.file), name: file.file, records: file.records };
  };
});

describe('tickflow audit verify', () => {
  it('passes a clean trail with a summary line: files, records, first and last seq, last hash', async () => {
    const trail = await readTrail(dir);
    expect(trail.length).toBeGreaterThanOrEqual(3);
    const lastHash = trail.at(-1)?.records.at(-1)?.hash.toString('hex');
    const { code, out, err } = await verify('verify', dir);
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(out).toBe(`${dir}: ok: ${trail.length} file(s), ${RECORDS} records, seq 1 to ${RECORDS}, last hash ${lastHash}\n`);
  });

  it('passes one file on its own, its first record taken as given', async () => {
    const middle = (await readTrail(dir))[1];
    const path = join(dir, middle?.file as string);
    const { code, out } = await verify('verify', path);
    expect(code).toBe(0);
    expect(out).toContain(`1 file(s), ${middle?.records.length} records, seq ${middle?.records[0]?.seq} to ${middle?.records.at(-1)?.seq}`);
  });

  it('finds an altered record: one byte of its payload changed', async () => {
    const { path, name, records } = await fileOf(30);
    const bytes = readFileSync(path);
    const at = bytes.indexOf((records.find((r) => r.seq === 30) as AuditRecord).hash) - 32 - 10;
    bytes[at] = (bytes[at] as number) ^ 0x01;
    writeFileSync(path, bytes);
    const { code, err } = await verify('verify', dir);
    expect(code).toBe(1);
    expect(err).toMatch(
      new RegExp(`^${dir}: altered record: seq 30 in ${name} \\(block at byte \\d+\\): its stored hash does not match its contents\\n`),
    );
  });

  it('finds a record rewritten with a recomputed hash by the broken link of the next one, in the next file too', async () => {
    const trail = await readTrail(dir);
    const lastOfFirst = trail[0]?.records.at(-1)?.seq as number;
    await rewriteAuditFile(join(dir, trail[0]?.file as string), (records) =>
      records.map((r) => (r.seq === lastOfFirst ? forge({ ...r, payload: schemas.codec('Tick').encode(tick(7_777)) }) : r)),
    );
    const { code, err } = await verify('verify', dir);
    expect(code).toBe(1);
    expect(err).toMatch(
      new RegExp(
        `altered record: seq ${lastOfFirst} in ${trail[0]?.file} .*: its hash is not the prev_hash of seq ${lastOfFirst + 1} \\(in ${trail[1]?.file}\\): it was rewritten`,
      ),
    );
    expect(err).toContain(`the records before it are intact (seq 1 to ${lastOfFirst - 1})`);
  });

  it('finds a missing record: the file rewritten without it', async () => {
    const { path, name } = await fileOf(33);
    await rewriteAuditFile(path, (records) => records.filter((r) => r.seq !== 33));
    const { code, err } = await verify('verify', dir);
    expect(code).toBe(1);
    expect(err).toMatch(new RegExp(`missing record: seq 33 in ${name} .*: seq 34 follows seq 32`));
  });

  it('finds reordered records: two swapped', async () => {
    const { path, name } = await fileOf(40);
    await rewriteAuditFile(path, (records) => {
      const i = records.findIndex((r) => r.seq === 40);
      const swapped = [...records];
      [swapped[i], swapped[i + 1]] = [records[i + 1] as AuditRecord, records[i] as AuditRecord];
      return swapped;
    });
    const { code, err } = await verify('verify', dir);
    expect(code).toBe(1);
    expect(err).toMatch(new RegExp(`reordered records: seq 40 in ${name} .*: seq 41 comes before seq 40`));
  });

  it('finds an inserted record: a forgery with a valid hash of its own, linked to the record before, taking seq 36', async () => {
    const { path, name, records } = await fileOf(36);
    const before = records.find((r) => r.seq === 35) as AuditRecord;
    const forged = forge({
      seq: 36,
      ts_init: before.ts_init,
      record_type: 'tickflow.Tick',
      payload: schemas.codec('Tick').encode(tick(9_999)),
      prev_hash: before.hash,
    });
    await rewriteAuditFile(path, (rs) => rs.flatMap((r) => (r.seq === 35 ? [r, forged] : [r])));
    const { code, err } = await verify('verify', dir);
    expect(code).toBe(1);
    expect(err).toMatch(
      new RegExp(`inserted record: seq 36 in ${name} .*: seq 36 appears twice and the chain continues from the second copy`),
    );
  });

  it('finds an inserted record that claims a seq of its own', async () => {
    const { path, name, records } = await fileOf(20);
    const before = records.find((r) => r.seq === 20) as AuditRecord;
    const forged = forge({
      seq: 1_000,
      ts_init: T0_MS * 1000,
      record_type: 'tickflow.Tick',
      payload: schemas.codec('Tick').encode(tick(1)),
      prev_hash: before.hash,
    });
    await rewriteAuditFile(path, (rs) => rs.flatMap((r) => (r.seq === 20 ? [r, forged] : [r])));
    const { code, err } = await verify('verify', dir);
    expect(code).toBe(1);
    expect(err).toMatch(new RegExp(`inserted record: seq 1000 in ${name} .*: a record with seq 1000 sits between seq 20 and seq 21`));
  });

  it('finds a truncated file: cut inside its last block, naming the first seq of the block', async () => {
    const trail = await readTrail(dir);
    const first = trail[0];
    const path = join(dir, first?.file as string);
    truncateSync(path, statSync(path).size - 10);
    const lastBlockStart = (first?.records.at(-1)?.seq as number) - 4;
    const { code, err } = await verify('verify', dir);
    expect(code).toBe(1);
    expect(err).toMatch(new RegExp(`truncated file: seq ${lastBlockStart} in ${first?.file} .*the file ends inside a block of 5 records`));
  });

  it('finds a file missing from the middle as missing records in the file after it', async () => {
    const trail = await readTrail(dir);
    renameSync(join(dir, trail[1]?.file as string), join(dir, 'set-aside'));
    const firstMissing = trail[1]?.records[0]?.seq as number;
    const { code, err } = await verify('verify', dir);
    expect(code).toBe(1);
    expect(err).toMatch(
      new RegExp(
        `missing record: seq ${firstMissing} in ${trail[2]?.file} .*follows seq ${firstMissing - 1} \\(the last record of ${trail[0]?.file}\\)`,
      ),
    );
  });

  it('reports a directory without audit files and a path it cannot read, with exit code 1', async () => {
    const empty = tmp();
    expect(await verify('verify', empty)).toMatchObject({ code: 1, err: expect.stringContaining('no audit files') });
    expect(await verify('verify', join(empty, 'nope'))).toMatchObject({ code: 1, err: expect.stringMatching(/nope: cannot read: ENOENT/) });
  });

  it('throws UsageError for a missing or unknown subcommand, a missing PATH or an extra argument', async () => {
    await expect(verify()).rejects.toThrow(UsageError);
    await expect(verify('check', dir)).rejects.toThrow("unknown subcommand 'check'; subcommands: verify");
    await expect(verify('verify')).rejects.toThrow(/missing PATH/);
    await expect(verify('verify', dir, dir)).rejects.toThrow(/unexpected argument/);
  });

  it('reports the first problem only: with two, the earlier one', async () => {
    const early = await fileOf(12);
    await rewriteAuditFile(early.path, (records) => records.filter((r) => r.seq !== 12));
    const late = await fileOf(50);
    await rewriteAuditFile(late.path, (records) => records.filter((r) => r.seq !== 50));
    const result = await verifyAuditTrail(dir);
    expect(result.problem).toMatchObject({ kind: 'missing', seq: 12 });
  });
});
