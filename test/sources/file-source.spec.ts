import { mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import avro from 'avsc';
import { pino } from 'pino';
import { asyncScheduler, firstValueFrom, lastValueFrom, take, tap, toArray, type Observable } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ComponentRegistry } from '../../pipeline/components/component-registry.js';
import { validateConfig } from '../../pipeline/config/validate-config.js';
import { loadPipelineFile } from '../../pipeline/graph/load-pipeline-file.js';
import { runPipeline } from '../../pipeline/runtime/run-pipeline.js';
import { ConfigError, StageError } from '../../errors/errors.js';
import { SchemaCatalog } from '../../pipeline/schemas/schema-catalog.js';
import { InstrumentId, type Tick } from '../../schemas/generated.js';
import { ndjsonFileSink } from '../../sinks/ndjson-file-sink.js';
import { fileSource } from '../../sources/file-source.js';
import { makeTick } from '../support/make-tick.js';
import { testContext } from '../support/test-context.js';
import { auditRecord, simTicks, tempDir, writeAudit, writeAvroTicks, writeContainer, writeNdjson } from './file/recorded-files.js';

const catalog = SchemaCatalog.default();

/** Any bar: a record of another schema than the ticks a replay reads. */
const A_BAR = {
  instrument_id: 'SHFE.rb2501',
  period_s: 60,
  trading_day: '20250103',
  ts_open: 0,
  ts_close: 60_000_000,
  open: 1,
  high: 1,
  low: 1,
  close: 1,
  volume: 0,
  turnover: 0,
  open_interest: 0,
  tick_count: 1,
};

describe('fileSource', () => {
  let dir: string;
  let remove: () => void;
  let logLines: string[];

  beforeEach(() => {
    ({ dir, remove } = tempDir());
    logLines = [];
  });
  afterEach(() => remove());

  /** The source for `raw` config on the real scheduler, and its context (metrics, logs in `logLines`). */
  function createSource(raw: Record<string, unknown>) {
    const logger = pino({ level: 'info' }, { write: (line: string) => logLines.push(line) });
    const ctx = testContext(asyncScheduler, fileSource, { logger, stage: 'replay' });
    const ticks$ = fileSource.create(validateConfig(`stage 'replay' (file)`, fileSource.spec, { progress: 'off', ...raw }), ctx);
    return { ticks$, ctx };
  }

  const replay = (ticks$: Observable<Tick>): Promise<Tick[]> => lastValueFrom(ticks$.pipe(toArray()));
  const logs = () => logLines.map((line) => JSON.parse(line) as { level: number; msg: string; [key: string]: unknown });
  const warnings = () => logs().filter((l) => l.level === 40);

  describe('NDJSON', () => {
    it('replays ticks written by the ndjson-file sink equal to what was written', async () => {
      const ticks = simTicks(3000);
      const path = join(dir, 'ticks.ndjson');
      await writeNdjson(path, ticks);
      const { ticks$, ctx } = createSource({ path });
      expect(await replay(ticks$)).toEqual(ticks);
      expect(ctx.metrics.droppedTotal).toBe(0);
    });

    it('reads .jsonl, CRLF line ends, blank lines and a last line without a newline', async () => {
      const ticks = simTicks(3);
      const path = join(dir, 'ticks.jsonl');
      writeFileSync(path, `${JSON.stringify(ticks[0])}\r\n\r\n${JSON.stringify(ticks[1])}\n\n${JSON.stringify(ticks[2])}`);
      const { ticks$, ctx } = createSource({ path });
      expect(await replay(ticks$)).toEqual(ticks);
      expect(ctx.metrics.droppedTotal).toBe(0);
    });

    it('replays an empty file as no ticks', async () => {
      const path = join(dir, 'empty.ndjson');
      writeFileSync(path, '');
      const { ticks$ } = createSource({ path });
      expect(await replay(ticks$)).toEqual([]);
    });

    it('overwrites feed_id when one is configured, and keeps the recorded one when not', async () => {
      const ticks = simTicks(4);
      const path = join(dir, 'ticks.ndjson');
      await writeNdjson(path, ticks);
      expect((await replay(createSource({ path, feed_id: 'replay-a' }).ticks$)).map((t) => t.feed_id)).toEqual([
        'replay-a',
        'replay-a',
        'replay-a',
        'replay-a',
      ]);
      expect((await replay(createSource({ path }).ticks$)).map((t) => t.feed_id)).toEqual(['rec', 'rec', 'rec', 'rec']);
    });
  });

  describe('Avro container files', () => {
    it('replays a file of Tick written with createFileEncoder equal to what was written, across many blocks', async () => {
      const ticks = simTicks(3000);
      const path = join(dir, 'ticks.avro');
      await writeAvroTicks(path, ticks, { blockSize: 4096 });
      const { ticks$, ctx } = createSource({ path });
      expect(await replay(ticks$)).toEqual(ticks);
      expect(ctx.metrics.droppedTotal).toBe(0);
    });

    it('replays a deflate-compressed file', async () => {
      const ticks = simTicks(500);
      const path = join(dir, 'ticks.avro');
      await writeAvroTicks(path, ticks, { codec: 'deflate' });
      expect(await replay(createSource({ path }).ticks$)).toEqual(ticks);
    });

    it('tells the format by the magic bytes and the schema, whatever the file is called', async () => {
      const ticks = simTicks(5);
      const path = join(dir, 'recording.bin');
      await writeAvroTicks(path, ticks);
      expect(await replay(createSource({ path }).ticks$)).toEqual(ticks);
    });

    it('resolves a compatible writer schema to Tick (a field the reader does not know is skipped)', async () => {
      const ticks = simTicks(20);
      const tickSchema = catalog.type('Tick').schema() as { fields: unknown[] };
      const writer = avro.Type.forSchema(
        { ...tickSchema, fields: [...tickSchema.fields, { name: 'venue_note', type: 'string' }] } as avro.Schema,
        { wrapUnions: 'auto' },
      );
      const path = join(dir, 'ticks-v2.avro');
      await writeContainer(
        path,
        writer,
        ticks.map((t) => ({ ...t, venue_note: 'x' })),
      );
      expect(await replay(createSource({ path }).ticks$)).toEqual(ticks);
    });

    it('refuses at creation a Tick file whose writer schema does not resolve', async () => {
      const tickSchema = catalog.type('Tick').schema() as { fields: { name: string }[] };
      const writer = avro.Type.forSchema({ ...tickSchema, fields: tickSchema.fields.filter((f) => f.name !== 'sequence') } as avro.Schema, {
        wrapUnions: 'auto',
      });
      const path = join(dir, 'old.avro');
      const { sequence: _dropped, ...tick } = makeTick();
      await writeContainer(path, writer, [tick]);
      expect(() => createSource({ path })).toThrow(ConfigError);
      expect(() => createSource({ path })).toThrow(/old\.avro: its schema tickflow\.Tick cannot be read as tickflow\.Tick/);
    });
  });

  describe('audit trails', () => {
    it('replays only the tickflow.Tick records, decoding their payload', async () => {
      const ticks = simTicks(1500);
      const path = join(dir, 'audit-000001.avro');
      const written = await writeAudit(path, ticks);
      expect(written.length).toBeGreaterThan(ticks.length);
      const { ticks$, ctx } = createSource({ path });
      expect(await replay(ticks$)).toEqual(ticks);
      expect(ctx.metrics.droppedTotal).toBe(0);
    });

    it('replays a deflate-compressed audit trail with format audit named explicitly', async () => {
      const ticks = simTicks(50);
      const path = join(dir, 'audit.avro');
      await writeAudit(path, ticks, { codec: 'deflate' });
      expect(await replay(createSource({ path, format: 'audit' }).ticks$)).toEqual(ticks);
    });

    it('skips a tick record whose payload is not a Tick, naming its record number and seq', async () => {
      const tickCodec = catalog.codec('Tick');
      const [a, b] = simTicks(2) as [Tick, Tick];
      const path = join(dir, 'audit.avro');
      const record = (seq: number, type: string, payload: Buffer) => ({
        seq,
        ts_init: 1,
        record_type: type,
        payload,
        prev_hash: Buffer.alloc(32),
        hash: Buffer.alloc(32),
      });
      await writeContainer(path, catalog.type('AuditRecord'), [
        record(1, 'tickflow.Tick', tickCodec.encode(a)),
        record(2, 'tickflow.Tick', Buffer.from('not a tick')),
        record(3, 'tickflow.Tick', tickCodec.encode(b)),
      ]);
      const { ticks$, ctx } = createSource({ path });
      expect(await replay(ticks$)).toEqual([a, b]);
      expect(ctx.metrics.droppedByReason.get('invalid')).toBe(1);
      expect(warnings()).toEqual([
        expect.objectContaining({
          file: path,
          record: 2,
          msg: expect.stringMatching(/record 2: audit seq 2: the payload is not a tickflow\.Tick/),
        }),
      ]);
    });
  });

  describe('directories', () => {
    it('replays every file in name order, whatever their formats, passing over hidden files and subdirectories', async () => {
      const ticks = simTicks(9);
      await writeNdjson(join(dir, 'b.ndjson'), ticks.slice(3, 6));
      await writeAvroTicks(join(dir, 'a.avro'), ticks.slice(0, 3));
      await writeAudit(join(dir, 'c-audit'), ticks.slice(6, 9));
      writeFileSync(join(dir, '.b.ndjson.swp'), 'garbage');
      mkdirSync(join(dir, 'z-sub'));
      writeFileSync(join(dir, 'z-sub', 'x.csv'), 'garbage');
      const { ticks$ } = createSource({ path: dir });
      expect(await replay(ticks$)).toEqual(ticks);
      const finished = logs().filter((l) => typeof l.file === 'string' && l.msg.startsWith('replayed '));
      expect(finished.map((l) => [l.file, l.format, l.ticks])).toEqual([
        [join(dir, 'a.avro'), 'avro', 3],
        [join(dir, 'b.ndjson'), 'ndjson', 3],
        [join(dir, 'c-audit'), 'audit', 3],
      ]);
    });

    it('passes over files of no known format with a warning', async () => {
      const ticks = simTicks(2);
      writeFileSync(join(dir, 'notes.txt'), 'hello');
      await writeNdjson(join(dir, 'ticks.ndjson'), ticks);
      expect(await replay(createSource({ path: dir }).ticks$)).toEqual(ticks);
      expect(warnings().map((w) => w.msg)).toEqual([
        expect.stringMatching(/^passing over .*notes\.txt: unknown format; expected a \.ndjson or \.jsonl file/),
      ]);
    });

    it('is a ConfigError for a directory without files to replay, naming what it passed over', () => {
      writeFileSync(join(dir, 'notes.txt'), 'hello');
      writeFileSync(join(dir, 'prices.csv'), 'a,b');
      expect(() => createSource({ path: dir })).toThrow(ConfigError);
      expect(() => createSource({ path: dir })).toThrow(
        /3 problems:[\s\S]*is a directory without files to replay[\s\S]*notes\.txt: unknown format[\s\S]*prices\.csv: unknown format/,
      );
      const empty = join(dir, 'empty');
      mkdirSync(empty);
      expect(() => createSource({ path: empty })).toThrow(/is a directory without files to replay/);
    });

    it('is a ConfigError naming every recording of a directory that cannot be replayed', async () => {
      await writeNdjson(join(dir, 'a.ndjson'), simTicks(1));
      writeFileSync(join(dir, 'b.avro'), 'Obj\x01');
      await writeContainer(join(dir, 'c.avro'), catalog.type('Bar'), [A_BAR]);
      expect(() => createSource({ path: dir })).toThrow(
        /2 problems:[\s\S]*b\.avro: the file ends inside its Avro header[\s\S]*c\.avro: an Avro container file of tickflow\.Bar/,
      );
    });
  });

  describe('invalid input', () => {
    it('skips malformed lines and ticks failing the schema, counting them and logging their line numbers', async () => {
      const ticks = simTicks(3);
      const path = join(dir, 'ticks.ndjson');
      const badTick = { ...ticks[0], bid_volume1: 'ten' };
      const extraField = { ...ticks[0], comment: 'x' };
      writeFileSync(
        path,
        [
          JSON.stringify(ticks[0]),
          '{"instrument_id": "SHFE.rb25',
          JSON.stringify(ticks[1]),
          JSON.stringify(badTick),
          '',
          JSON.stringify(extraField),
          '[]',
          JSON.stringify(ticks[2]),
        ].join('\n'),
      );
      const { ticks$, ctx } = createSource({ path });
      expect(await replay(ticks$)).toEqual(ticks);
      expect(ctx.metrics.droppedByReason.get('invalid')).toBe(4);
      expect(warnings().map((w) => [w.file, w.line, w.msg])).toEqual([
        [path, 2, expect.stringMatching(new RegExp(`^skipped invalid input at .*ticks\\.ndjson line 2: not JSON`))],
        [path, 4, expect.stringMatching(/line 4: not a valid tickflow\.Tick: field 'bid_volume1' expected int, got string "ten"/)],
        [path, 6, expect.stringMatching(/line 6: not a valid tickflow\.Tick: field 'comment' is not in schema/)],
        [path, 7, expect.stringMatching(/line 7: not a valid tickflow\.Tick/)],
      ]);
      expect(logs().at(-1)).toMatchObject({ msg: 'file replay finished', ticks: 3, invalid: 4 });
    });

    it('logs the first ten invalid lines, then every thousandth, and counts them all', async () => {
      const path = join(dir, 'noisy.ndjson');
      const [tick] = simTicks(1) as [Tick];
      writeFileSync(path, `${Array.from({ length: 2500 }, (_, i) => `bad ${i}`).join('\n')}\n${JSON.stringify(tick)}\n`);
      const { ticks$, ctx } = createSource({ path });
      expect(await replay(ticks$)).toEqual([tick]);
      expect(ctx.metrics.droppedByReason.get('invalid')).toBe(2500);
      expect(warnings().map((w) => w.line)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1000, 2000]);
    });

    it('rejects an empty instrument_id, a 1e308 price and other implausible values: counted, dead-lettered with file:line, logged', async () => {
      const [good, later] = simTicks(2) as [Tick, Tick];
      const path = join(dir, 'implausible.ndjson');
      const lines = [
        good,
        { ...good, instrument_id: '' },
        { ...good, last_price: 1e308 },
        { ...good, instrument_id: 'rb2501' },
        { ...good, volume: -3 },
        { ...good, ts_event: Date.UTC(2250, 0, 1) * 1000 },
        { ...good, trading_day: '2025-01-03' },
        later,
      ];
      writeFileSync(path, lines.map((l) => JSON.stringify(l)).join('\n'));
      const { ticks$, ctx } = createSource({ path });
      expect(await replay(ticks$)).toEqual([good, later]);
      expect(ctx.metrics.droppedByReason.get('invalid')).toBe(6);
      expect(ctx.deadLetters.map((l) => [l.edge, l.schema, l.reason])).toEqual([
        [
          `${path}:2 -> replay`,
          'Tick',
          expect.stringMatching(/^not a plausible tickflow\.Tick: 'instrument_id' "" is not EXCHANGE\.symbol/),
        ],
        [`${path}:3 -> replay`, 'Tick', expect.stringMatching(/^not a plausible tickflow\.Tick: 'last_price' 1e\+308 is not a price/)],
        [`${path}:4 -> replay`, 'Tick', expect.stringMatching(/'instrument_id' "rb2501" is not EXCHANGE\.symbol/)],
        [`${path}:5 -> replay`, 'Tick', expect.stringMatching(/'volume' -3 is not a volume/)],
        [`${path}:6 -> replay`, 'Tick', expect.stringMatching(/'ts_event' 8835955200000000 is not a time/)],
        [`${path}:7 -> replay`, 'Tick', expect.stringMatching(/'trading_day' "2025-01-03" is not a YYYYMMDD date/)],
      ]);
      expect(JSON.parse(ctx.deadLetters[0]?.payload_json ?? '')).toMatchObject({ instrument_id: '', sequence: good.sequence });
      expect(warnings().map((w) => w.line)).toEqual([2, 3, 4, 5, 6, 7]);
    });

    it('refuses a line nested too deep before parsing it, and replays the good lines around it', async () => {
      const [good, later] = simTicks(2) as [Tick, Tick];
      const path = join(dir, 'deep.ndjson');
      const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
      writeFileSync(path, [JSON.stringify(good), `{"instrument_id":${deep}}`, deep, JSON.stringify(later)].join('\n'));
      const { ticks$, ctx } = createSource({ path });
      expect(await replay(ticks$)).toEqual([good, later]);
      expect(ctx.metrics.droppedByReason.get('invalid')).toBe(2);
      expect(ctx.deadLetters.map((l) => [l.edge, l.reason])).toEqual([
        [`${path}:2 -> replay`, 'nested deeper than 8 levels'],
        [`${path}:3 -> replay`, 'nested deeper than 8 levels'],
      ]);
      expect(ctx.deadLetters[0]?.payload_json.length).toBeLessThan(5000);
    });

    it('skips a line whose value cannot be printed (a key toString) instead of failing the replay', async () => {
      const [good, later] = simTicks(2) as [Tick, Tick];
      const path = join(dir, 'to-string.ndjson');
      writeFileSync(
        path,
        [
          JSON.stringify(good),
          JSON.stringify({ ...good, volume: { toString: 1 } }),
          JSON.stringify({ ...good, instrument_id: [{ valueOf: 2, toString: 3 }] }),
          JSON.stringify(later),
        ].join('\n'),
      );
      const { ticks$, ctx } = createSource({ path });
      expect(await replay(ticks$)).toEqual([good, later]);
      expect(ctx.deadLetters.map((l) => [l.edge, l.reason])).toEqual([
        [`${path}:2 -> replay`, expect.stringMatching(/^not a valid tickflow\.Tick: /)],
        [`${path}:3 -> replay`, expect.stringMatching(/^not a valid tickflow\.Tick: /)],
      ]);
    });

    it('rejects implausible ticks of an Avro file and of an audit trail, dead-lettered with their record number', async () => {
      const [a, b, c] = simTicks(3) as [Tick, Tick, Tick];
      const avroPath = join(dir, 'implausible.avro');
      await writeAvroTicks(avroPath, [
        a,
        { ...b, instrument_id: InstrumentId('') },
        { ...b, ask_price1: Number.NaN },
        { ...b, bid_price2: -1e308 },
        c,
      ]);
      const avroRun = createSource({ path: avroPath });
      expect(await replay(avroRun.ticks$)).toEqual([a, c]);
      expect(avroRun.ctx.metrics.droppedByReason.get('invalid')).toBe(3);
      expect(avroRun.ctx.deadLetters.map((l) => [l.edge, l.reason])).toEqual([
        [`${avroPath} record 2 -> replay`, expect.stringMatching(/'instrument_id' "" is not EXCHANGE\.symbol/)],
        [`${avroPath} record 3 -> replay`, expect.stringMatching(/'ask_price1' NaN is not a price/)],
        [`${avroPath} record 4 -> replay`, expect.stringMatching(/'bid_price2' -1e\+308 is not a price/)],
      ]);

      const auditPath = join(dir, 'audit-implausible.avro');
      const tickCodec = catalog.codec('Tick');
      await writeContainer(auditPath, catalog.type('AuditRecord'), [
        auditRecord(1, 'tickflow.Tick', tickCodec.encode(a)),
        auditRecord(2, 'tickflow.Tick', tickCodec.encode({ ...b, last_price: 1e308 })),
        auditRecord(3, 'tickflow.Tick', tickCodec.encode(c)),
      ]);
      const auditRun = createSource({ path: auditPath });
      expect(await replay(auditRun.ticks$)).toEqual([a, c]);
      expect(auditRun.ctx.metrics.droppedByReason.get('invalid')).toBe(1);
      expect(auditRun.ctx.deadLetters.map((l) => [l.edge, l.reason])).toEqual([
        [
          `${auditPath} record 2 -> replay`,
          expect.stringMatching(/^audit seq 2: not a plausible tickflow\.Tick: 'last_price' 1e\+308 is not a price/),
        ],
      ]);
    });

    it('dead-letters every line it skips, not only implausible ones', async () => {
      const [good] = simTicks(1) as [Tick];
      const path = join(dir, 'mixed.ndjson');
      writeFileSync(
        path,
        [JSON.stringify(good), '{"instrument_id": "SHFE.rb25', JSON.stringify({ ...good, bid_volume1: 'ten' })].join('\n'),
      );
      const { ticks$, ctx } = createSource({ path });
      expect(await replay(ticks$)).toEqual([good]);
      expect(ctx.deadLetters.map((l) => [l.edge, l.reason, l.payload_json])).toEqual([
        [`${path}:2 -> replay`, expect.stringMatching(/^not JSON: /), '{"instrument_id": "SHFE.rb25'],
        [`${path}:3 -> replay`, expect.stringMatching(/field 'bid_volume1' expected int/), expect.stringContaining('"bid_volume1":"ten"')],
      ]);
    });

    it('replays the complete blocks of an Avro file with a torn tail and counts the records of the torn block', async () => {
      const ticks = simTicks(400);
      const path = join(dir, 'torn.avro');
      await writeAvroTicks(path, ticks, { blockSize: 8192 });
      const size = readFileSync(path).length;
      truncateSync(path, size - 100);
      const { ticks$, ctx } = createSource({ path });
      const replayed = await replay(ticks$);
      expect(replayed.length).toBeGreaterThan(300);
      expect(replayed).toEqual(ticks.slice(0, replayed.length));
      expect(ctx.metrics.droppedByReason.get('invalid')).toBe(ticks.length - replayed.length);
      expect(warnings()).toEqual([expect.objectContaining({ msg: expect.stringMatching(/the file ends inside a block of \d+ records/) })]);
    });

    it('skips a block whose sync marker is damaged and resumes at the next block', async () => {
      const ticks = simTicks(400);
      const path = join(dir, 'damaged.avro');
      await writeAvroTicks(path, ticks, { blockSize: 8192 });
      const bytes = readFileSync(path);
      const sync = bytes.subarray(bytes.length - 16);
      const endOfHeader = bytes.indexOf(sync) + 16;
      const endOfFirstBlock = bytes.indexOf(sync, endOfHeader);
      bytes[endOfFirstBlock] = (bytes[endOfFirstBlock] as number) ^ 0xff;
      writeFileSync(path, bytes);
      const { ticks$, ctx } = createSource({ path });
      const replayed = await replay(ticks$);
      const counted = ctx.metrics.droppedByReason.get('invalid') ?? 0;
      // The first block is counted; the second, up to the next intact marker, is lost with it, as in every Avro reader.
      expect(counted).toBeGreaterThan(0);
      expect(replayed.length).toBeLessThan(ticks.length - counted);
      expect(replayed).toEqual(ticks.slice(ticks.length - replayed.length));
      expect(warnings()).toEqual([
        expect.objectContaining({ record: 1, msg: expect.stringMatching(/does not end in the file's sync marker/) }),
      ]);
    });
  });

  describe('config', () => {
    it('is a ConfigError naming a path that does not exist', () => {
      const path = join(dir, 'missing.ndjson');
      expect(() => createSource({ path })).toThrow(ConfigError);
      expect(() => createSource({ path })).toThrow(
        new RegExp(
          `stage 'replay' \\(file\\): 'path' ${path.replace(/[.]/g, '\\.')} cannot be read .*ENOENT.*expected a recorded file of ticks or a directory of them`,
        ),
      );
    });

    it('is a ConfigError naming the file and what was expected for an unknown format', () => {
      const path = join(dir, 'ticks.csv');
      writeFileSync(path, 'instrument_id,last_price\n');
      expect(() => createSource({ path })).toThrow(ConfigError);
      expect(() => createSource({ path })).toThrow(
        /ticks\.csv: unknown format; expected a \.ndjson or \.jsonl file of Ticks, or an Avro container file .* of tickflow\.Tick or tickflow\.AuditRecord/,
      );
    });

    it('is a ConfigError for an Avro file of another schema, and for a format that does not match the content', async () => {
      const bars = join(dir, 'bars.avro');
      await writeContainer(bars, catalog.type('Bar'), [A_BAR]);
      expect(() => createSource({ path: bars })).toThrow(
        /bars\.avro: an Avro container file of tickflow\.Bar; expected one of tickflow\.Tick \(format avro\) or tickflow\.AuditRecord/,
      );
      const ndjson = join(dir, 'ticks.ndjson');
      writeFileSync(ndjson, '');
      expect(() => createSource({ path: ndjson, format: 'avro' })).toThrow(
        /not an Avro container file .*'format: avro' expects an Avro container file of tickflow\.Tick/,
      );
      const audit = join(dir, 'audit.avro');
      await writeAudit(audit, simTicks(1));
      expect(() => createSource({ path: audit, format: 'avro' })).toThrow(/an audit trail/);
      expect(() => createSource({ path: audit, format: 'ndjson' })).toThrow(/an Avro container file of tickflow\.AuditRecord, not NDJSON/);
    });

    it('refuses at creation an Avro header whose metadata claims 2^40 entries, without walking them', () => {
      // Zigzag varint of 2^40: the entry count a 10-byte file claims.
      const count: number[] = [];
      for (let v = 2 ** 41; v >= 128; v = Math.floor(v / 128)) count.push((v % 128) | 128);
      count.push(Math.floor(2 ** 41 / 128 ** count.length));
      const path = join(dir, 'claims.avro');
      writeFileSync(path, Buffer.from([...Buffer.from('Obj\x01', 'latin1'), ...count]));
      expect(() => createSource({ path })).toThrow(ConfigError);
      expect(() => createSource({ path })).toThrow(/claims\.avro: corrupt Avro header: more than 1024 metadata entries/);
    });

    it('reads a file as NDJSON whatever its name when format is ndjson', async () => {
      const ticks = simTicks(2);
      const path = join(dir, 'ticks.txt');
      await writeNdjson(path, ticks);
      expect(await replay(createSource({ path, format: 'ndjson' }).ticks$)).toEqual(ticks);
    });

    it('requires path and rejects unknown fields, a negative speed and an unknown progress mode through the spec', () => {
      expect(() => createSource({})).toThrow(/missing required field 'path'/);
      expect(() => createSource({ path: dir, rate: 1 })).toThrow(/unknown field 'rate'/);
      expect(() => createSource({ path: dir, speed: -1 })).toThrow(/'speed' must be at least 0/);
      expect(() => createSource({ path: dir, progress: 'always' })).toThrow(/'progress' must be one of auto, on, off/);
    });
  });

  describe('replay', () => {
    it('paces on the scheduler at speed 1, with long gaps capped at max_gap_ms', async () => {
      const hour = 3600 * 1_000_000;
      const ticks = [0, 1, 2].map((i) => makeTick({ ts_event: makeTick().ts_event + i * hour, sequence: i + 1 }));
      const path = join(dir, 'hourly.ndjson');
      await writeNdjson(path, ticks);
      const times: number[] = [];
      const started = asyncScheduler.now();
      const replayed = await replay(
        createSource({ path, speed: 1, max_gap_ms: 30 }).ticks$.pipe(tap(() => times.push(asyncScheduler.now() - started))),
      );
      expect(replayed).toEqual(ticks);
      // Two gaps of an hour, each capped at 30 ms of scheduler time. The first record is due when it is read (after `started`)
      // and the others 30 ms apart from that due time; timers fire late, never early. Measured from `started`, not from the
      // first emission: on a loaded machine that one may itself come late, and the next one is then less than 30 ms after it.
      const [, second, third] = times as [number, number, number];
      expect(second).toBeGreaterThanOrEqual(29);
      expect(third).toBeGreaterThanOrEqual(59);
      expect(third).toBeLessThan(5_000);
    });

    it('replays from the start for each subscription', async () => {
      const ticks = simTicks(10);
      const path = join(dir, 'ticks.ndjson');
      await writeNdjson(path, ticks);
      const { ticks$ } = createSource({ path });
      expect(await replay(ticks$)).toEqual(ticks);
      expect(await replay(ticks$)).toEqual(ticks);
    });

    it('stops when unsubscribed early, and logs the start', async () => {
      const ticks = simTicks(20_000);
      const path = join(dir, 'large.avro');
      await writeAvroTicks(path, ticks);
      const { ticks$ } = createSource({ path });
      expect(await firstValueFrom(ticks$)).toEqual(ticks[0]);
      expect(await lastValueFrom(ticks$.pipe(take(1500), toArray()))).toEqual(ticks.slice(0, 1500));
      expect(logs().filter((l) => l.msg === 'file replay finished')).toEqual([]);
      expect(logs()[0]).toMatchObject({ msg: 'file replay started', path, files: 1, formats: ['avro'], speed: 0 });
    });

    it('errors with a StageError naming the file when it disappears before it is read', async () => {
      const path = join(dir, 'gone.ndjson');
      writeFileSync(path, '');
      const { ticks$ } = createSource({ path });
      rmSync(path);
      await expect(replay(ticks$)).rejects.toThrow(StageError);
      await expect(replay(ticks$)).rejects.toThrow(/file: cannot replay .*gone\.ndjson \(ndjson\): ENOENT/);
    });
  });

  describe('in a pipeline', () => {
    it('runs from a definition file: file → ndjson-file writes the recording back byte for byte', async () => {
      const recorded = join(dir, 'recorded.ndjson');
      const copy = join(dir, 'copy.ndjson');
      await writeNdjson(recorded, simTicks(2000));
      const definition = join(dir, 'replay.yaml');
      writeFileSync(
        definition,
        `name: replay\nstages:\n  - { id: replay, use: file, config: { path: ${JSON.stringify(recorded)}, progress: 'off' } }\n  - { id: out, use: ndjson-file, from: replay, config: { path: ${JSON.stringify(copy)} } }\n`,
      );
      const graph = loadPipelineFile(definition, new ComponentRegistry([fileSource, ndjsonFileSink])).build();
      const run = runPipeline(graph, { validation: 'boundary' });
      expect((await run.done).ok).toBe(true);
      expect(run.health().stages['replay']).toMatchObject({ records_out: 2000 });
      expect(readFileSync(copy).equals(readFileSync(recorded))).toBe(true);
    });
  });

  describe('progress', () => {
    it('draws no progress bar when stderr is not a terminal, and says so when asked for one', async () => {
      const path = join(dir, 'ticks.ndjson');
      await writeNdjson(path, simTicks(5));
      const write = vi.spyOn(process.stderr, 'write');
      try {
        expect(process.stderr.isTTY).not.toBe(true);
        await replay(createSource({ path, progress: 'auto' }).ticks$);
        await replay(createSource({ path, progress: 'on' }).ticks$);
        expect(write).not.toHaveBeenCalled();
      } finally {
        write.mockRestore();
      }
      expect(warnings().map((w) => w.msg)).toEqual(['no progress bar: stderr is not a terminal']);
    });
  });
});
