import { standaloneContext } from '../pipeline/components/standalone-context.js';
import { closeSync, fdatasyncSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMPTY, Subject, asyncScheduler } from 'rxjs';
import type { ComponentContext } from '../pipeline/components/component-definition.js';
import { sinkStage } from '../pipeline/runtime/sink-stage.js';
import { validateConfig } from '../pipeline/config/validate-config.js';
import { SchemaCatalog } from '../pipeline/schemas/schema-catalog.js';
import type { Tick } from '../schemas/generated.js';
import { auditSink } from '../sinks/audit-sink.js';
import { SimMarket } from '../sources/sim-market.js';
import { mainThreadCpuUs } from './main-thread-cpu-us.js';

const SATURATION_RECORDS = 200_000;
/** Offered at saturation per turn of the event loop, so timers and I/O completions still run between turns. */
const PER_TURN = 1_000;
const LATENCY_RATE = 10_000; // records/s offered
const LATENCY_SECONDS = 3;
const GROUP_COMMIT_MS = 2;
const MAX_BATCH = 1_000;
/** Bytes an AuditRecord adds around its payload: seq, ts_init, record_type, the payload's length, two hashes. */
const RECORD_FRAMING_BYTES = 1 + 8 + 14 + 2 + 64;
const SIM_START_US = Date.parse('2025-01-02T21:00:00+08:00') * 1000;

const context = (): ComponentContext => standaloneContext(asyncScheduler, { stage: 'audit', component: auditSink });

/** Runs the audit sink on a fresh directory; `feed` pushes ticks, `onAck` sees each acknowledgement; resolves when the sink completes. */
function runSink(dir: string, feed: (ticks: Subject<Tick>) => void, onAck: () => void): Promise<void> {
  const config = validateConfig('audit', auditSink.spec, { dir, group_commit_ms: GROUP_COMMIT_MS, max_batch: MAX_BATCH });
  const writer = auditSink.create(config, context());
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

/**
 * Offers `n` ticks as fast as the event loop turns; records/s from the first offer to the last acknowledgement, and
 * the CPU µs per record of the process and of its JavaScript thread alone.
 */
async function saturation(dir: string, ticks: readonly Tick[], n: number): Promise<{ rate: number; cpuUs: number; loopCpuUs: number }> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const loopCpu = mainThreadCpuUs();
  let acked = 0;
  await runSink(
    dir,
    (subject) => {
      let sent = 0;
      const turn = (): void => {
        for (let k = 0; k < PER_TURN && sent < n; k++) subject.next(ticks[sent++ % ticks.length] as Tick);
        if (sent < n) setImmediate(turn);
        else subject.complete();
      };
      turn();
    },
    () => acked++,
  );
  if (acked !== n) throw new Error(`bench: ${acked} of ${n} acknowledged`);
  const used = process.cpuUsage(cpu);
  return {
    rate: n / ((performance.now() - started) / 1000),
    cpuUs: (used.user + used.system) / n,
    loopCpuUs: (mainThreadCpuUs() - loopCpu) / n,
  };
}

/**
 * Offers LATENCY_RATE ticks/s for LATENCY_SECONDS (due ones every
 * millisecond), in the steady state: after a first tick's ack, so that the
 * trail is recovered and its file created before the clock starts. The time
 * from offer to acknowledgement of each, in ms, sorted.
 */
async function ackLatencies(dir: string, ticks: readonly Tick[]): Promise<Float64Array> {
  const perMs = LATENCY_RATE / 1000;
  const total = LATENCY_RATE * LATENCY_SECONDS;
  const offered = new Float64Array(total);
  const latencies = new Float64Array(total);
  let acked = -1; // the first ack is the warm-up's
  let subject: Subject<Tick> | undefined;
  const offer = (): void => {
    const start = performance.now();
    let sent = 0;
    const timer = setInterval(() => {
      // Keeps to the offered rate even when a timer fires late.
      const due = Math.min(total, Math.floor((performance.now() - start) * perMs) + perMs);
      for (; sent < due; sent++) {
        offered[sent] = performance.now();
        subject?.next(ticks[sent % ticks.length] as Tick);
      }
      if (sent >= total) {
        clearInterval(timer);
        subject?.complete();
      }
    }, 1);
  };
  await runSink(
    dir,
    (ticksIn) => {
      subject = ticksIn;
      ticksIn.next(ticks[0] as Tick);
    },
    () => {
      if (acked === -1) offer();
      else latencies[acked] = performance.now() - (offered[acked] as number);
      acked++;
    },
  );
  if (acked !== total) throw new Error(`bench: ${acked} of ${total} acknowledged`);
  return latencies.sort();
}

/**
 * The disk alone, as the sink uses it: blocks of `blockBytes` appended with
 * one write and one fdatasync each, every `everyMs` (0: back to back), for
 * `seconds`. Returns each block's write + fdatasync time in ms, and the time
 * from when it was due to when it was synced (a slow fdatasync delays the
 * blocks due meanwhile, as it delays the records waiting in the sink), both
 * sorted.
 */
function diskAlone(dir: string, blockBytes: number, everyMs: number, seconds: number): { times: Float64Array; fromDue: Float64Array } {
  mkdirSync(dir, { recursive: true });
  const fd = openSync(join(dir, 'blocks'), 'w');
  const block = Buffer.alloc(blockBytes, 0x5a);
  const times: number[] = [];
  const fromDue: number[] = [];
  try {
    const end = performance.now() + seconds * 1000;
    let next = performance.now();
    // Bounded in time and count.
    for (let position = 0; performance.now() < end && times.length < 100_000; position += blockBytes) {
      const due = next;
      if (everyMs > 0) {
        while (performance.now() < next); // a busy wait: timers would add their own lateness
        next += everyMs;
      }
      const started = performance.now();
      writeSync(fd, block, 0, blockBytes, position);
      fdatasyncSync(fd);
      const synced = performance.now();
      times.push(synced - started);
      fromDue.push(synced - due);
    }
  } finally {
    closeSync(fd);
  }
  return { times: Float64Array.from(times).sort(), fromDue: Float64Array.from(fromDue).sort() };
}

const percentile = (sorted: Float64Array, p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
const latencyText = (sorted: Float64Array): string =>
  `p50 ${percentile(sorted, 50).toFixed(2)} ms, p99 ${percentile(sorted, 99).toFixed(2)} ms, p99.9 ${percentile(sorted, 99.9).toFixed(2)} ms`;
const count = (n: number): string => Math.round(n).toLocaleString('en-US');

/**
 * The audit sink: records/s at saturation, and ack latency (offer → the
 * fdatasync that covers the record) at 10,000 records/s offered, both with a
 * 2 ms group commit; beside them, the disk alone (write + fdatasync of
 * blocks of the same size), the limit the sink is measured against.
 */
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
    const tickCodec = SchemaCatalog.default().codec('Tick');
    const payloadBytes = ticks.slice(0, 100).reduce((sum, t) => sum + tickCodec.encode(t).length, 0) / 100;
    const recordBytes = Math.round(payloadBytes + RECORD_FRAMING_BYTES);
    const lines = [
      `audit sink: SimMarket ticks (2 instruments, ~${Math.round(payloadBytes)} B Avro, ~${recordBytes} B per AuditRecord) on one port, group_commit_ms ${GROUP_COMMIT_MS}, max_batch ${count(MAX_BATCH)}, files in ${tmpdir()}; saturation: ${count(SATURATION_RECORDS)} ticks offered ${count(PER_TURN)} per event-loop turn, records/s to the last ack and the CPU time (user + system) per record of the process and of its JavaScript thread (the event loop: encoding, hashing, acknowledging); latency: ${count(LATENCY_RATE)} ticks/s offered for ${LATENCY_SECONDS} s once the trail is open, offer → ack (after the fdatasync covering it); disk alone: write + fdatasync of blocks of the same size, one process, no sink (and, for the 2 ms blocks, from when each was due, which counts the delay a slow fdatasync makes for the blocks behind it)`,
    ];
    await saturation(join(root, 'warm-up'), ticks, 20_000);
    const { rate, cpuUs, loopCpuUs } = await saturation(join(root, 'saturation'), ticks, SATURATION_RECORDS);
    const latencies = await ackLatencies(join(root, 'latency'), ticks);
    const fullBlocks = diskAlone(join(root, 'disk-full'), recordBytes * MAX_BATCH, 0, 1).times;
    const smallBlocks = diskAlone(join(root, 'disk-small'), (recordBytes * LATENCY_RATE * GROUP_COMMIT_MS) / 1000, GROUP_COMMIT_MS, 2);
    lines.push(
      `  saturation  ${count(rate)} records/s, ${cpuUs.toFixed(2)} µs CPU per record, ${loopCpuUs.toFixed(2)} µs of it on the JavaScript thread`,
      `  ack latency at ${count(LATENCY_RATE)}/s  ${latencyText(latencies)}`,
      `  disk alone, blocks of ${count(MAX_BATCH)} back to back  ${count((MAX_BATCH * 1000) / percentile(fullBlocks, 50))} records/s at the median, ${latencyText(fullBlocks)}`,
      `  disk alone, blocks of ${count((LATENCY_RATE * GROUP_COMMIT_MS) / 1000)} every ${GROUP_COMMIT_MS} ms  ${latencyText(smallBlocks.times)}`,
      // What a record would see from the disk alone, before the up to GROUP_COMMIT_MS it waits for its group.
      `  disk alone, blocks of ${count((LATENCY_RATE * GROUP_COMMIT_MS) / 1000)} every ${GROUP_COMMIT_MS} ms, due → synced  ${latencyText(smallBlocks.fromDue)}`,
    );
    return lines;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
