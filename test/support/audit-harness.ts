import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import avro from 'avsc';
import { pino, type Logger } from 'pino';
import { Subject, Subscription, asyncScheduler, type SchedulerAction, type SchedulerLike } from 'rxjs';
import { sinkStage } from '../../pipeline/runtime/sink-stage.js';
import { validateConfig } from '../../pipeline/config/validate-config.js';
import { SchemaCatalog } from '../../pipeline/schemas/schema-catalog.js';
import type { AuditRecord, RiskControlChanged, FeedStatus, OrderCommand, OrderEvent, Signal, Tick } from '../../schemas/generated.js';
import { AuditChain } from '../../sinks/audit/audit-chain.js';
import { avroContainer } from '../../sinks/audit/avro-container.js';
import { AuditTrailWriter } from '../../sinks/audit/audit-trail-writer.js';
import { auditSink } from '../../sinks/audit-sink.js';
import { makeTick } from './make-tick.js';
import { testContext } from './test-context.js';

export const schemas = SchemaCatalog.default();
export const auditType = schemas.type('AuditRecord');
const tickCodec = schemas.codec('Tick');

/** 2025-01-02 21:00 +08:00 (a Thursday night session, trading day 20250103), in ms. */
export const T0_MS = 1_735_822_800_000;

export const tmp = (): string => mkdtempSync(join(tmpdir(), 'tickflow-audit-'));

/** Tick `i` of a deterministic stream: sequence `i`, event time `i` ms after T0. */
export function tick(i: number): Tick {
  return makeTick({ sequence: i, ts_event: T0_MS * 1000 + i * 1000, ts_recv: T0_MS * 1000 + i * 1000 + 50 });
}

/** A scheduler with real timers whose clock the test sets. */
export function clockScheduler(now: () => number): SchedulerLike {
  return { now, schedule: asyncScheduler.schedule.bind(asyncScheduler) };
}

/** A scheduler whose timers fire only when the test says; it records each timer's delay. */
export function manualScheduler(startMs = T0_MS): SchedulerLike & { nowMs: number; delays: number[]; fire(): number } {
  const due: { work: (this: SchedulerAction<unknown>, state?: unknown) => void; state: unknown; sub: Subscription }[] = [];
  const scheduler = {
    nowMs: startMs,
    delays: [] as number[],
    now: () => scheduler.nowMs,
    schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
      const sub = new Subscription();
      scheduler.delays.push(delay);
      due.push({ work: work as never, state, sub });
      return sub;
    },
    /** Runs the timers due so far (not those they schedule); returns how many ran. */
    fire(): number {
      const now = due.splice(0, due.length).filter((d) => !d.sub.closed);
      for (const d of now) d.work.call(d.sub as never, d.state);
      return now.length;
    },
  };
  return scheduler;
}

export interface RunningAudit {
  readonly ticks: Subject<Tick>;
  readonly commands: Subject<OrderCommand>;
  readonly events: Subject<OrderEvent>;
  readonly signals: Subject<Signal>;
  readonly feeds: Subject<FeedStatus>;
  readonly controls: Subject<RiskControlChanged>;
  readonly acks: AuditRecord[];
  /** Resolves when the sink completes, rejects on its error. */
  readonly done: Promise<void>;
  readonly subscription: Subscription;
  /** Completes every input. */
  end(): Promise<void>;
}

/** Runs the audit sink with Subjects on its ports. */
export function startAudit(
  config: Record<string, unknown>,
  options: { scheduler?: SchedulerLike; logger?: Logger; onAck?: (record: AuditRecord) => void } = {},
): RunningAudit {
  const ctx = testContext(options.scheduler ?? asyncScheduler, auditSink, {
    stage: 'audit',
    logger: options.logger ?? pino({ level: 'silent' }),
  });
  const writer = auditSink.create(validateConfig('audit', auditSink.spec, config), ctx);
  const ports = {
    ticks: new Subject<Tick>(),
    commands: new Subject<OrderCommand>(),
    events: new Subject<OrderEvent>(),
    signals: new Subject<Signal>(),
    feeds: new Subject<FeedStatus>(),
    controls: new Subject<RiskControlChanged>(),
  };
  const acks: AuditRecord[] = [];
  let subscription!: Subscription;
  const done = new Promise<void>((resolve, reject) => {
    subscription = sinkStage(writer, (error) => ctx.logger.error({ err: error }, 'audit: could not close'))(ports).subscribe({
      next: (record) => {
        options.onAck?.(record as AuditRecord);
        acks.push(record as AuditRecord);
      },
      error: reject,
      complete: resolve,
    });
  });
  done.catch(() => undefined);
  const end = (): Promise<void> => {
    for (const port of Object.values(ports)) port.complete();
    return done;
  };
  return { ...ports, acks, done, subscription, end };
}

/** A logger that keeps its lines, to check what was logged. */
export function memoryLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

/** The audit files of `dir`, sorted by name. */
export const auditFiles = (dir: string): string[] =>
  readdirSync(dir)
    .filter((n) => n.endsWith('.avro'))
    .sort();

/** Every record of an audit file, read by avsc's standard container decoder. */
export function decodeFile(path: string): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  return new Promise((resolve, reject) => {
    avro
      .createFileDecoder(path)
      .on('data', (r: AuditRecord) => records.push(r))
      .on('end', () => resolve(records))
      .on('error', reject);
  });
}

/** Every record of the trail in `dir`, file by file, by avsc. */
export async function readTrail(dir: string): Promise<{ file: string; records: AuditRecord[] }[]> {
  const out: { file: string; records: AuditRecord[] }[] = [];
  for (const file of auditFiles(dir)) out.push({ file, records: await decodeFile(join(dir, file)) });
  return out;
}

/** Entries for records `from..to` (ticks), `tsStepUs` apart. */
export function tickEntries(from: number, to: number, tsStepUs = 1000): { tsInit: number; recordType: string; payload: Buffer }[] {
  return Array.from({ length: to - from + 1 }, (_, k) => ({
    tsInit: T0_MS * 1000 + (from + k) * tsStepUs,
    recordType: 'tickflow.Tick',
    payload: tickCodec.encode(tick(from + k)),
  }));
}

/** Writes records 1..n (ticks) to `dir` in blocks of `blockSize`, rotating by size. */
export async function writeTrail(dir: string, n: number, options: { blockSize?: number; maxFileBytes?: number } = {}): Promise<void> {
  const trail = await AuditTrailWriter.open({
    dir,
    rotate: 'size',
    maxFileBytes: options.maxFileBytes ?? 1 << 30,
    logger: pino({ level: 'silent' }),
  });
  const blockSize = options.blockSize ?? 10;
  for (let from = 1; from <= n; from += blockSize) await trail.append(tickEntries(from, Math.min(n, from + blockSize - 1)));
  await trail.close();
}

/** The header bytes of an audit file and its sync marker. */
export function headerOf(file: Buffer): { header: Buffer; sync: Buffer } {
  const read = avroContainer.decodeHeader(file);
  if (read.kind !== 'ok') throw new Error(`bad header: ${read.kind}`);
  return { header: file.subarray(0, read.header.end), sync: read.header.sync };
}

/** Rewrites an audit file as its header and one block holding `mutate`'s records (the file's records, changed). */
export async function rewriteAuditFile(path: string, mutate: (records: AuditRecord[]) => AuditRecord[]): Promise<void> {
  const records = mutate(await decodeFile(path));
  const { header, sync } = headerOf(readFileSync(path));
  const bytes = Buffer.concat(records.map((r) => auditType.toBuffer(r)));
  writeFileSync(path, Buffer.concat([header, avroContainer.encodeBlockPrefix(records.length, bytes.length), bytes, sync]));
}

/** A record with a valid hash of its own, as a forger without any key can make one. */
export function forge(fields: Omit<AuditRecord, 'hash'>): AuditRecord {
  const withoutHash = auditType.toBuffer({ ...fields, hash: Buffer.alloc(32) });
  return { ...fields, hash: AuditChain.hashOf(withoutHash) };
}

/** Seeded PRNG (mulberry32), for random moments that repeat. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
