// A process that writes deterministic records through the audit sink, for the crash test:
//   node --import tsx test/support/audit-writer-child.ts DIR [LAST]
// It recovers the trail in DIR, then feeds record i = last seq + 1, + 2, … (Tick i), 10 a millisecond, up to LAST
// when given (then completes and exits 0), or until killed. It prints the seq of every acknowledged record to stdout,
// one per line, only once it is acknowledged, so whatever the parent read was acknowledged before the process died.
// (Through the stream, not writeSync(1): stdout is a non-blocking pipe, and a full pipe fails writeSync with EAGAIN.)
import { pino } from 'pino';
import { EMPTY, Observable, asyncScheduler } from 'rxjs';
import { sinkStage } from '../../pipeline/runtime/sink-stage.js';
import { validateConfig } from '../../pipeline/config/validate-config.js';
import type { Tick } from '../../schemas/generated.js';
import { recoverAuditDir } from '../../sinks/audit/recover-audit-dir.js';
import { auditSink } from '../../sinks/audit-sink.js';
import { tick } from './audit-harness.js';
import { testContext } from './test-context.js';

const [dir, lastArg] = process.argv.slice(2);
if (dir === undefined) throw new Error('usage: audit-writer-child.ts DIR [LAST]');
const last = lastArg === undefined ? Number.POSITIVE_INFINITY : Number(lastArg);
const logger = pino({ level: 'warn' }, pino.destination(2));

// Where the chain ended decides where the records continue, so no record is written twice by design.
const start = (await recoverAuditDir(dir, logger)).seq + 1;
const PER_MS = 10;

const ticks = new Observable<Tick>((subscriber) => {
  let next = start;
  const timer = setInterval(() => {
    for (let k = 0; k < PER_MS && next <= last; k++) subscriber.next(tick(next++));
    if (next > last) subscriber.complete();
  }, 1);
  return () => clearInterval(timer);
});

const ctx = testContext(asyncScheduler, auditSink, { stage: 'audit', logger });
const writer = auditSink.create(
  validateConfig('audit', auditSink.spec, { dir, group_commit_ms: 2, max_batch: 200, rotate: 'size', max_file_bytes: 128 * 1024 }),
  ctx,
);
sinkStage(writer, (error) => logger.error({ err: error }, 'audit: could not close'))({
  ticks,
  commands: EMPTY,
  events: EMPTY,
  signals: EMPTY,
  feeds: EMPTY,
  controls: EMPTY,
}).subscribe({
  next: (record) => void process.stdout.write(`${(record as { seq: number }).seq}\n`),
  error: (error: unknown) => {
    process.stderr.write(`audit-writer-child: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 2;
  },
  complete: () => {
    process.exitCode = 0;
  },
});
