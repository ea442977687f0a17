import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CtpMdApi } from '../native/ctp-md-api.js';
import { ctpSimulator } from '../native/ctp-simulator.js';
import { formatCount } from './format-count.js';

const INSTRUMENTS = 'SHFE.rb2501,DCE.m2501,SHFE.cu2501,CZCE.SR501';
const IDS = ['rb2501', 'm2501', 'cu2501', 'SR501'];
const WARMUP_MS = 500;
const FIRST_TICK_TIMEOUT_MS = 5000;
/** Saturated cases count ticks; the paced ones sort latencies, and 5 s at 20,000/s gives 100 samples above p99.9. */
const SATURATED_MS = 2000;
const PACED_MS = 5000;
/** The simulator's fastest rate: more than the addon carries, so the queue stays full and JavaScript is the limit. */
const SATURATING_RATE = 20_000_000;
const PACED_RATE = 20_000;
const MAX_SAMPLES = 4_000_000;
let nextPort = 46_500;

interface CaseResult {
  readonly delivered: number;
  readonly dropped: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  /** CPU time of the JavaScript thread per delivered tick (µs): what the delivery costs, whatever share of the machine it got. */
  readonly jsCpuPerTick: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const hrtimeUs = (): number => Number(process.hrtime.bigint()) / 1000;

/** Where Linux keeps the main thread's own CPU times (its tid is the pid); the thread's CPU is NaN elsewhere. */
const MAIN_THREAD_STAT = `/proc/self/task/${process.pid}/stat`;
const CLOCK_TICKS_PER_S = 100;

/** The JavaScript thread's user + system CPU time so far, in µs (at the kernel's 10 ms resolution), or NaN. */
function mainThreadCpuUs(): number {
  if (!existsSync(MAIN_THREAD_STAT)) return NaN;
  // The fields after the parenthesised command name: state is field 3, utime and stime are fields 14 and 15.
  const stat = readFileSync(MAIN_THREAD_STAT, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS_PER_S;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? NaN : (sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number);
}

/**
 * One session on the CTP simulator at `rate` ticks/s across four instruments: ticks/s delivered to JavaScript,
 * drops/s, and the latency from the vendor thread's callback (recvUs) to the onEvents call (hrtime), after a warm-up.
 */
async function runCase(flowRoot: string, rate: number, maxBatch: number, measureMs: number): Promise<CaseResult> {
  const latencies = new Float64Array(MAX_SAMPLES);
  let samples = 0;
  let delivered = 0;
  let dropped = 0;
  let measuring = false;
  let ticking = false;
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
          ticking = true;
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
    // Connect, login and subscribe take longer on a loaded machine: the warm-up starts at the first tick.
    for (let waited = 0; !ticking && waited < FIRST_TICK_TIMEOUT_MS; waited += 10) await sleep(10);
    await sleep(WARMUP_MS);
    measuring = true;
    const started = performance.now();
    const cpuStarted = mainThreadCpuUs();
    await sleep(measureMs);
    measuring = false;
    const seconds = (performance.now() - started) / 1000;
    const jsCpu = mainThreadCpuUs() - cpuStarted;
    if (delivered === 0) throw new Error(`no ticks from ${address} in ${measureMs} ms`);
    const sorted = latencies.subarray(0, samples).sort();
    return {
      delivered: delivered / seconds,
      dropped: dropped / seconds,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      p999: percentile(sorted, 0.999),
      max: sorted[sorted.length - 1] ?? NaN,
      jsCpuPerTick: jsCpu / delivered,
    };
  } finally {
    // The simulator's fronts live as long as the process, and one left at 20,000,000/s would go on advancing its
    // market with nobody subscribed, taking a core from the next case.
    ctpSimulator.control(ctpSimulator.libraryPath(), address, 'rate=1');
    api.close();
  }
}

/**
 * The CTP addon on the CTP simulator: ticks/s carried from the library's callback thread into JavaScript (decoded into
 * CtpEvents, in onEvents) with the simulator offering more than that, and the callback-to-JavaScript latency at
 * 20,000 ticks/s; each batched (maxBatch 1024) and unbatched (maxBatch 1).
 */
export async function ctpCallbacks(): Promise<string[]> {
  const flowRoot = mkdtempSync(join(tmpdir(), 'tickflow-bench-ctp-'));
  const lines = [
    `the CTP simulator -> the addon -> onEvents, one session, ${IDS.length} instruments, ${WARMUP_MS} ms warm-up; saturated: offered ` +
      `${formatCount(SATURATING_RATE, 0)}/s for ${SATURATED_MS / 1000} s (the excess over queueCapacity 65,536 dropped and counted); ` +
      `paced: ${formatCount(PACED_RATE, 0)}/s for ${PACED_MS / 1000} s, latency vendor callback (recvUs) -> onEvents call (hrtime) per tick; ` +
      "CPU/tick: the JavaScript thread's own CPU time (Linux) over the ticks it delivered, steady when the machine is shared:",
  ];
  try {
    for (const maxBatch of [1024, 1]) {
      const r = await runCase(flowRoot, SATURATING_RATE, maxBatch, SATURATED_MS);
      lines.push(
        `  saturated, maxBatch ${String(maxBatch).padEnd(4)}  ${formatCount(r.delivered)} ticks/s, ${formatCount(r.dropped, 10)} dropped/s, ` +
          `JavaScript thread ${r.jsCpuPerTick.toFixed(3)} µs CPU/tick`,
      );
    }
    for (const maxBatch of [1024, 1]) {
      const r = await runCase(flowRoot, PACED_RATE, maxBatch, PACED_MS);
      lines.push(
        `  ${formatCount(PACED_RATE, 0)}/s, maxBatch ${String(maxBatch).padEnd(4)}  ${formatCount(r.delivered)} ticks/s, ` +
          `p50 ${formatCount(r.p50, 0)} µs, p99 ${formatCount(r.p99, 0)} µs, p99.9 ${formatCount(r.p999, 0)} µs, max ${formatCount(r.max, 0)} µs`,
      );
    }
  } finally {
    rmSync(flowRoot, { recursive: true, force: true });
  }
  return lines;
}
