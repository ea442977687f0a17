import { standaloneContext } from '../pipeline/components/standalone-context.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMPTY, Subject, asyncScheduler } from 'rxjs';
import type { ComponentContext } from '../pipeline/components/component-definition.js';
import { sinkStage } from '../pipeline/runtime/sink-stage.js';
import { validateConfig } from '../pipeline/config/validate-config.js';
import type { Tick } from '../schemas/generated.js';
import { auditSink } from '../sinks/audit-sink.js';
import { SimMarket } from '../sources/sim-market.js';

const THROUGHPUT_RECORDS = 200_000;
const LATENCY_RATE = 10_000; // records/s offered
const LATENCY_SECONDS = 2;
const SIM_START_US = Date.parse('2025-01-02T21:00:00+08:00') * 1000;

const context = (): ComponentContext => standaloneContext(asyncScheduler, { stage: 'audit', component: auditSink });

/** Runs the audit sink on a fresh directory; `feed` pushes ticks, `onAck` sees each acknowledgement; resolves when the sink completes. */
function runSink(dir: string, groupCommitMs: number, feed: (ticks: Subject<Tick>) => void, onAck: () => void): Promise<void> {
  const writer = auditSink.create(validateConfig('audit', auditSink.spec, { dir, group_commit_ms: groupCommitMs }), context());
  const ticks = new Subject<Tick>();
  return new Promise((resolve, reject) => {
    sinkStage(
      writer,
      reject,
    )({ ticks, commands: EMPTY, events: EMPTY, signals: EMPTY, feeds: EMPTY, controls: EMPTY }).subscribe({
      next: onAck,
      error: reject,
      complete: resolve,
    });
    feed(ticks);
  });
}

/** Offers `n` ticks as fast as the event loop turns (1,000 a turn); records/s to the last acknowledgement. */
async function throughput(dir: string, groupCommitMs: number, ticks: readonly Tick[], n: number): Promise<number> {
  const started = performance.now();
  let acked = 0;
  await runSink(
    dir,
    groupCommitMs,
    (subject) => {
      let sent = 0;
      const turn = (): void => {
        for (let k = 0; k < 1000 && sent < n; k++) subject.next(ticks[sent++ % ticks.length] as Tick);
        if (sent < n) setImmediate(turn);
        else subject.complete();
      };
      turn();
    },
    () => acked++,
  );
  if (acked !== n) throw new Error(`bench: ${acked} of ${n} acknowledged`);
  return n / ((performance.now() - started) / 1000);
}

/** Offers LATENCY_RATE ticks/s for LATENCY_SECONDS (a batch every millisecond); the time from offer to acknowledgement of each. */
async function latencies(dir: string, groupCommitMs: number, ticks: readonly Tick[]): Promise<number[]> {
  const perMs = LATENCY_RATE / 1000;
  const total = LATENCY_RATE * LATENCY_SECONDS;
  const offered = new Float64Array(total);
  const samples: number[] = [];
  await runSink(
    dir,
    groupCommitMs,
    (subject) => {
      const start = performance.now();
      let sent = 0;
      const timer = setInterval(() => {
        // Keeps to the offered rate even when a timer fires late.
        const due = Math.min(total, Math.floor((performance.now() - start) * perMs) + perMs);
        for (; sent < due; sent++) {
          offered[sent] = performance.now();
          subject.next(ticks[sent % ticks.length] as Tick);
        }
        if (sent >= total) {
          clearInterval(timer);
          subject.complete();
        }
      }, 1);
    },
    () => samples.push(performance.now() - (offered[samples.length] as number)),
  );
  return samples.sort((a, b) => a - b);
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;

/** The audit sink: records/s when offered as fast as possible, and ack latency (write + fdatasync + waiting) at 10,000 records/s, per group-commit window. */
export async function auditThroughput(): Promise<string[]> {
  const root = mkdtempSync(join(tmpdir(), 'tickflow-bench-audit-'));
  try {
    const market = new SimMarket({
      instruments: ['SHFE.rb2501', 'DCE.m2501'],
      seed: 1,
      start: SIM_START_US,
      tickIntervalMs: 500,
      feedId: 'b',
      latencyUs: 0,
    });
    const ticks = Array.from({ length: 10_000 }, () => market.next());
    const lines = [`audit sink (ticks, max_batch 1000, one write + fdatasync per block; files in ${tmpdir()}):`];
    await throughput(join(root, 'warm-up'), 2, ticks, 20_000);
    for (const ms of [1, 2, 5]) {
      const rate = await throughput(join(root, `t${ms}`), ms, ticks, THROUGHPUT_RECORDS);
      const sorted = await latencies(join(root, `l${ms}`), ms, ticks);
      lines.push(
        `  group_commit_ms ${ms}: ${Math.round(rate).toLocaleString('en-US').padStart(9)} records/s` +
          `   ack latency at ${LATENCY_RATE.toLocaleString('en-US')}/s: p50 ${percentile(sorted, 50).toFixed(2)} ms, p99 ${percentile(sorted, 99).toFixed(2)} ms, max ${(sorted.at(-1) ?? Number.NaN).toFixed(2)} ms`,
      );
    }
    return lines;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
