import { readFileSync, statSync, truncateSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { validateConfig } from '../../pipeline/config/validate-config.js';
import { AuditIntegrityError, ConfigError } from '../../errors/errors.js';
import { pipeline } from '../../pipeline/graph/pipeline.js';
import { runPipeline } from '../../pipeline/runtime/run-pipeline.js';
import type { AuditRecord, FeedStatus, OrderEvent, OrderFilled, Signal, SubmitOrder } from '../../schemas/generated.js';
import { fromPlainIds } from '../support/plain-ids.js';
import { AuditFileReader } from '../../sinks/audit/audit-file-reader.js';
import { lockAuditDir } from '../../sinks/audit/audit-dir-lock.js';
import { verifyAuditTrail } from '../../sinks/audit/verify-audit-trail.js';
import { auditSink } from '../../sinks/audit-sink.js';
import {
  auditFiles,
  clockScheduler,
  decodeFile,
  manualScheduler,
  memoryLogger,
  readTrail,
  schemas,
  startAudit,
  T0_MS,
  tick,
  tmp,
  writeTrail,
} from '../support/audit-harness.js';
import { recordsSource } from '../support/test-components.js';
import { waitFor } from '../support/wait-for.js';

const submit = fromPlainIds<SubmitOrder>({
  type: 'SubmitOrder',
  command_id: 'c1',
  client_order_id: 'o1',
  strategy_id: 's',
  account_id: 'a',
  instrument_id: 'SHFE.rb2501',
  side: 'BUY',
  order_type: 'LIMIT',
  time_in_force: 'GFD',
  position_effect: 'OPEN',
  quantity: 2,
  price: 3500,
  venue: null,
  ts_init: T0_MS * 1000,
  causation_id: null,
});
const filled = fromPlainIds<OrderFilled>({
  type: 'OrderFilled',
  event_id: 'e2',
  client_order_id: 'o1',
  strategy_id: 's',
  account_id: 'a',
  instrument_id: 'SHFE.rb2501',
  venue_order_id: 'v1',
  trade_id: 't1',
  side: 'BUY',
  last_quantity: 2,
  last_price: 3500,
  cum_quantity: 2,
  leaves_quantity: 0,
  ts_event: T0_MS * 1000,
  ts_init: T0_MS * 1000,
  causation_id: 'c1',
});
const signal = fromPlainIds<Signal>({
  signal_id: 'g1',
  strategy_id: 's',
  instrument_id: 'SHFE.rb2501',
  name: 'ma_cross',
  value: 1.5,
  ts_event: T0_MS * 1000,
  ts_init: T0_MS * 1000,
  causation_id: null,
});
const feedUp: FeedStatus = {
  feed_id: 'a',
  state: 'UP',
  ts_event: T0_MS * 1000,
  last_tick_ts: null,
  lead_count: 0,
  lag_count: 0,
  gap_count: 0,
  drop_count: 0,
  detail: 'first tick',
};

/** Block sizes of an audit file, by record count. */
async function blockCounts(path: string): Promise<number[]> {
  const reader = await AuditFileReader.open(path);
  try {
    const header = await reader.header();
    if (header.kind !== 'ok') throw new Error('bad header');
    const counts: number[] = [];
    for await (const b of reader.blocks(header.header.end, header.header.sync)) counts.push(b.kind === 'block' ? b.count : -1);
    return counts;
  } finally {
    await reader.close();
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('auditSink', () => {
  it('declares its ports, boundary and fields with descriptions, defaults and examples', () => {
    expect(auditSink.in).toEqual({
      ticks: 'Tick',
      commands: 'OrderCommand',
      events: 'OrderEvent',
      signals: 'Signal',
      feeds: 'FeedStatus',
      controls: 'RiskControlChanged',
    });
    expect(auditSink.boundary).toBe(true);
    expect(Object.keys(auditSink.spec)).toEqual(['dir', 'group_commit_ms', 'max_batch', 'rotate', 'max_file_bytes']);
    for (const [name, spec] of Object.entries(auditSink.spec)) {
      expect(spec.description, name).not.toBe('');
      expect(spec.default, name).toBeDefined();
      expect(spec.example, name).toBeDefined();
    }
    expect(validateConfig('audit', auditSink.spec, {})).toEqual({
      dir: 'out/audit',
      group_commit_ms: 2,
      max_batch: 1000,
      rotate: 'daily',
      max_file_bytes: 268_435_456,
    });
    expect(() => validateConfig('audit', auditSink.spec, { rotate: 'hourly', max_batch: 0, fsync: true })).toThrow(ConfigError);
  });

  it('writes every record of every port as a chained AuditRecord and acknowledges each with it, in order', async () => {
    const dir = tmp();
    const scheduler = clockScheduler(() => T0_MS + 0.25);
    const sink = startAudit({ dir }, { scheduler });
    sink.ticks.next(tick(1));
    sink.commands.next(submit);
    sink.events.next(filled);
    sink.signals.next(signal);
    sink.feeds.next(feedUp);
    sink.ticks.next(tick(2));
    await sink.end();
    expect(sink.acks.map((r) => [r.seq, r.record_type])).toEqual([
      [1, 'tickflow.Tick'],
      [2, 'tickflow.SubmitOrder'],
      [3, 'tickflow.OrderFilled'],
      [4, 'tickflow.Signal'],
      [5, 'tickflow.FeedStatus'],
      [6, 'tickflow.Tick'],
    ]);
    expect(sink.acks.every((r) => r.ts_init === T0_MS * 1000 + 250)).toBe(true);
    const [file] = await readTrail(dir);
    expect(file?.file).toBe('audit-000001-20250103.avro');
    const records = file?.records ?? [];
    expect(records.map((r) => r.hash.toString('hex'))).toEqual(sink.acks.map((r) => r.hash.toString('hex')));
    expect(schemas.codec('Tick').decode(records[0]?.payload as Buffer)).toEqual(tick(1));
    expect(schemas.codec('SubmitOrder').decode(records[1]?.payload as Buffer)).toEqual(submit);
    expect(schemas.codec('OrderFilled').decode(records[2]?.payload as Buffer)).toEqual(filled);
    expect(schemas.codec('Signal').decode(records[3]?.payload as Buffer)).toEqual(signal);
    expect(schemas.codec('FeedStatus').decode(records[4]?.payload as Buffer)).toEqual(feedUp);
    expect(records[0]?.prev_hash).toEqual(Buffer.alloc(32));
    for (let i = 1; i < records.length; i++) expect(records[i]?.prev_hash).toEqual(records[i - 1]?.hash);
    expect((await verifyAuditTrail(dir)).problem).toBeUndefined();
  });

  it('holds records for group_commit_ms on the scheduler, then writes them as one block; a full max_batch goes at once', async () => {
    const dir = tmp();
    const scheduler = manualScheduler();
    const sink = startAudit({ dir, group_commit_ms: 5, max_batch: 4 }, { scheduler });
    await new Promise((r) => setTimeout(r, 50)); // recovery done: the trail is open
    for (let i = 1; i <= 3; i++) sink.ticks.next(tick(i));
    expect(scheduler.delays).toEqual([5]);
    await new Promise((r) => setTimeout(r, 50));
    expect(sink.acks).toHaveLength(0);
    expect(auditFiles(dir)).toEqual([]);
    expect(scheduler.fire()).toBe(1);
    await waitFor('the first block', () => (sink.acks.length === 3 ? true : undefined));
    for (let i = 4; i <= 9; i++) sink.ticks.next(tick(i)); // 4 go at once, 2 wait for the timer
    await waitFor('the full batch', () => (sink.acks.length === 7 ? true : undefined));
    scheduler.fire();
    await waitFor('the rest', () => (sink.acks.length === 9 ? true : undefined));
    await sink.end();
    expect(await blockCounts(join(dir, auditFiles(dir)[0] as string))).toEqual([3, 4, 2]);
  });

  it('acknowledges a record only after its block is written and fdatasync has returned', async () => {
    const dir = tmp();
    const probe = await open(join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as {
      write: (...a: unknown[]) => Promise<unknown>;
      writev: (...a: unknown[]) => Promise<unknown>;
      datasync: () => Promise<void>;
    };
    await probe.close();
    const events: ({ kind: 'write'; bytes: Buffer } | { kind: 'synced' })[] = [];
    const write = proto.write;
    const writev = proto.writev;
    const datasync = proto.datasync;
    vi.spyOn(proto, 'write').mockImplementation(async function (this: unknown, ...args: unknown[]) {
      const [buffer, offset, length] = args as [Buffer, number, number];
      events.push({ kind: 'write', bytes: Buffer.from(buffer.subarray(offset, offset + length)) });
      return write.apply(this, args);
    });
    vi.spyOn(proto, 'writev').mockImplementation(async function (this: unknown, ...args: unknown[]) {
      // Copied at the call: what the buffers held when they were handed to the kernel.
      events.push({ kind: 'write', bytes: Buffer.concat(args[0] as Buffer[]) });
      return writev.apply(this, args);
    });
    vi.spyOn(proto, 'datasync').mockImplementation(async function (this: unknown) {
      await datasync.apply(this);
      events.push({ kind: 'synced' });
    });
    const problems: string[] = [];
    let checked = 0;
    const sink = startAudit(
      { dir, group_commit_ms: 1, max_batch: 7, max_file_bytes: 4096, rotate: 'size' },
      {
        onAck: (record) => {
          checked++;
          const written = events.findLastIndex((e) => e.kind === 'write' && e.bytes.includes(record.hash));
          if (written < 0 || !events.slice(written + 1).some((e) => e.kind === 'synced'))
            problems.push(`seq ${record.seq} acknowledged before fdatasync`);
          // And the block is in the file: read it back in the ack callback.
          const onDisk = auditFiles(dir).some((f) => readFileSync(join(dir, f)).includes(record.hash));
          if (!onDisk) problems.push(`seq ${record.seq} not in any file when acknowledged`);
        },
      },
    );
    for (let i = 1; i <= 60; i++) {
      sink.ticks.next(tick(i));
      if (i % 9 === 0) await new Promise((r) => setTimeout(r, 3));
    }
    await sink.end();
    expect(checked).toBe(60);
    expect(problems).toEqual([]);
    expect(auditFiles(dir).length).toBeGreaterThan(1);
  });

  it('rotates by size and the chain continues across files; avsc reads every file', async () => {
    const dir = tmp();
    const sink = startAudit({ dir, group_commit_ms: 0, max_batch: 3, rotate: 'size', max_file_bytes: 4096 });
    for (let i = 1; i <= 60; i++) {
      sink.ticks.next(tick(i));
      if (i % 3 === 0) await new Promise((r) => setTimeout(r, 2));
    }
    await sink.end();
    const trail = await readTrail(dir);
    expect(trail.length).toBeGreaterThan(3);
    expect(trail.map((f) => f.file)).toEqual(
      trail.map((_, i) => `audit-${String(i + 1).padStart(6, '0')}-${trail[0]?.file.slice(13, 21)}.avro`),
    );
    const all = trail.flatMap((f) => f.records);
    expect(all.map((r) => r.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    for (let k = 1; k < trail.length; k++) expect(trail[k]?.records[0]?.prev_hash).toEqual(trail[k - 1]?.records.at(-1)?.hash);
    // A file only passes the limit when its one block alone does.
    for (const f of trail)
      expect(statSync(join(dir, f.file)).size <= 4096 || (await blockCounts(join(dir, f.file))).length === 1).toBe(true);
    expect((await verifyAuditTrail(dir)).problem).toBeUndefined();
  });

  it('rotates daily by the trading day of ts_init: the night session opens the next day’s file, Friday night Monday’s', async () => {
    const dir = tmp();
    const scheduler = manualScheduler(Date.parse('2025-01-02T14:00:00+08:00'));
    const sink = startAudit({ dir, group_commit_ms: 1 }, { scheduler });
    const at = async (iso: string, i: number): Promise<void> => {
      scheduler.nowMs = Date.parse(iso);
      sink.ticks.next(tick(i));
      scheduler.fire();
      await waitFor(`record ${i}`, () => (sink.acks.length === i ? true : undefined));
    };
    await new Promise((r) => setTimeout(r, 30));
    await at('2025-01-02T14:00:00+08:00', 1);
    await at('2025-01-02T21:00:00+08:00', 2);
    await at('2025-01-03T10:00:00+08:00', 3);
    await at('2025-01-03T21:30:00+08:00', 4);
    await sink.end();
    expect(auditFiles(dir)).toEqual(['audit-000001-20250102.avro', 'audit-000002-20250103.avro', 'audit-000003-20250106.avro']);
    expect((await readTrail(dir)).map((f) => f.records.map((r) => r.seq))).toEqual([[1], [2, 3], [4]]);
    expect((await verifyAuditTrail(dir)).problem).toBeUndefined();
  });

  it('continues seq and chain after a restart, in the same file', async () => {
    const dir = tmp();
    const first = startAudit({ dir });
    for (let i = 1; i <= 5; i++) first.ticks.next(tick(i));
    await first.end();
    const second = startAudit({ dir });
    for (let i = 6; i <= 8; i++) second.ticks.next(tick(i));
    await second.end();
    expect(second.acks.map((r) => r.seq)).toEqual([6, 7, 8]);
    expect(second.acks[0]?.prev_hash).toEqual(first.acks.at(-1)?.hash);
    expect(auditFiles(dir)).toHaveLength(1);
    expect((await verifyAuditTrail(dir)).lastSeq).toBe(8);
  });

  it('repairs a torn tail on start and warns, then continues from the last good record', async () => {
    const dir = tmp();
    await writeTrail(dir, 30, { blockSize: 10 });
    const path = join(dir, auditFiles(dir)[0] as string);
    truncateSync(path, statSync(path).size - 20);
    const { logger, lines } = memoryLogger();
    const sink = startAudit({ dir }, { logger });
    sink.ticks.next(tick(21));
    await sink.end();
    expect(sink.acks.map((r) => r.seq)).toEqual([21]);
    expect(lines.filter((l) => l['level'] === 40).map((l) => l['msg'])).toEqual([
      expect.stringMatching(/cut a torn tail of \d+ bytes from audit-000001-\d+\.avro after seq 20/),
    ]);
    expect(await verifyAuditTrail(dir)).toMatchObject({ lastSeq: 21, problem: undefined });
  });

  it('refuses to start when an older file is damaged: the error names file and seq, nothing is written', async () => {
    const dir = tmp();
    await writeTrail(dir, 40, { blockSize: 10, maxFileBytes: 4000 });
    const files = auditFiles(dir);
    const first = join(dir, files[0] as string);
    const bytes = readFileSync(first);
    const records = await decodeFile(first);
    const at = bytes.indexOf((records[9] as AuditRecord).hash) - 40;
    bytes[at] = (bytes[at] as number) ^ 0x10;
    await open(first, 'w').then(async (h) => {
      await h.writeFile(bytes);
      await h.close();
    });
    const sink = startAudit({ dir });
    sink.ticks.next(tick(41));
    const error = await sink.done.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuditIntegrityError);
    expect((error as Error).message).toMatch(new RegExp(`refusing to start: altered record: seq 10 in ${files[0]}`));
    // It says what to do, not only what is wrong.
    expect((error as Error).message).toContain(
      `run 'tickflow audit verify ${dir}' and investigate; to run meanwhile, move the directory aside as evidence (mv ${dir} ${dir}.damaged) or give the audit stage another 'dir'`,
    );
    expect(auditFiles(dir)).toEqual(files);
    expect(sink.acks).toEqual([]);
  });

  it('completes without creating a file when every input is empty', async () => {
    const dir = tmp();
    const sink = startAudit({ dir });
    await sink.end();
    expect(sink.acks).toEqual([]);
    expect(auditFiles(dir)).toEqual([]);
  });

  it('commits what it received before an input error, then raises the error', async () => {
    const dir = tmp();
    const sink = startAudit({ dir, group_commit_ms: 1000 });
    sink.ticks.next(tick(1));
    sink.ticks.next(tick(2));
    sink.events.error(new Error('upstream broke'));
    await expect(sink.done).rejects.toThrow('upstream broke');
    expect(sink.acks.map((r) => r.seq)).toEqual([1, 2]);
    expect((await verifyAuditTrail(dir)).lastSeq).toBe(2);
  });

  it('closes its file when unsubscribed, committing what it received; a restart continues after it', async () => {
    const dir = tmp();
    const sink = startAudit({ dir, group_commit_ms: 1000 });
    sink.ticks.next(tick(1));
    sink.ticks.next(tick(2));
    sink.subscription.unsubscribe();
    await waitFor('the lock to be released', () => {
      try {
        lockAuditDir(dir).release();
        return true;
      } catch {
        return undefined;
      }
    });
    expect((await verifyAuditTrail(dir)).lastSeq).toBe(2);
    const again = startAudit({ dir });
    again.ticks.next(tick(3));
    await again.end();
    expect(again.acks.map((r) => r.seq)).toEqual([3]);
    expect((await verifyAuditTrail(dir)).problem).toBeUndefined();
  });

  it('fails the stage, naming the directory, when a block cannot be made durable, and acknowledges nothing of it', async () => {
    const dir = tmp();
    const probe = await open(join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    const sink = startAudit({ dir, group_commit_ms: 1 });
    sink.ticks.next(tick(1));
    await waitFor('the first ack', () => (sink.acks.length === 1 ? true : undefined));
    vi.spyOn(proto, 'datasync').mockRejectedValueOnce(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    sink.ticks.next(tick(2));
    await expect(sink.done).rejects.toThrow(`audit: cannot write to ${dir}: EIO: i/o error, fdatasync`);
    expect(sink.acks.map((r) => r.seq)).toEqual([1]);
  });

  it('fails the stage when a record cannot be encoded (the runner validates, so this is a bug upstream)', async () => {
    const sink = startAudit({ dir: tmp() });
    sink.events.next({ type: 'OrderTeleported' } as unknown as OrderEvent);
    await expect(sink.done).rejects.toThrow(/cannot encode a record of port 'events'/);
  });

  it('runs as a stage of a pipeline, records_out counting the acknowledged records', async () => {
    const dir = tmp();
    const graph = pipeline('audited', '', (g) => {
      g.sink(
        'audit',
        auditSink,
        { dir },
        {
          ticks: g.source('market', recordsSource('ticks', 'Tick', [tick(1), tick(2), tick(3)])),
          events: g.source('orders', recordsSource('events', 'OrderEvent', [filled])),
        },
      );
    }).build();
    const run = runPipeline(graph, { logger: pino({ level: 'silent' }) });
    expect((await run.done).ok).toBe(true);
    expect(run.health().stages['audit']).toMatchObject({ state: 'completed', records_in: 4, records_out: 4 });
    expect(await verifyAuditTrail(dir)).toMatchObject({ records: 4, problem: undefined });
  });
});
