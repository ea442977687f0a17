import { standaloneContext } from '../pipeline/components/standalone-context.js';
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pino } from 'pino';
import { EMPTY, Subject, asyncScheduler, type Subscription } from 'rxjs';
import { quoteDiff } from '../operators/quote-diff.js';
import type { ComponentContext } from '../pipeline/components/component-definition.js';
import { validateConfig } from '../pipeline/config/validate-config.js';
import { sinkStage } from '../pipeline/runtime/sink-stage.js';
import type { FeedStatus, Tick } from '../schemas/generated.js';
import { websocketSink } from '../sinks/websocket-sink.js';
import { SimMarket } from '../sources/sim-market.js';
import type { FanoutCommand, FanoutReply, LatencyReport } from './fanout-clients.js';
import { formatCount } from './format-count.js';

const INSTRUMENTS = ['SHFE.rb2501', 'SHFE.cu2501', 'DCE.m2501', 'CZCE.SR501', 'CFFEX.IF2501', 'INE.sc2501'];
/** A day-session morning when all six trade; with 1 ms rounds the whole benchmark stays inside it. */
const SIM_START_US = Date.parse('2025-01-02T09:30:00+08:00') * 1000;
const FANOUT_CLIENTS = [100, 1_000, 5_000] as const;
const FANOUT_TICKS_PER_SECOND = 1_000;
const LATENCY_CLIENTS = 1_000;
const LATENCY_TICKS_PER_SECOND = 10_000;
const WINDOW_MS = 5_000;
/** Fed before the latency window, so that it measures the steady state, not the start. */
const LATENCY_WARMUP_MS = 1_000;
const CONNECT_CONCURRENCY = 200;
const CONNECT_TIMEOUT_MS = 30_000;
const REPLY_TIMEOUT_MS = 15_000;
const RSS_SAMPLE_MS = 100;
/** The most ticks one feeder turn sends, in milliseconds of the rate; older ones are shed. */
const MAX_BURST_MS = 20;
/** Everything of this benchmark after which it gives up, whatever is left. */
const BUDGET_MS = 100_000;

const MB = 1024 * 1024;
const fmt = (n: number, width = 10): string => formatCount(n, width);
const ms = (n: number): string => `${n.toFixed(n < 10 ? 2 : 1)} ms`;
/** Wall-clock microseconds: the one clock both processes read. Benchmarks may read it; stages may not. */
const nowUs = (): number => Math.floor((performance.timeOrigin + performance.now()) * 1000);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * RSS after full garbage collections, so that it does not carry the garbage
 * of the benchmarks that ran before in this process (`--expose-gc` set at
 * run time: the global `gc` of a new context). V8 returns freed pages to the
 * system a little after a collection, hence the pause and the second one.
 */
async function settledRss(): Promise<number> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  await sleep(300);
  gc();
  return process.memoryUsage().rss;
}

/** The soft limit on open files of this process, from /proc (Linux); undefined elsewhere. */
function openFileLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === 'unlimited' ? undefined : Number(soft);
  } catch {
    return undefined;
  }
}

/** A component context as the runner builds it, for running the sink without a graph. */
function benchContext(logLines: string[]): ComponentContext {
  return standaloneContext(asyncScheduler, {
    stage: 'ws',
    component: websocketSink,
    logger: pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) }),
  });
}

/** The client process and its IPC, one request at a time, each bounded in time. */
class ClientProcess {
  private readonly waiting = new Set<(reply: FanoutReply | Error) => void>();
  private exited = false;
  readonly gone: Promise<void>;

  constructor(private readonly child: ChildProcess) {
    child.on('message', (reply: FanoutReply) => {
      for (const waiter of this.waiting) waiter(reply);
    });
    this.gone = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exited = true;
        for (const waiter of this.waiting) waiter(new Error(`the client process exited (${signal ?? `code ${code}`})`));
        resolve();
      }),
    );
  }

  static start(): ClientProcess {
    const script = fileURLToPath(new URL('./fanout-clients.js', import.meta.url));
    if (!existsSync(script)) throw new Error(`${script} is missing: run the benchmarks from dist (npm run bench builds first)`);
    return new ClientProcess(fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] }));
  }

  /** Sends `command` and resolves with the first reply of `type`. */
  request<T extends FanoutReply['type']>(
    command: FanoutCommand,
    type: T,
    timeoutMs = REPLY_TIMEOUT_MS,
  ): Promise<Extract<FanoutReply, { type: T }>> {
    if (this.exited) return Promise.reject(new Error('the client process has exited'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`no '${type}' from the client process within ${timeoutMs} ms`)), timeoutMs);
      const done = (reply: FanoutReply | Error): void => {
        if (reply instanceof Error) {
          this.waiting.delete(done);
          clearTimeout(timer);
          return reject(reply);
        }
        if (reply.type === 'failed') return done(new Error(`client process: ${reply.message}`));
        if (reply.type !== type) return;
        this.waiting.delete(done);
        clearTimeout(timer);
        resolve(reply as Extract<FanoutReply, { type: T }>);
      };
      this.waiting.add(done);
      this.child.send(command);
    });
  }

  /** Asks the process to exit; kills it when it has not within a second. */
  async stop(): Promise<void> {
    if (this.exited) return;
    if (this.child.connected) this.child.send({ type: 'exit' } satisfies FanoutCommand);
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 1000);
    await this.gone;
    clearTimeout(killer);
  }
}

/** The websocket sink on a free port of 127.0.0.1, fed sim ticks through quote-diff, each tick's event time its wall-clock send time. */
class FedSink {
  private readonly ticks = new Subject<Tick>();
  private readonly feeds = new Subject<FeedStatus>();
  private readonly market = new SimMarket({
    instruments: INSTRUMENTS,
    seed: 11,
    start: SIM_START_US,
    tickIntervalMs: 1,
    feedId: 'bench',
    latencyUs: 0,
  });
  private readonly logLines: string[] = [];
  private readonly subscription: Subscription;
  readonly done: Promise<void>;

  private constructor() {
    const config = validateConfig('websocket', websocketSink.spec, { host: '127.0.0.1', port: 0 });
    let subscription!: Subscription;
    this.done = new Promise<void>((resolve, reject) => {
      subscription = sinkStage(
        websocketSink.create(config, benchContext(this.logLines)),
        reject,
      )({ quotes: this.ticks.pipe(quoteDiff()), feeds: this.feeds, orders: EMPTY }).subscribe({ error: reject, complete: resolve });
    });
    this.done.catch(() => undefined);
    this.subscription = subscription;
  }

  /** Starts the sink and waits for it to log where it listens. */
  static async start(): Promise<{ sink: FedSink; url: string }> {
    const sink = new FedSink();
    // Boxed: the rethrow is of the error as it came, whatever it is.
    let failure: { error: unknown } | undefined;
    sink.done.catch((error: unknown) => (failure = { error }));
    for (let waited = 0; waited < 5000; waited += 10) {
      if (failure !== undefined) throw failure.error;
      const url = sink.logLines.map((l) => JSON.parse(l) as { url?: string }).find((l) => l.url !== undefined)?.url;
      if (url !== undefined) return { sink, url: url.replace(/^http/, 'ws') + '/' };
      await sleep(10);
    }
    sink.subscription.unsubscribe();
    throw new Error('the websocket sink did not log its url within 5 s');
  }

  /** Clients the sink disconnected for not reading. */
  get slowConsumers(): number {
    return this.logLines.filter((l) => l.includes('does not read')).length;
  }

  /**
   * Feeds ticks at `rate` a second for `durationMs` of wall time: every
   * millisecond timer turn sends the ticks due by then, at most
   * MAX_BURST_MS worth; when the server is too busy for that, the rest are
   * shed (a tick arriving that late is of no use). Returns the ticks sent and
   * shed, and per tick sent how long it was due before it went in (the time
   * the server's event loop made it wait).
   */
  async feed(rate: number, durationMs: number): Promise<{ sent: number; shed: number; seconds: number; waitedMs: Float64Array }> {
    const total = Math.round((rate * durationMs) / 1000);
    const burst = Math.max(1, Math.round((rate * MAX_BURST_MS) / 1000));
    const waitedMs = new Float64Array(total);
    const started = performance.now();
    let next = 0; // index of the next tick on the schedule
    let sent = 0;
    await new Promise<void>((resolve) => {
      const turn = (): void => {
        const now = performance.now();
        const due = Math.min(total, Math.floor(((now - started) * rate) / 1000) + 1);
        if (due - next > burst) next = due - burst;
        for (; next < due; next++) {
          waitedMs[sent++] = now - (started + (next * 1000) / rate);
          this.ticks.next({ ...this.market.next(), ts_event: nowUs() });
        }
        if (next < total && now - started < durationMs) setTimeout(turn, 1);
        else resolve();
      };
      turn();
    });
    return { sent, shed: total - sent, seconds: (performance.now() - started) / 1000, waitedMs: waitedMs.subarray(0, sent) };
  }

  /** Completes the inputs, so that the sink closes its clients and server; unsubscribes if that takes more than 5 s. */
  async stop(): Promise<void> {
    this.ticks.complete();
    this.feeds.complete();
    const closed = await Promise.race([
      this.done.then(
        () => true,
        () => true,
      ),
      sleep(5000).then(() => false),
    ]);
    if (!closed) this.subscription.unsubscribe();
  }
}

/** Peak RSS of this process while `work` runs, sampled every RSS_SAMPLE_MS. */
async function withPeakRss<T>(work: () => Promise<T>): Promise<{ result: T; peakRss: number }> {
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), RSS_SAMPLE_MS);
  try {
    const result = await work();
    return { result, peakRss: Math.max(peakRss, process.memoryUsage().rss) };
  } finally {
    clearInterval(sampler);
  }
}

function quantile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number);
}

/** Client clock minus server clock, from the IPC ping with the shortest round trip. */
async function clockOffset(clients: ClientProcess): Promise<{ offsetUs: number; roundTripUs: number }> {
  let best = { offsetUs: 0, roundTripUs: Infinity };
  for (let id = 0; id < 50; id++) {
    const sentUs = (performance.timeOrigin + performance.now()) * 1000;
    const { clientUs } = await clients.request({ type: 'clock', id }, 'clock');
    const receivedUs = (performance.timeOrigin + performance.now()) * 1000;
    if (receivedUs - sentUs < best.roundTripUs) best = { offsetUs: clientUs - (sentUs + receivedUs) / 2, roundTripUs: receivedUs - sentUs };
  }
  return best;
}

interface Window {
  readonly live: number;
  readonly fedPerSecond: number;
  readonly waitedP99Ms: number;
  readonly updatesPerSecond: number;
  readonly messagesPerSecond: number;
  readonly serverCpu: number;
  readonly clientCpu: number;
  readonly closed: number;
  readonly rssConnected: number;
  readonly rssPeak: number;
  readonly latency: LatencyReport | undefined;
}

/** Feeds for `warmupMs` uncounted, then `WINDOW_MS` counted by the clients. */
async function measure(sink: FedSink, clients: ClientProcess, rate: number, latency: boolean, warmupMs = 0): Promise<Window> {
  const rssConnected = await settledRss();
  const { result, peakRss } = await withPeakRss(async () => {
    if (warmupMs > 0) await sink.feed(rate, warmupMs);
    await clients.request({ type: 'start', latency }, 'started');
    const cpuAt = process.cpuUsage();
    const fed = await sink.feed(rate, WINDOW_MS);
    const cpu = process.cpuUsage(cpuAt);
    const report = await clients.request({ type: 'stop' }, 'stopped');
    return { fed, report, serverCpu: (cpu.user + cpu.system) / 1e6 / fed.seconds };
  });
  const { fed, report, serverCpu } = result;
  return {
    live: report.live,
    fedPerSecond: fed.sent / fed.seconds,
    waitedP99Ms: quantile(fed.waitedMs.sort(), 0.99),
    updatesPerSecond: report.updates / report.seconds,
    messagesPerSecond: report.messages / report.seconds,
    serverCpu,
    clientCpu: report.cpu,
    closed: report.closed,
    rssConnected,
    rssPeak: peakRss,
    latency: report.latency,
  };
}

/**
 * The websocket sink fanning out to many DIFF clients held by a separate
 * process: delivered quote updates per second and the server's RSS at 100,
 * 1,000 and 5,000 clients, and tick-in → client-receive latency at 10,000
 * ticks/s with 1,000 clients.
 */
export async function websocketFanout(): Promise<string[]> {
  const deadline = performance.now() + BUDGET_MS;
  const lines: string[] = [];
  const limit = openFileLimit();
  const most = Math.max(...FANOUT_CLIENTS);
  lines.push(
    `sim ticks (6 instruments) → quote-diff → websocket sink in this process; DIFF clients (subscribe_quote to all, peek_message loop) in a separate process.`,
    `open-file limit ${limit ?? 'unknown'}; load average ${loadavg()[0]?.toFixed(2)} (1 min; other work on this machine slows both processes)${limit !== undefined && limit < most + 200 ? ` — too low for ${most.toLocaleString('en-US')} clients; run npm run bench after ulimit -n ${2 * most}` : ''}`,
  );
  let sink: FedSink | undefined;
  let clients: ClientProcess | undefined;
  const fanout: string[] = [];
  const latency: string[] = [];
  try {
    const started = await FedSink.start();
    sink = started.sink;
    clients = ClientProcess.start();
    const rssBefore = await settledRss();
    const clock = await clockOffset(clients);
    lines.push(
      `server RSS before any client ${fmt(rssBefore / MB, 0)} MB (RSS after connecting is measured after a full GC); clock check: client − server ${clock.offsetUs.toFixed(0)} µs (±${(clock.roundTripUs / 2).toFixed(0)} µs, IPC ping)`,
      '',
      `Fan-out at ${FANOUT_TICKS_PER_SECOND.toLocaleString('en-US')} ticks/s offered, ${WINDOW_MS / 1000} s per size; ticks/s in: what the server took (the rest shed while it was busy); updates: one per instrument per rtn_data, counted by the clients:`,
      `   clients  ticks/s in   updates/s delivered  per client/s  rtn_data/s  server CPU  client CPU  server RSS connected → peak feeding`,
    );
    const grow = async (count: number): Promise<number> => {
      const timeoutMs = Math.min(CONNECT_TIMEOUT_MS, deadline - performance.now());
      if (timeoutMs <= 0) throw new Error('out of time');
      const grown = await (clients as ClientProcess).request(
        { type: 'grow', url: started.url, count, insList: INSTRUMENTS.join(','), concurrency: CONNECT_CONCURRENCY, timeoutMs },
        'grown',
        timeoutMs + 5000,
      );
      if (grown.live < count) {
        const hint =
          grown.firstError === 'EMFILE' || grown.firstError === 'ENFILE'
            ? ' — out of file descriptors: raise ulimit -n before npm run bench'
            : '';
        fanout.push(
          `  reached ${grown.live.toLocaleString('en-US')} of ${count.toLocaleString('en-US')} clients in ${grown.seconds.toFixed(1)} s (${grown.failed} failed, first error: ${grown.firstError ?? 'timed out'})${hint}`,
        );
      }
      return grown.live;
    };
    const fanoutRow = (requested: number, w: Window): string =>
      `  ${fmt(w.live, 8)}  ${fmt(w.fedPerSecond, 11)}  ${fmt(w.updatesPerSecond, 19)}  ${fmt(w.updatesPerSecond / Math.max(1, w.live), 12)}  ${fmt(w.messagesPerSecond, 10)}  ${fmt(w.serverCpu * 100, 9)}%  ${fmt(w.clientCpu * 100, 9)}%  ${fmt(w.rssConnected / MB, 8)} → ${fmt(w.rssPeak / MB, 0)} MB` +
      (w.live < requested ? ` (of ${requested.toLocaleString('en-US')} asked)` : '') +
      (w.closed > 0 ? ` (${w.closed} closed by the server)` : '');

    for (const count of FANOUT_CLIENTS) {
      const live = await grow(count);
      if (live === 0) break;
      fanout.push(fanoutRow(count, await measure(sink, clients, FANOUT_TICKS_PER_SECOND, false)));
      if (count === LATENCY_CLIENTS) {
        // Latency with exactly LATENCY_CLIENTS connected, before growing further.
        const w = await measure(sink, clients, LATENCY_TICKS_PER_SECOND, true, LATENCY_WARMUP_MS);
        latency.push(
          `Latency at ${LATENCY_TICKS_PER_SECOND.toLocaleString('en-US')} ticks/s offered (${fmt(w.fedPerSecond, 0)} went in, the rest shed), ${fmt(w.live, 0)} clients, ${WINDOW_MS / 1000} s after ${LATENCY_WARMUP_MS / 1000} s warm-up:`,
          `  tick into the sink → rtn_data parsed by the client (quote datetime = send time, wall clock µs):`,
          w.latency === undefined
            ? '  no samples'
            : `  p50 ${ms(w.latency.p50)}   p99 ${ms(w.latency.p99)}   p99.9 ${ms(w.latency.p999)}   max ${ms(w.latency.max)}   (${w.latency.samples.toLocaleString('en-US')} quote updates)`,
          `  ${fmt(w.updatesPerSecond, 0)} updates/s delivered (${fmt(w.updatesPerSecond / Math.max(1, w.live), 0)} per client, ${fmt(w.messagesPerSecond, 0)} rtn_data/s); server CPU ${fmt(w.serverCpu * 100, 0)}%, client CPU ${fmt(w.clientCpu * 100, 0)}%; server RSS peak ${fmt(w.rssPeak / MB, 0)} MB`,
          `  ticks waited for the server's event loop before they went in: p99 ${ms(w.waitedP99Ms)} (not part of the latency above)`,
        );
      }
      if (performance.now() > deadline) throw new Error('out of time');
    }
  } catch (error) {
    (latency.length > 0 ? latency : fanout).push(`  stopped early: ${(error as Error).message}`);
  } finally {
    await clients?.stop();
    await sink?.stop();
  }
  lines.push(...fanout, '', ...latency);
  if (sink !== undefined && sink.slowConsumers > 0)
    lines.push(`  ${sink.slowConsumers} clients disconnected by the sink as slow consumers`);
  return lines;
}
