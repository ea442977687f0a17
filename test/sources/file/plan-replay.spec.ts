import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../errors/errors.js';
import { SchemaCatalog } from '../../../pipeline/schemas/schema-catalog.js';
import type { FormatSetting } from '../../../sources/file/detect-file-format.js';
import { planReplay } from '../../../sources/file/plan-replay.js';
import { simTicks, tempDir, writeAudit, writeAvroTicks } from './recorded-files.js';

const catalog = SchemaCatalog.default();
const readers = { tick: catalog.type('Tick'), audit: catalog.type('AuditRecord') };
const subject = "stage 'replay' (file)";

describe('planReplay', () => {
  let dir: string;
  let remove: () => void;

  beforeEach(() => {
    ({ dir, remove } = tempDir());
  });
  afterEach(() => remove());

  const plan = (path: string, format: FormatSetting = 'auto') => planReplay({ path, format, readers, subject });

  it('orders a directory by name in code-unit order, whatever the locale', () => {
    for (const name of ['ticks-9.ndjson', 'ticks-10.ndjson', 'Z.jsonl', 'a.ndjson', 'é.ndjson']) writeFileSync(join(dir, name), '');
    expect(plan(dir).files.map((f) => f.path.slice(dir.length + 1))).toEqual([
      'Z.jsonl',
      'a.ndjson',
      'ticks-10.ndjson',
      'ticks-9.ndjson',
      'é.ndjson',
    ]);
  });

  it('follows symbolic links to files and tells each file its format and size', async () => {
    await writeAvroTicks(join(dir, 'a.avro'), simTicks(3));
    await writeAudit(join(dir, 'b.avro'), simTicks(3));
    writeFileSync(join(dir, 'c.ndjson'), '{}\n');
    mkdirSync(join(dir, 'elsewhere'));
    writeFileSync(join(dir, 'elsewhere', 'd.ndjson'), '');
    symlinkSync(join(dir, 'elsewhere', 'd.ndjson'), join(dir, 'd-link.ndjson'));
    expect(plan(dir).files.map((f) => [f.path.slice(dir.length + 1), f.format, f.size > 0])).toEqual([
      ['a.avro', 'avro', true],
      ['b.avro', 'audit', true],
      ['c.ndjson', 'ndjson', true],
      ['d-link.ndjson', 'ndjson', false],
    ]);
  });

  it('passes over files of no known format in a directory, and returns them', () => {
    writeFileSync(join(dir, 'audit-000001-20250103.avro.torn-4096'), Buffer.from([1, 2, 3]));
    writeFileSync(join(dir, 'README'), 'recorded on the night of 2 January');
    writeFileSync(join(dir, 'c.ndjson'), '');
    const { files, skipped } = plan(dir);
    expect(files.map((f) => f.path)).toEqual([join(dir, 'c.ndjson')]);
    expect(skipped).toEqual([expect.stringMatching(/README: unknown format/), expect.stringMatching(/torn-4096: unknown format/)]);
  });

  it('throws one ConfigError naming the stage, the path and every problem', () => {
    writeFileSync(join(dir, 'a.avro'), 'Obj\x01\x04');
    writeFileSync(join(dir, 'b.avro'), 'Obj\x01');
    writeFileSync(join(dir, 'c.ndjson'), '');
    writeFileSync(join(dir, 'd.txt'), '');
    let error: unknown;
    try {
      plan(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      expect.stringMatching(/a\.avro: the file ends inside its Avro header/),
      expect.stringMatching(/b\.avro: the file ends inside its Avro header/),
    ]);
    expect((error as ConfigError).message).toMatch(/^stage 'replay' \(file\): 2 problems:/);
    expect((error as ConfigError).context).toMatchObject({ component: 'file', field: 'path', path: dir });
  });

  it('checks a format named explicitly against every file of a directory', async () => {
    await writeAvroTicks(join(dir, 'a.avro'), simTicks(1));
    writeFileSync(join(dir, 'b.ndjson'), '');
    expect(() => plan(dir, 'avro')).toThrow(/b\.ndjson: not an Avro container file/);
    expect(() => plan(dir, 'audit')).toThrow(/2 problems/);
    expect(() => plan(dir, 'ndjson')).toThrow(/a\.avro: an Avro container file of tickflow\.Tick, not NDJSON/);
  });
});
