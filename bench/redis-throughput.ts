import { Redis } from 'ioredis';
import { standaloneContext, type StandaloneContext } from '../pipeline/components/standalone-context.js';
import { Subject, asyncScheduler } from 'rxjs';
import { quoteDiff } from '../operators/quote-diff.js';
import { validateConfig } from '../pipeline/config/validate-config.js';
import { sinkStage } from '../pipeline/runtime/sink-stage.js';
import type { QuoteDiff, Tick } from '../schemas/generated.js';
import { redisSink } from '../sinks/redis-sink.js';
import { SimMarket } from '../sources/sim-market.js';
import { startRedisServer, type RedisServer } from './start-redis-server.js';
import { formatCount } from './format-count.js';
import { latencyPercentiles, type LatencyPercentiles } from './latency-percentiles.js';

const INSTRUMENTS = ['SHFE.rb2501', 'SHFE.cu2501', 'DCE.m2501', 'CZCE.SR501', 'CFFEX.IF2501', 'INE.sc2501'];
const SIM_START_US = Date.parse('2025-01-02T21:00:00+08:00') * 1000;
const TICKS = 100_000;
/** Records fed per event-loop turn, and the most unacknowledged at once: the feeder never outruns the sink's bound. */
const CHUNK = 1_000;
const WINDOW = 20_000;
/** Records (ticks and quote changes together) offered per second in the latency run. */
const LATENCY_RATE = 10_000;
const LATENCY_SECONDS = 3;
/** Everything of one run after which it gives up. */
const RUN_BUDGET_MS = 60_000;

type Item = { readonly kind: 'tick'; readonly record: Tick } | { readonly kind: 'quote'; readonly record: QuoteDiff };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Sim ticks of six instruments, each followed by the QuoteDiff quote-diff makes of it: what a live pipeline feeds the sink. */
function marketItems(n: number): Item[] {
  const market = new SimMarket({
    instruments: INSTRUMENTS,
    seed: 5,
    start: SIM_START_US,
    tickIntervalMs: 500,
    feedId: 'bench',
    latencyUs: 0,
  });
  const input = new Subject<Tick>();
  const items: Item[] = [];
  input.pipe(quoteDiff()).subscribe((diff) => items.push({ kind: 'quote', record: diff }));
  for (let i = 0; i < n; i++) {
    const tick = market.next();
    items.push({ kind: 'tick', record: tick });
    input.next(tick);
  }
  return items;
}

const benchContext = (): StandaloneContext => standaloneContext(asyncScheduler, { stage: 'redis', component: redisSink });

/**
 * When each record was fed, per port: the sink acknowledges a port's records
 * in the order they were written, so an acknowledgement is the oldest
 * unacknowledged record of its port (no lookup per record).
 */
class FeedTimes {
  private readonly times: number[] = [];
  private head = 0;
  push(at: number): void {
    this.times.push(at);
  }
  shift(): number | undefined {
    return this.head < this.times.length ? this.times[this.head++] : undefined;
  }
}

interface SinkRun {
  readonly quotes: Subject<QuoteDiff>;
  readonly ticks: Subject<Tick>;
  readonly ctx: StandaloneContext;
  acked: number;
  readonly done: Promise<void>;
  readonly fedTicks: FeedTimes;
  readonly fedQuotes: FeedTimes;
  /** Milliseconds from each record's feed to its acknowledgement. */
  readonly latencies: number[];
}

function startSink(server: RedisServer, config: Record<string, unknown>): SinkRun {
  const ctx = benchContext();
  const quotes = new Subject<QuoteDiff>();
  const ticks = new Subject<Tick>();
  const run = { quotes, ticks, ctx, acked: 0, fedTicks: new FeedTimes(), fedQuotes: new FeedTimes(), latencies: [] } as Omit<
    SinkRun,
    'done'
  > & { done?: Promise<void> };
  run.done = new Promise<void>((resolve, reject) => {
    sinkStage(
      redisSink.create(validateConfig('redis', redisSink.spec, { url: server.url, ...config }), ctx),
      reject,
    )({ quotes, ticks }).subscribe({
      next: (record) => {
        run.acked++;
        // A QuoteDiff has `changes`; a Tick has not.
        const at = (typeof record === 'object' && record !== null && 'changes' in record ? run.fedQuotes : run.fedTicks).shift();
        if (at !== undefined) run.latencies.push(performance.now() - at);
      },
      error: reject,
      complete: resolve,
    });
  });
  return run as SinkRun;
}

function feedOne(run: SinkRun, item: Item): void {
  if (item.kind === 'tick') {
    run.fedTicks.push(performance.now());
    run.ticks.next(item.record);
  } else {
    run.fedQuotes.push(performance.now());
    run.quotes.next(item.record);
  }
}

/** Seconds of CPU the redis-server has used so far (INFO cpu), so a run can tell the server's share from Node's. */
async function serverCpuSeconds(admin: Redis): Promise<number> {
  const info = await admin.info('cpu');
  const field = (name: string): number => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? NaN);
  return field('used_cpu_user') + field('used_cpu_sys');
}

interface Throughput {
  readonly records: number;
  readonly ticks: number;
  readonly commands: number;
  readonly dropped: number;
  readonly latency: LatencyPercentiles;
  /** CPU used over the run's wall time, in per cent of one core. */
  readonly nodeCpu: number;
  /** Node's CPU time per record fed, in µs: steadier than records/s on a machine shared with other work. */
  readonly nodeCpuPerRecordUs: number;
  readonly serverCpu: number;
}

/** Feeds every item as fast as the sink acknowledges them (at most WINDOW outstanding), then completes. */
async function throughput(server: RedisServer, admin: Redis, items: readonly Item[], config: Record<string, unknown>): Promise<Throughput> {
  const run = startSink(server, config);
  const deadline = performance.now() + RUN_BUDGET_MS;
  const serverBefore = await serverCpuSeconds(admin);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let fed = 0;
  let ticks = 0;
  for (let guard = 0; fed < items.length && performance.now() < deadline && guard < 10_000_000; guard++) {
    if (fed - run.acked >= WINDOW) {
      await turn();
      continue;
    }
    const end = Math.min(items.length, fed + CHUNK);
    for (; fed < end; fed++) {
      const item = items[fed] as Item;
      if (item.kind === 'tick') ticks++;
      feedOne(run, item);
    }
    await turn();
  }
  run.quotes.complete();
  run.ticks.complete();
  await run.done;
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const serverSeconds = (await serverCpuSeconds(admin)) - serverBefore;
  const commands = (await run.ctx.registry.getSingleMetric('tickflow_redis_commands_total')?.get())?.values[0]?.value ?? 0;
  return {
    records: fed / seconds,
    ticks: ticks / seconds,
    commands: commands / seconds,
    dropped: run.ctx.metrics.droppedTotal,
    latency: latencyPercentiles(run.latencies),
    nodeCpu: ((cpu.user + cpu.system) / 1e6 / seconds) * 100,
    nodeCpuPerRecordUs: (cpu.user + cpu.system) / Math.max(1, fed),
    serverCpu: (serverSeconds / seconds) * 100,
  };
}

/** Feeds at LATENCY_RATE records/s in 10 ms steps and measures each record's time from next() to its acknowledgement. */
async function ackLatency(server: RedisServer, items: readonly Item[]): Promise<LatencyPercentiles> {
  const run = startSink(server, { key_prefix: 'latency:' });
  const total = Math.min(items.length, LATENCY_RATE * LATENCY_SECONDS);
  const started = performance.now();
  let fed = 0;
  for (let step = 0; fed < total && step < 100_000; step++) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * LATENCY_RATE));
    for (; fed < due; fed++) feedOne(run, items[fed] as Item);
    await sleep(10);
  }
  run.quotes.complete();
  run.ticks.complete();
  await run.done;
  return latencyPercentiles(run.latencies);
}

/**
 * The redis sink against a real local redis-server: at saturation (fed as
 * fast as it acknowledges, at most 20,000 records outstanding) records and
 * ticks per second (ticks → stream entries, quote changes → hash writes,
 * plus the instruments set), commands per second, the time from a record
 * entering the sink to its acknowledgement, and the CPU of Node (also per
 * record: the figure to trust when other work shares the machine) and of the
 * server, at several batch sizes and with pub/sub on; then the same
 * latency at 10,000 records/s offered (default config).
 */
export async function redisThroughput(): Promise<string[]> {
  const server = await startRedisServer();
  const admin = new Redis(server.url);
  try {
    const items = marketItems(TICKS);
    const quotes = items.filter((i) => i.kind === 'quote').length;
    const lines = [
      `${TICKS.toLocaleString('en-US')} sim ticks + ${quotes.toLocaleString('en-US')} quote changes (six instruments, each tick then its change) ` +
        `into a local redis-server, one connection; saturation (at most ${WINDOW.toLocaleString('en-US')} unacknowledged), ` +
        `then ${LATENCY_RATE.toLocaleString('en-US')} records/s offered for ${LATENCY_SECONDS} s in 10 ms steps:`,
    ];
    await throughput(server, admin, items.slice(0, 20_000), { key_prefix: 'warmup:' });
    // Labels name the settings, not the build's defaults, so two builds compare case by case; `default config` is each build's own.
    const cases: readonly [string, Record<string, unknown>][] = [
      ['batch_size 100', { batch_size: 100 }],
      ['batch_size 500', { batch_size: 500 }],
      ['batch_size 2000', { batch_size: 2000 }],
      ['batch_size 500, publish on', { batch_size: 500, publish: true }],
      ['default config', {}],
    ];
    for (const [label, config] of cases) {
      const result = await throughput(server, admin, items, { key_prefix: `bench${lines.length}:`, ...config });
      lines.push(
        `  ${label.padEnd(30)} ${formatCount(result.records)} records/s, ${formatCount(result.ticks, 0)} ticks/s, ` +
          `${formatCount(result.commands, 0)} commands/s, ack ${result.latency.text}; ` +
          `node ${result.nodeCpu.toFixed(0)} %CPU, redis-server ${result.serverCpu.toFixed(0)} %CPU, ` +
          // Last on the line, so the figures before it keep their places against builds that did not print it.
          `node ${result.nodeCpuPerRecordUs.toFixed(2)} µs CPU per record` +
          (result.dropped > 0 ? `  (${result.dropped} dropped)` : ''),
      );
    }
    const latency = await ackLatency(server, items);
    lines.push(`  ${`ack at ${LATENCY_RATE.toLocaleString('en-US')} records/s, default config`.padEnd(30)} ${latency.text}`);
    return lines;
  } finally {
    admin.disconnect();
    await server.close();
  }
}
