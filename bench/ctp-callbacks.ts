import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CtpMdApi } from '../native/ctp-md-api.js';
import { ctpSimulator } from '../native/ctp-simulator.js';
import { formatCount } from './format-count.js';

const INSTRUMENTS = 'SHFE.rb2501,DCE.m2501,SHFE.cu2501,CZCE.SR501';
const IDS = ['rb2501', 'm2501', 'cu2501', 'SR501'];
const WARMUP_MS = 500;
const MEASURE_MS = 2000;
const MAX_SAMPLES = 4_000_000;
let nextPort = 46_500;

interface CaseResult {
  readonly delivered: number;
  readonly dropped: number;
  readonly p50: number;
  readonly p99: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const hrtimeUs = (): number => Number(process.hrtime.bigint()) / 1000;

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? NaN : (sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number);
}

/**
 * One session on the CTP simulator at `rate` ticks/s across four instruments: ticks/s delivered to JavaScript,
 * drops/s, and the latency from the vendor thread's callback (recvUs) to the onEvents call (hrtime), after a warm-up.
 */
async function runCase(flowRoot: string, rate: number, maxBatch: number): Promise<CaseResult> {
  const latencies = new Float64Array(MAX_SAMPLES);
  let samples = 0;
  let delivered = 0;
  let dropped = 0;
  let measuring = false;
  const address = `tcp://127.0.0.1:${nextPort++}?seed=1&rate=${rate}&instruments=${INSTRUMENTS}&start=20250102T210000`;
  const api: CtpMdApi = CtpMdApi.open({
    libraryPath: ctpSimulator.libraryPath(),
    flowPath: join(flowRoot, `${rate}-${maxBatch}`),
    maxBatch,
    onEvents(events, droppedNow) {
      const now = hrtimeUs();
      if (measuring) dropped += droppedNow;
      for (const event of events) {
        if (event.kind === 'depth') {
          if (!measuring) continue;
          delivered++;
          if (samples < MAX_SAMPLES) latencies[samples++] = now - event.recvUs;
        } else if (event.kind === 'front-connected') {
          api.login({ brokerId: '', userId: '', password: '' });
        } else if (event.kind === 'login' && event.error === null) {
          api.subscribe(IDS);
        }
      }
    },
  });
  try {
    api.registerFront(address);
    api.init();
    await sleep(WARMUP_MS);
    measuring = true;
    const started = performance.now();
    await sleep(MEASURE_MS);
    measuring = false;
    const seconds = (performance.now() - started) / 1000;
    if (delivered === 0) throw new Error(`no ticks from ${address} in ${MEASURE_MS} ms`);
    const sorted = latencies.subarray(0, samples).sort();
    return { delivered: delivered / seconds, dropped: dropped / seconds, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
  } finally {
    api.close();
  }
}

/**
 * The CTP addon on the CTP simulator: ticks/s carried from the library's callback thread into JavaScript, and
 * the callback-to-JavaScript latency, batched (maxBatch 1024) and unbatched (maxBatch 1), saturated and at 10k/s.
 */
export async function ctpCallbacks(): Promise<string[]> {
  const flowRoot = mkdtempSync(join(tmpdir(), 'tickflow-bench-ctp-'));
  const lines = [
    `the CTP simulator, one session, ${IDS.length} instruments, ${MEASURE_MS / 1000} s per case after ${WARMUP_MS} ms warm-up;`,
    'latency: vendor callback (recvUs) → onEvents call (hrtime), per tick; when the library outpaces JavaScript',
    'it is the wait in a full queue (queueCapacity 65,536), and the excess is dropped and counted:',
  ];
  try {
    for (const [rate, label] of [
      [2_000_000, 'offered 2,000,000/s'],
      [10_000, 'offered    10,000/s'],
    ] as const) {
      for (const maxBatch of [1024, 1]) {
        const r = await runCase(flowRoot, rate, maxBatch);
        lines.push(
          `  ${label}, maxBatch ${String(maxBatch).padEnd(4)} ${formatCount(r.delivered)} ticks/s delivered ${formatCount(r.dropped, 10)} dropped/s` +
            `   p50 ${formatCount(r.p50, 7)} µs   p99 ${formatCount(r.p99, 7)} µs`,
        );
      }
    }
  } finally {
    rmSync(flowRoot, { recursive: true, force: true });
  }
  return lines;
}
