// The client side of bench/websocket-fanout.ts, run as its own Node process (forked from
// dist/bench/fanout-clients.js) so that the clients' work does not slow the server. It holds
// many DIFF-protocol clients on one event loop, each subscribed to its instruments and running
// the peek_message loop, counts the quote updates they receive and, when asked, the latency from
// each quote's `datetime` (stamped by the server process with the wall clock) to its arrival here,
// and how long after the last tick every client holds the last quote of each of its instruments.
// Driven by, and reporting to, the parent over IPC; it exits when the parent goes away.
import { WebSocket, type RawData } from 'ws';
import { DiffQuoteFields } from '../protocols/diff/diff-quote-fields.js';

/** What the benchmark asks of this process. */
export type FanoutCommand =
  /**
   * Opens clients until `count` are live (subscribed, snapshot received), `concurrency` connecting at a time, for at most `timeoutMs`;
   * the n-th client opened subscribes to `insLists[n % insLists.length]`.
   */
  | {
      readonly type: 'grow';
      readonly url: string;
      readonly count: number;
      readonly insLists: readonly string[];
      /** Keeps what each client holds, for `converge`: a datetime parsed per quote update. */
      readonly track: boolean;
      readonly concurrency: number;
      readonly timeoutMs: number;
    }
  /**
   * Reports, per client, how long after `lastTickUs` (wall clock) it held the quote of `finalUs[id]` (the last tick's
   * datetime) for every instrument it subscribes to; waits at most `timeoutMs` for the last ones.
   */
  | {
      readonly type: 'converge';
      readonly lastTickUs: number;
      readonly finalUs: Readonly<Record<string, number>>;
      readonly timeoutMs: number;
    }
  /** Resets the counters and starts counting (and timing, when `latency`). */
  | { readonly type: 'start'; readonly latency: boolean }
  /** Stops counting and reports. */
  | { readonly type: 'stop' }
  /** Answers at once with this process's clock: the parent checks that the two clocks agree. */
  | { readonly type: 'clock'; readonly id: number }
  /** Closes every client and exits. */
  | { readonly type: 'exit' };

export interface LatencyReport {
  readonly samples: number;
  /** Milliseconds. */
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** What this process answers. */
export type FanoutReply =
  | {
      readonly type: 'grown';
      readonly live: number;
      readonly failed: number;
      readonly firstError: string | undefined;
      readonly seconds: number;
    }
  | { readonly type: 'started' }
  | {
      readonly type: 'stopped';
      readonly seconds: number;
      /** Quote updates received: one per instrument per rtn_data. */
      readonly updates: number;
      readonly messages: number;
      readonly live: number;
      /** Clients the server closed since they connected. */
      readonly closed: number;
      /** CPU time of this process over the window, as a share of one core. */
      readonly cpu: number;
      readonly latency: LatencyReport | undefined;
    }
  | { readonly type: 'clock'; readonly id: number; readonly clientUs: number }
  | {
      readonly type: 'converged';
      readonly clients: number;
      readonly converged: number;
      /** Milliseconds after the last tick. */
      readonly p50: number;
      readonly p99: number;
      readonly max: number;
    }
  | { readonly type: 'failed'; readonly message: string };

/** Latencies kept exactly up to this many; beyond, a uniform reservoir sample of this size. */
const MAX_SAMPLES = 2_000_000;
/** Exits however the parent behaves, long after any run it would make. */
const WATCHDOG_MS = 240_000;
const PEEK = JSON.stringify({ aid: 'peek_message' });

const nowUs = (): number => (performance.timeOrigin + performance.now()) * 1000;

/** What a client holds: per subscribed instrument the datetime (µs) of the latest quote it got, and when its last message came. */
interface ClientView {
  readonly ids: readonly string[];
  readonly latestUs: Map<string, number>;
  lastMessageUs: number;
}

const live = new Set<WebSocket>();
const views = new Map<WebSocket, ClientView>();
let opened = 0;
/** While a convergence is awaited: the last tick's datetime per instrument, and the clients not there yet. */
let convergence:
  | {
      readonly lastTickUs: number;
      readonly finalUs: Readonly<Record<string, number>>;
      readonly waiting: Set<WebSocket>;
      readonly afterMs: number[];
    }
  | undefined;
let exiting = false;
let counting = false;
let timing = false;
let updates = 0;
let messages = 0;
let closed = 0;
let startedAt = 0;
let cpuAt = process.cpuUsage();
const samples = new Float64Array(MAX_SAMPLES);
let seen = 0;

function reply(message: FanoutReply): void {
  process.send?.(message);
}

function record(latencyUs: number): void {
  if (seen < MAX_SAMPLES) samples[seen] = latencyUs;
  else {
    const j = Math.floor(Math.random() * (seen + 1));
    if (j < MAX_SAMPLES) samples[j] = latencyUs;
  }
  seen++;
}

function latencyReport(): LatencyReport | undefined {
  const n = Math.min(seen, MAX_SAMPLES);
  if (n === 0) return undefined;
  const sorted = samples.subarray(0, n).sort();
  const at = (p: number): number => (sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))] as number) / 1000;
  return { samples: seen, p50: at(0.5), p99: at(0.99), p999: at(0.999), max: (sorted[n - 1] as number) / 1000 };
}

type Patch = { quotes?: Record<string, { datetime?: unknown } | null> };

function hasConverged(view: ClientView, finalUs: Readonly<Record<string, number>>): boolean {
  return view.ids.every((id) => finalUs[id] === undefined || (view.latestUs.get(id) ?? -1) >= finalUs[id]);
}

function onMessage(socket: WebSocket, data: RawData): void {
  const receivedUs = nowUs();
  const message = JSON.parse((data as Buffer).toString('utf8')) as { aid?: string; data?: Patch[] };
  if (message.aid !== 'rtn_data' || !Array.isArray(message.data)) return;
  // Ask for the next one before counting this one, as a client that keeps up does.
  socket.send(PEEK);
  const view = views.get(socket);
  if (view !== undefined) view.lastMessageUs = receivedUs;
  if (counting) messages++;
  for (const patch of message.data) {
    const quotes = patch.quotes;
    if (typeof quotes !== 'object' || quotes === null) continue;
    for (const id in quotes) {
      if (counting) updates++;
      // Parsing every datetime costs this process more than the rest of a message: only when timing or tracking.
      if (!timing && view === undefined) continue;
      const datetime = quotes[id]?.datetime;
      const sentUs = typeof datetime === 'string' ? DiffQuoteFields.parseDatetime(datetime) : undefined;
      if (sentUs === undefined) continue;
      view?.latestUs.set(id, sentUs);
      if (timing) record(receivedUs - sentUs);
    }
  }
  if (convergence !== undefined && view !== undefined && convergence.waiting.has(socket) && hasConverged(view, convergence.finalUs)) {
    convergence.waiting.delete(socket);
    convergence.afterMs.push((receivedUs - convergence.lastTickUs) / 1000);
  }
}

/** One client: connects, subscribes, peeks; settles true once the first rtn_data (the snapshot) arrived, false on failure (with the error). */
function openClient(url: string, insList: string, track: boolean, onError: (message: string) => void): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    if (track) views.set(socket, { ids: insList.split(','), latestUs: new Map(), lastMessageUs: 0 });
    let snapshot = false;
    socket.on('open', () => {
      socket.send(JSON.stringify({ aid: 'subscribe_quote', ins_list: insList }));
      socket.send(PEEK);
    });
    socket.on('message', (data) => {
      if (!snapshot) {
        snapshot = true;
        live.add(socket);
        resolve(true);
      }
      onMessage(socket, data);
    });
    socket.on('error', (error: Error & { code?: string }) => {
      if (!snapshot) onError(error.code ?? error.message);
      socket.terminate();
    });
    socket.on('close', () => {
      views.delete(socket);
      if (live.delete(socket) && !exiting) closed++;
      if (!snapshot) {
        snapshot = true;
        resolve(false);
      }
    });
  });
}

async function grow(command: Extract<FanoutCommand, { type: 'grow' }>): Promise<void> {
  const started = performance.now();
  const deadline = started + command.timeoutMs;
  let failed = 0;
  let firstError: string | undefined;
  let connecting = 0;
  const onError = (message: string): void => void (firstError ??= message);
  const worker = async (): Promise<void> => {
    // Stops at the first failure of its own: with EMFILE every further attempt would fail too.
    while (live.size + connecting < command.count && performance.now() < deadline && !exiting) {
      connecting++;
      const ok = await openClient(command.url, command.insLists[opened++ % command.insLists.length] as string, command.track, onError);
      connecting--;
      if (!ok) {
        failed++;
        return;
      }
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(command.concurrency, command.count - live.size)) }, worker);
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, command.timeoutMs + 1000).unref());
  await Promise.race([Promise.all(workers), timeout]);
  reply({ type: 'grown', live: live.size, failed, firstError, seconds: (performance.now() - started) / 1000 });
}

function converge(command: Extract<FanoutCommand, { type: 'converge' }>): void {
  const waiting = new Set<WebSocket>();
  const afterMs: number[] = [];
  for (const socket of live) {
    const view = views.get(socket);
    if (view === undefined) continue;
    if (hasConverged(view, command.finalUs)) afterMs.push((view.lastMessageUs - command.lastTickUs) / 1000);
    else waiting.add(socket);
  }
  convergence = { lastTickUs: command.lastTickUs, finalUs: command.finalUs, waiting, afterMs };
  const started = performance.now();
  const check = (): void => {
    if (convergence === undefined) return;
    if (convergence.waiting.size > 0 && performance.now() - started < command.timeoutMs) return void setTimeout(check, 10);
    const sorted = convergence.afterMs.sort((a, b) => a - b);
    const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? NaN;
    reply({
      type: 'converged',
      clients: sorted.length + convergence.waiting.size,
      converged: sorted.length,
      p50: at(0.5),
      p99: at(0.99),
      max: sorted[sorted.length - 1] ?? NaN,
    });
    convergence = undefined;
  };
  check();
}

function exit(code: number): void {
  exiting = true;
  for (const socket of live) socket.terminate();
  live.clear();
  process.exit(code);
}

process.on('message', (command: FanoutCommand) => {
  switch (command.type) {
    case 'grow':
      grow(command).catch((error: unknown) => reply({ type: 'failed', message: (error as Error).message }));
      return;
    case 'start':
      updates = 0;
      messages = 0;
      closed = 0;
      seen = 0;
      timing = command.latency;
      counting = true;
      startedAt = performance.now();
      cpuAt = process.cpuUsage();
      reply({ type: 'started' });
      return;
    case 'stop': {
      counting = false;
      timing = false;
      const seconds = (performance.now() - startedAt) / 1000;
      const cpu = process.cpuUsage(cpuAt);
      reply({
        type: 'stopped',
        seconds,
        updates,
        messages,
        live: live.size,
        closed,
        cpu: (cpu.user + cpu.system) / 1e6 / seconds,
        latency: latencyReport(),
      });
      return;
    }
    case 'clock':
      reply({ type: 'clock', id: command.id, clientUs: nowUs() });
      return;
    case 'converge':
      converge(command);
      return;
    case 'exit':
      exit(0);
  }
});
// The parent died or let go: nothing is left to report to.
process.on('disconnect', () => exit(0));
setTimeout(() => exit(3), WATCHDOG_MS).unref();
