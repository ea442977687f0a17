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
import { productTable } from '../domain/product-table.js';
import type { FeedStatus, Tick } from '../schemas/generated.js';
import { websocketSink } from '../sinks/websocket-sink.js';
import { SimMarket } from '../sources/sim-market.js';
import type { FanoutCommand, FanoutReply } from './fanout-clients.js';
import { formatCount } from './format-count.js';

const SIX = ['SHFE.rb2501', 'SHFE.cu2501', 'DCE.m2501', 'CZCE.SR501', 'CFFEX.IF2501', 'INE.sc2501'];
/** 500 instruments: every product of the table, month by month (CZCE codes carry a 3-digit month). */
const FIVE_HUNDRED = ['25', '26']
  .flatMap((year) => Array.from({ length: 12 }, (_, m) => `${year}${String(m + 1).padStart(2, '0')}`))
  .flatMap((month) =>
    Object.entries(productTable)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([code, spec]) => `${spec.exchange}.${code}${spec.exchange === 'CZCE' ? month.slice(1) : month}`),
  )
  .slice(0, 500);
/** A day-session morning when every product trades; the whole benchmark stays inside it. */
const SIM_START_US = Date.parse('2025-01-02T09:31:00+08:00') * 1000;
/** The issue's goals: 20,000 ticks/s over 500 instruments, clients subscribed to 20 each or to all. */
const LATENCY_TICKS_PER_SECOND = 20_000;
const LATENCY_CLIENTS = [100, 1_000] as const;
const PER_CLIENT_INSTRUMENTS = 20;
const CAPACITY_TICKS_PER_SECOND = 1_000;
const CAPACITY_CLIENTS = [1_000, 5_000] as const;
const MANY_CLIENTS = 10_000;
const MANY_TICKS_PER_SECOND = 1_000;
/** The workloads of 20 instruments a client, and of 10,000 clients, are run again with the clients served by this many processes. */
const FANOUT_PROCESSES = 2;
const WINDOW_MS = 3_000;
/** Fed before a window, so that it measures the steady state, not the start. */
const WARMUP_MS = 1_000;
const CONNECT_CONCURRENCY = 200;
const CONNECT_TIMEOUT_MS = 60_000;
const REPLY_TIMEOUT_MS = 15_000;
const CONVERGE_TIMEOUT_MS = 10_000;
const RSS_SAMPLE_MS = 100;
/** The most ticks one feeder turn sends, in milliseconds of the rate; older ones are shed. */
const MAX_BURST_MS = 20;
/** Everything of this benchmark after which it gives up, whatever is left. */
const BUDGET_MS = 420_000;

const MB = 1024 * 1024;
const LABEL_WIDTH = 44;
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
  private readonly market: SimMarket;
  private readonly logLines: string[] = [];
  private readonly subscription: Subscription;
  /** Per instrument, the event time (µs) of the last tick fed: what a converged client holds. */
  readonly lastTickUs: Record<string, number> = {};
  readonly done: Promise<void>;

  /** The fan-out processes' pids, once started with some. */
  fanoutPids: number[] = [];

  private constructor(instruments: readonly string[], fanoutProcesses: number) {
    this.market = new SimMarket({ instruments, seed: 11, start: SIM_START_US, tickIntervalMs: 1, feedId: 'bench', latencyUs: 0 });
    const config = validateConfig('websocket', websocketSink.spec, {
      host: '127.0.0.1',
      port: 0,
      max_connections: 20_000,
      max_connections_per_address: 20_000,
      fanout_processes: fanoutProcesses,
    });
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
  static async start(instruments: readonly string[], fanoutProcesses: number): Promise<{ sink: FedSink; url: string }> {
    const sink = new FedSink(instruments, fanoutProcesses);
    // Boxed: the rethrow is of the error as it came, whatever it is.
    let failure: { error: unknown } | undefined;
    sink.done.catch((error: unknown) => (failure = { error }));
    for (let waited = 0; waited < 5000; waited += 10) {
      if (failure !== undefined) throw failure.error;
      const logged = sink.logLines.map((l) => JSON.parse(l) as { url?: string; pids?: number[] });
      const url = logged.find((l) => l.url !== undefined)?.url;
      sink.fanoutPids = logged.find((l) => l.pids !== undefined)?.pids ?? [];
      if (url !== undefined && sink.fanoutPids.length === fanoutProcesses) return { sink, url: url.replace(/^http/, 'ws') + '/' };
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
   * shed (a tick arriving that late is of no use). Returns the ticks sent and shed.
   */
  async feed(rate: number, durationMs: number): Promise<{ sent: number; shed: number; seconds: number }> {
    const total = Math.round((rate * durationMs) / 1000);
    const burst = Math.max(1, Math.round((rate * MAX_BURST_MS) / 1000));
    const started = performance.now();
    let next = 0; // index of the next tick on the schedule
    let sent = 0;
    await new Promise<void>((resolve) => {
      const turn = (): void => {
        const now = performance.now();
        const due = Math.min(total, Math.floor(((now - started) * rate) / 1000) + 1);
        if (due - next > burst) next = due - burst;
        for (; next < due; next++, sent++) {
          const tick = { ...this.market.next(), ts_event: nowUs() };
          this.lastTickUs[tick.instrument_id] = tick.ts_event;
          this.ticks.next(tick);
        }
        if (next < total && now - started < durationMs) setTimeout(turn, 1);
        else resolve();
      };
      turn();
    });
    return { sent, shed: total - sent, seconds: (performance.now() - started) / 1000 };
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

/** Linux's clock ticks a second, the unit of CPU time in /proc/PID/stat. */
const CLOCK_TICKS = 100;
const PAGE_BYTES = 4096;

/** CPU seconds (user and system) the processes `pids` have used (Linux /proc; 0 for one that is gone). */
function processesCpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // Gone: it uses nothing more.
    }
  }
  return ticks / CLOCK_TICKS;
}

/** Resident bytes of the processes `pids` (Linux /proc/PID/statm). */
function processesRss(pids: readonly number[]): number {
  let pages = 0;
  for (const pid of pids) {
    try {
      pages += Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
    } catch {
      // Gone: it holds nothing more.
    }
  }
  return pages * PAGE_BYTES;
}

/** Peak RSS of this process and the processes `pids` while `work` runs, sampled every RSS_SAMPLE_MS. */
async function withPeakRss<T>(pids: readonly number[], work: () => Promise<T>): Promise<{ result: T; peakRss: number }> {
  const rss = (): number => process.memoryUsage().rss + processesRss(pids);
  let peakRss = rss();
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rss())), RSS_SAMPLE_MS);
  try {
    const result = await work();
    return { result, peakRss: Math.max(peakRss, rss()) };
  } finally {
    clearInterval(sampler);
  }
}

/** `count` subscriptions of `size` distinct instruments of `instruments`, drawn by a seeded generator: clients rarely share one. */
function randomSubscriptions(instruments: readonly string[], size: number, count: number): string[] {
  let seed = 12_345;
  const random = (): number => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32;
  return Array.from({ length: count }, () => {
    const chosen = new Set<string>();
    while (chosen.size < size) chosen.add(instruments[Math.floor(random() * instruments.length)] as string);
    return [...chosen].join(',');
  });
}

/** One sink and one client process, grown step by step; stopped together. */
class Bench {
  private constructor(
    readonly sink: FedSink,
    readonly clients: ClientProcess,
    private readonly url: string,
    private readonly deadline: number,
    readonly fanoutProcesses: number,
  ) {}

  /** A figure's label, naming the fan-out processes when there are some, so that each figure keeps a label of its own. */
  label(label: string): string {
    return this.fanoutProcesses === 0 ? label : `${label}, ${this.fanoutProcesses} processes`;
  }

  static async start(instruments: readonly string[], deadline: number, fanoutProcesses: number): Promise<Bench> {
    const { sink, url } = await FedSink.start(instruments, fanoutProcesses);
    return new Bench(sink, ClientProcess.start(), url, deadline, fanoutProcesses);
  }

  /** Grows to `count` live clients; returns how many are live, and a note when fewer. */
  async grow(count: number, insLists: readonly string[], track = false): Promise<{ live: number; note: string }> {
    const timeoutMs = Math.min(CONNECT_TIMEOUT_MS, this.deadline - performance.now());
    if (timeoutMs <= 0) throw new Error('out of time');
    const grown = await this.clients.request(
      { type: 'grow', url: this.url, count, insLists, track, concurrency: CONNECT_CONCURRENCY, timeoutMs },
      'grown',
      timeoutMs + 5000,
    );
    if (grown.live >= count) return { live: grown.live, note: '' };
    const hint =
      grown.firstError === 'EMFILE' || grown.firstError === 'ENFILE'
        ? ' — out of file descriptors: raise ulimit -n before npm run bench'
        : '';
    return {
      live: grown.live,
      note: ` (reached ${grown.live.toLocaleString('en-US')} of ${count.toLocaleString('en-US')} clients in ${grown.seconds.toFixed(1)} s, ${grown.failed} failed, first error: ${grown.firstError ?? 'timed out'}${hint})`,
    };
  }

  /** Feeds `warmupMs` uncounted, then WINDOW_MS counted by the clients; server CPU and peak RSS over the window. */
  async measure(rate: number, latency: boolean, warmupMs = WARMUP_MS) {
    const pids = this.sink.fanoutPids;
    const rssConnected = (await settledRss()) + processesRss(pids);
    const { result, peakRss } = await withPeakRss(pids, async () => {
      if (warmupMs > 0) await this.sink.feed(rate, warmupMs);
      await this.clients.request({ type: 'start', latency }, 'started');
      const cpuAt = process.cpuUsage();
      const fanoutCpuAt = processesCpuSeconds(pids);
      const fed = await this.sink.feed(rate, WINDOW_MS);
      const cpu = process.cpuUsage(cpuAt);
      const fanoutCpu = processesCpuSeconds(pids) - fanoutCpuAt;
      const report = await this.clients.request({ type: 'stop' }, 'stopped');
      return { fed, report, serverCpu: ((cpu.user + cpu.system) / 1e6 + fanoutCpu) / fed.seconds };
    });
    const { fed, report, serverCpu } = result;
    return {
      live: report.live,
      fedPerSecond: fed.sent / fed.seconds,
      shedPerSecond: fed.shed / fed.seconds,
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

  async stop(): Promise<void> {
    await this.clients.stop();
    await this.sink.stop();
  }
}

type Window = Awaited<ReturnType<Bench['measure']>>;

const percent = (share: number): string => `${Math.round(share * 100)} %`;

/** One figure line: what went in, what came out, at what latency and cost. */
function row(label: string, w: Window, note: string): string {
  const latency =
    w.latency === undefined
      ? ''
      : `, p50 ${ms(w.latency.p50)}, p99 ${ms(w.latency.p99)}, p99.9 ${ms(w.latency.p999)}, max ${ms(w.latency.max)}`;
  return (
    `  ${label.padEnd(LABEL_WIDTH)}  ${fmt(w.fedPerSecond, 7)} ticks/s in, ${fmt(w.shedPerSecond, 0)} shed/s${latency}, ` +
    `${fmt(w.updatesPerSecond, 0)} updates/s to ${fmt(w.live, 0)} clients (${fmt(w.messagesPerSecond, 0)} rtn_data/s), ` +
    `server CPU ${percent(w.serverCpu)}, client CPU ${percent(w.clientCpu)}, server RSS ${fmt(w.rssConnected / MB, 0)} → ${fmt(w.rssPeak / MB, 0)} MB` +
    (w.closed > 0 ? `, ${w.closed} closed by the server` : '') +
    note
  );
}

/**
 * The websocket sink fanning out to DIFF clients held by a separate process
 * (subscribe_quote, then the peek_message loop), fed in this process through
 * quote-diff. Latency is tick into the sink → rtn_data parsed by the client
 * (the quote's datetime is the wall-clock send time). Three workloads, each
 * with its own sink and client process: 20,000 ticks/s over 500 instruments
 * at 100 and 1,000 clients (20 instruments each, then all 500); 1,000
 * ticks/s over 6 instruments at 1,000 and 5,000 clients; 10,000 clients over
 * 500 instruments: RSS, and how long after the last tick every client holds
 * the last quote of each of its instruments. The first and the last are run
 * again with the clients served by FANOUT_PROCESSES fan-out processes.
 */
export async function websocketFanout(): Promise<string[]> {
  const deadline = performance.now() + BUDGET_MS;
  const limit = openFileLimit();
  const lines = [
    `websocket sink in this process fed sim ticks through quote-diff (two workloads again with the clients served by ${FANOUT_PROCESSES} fan-out processes: server CPU and RSS include theirs); DIFF clients in a separate process; ${WARMUP_MS / 1000} s warm-up, ${WINDOW_MS / 1000} s windows.`,
    `open-file limit ${limit ?? 'unknown'}; load average ${loadavg()[0]?.toFixed(2)} (1 min; other work on this machine slows both processes)${limit !== undefined && limit < MANY_CLIENTS + 200 ? ` — too low for ${MANY_CLIENTS.toLocaleString('en-US')} clients; run npm run bench after ulimit -n ${2 * MANY_CLIENTS}` : ''}`,
  ];
  const run = async (
    title: string,
    instruments: readonly string[],
    body: (bench: Bench) => Promise<void>,
    fanoutProcesses = 0,
  ): Promise<void> => {
    lines.push(
      fanoutProcesses === 0
        ? title
        : `${title.replace(/:$/, '')}, clients served by ${fanoutProcesses} fan-out processes (fanout_processes):`,
    );
    let bench: Bench | undefined;
    try {
      if (performance.now() > deadline) throw new Error('out of time');
      bench = await Bench.start(instruments, deadline, fanoutProcesses);
      await body(bench);
    } catch (error) {
      lines.push(`  stopped early: ${(error as Error).message}`);
    } finally {
      await bench?.stop();
      if (bench !== undefined && bench.sink.slowConsumers > 0)
        lines.push(`  ${bench.sink.slowConsumers} clients disconnected by the sink as slow consumers`);
    }
  };

  const rate = LATENCY_TICKS_PER_SECOND.toLocaleString('en-US');
  const twentyEachTitle = `${rate} ticks/s offered over 500 instruments, each client subscribed to ${PER_CLIENT_INSTRUMENTS} (drawn at random):`;
  const twentyEach = async (bench: Bench): Promise<void> => {
    const insLists = randomSubscriptions(FIVE_HUNDRED, PER_CLIENT_INSTRUMENTS, Math.max(...LATENCY_CLIENTS));
    for (const count of LATENCY_CLIENTS) {
      const { note } = await bench.grow(count, insLists);
      lines.push(
        row(
          bench.label(`${count.toLocaleString('en-US')} clients × ${PER_CLIENT_INSTRUMENTS} instruments`),
          await bench.measure(LATENCY_TICKS_PER_SECOND, true),
          note,
        ),
      );
    }
  };
  const manyTitle = `${MANY_CLIENTS.toLocaleString('en-US')} clients over 500 instruments (${PER_CLIENT_INSTRUMENTS} each), ${MANY_TICKS_PER_SECOND.toLocaleString('en-US')} ticks/s, then convergence after the last tick:`;
  const many = async (bench: Bench): Promise<void> => {
    const { note } = await bench.grow(MANY_CLIENTS, randomSubscriptions(FIVE_HUNDRED, PER_CLIENT_INSTRUMENTS, MANY_CLIENTS), true);
    lines.push(
      row(
        bench.label(`${MANY_CLIENTS.toLocaleString('en-US')} clients × ${PER_CLIENT_INSTRUMENTS} instruments`),
        await bench.measure(MANY_TICKS_PER_SECOND, false),
        note,
      ),
    );
    const converged = await bench.clients.request(
      {
        type: 'converge',
        lastTickUs: Math.max(...Object.values(bench.sink.lastTickUs)),
        finalUs: bench.sink.lastTickUs,
        timeoutMs: CONVERGE_TIMEOUT_MS,
      },
      'converged',
      CONVERGE_TIMEOUT_MS + 5000,
    );
    lines.push(
      `  ${bench.label('every snapshot converged after the last tick').padEnd(LABEL_WIDTH)}  p50 ${ms(converged.p50)}, p99 ${ms(converged.p99)}, max ${ms(converged.max)} (${fmt(converged.converged, 0)} of ${fmt(converged.clients, 0)} clients within ${CONVERGE_TIMEOUT_MS / 1000} s)`,
    );
  };
  await run(twentyEachTitle, FIVE_HUNDRED, twentyEach);
  await run(twentyEachTitle, FIVE_HUNDRED, twentyEach, FANOUT_PROCESSES);
  await run(`${rate} ticks/s offered over 500 instruments, each client subscribed to all 500:`, FIVE_HUNDRED, async (bench) => {
    for (const count of LATENCY_CLIENTS) {
      const { note } = await bench.grow(count, [FIVE_HUNDRED.join(',')]);
      lines.push(
        row(`${count.toLocaleString('en-US')} clients × 500 instruments`, await bench.measure(LATENCY_TICKS_PER_SECOND, true), note),
      );
    }
  });
  await run(
    `Capacity: ${CAPACITY_TICKS_PER_SECOND.toLocaleString('en-US')} ticks/s offered over 6 instruments, every client subscribed to all 6:`,
    SIX,
    async (bench) => {
      for (const count of CAPACITY_CLIENTS) {
        const { note } = await bench.grow(count, [SIX.join(',')]);
        lines.push(
          row(`${count.toLocaleString('en-US')} clients × 6 instruments`, await bench.measure(CAPACITY_TICKS_PER_SECOND, true), note),
        );
      }
    },
  );
  await run(manyTitle, FIVE_HUNDRED, many);
  await run(manyTitle, FIVE_HUNDRED, many, FANOUT_PROCESSES);
  return lines;
}
