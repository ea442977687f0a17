import type { Subscription } from 'rxjs';
import { defineComponent } from '../pipeline/components/define-component.js';
import { field } from '../pipeline/config/field.js';
import { StageError, TickflowError } from '../errors/errors.js';
import type { SchemaCatalog, SchemaName } from '../pipeline/schemas/schema-catalog.js';
import { AuditBlock, type AuditPayloadWriter } from './audit/audit-block.js';
import { compilePayloadWriter } from '../pipeline/schemas/compile-payload-writer.js';
import { metric } from '../pipeline/runtime/metric-declaration.js';
import { lockAuditDir } from './audit/audit-dir-lock.js';
import { AuditTrailWriter } from './audit/audit-trail-writer.js';
import { AuditAcknowledgements } from './audit/audit-acknowledgements.js';

/** Config field names, shared by the spec and `create`. */
const DIR = 'dir';
const GROUP_COMMIT_MS = 'group_commit_ms';
const MAX_BATCH = 'max_batch';
const ROTATE = 'rotate';
const MAX_FILE_BYTES = 'max_file_bytes';

type Port = 'ticks' | 'commands' | 'events' | 'signals' | 'feeds' | 'controls';

/** The payload writer of a record schema: code generated from it encodes the record straight into the block's buffer. */
function recordWriter(schemas: SchemaCatalog, schema: SchemaName): AuditPayloadWriter {
  // The schema's one writer for the process, under the record type this sink names it by.
  const { encodeInto } = compilePayloadWriter(schemas.codec(schema).type);
  return { recordType: `tickflow.${schema}`, encodeInto };
}

/** How a port's records are encoded: by one schema, or by the union branch named by the record's `type`. */
function payloadWriters(schemas: SchemaCatalog, schema: SchemaName | 'union'): (record: unknown) => AuditPayloadWriter {
  if (schema !== 'union') {
    const writer = recordWriter(schemas, schema);
    return () => writer;
  }
  const branches = new Map<string, AuditPayloadWriter>();
  return (record) => {
    const branch = String((record as { type?: unknown }).type);
    let writer = branches.get(branch);
    if (writer === undefined) {
      if (!schemas.has(branch)) throw new Error(`its 'type' ${JSON.stringify(branch)} names no schema`);
      writer = recordWriter(schemas, branch);
      branches.set(branch, writer);
    }
    return writer;
  };
}

/** A block of records received and not yet committed, and the one promise its writes returned. */
interface PendingBlock {
  block: AuditBlock;
  /** Records of the block handed to a commit so far. */
  sent: number;
  readonly writes: AuditAcknowledgements;
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
 * AuditRecords (one promise per batch, whatever the ports: this sink
 * acknowledges batches). Batches that wait for the commit before them go out right
 * after it, together (up to `max_batch` records in the block).
 * Each record is encoded at once, straight into its batch's block (no
 * buffer per record); the hashes are computed per record when the block
 * is written. Files (`audit-000001-20250103.avro`) rotate by trading day or
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
 * const batch = (await writer.write('ticks', tick)) as SinkAcknowledgements; // its batch's AuditRecords, once fdatasync'ed
 * const record = batch.at(0) as AuditRecord;
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
    const writers: Record<Port, (record: unknown) => AuditPayloadWriter> = {
      ticks: payloadWriters(ctx.schemas, 'Tick'),
      commands: payloadWriters(ctx.schemas, 'union'),
      events: payloadWriters(ctx.schemas, 'union'),
      signals: payloadWriters(ctx.schemas, 'Signal'),
      feeds: payloadWriters(ctx.schemas, 'FeedStatus'),
      controls: payloadWriters(ctx.schemas, 'RiskControlChanged'),
    };
    const commitSeconds = ctx.metrics.histogram('commit_seconds');
    const pendingRecords = ctx.metrics.gauge('pending_records');
    const lastSeq = ctx.metrics.gauge('last_seq');
    const context = { stage: ctx.stage, component: 'audit', path: config.dir };
    /** The batch records go to; then the batches due, oldest first. */
    let filling: PendingBlock | undefined;
    const due: PendingBlock[] = [];
    /** seq of the next batch's first record; counted from 1 until the trail is open and tells where it continues. */
    let nextSeq = 1;
    /** Bytes the next batch's buffer starts with: a little more than the last batch took. */
    let nextCapacity = 0;
    /** Records received and not yet on disk. */
    let uncommitted = 0;
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
      for (const pending of filling === undefined ? due : [...due, filling]) pending.writes.reject(failure.error);
      filling = undefined;
      due.length = 0;
      uncommitted = 0;
      drained?.();
    };
    /** Renumbers the batches received before the trail told where it continues (their buffers copied once, at the start only). */
    const continueAfter = (lastSeq: number): void => {
      nextSeq = lastSeq + 1;
      for (const pending of filling === undefined ? due : [...due, filling]) {
        const { block } = pending;
        if (block.firstSeq !== nextSeq) {
          const renumbered = new AuditBlock(nextSeq, block.size + 64);
          for (let i = 0; i < block.count; i++) {
            const record = block.record(i);
            renumbered.addEncoded(record.ts_init, record.record_type, record.payload);
          }
          pending.block = renumbered;
        }
        nextSeq += block.count;
      }
    };
    // Recovered at the first record (or at close), so a run that does not start leaves the trail as it was.
    const open = (): Promise<void> =>
      (opening ??= locking
        .then(() =>
          AuditTrailWriter.open({ dir: config.dir, rotate: config.rotate, maxFileBytes: config.max_file_bytes, logger: ctx.logger }),
        )
        .then(
          (opened) => {
            continueAfter(opened.lastSeq);
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
      timer?.unsubscribe();
      timer = undefined;
      if (filling === undefined || filling.block.count === 0) return;
      due.push(filling);
      nextSeq = filling.block.firstSeq + filling.block.count;
      nextCapacity = Math.ceil(filling.block.size * 1.25);
      filling = undefined;
    };
    /** Starts the next group commit when one is due and none is in flight. */
    const pump = (): void => {
      if (failure !== undefined || commit !== undefined || trail === undefined) return;
      if (due.length === 0) {
        if (uncommitted === 0) drained?.();
        return;
      }
      // Up to max_batch records of the batches due, oldest first: one block.
      const parts: { readonly pending: PendingBlock; readonly block: AuditBlock; readonly from: number; readonly to: number }[] = [];
      let room = config.max_batch;
      while (room > 0 && due.length > 0) {
        const pending = due[0] as PendingBlock;
        const from = pending.sent;
        const to = Math.min(pending.block.count, from + room);
        parts.push({ pending, block: pending.block, from, to });
        pending.sent = to;
        room -= to - from;
        if (to === pending.block.count) due.shift();
      }
      const started = performance.now();
      commit = trail.write(parts).then(
        () => {
          commit = undefined;
          commitSeconds.observe((performance.now() - started) / 1000);
          const last = parts.at(-1) as (typeof parts)[number];
          lastSeq.set(last.block.firstSeq + last.to - 1);
          uncommitted -= config.max_batch - room;
          pendingRecords.set(uncommitted);
          // Acknowledged only now: the block is written and fdatasync'ed (a batch split over two commits, after the second).
          for (const { pending, block, to } of parts) {
            if (to === block.count) pending.writes.acknowledge(block);
          }
          pump();
        },
        (error: unknown) => {
          commit = undefined;
          const cannotWrite = new StageError(`audit: cannot write to ${config.dir}: ${(error as Error).message}`, {
            cause: error,
            context,
          });
          for (const { pending } of parts) pending.writes.reject(cannotWrite);
          fail(cannotWrite);
        },
      );
    };

    return {
      acknowledgesBatches: true,
      write(port, record) {
        if (failure !== undefined) throw failure.error;
        const pending = (filling ??= { block: new AuditBlock(nextSeq, nextCapacity), sent: 0, writes: new AuditAcknowledgements() });
        try {
          pending.block.add(Math.round(ctx.scheduler.now() * 1000), writers[port](record), record);
        } catch (error) {
          // The runner validates this boundary stage's inputs, so this is a programmer error; an audit trail does not skip records.
          throw new StageError(`audit: cannot encode a record of port '${port}': ${(error as Error).message}`, { cause: error, context });
        }
        uncommitted++;
        void open();
        if (pending.block.count >= config.max_batch) {
          seal();
          pump();
        } else if (timer === undefined) {
          timer = ctx.scheduler.schedule(() => {
            timer = undefined;
            seal();
            pump();
          }, config.group_commit_ms);
        }
        return pending.writes.promise;
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
