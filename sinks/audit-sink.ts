import type { Subscription } from 'rxjs';
import { defineComponent } from '../pipeline/components/define-component.js';
import { field } from '../pipeline/config/field.js';
import { StageError, TickflowError } from '../errors/errors.js';
import type { SchemaCatalog, SchemaName } from '../pipeline/schemas/schema-catalog.js';
import type { AuditRecord } from '../schemas/generated.js';
import type { AuditEntry } from './audit/audit-chain.js';
import { metric } from '../pipeline/runtime/metric-declaration.js';
import { lockAuditDir } from './audit/audit-dir-lock.js';
import { AuditTrailWriter } from './audit/audit-trail-writer.js';

/** Config field names, shared by the spec and `create`. */
const DIR = 'dir';
const GROUP_COMMIT_MS = 'group_commit_ms';
const MAX_BATCH = 'max_batch';
const ROTATE = 'rotate';
const MAX_FILE_BYTES = 'max_file_bytes';

type Port = 'ticks' | 'commands' | 'events' | 'signals' | 'feeds' | 'controls';

/** How a port's records become payloads: one schema, or the union branch named by the record's `type`. */
function payloadEncoder(
  schemas: SchemaCatalog,
  schema: SchemaName | 'union',
): (record: unknown) => { recordType: string; payload: Buffer } {
  if (schema !== 'union') {
    const codec = schemas.codec(schema);
    const recordType = `tickflow.${schema}`;
    return (record) => ({ recordType, payload: codec.encode(record as never) });
  }
  return (record) => {
    const branch = String((record as { type?: unknown }).type);
    if (!schemas.has(branch)) throw new Error(`its 'type' ${JSON.stringify(branch)} names no schema`);
    return { recordType: `tickflow.${branch}`, payload: schemas.codec(branch).encode(record as never) };
  };
}

/**
 * The `audit` sink: an append-only, tamper-evident, crash-safe record of
 * everything it receives, in standard Avro object container files.
 *
 * Every record on any port becomes an AuditRecord: `seq` continuous from 1
 * across files and restarts, `ts_init` the scheduler time it arrived (µs),
 * `record_type` its full schema name (for the unions, the branch:
 * `tickflow.OrderFilled`), `payload` its Avro binary under that schema,
 * `prev_hash` the previous record's hash and `hash` SHA-256 over the Avro
 * encoding of the five other fields (see `AuditChain`).
 *
 * Records are group-committed: held for `group_commit_ms` on the scheduler
 * (or until `max_batch` are waiting), written as one Avro block in one
 * write, fdatasync'ed, and only then acknowledged, in order, as their
 * AuditRecords. A batch that waits for the commit before it goes out right
 * after it. Files (`audit-000001-20250103.avro`) rotate by trading day or
 * by size; the chain continues across them. One process writes a
 * directory at a time: before any stage of the pipeline starts, the sink
 * takes the directory's writer lock (`DIR/.lock`, an flock the kernel ends
 * when the holder exits or dies); a second writer is refused, naming the
 * directory and the holder's pid. On start the trail is
 * recovered (`recoverAuditDir`): a torn tail of the newest file is cut back,
 * any other damage refuses to start. When every input completes, the last
 * batch is committed, the file closed, and the sink completes. An input
 * error is raised after what was received is committed. An I/O error fails
 * the stage without retry: after a failed fsync only recovery can tell what
 * is on disk. The trail is recovered at the first record, or at close when
 * there was none, so a run that does not start leaves it as it was.
 *
 * ```
 * ticks:   --t--t-----------t---|
 * events:  -----e---|
 * acks:    ----------(tte)----------t-|   (each block after its fdatasync; completes once closed)
 * ```
 *
 * @example
 * ```ts
 * import { asyncScheduler, firstValueFrom } from 'rxjs';
 * const tick = await firstValueFrom(simSource.create(validateComponentConfig(simSource, { rate: 0, count: 1 }), ctx));
 * const writer = auditSink.create(validateComponentConfig(auditSink, { dir: 'out/audit' }), standaloneContext(asyncScheduler, { component: auditSink }));
 * const record = (await writer.write('ticks', tick)) as AuditRecord; // its AuditRecord, once fdatasync'ed
 * console.log(record.seq, record.record_type);
 * await writer.close(); // commits what is held, closes the file, releases out/audit/.lock
 * // Logs: 1 tickflow.Tick
 * ```
 */
export const auditSink = defineComponent({
  name: 'audit',
  kind: 'sink',
  description:
    'Writes every record to an append-only, hash-chained, crash-safe audit trail of Avro container files (check it with tickflow audit verify).',
  in: {
    ticks: 'Tick',
    commands: 'OrderCommand',
    events: 'OrderEvent',
    signals: 'Signal',
    feeds: 'FeedStatus',
    controls: 'RiskControlChanged',
  },
  boundary: true,
  spec: {
    [DIR]: field.string({
      description: 'Directory of the audit files; created when missing. One sink per directory.',
      default: 'out/audit',
      example: '/var/lib/tickflow/audit',
    }),
    [GROUP_COMMIT_MS]: field.integer({
      description:
        'How long records wait on the scheduler to share one write and fdatasync; 0 commits what arrived in the same turn of the event loop.',
      default: 2,
      min: 0,
      max: 10_000,
      example: 5,
    }),
    [MAX_BATCH]: field.integer({
      description: 'Most records in one group commit (one Avro block); a full batch is committed without waiting.',
      default: 1000,
      min: 1,
      max: 100_000,
      example: 5000,
    }),
    [ROTATE]: field.choice(['daily', 'size'] as const, {
      description:
        "When to start a new file: 'daily' at each new China futures trading day of ts_init (UTC+8; after 18:00 and weekends count to the next weekday, so a night session shares its trading day's file), and at max_file_bytes; 'size' only at max_file_bytes.",
      default: 'daily',
      example: 'size',
    }),
    [MAX_FILE_BYTES]: field.integer({
      description:
        'Largest file before rotation, in bytes, in both modes (it also bounds the recovery scan at start); a single larger block gets a file of its own.',
      default: 256 * 1024 * 1024,
      min: 1024,
      max: 1_099_511_627_776,
      example: 1_073_741_824,
    }),
  },
  checkedAtStart: ["that 'dir' can be written, no other process holds its lock, and the trail in it verifies"],
  metrics: {
    commit_seconds: metric.histogram('Time of one audit group commit: the write of its block and fdatasync.', {
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5],
    }),
    pending_records: metric.gauge('Records received by the audit sink and not yet on disk.'),
    last_seq: metric.gauge('seq of the last audit record on disk.'),
  },
  create: (config, ctx) => {
    // One writer per directory: the lock is taken before any stage of the pipeline starts.
    const locking = ctx.acquire(
      () => lockAuditDir(config.dir),
      (lock) => lock.release(),
    );
    const encoders: Record<Port, (record: unknown) => { recordType: string; payload: Buffer }> = {
      ticks: payloadEncoder(ctx.schemas, 'Tick'),
      commands: payloadEncoder(ctx.schemas, 'union'),
      events: payloadEncoder(ctx.schemas, 'union'),
      signals: payloadEncoder(ctx.schemas, 'Signal'),
      feeds: payloadEncoder(ctx.schemas, 'FeedStatus'),
      controls: payloadEncoder(ctx.schemas, 'RiskControlChanged'),
    };
    const commitSeconds = ctx.metrics.histogram('commit_seconds');
    const pendingRecords = ctx.metrics.gauge('pending_records');
    const lastSeq = ctx.metrics.gauge('last_seq');
    const context = { stage: ctx.stage, component: 'audit', path: config.dir };
    /** Received and not yet committed, in arrival order, from `head` on, with how each write learns its outcome; the first `sealed` of those are due. */
    let pending: { entry: AuditEntry; committed: (record: AuditRecord) => void; failed: (error: unknown) => void }[] = [];
    let head = 0;
    let sealed = 0;
    const waiting = (): number => pending.length - head;
    let timer: Subscription | undefined;
    let trail: AuditTrailWriter | undefined;
    let opening: Promise<void> | undefined;
    let commit: Promise<void> | undefined;
    /** Set once opening or a commit failed: nothing more is committed, later writes fail with it. */
    let failure: { error: unknown } | undefined;
    /** Resolves, once `close` asked for it, when everything received is committed (or a failure ended the commits). */
    let drained: (() => void) | undefined;

    const fail = (error: unknown): void => {
      failure ??= { error };
      for (const { failed } of pending.slice(head)) failed(failure.error);
      pending = [];
      head = 0;
      sealed = 0;
      drained?.();
    };
    // Recovered at the first record (or at close), so a run that does not start leaves the trail as it was.
    const open = (): Promise<void> =>
      (opening ??= locking
        .then(() =>
          AuditTrailWriter.open({ dir: config.dir, rotate: config.rotate, maxFileBytes: config.max_file_bytes, logger: ctx.logger }),
        )
        .then(
          (opened) => {
            trail = opened;
            pump();
          },
          (error: unknown) =>
            fail(
              error instanceof TickflowError
                ? error
                : new StageError(`audit: cannot open the audit trail in ${config.dir}: ${(error as Error).message}`, {
                    cause: error,
                    context,
                  }),
            ),
        ));
    const seal = (): void => {
      sealed = waiting();
      timer?.unsubscribe();
      timer = undefined;
    };
    /** Starts the next group commit when one is due and none is in flight. */
    const pump = (): void => {
      if (failure !== undefined || commit !== undefined || trail === undefined) return;
      if (sealed === 0) {
        if (waiting() === 0) drained?.();
        return;
      }
      const n = Math.min(sealed, config.max_batch);
      const batch = pending.slice(head, head + n);
      head += n;
      sealed -= n;
      // Dropping the committed prefix when drained, or now and then, keeps a backlog from costing a copy per commit.
      if (head === pending.length || (head > 4096 && head * 2 > pending.length)) {
        pending = pending.slice(head);
        head = 0;
      }
      const started = performance.now();
      commit = trail.append(batch.map((p) => p.entry)).then(
        (records) => {
          commit = undefined;
          commitSeconds.observe((performance.now() - started) / 1000);
          lastSeq.set(records.at(-1)?.seq ?? 0);
          pendingRecords.set(waiting());
          // Acknowledged only now: the block is written and fdatasync'ed.
          records.forEach((record, i) => batch[i]?.committed(record));
          pump();
        },
        (error: unknown) => {
          commit = undefined;
          const cannotWrite = new StageError(`audit: cannot write to ${config.dir}: ${(error as Error).message}`, {
            cause: error,
            context,
          });
          for (const { failed } of batch) failed(cannotWrite);
          fail(cannotWrite);
        },
      );
    };

    return {
      write(port, record) {
        if (failure !== undefined) throw failure.error;
        let entry: AuditEntry;
        try {
          const { recordType, payload } = encoders[port](record);
          entry = { tsInit: Math.round(ctx.scheduler.now() * 1000), recordType, payload };
        } catch (error) {
          // The runner validates this boundary stage's inputs, so this is a programmer error; an audit trail does not skip records.
          throw new StageError(`audit: cannot encode a record of port '${port}': ${(error as Error).message}`, { cause: error, context });
        }
        const committed = new Promise<AuditRecord>((resolve, reject) => pending.push({ entry, committed: resolve, failed: reject }));
        void open();
        if (waiting() - sealed >= config.max_batch) {
          seal();
          pump();
        } else if (timer === undefined) {
          timer = ctx.scheduler.schedule(() => {
            timer = undefined;
            seal();
            pump();
          }, config.group_commit_ms);
        }
        return committed;
      },
      async close() {
        try {
          const everythingCommitted = new Promise<void>((resolve) => (drained = resolve));
          seal();
          await open();
          pump();
          if (failure === undefined) await everythingCommitted;
          try {
            await trail?.close();
          } catch (error) {
            throw new StageError(`audit: cannot close the audit file: ${(error as Error).message}`, { cause: error, context });
          }
        } finally {
          (await locking.catch(() => undefined))?.release();
        }
        if (failure !== undefined) throw failure.error;
      },
    };
  },
});
