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

const INSTRUMENTS = ['SHFE.rb2501', 'SHFE.cu2501', 'DCE.m2501', 'CZCE.SR501', 'CFFEX.IF2501', 'INE.sc2501'];
const SIM_START_US = Date.parse('2025-01-02T21:00:00+08:00') * 1000;
const TICKS = 100_000;
/** Records fed per event-loop turn, and the most unacknowledged at once: the feeder never outruns the sink's bound. */
const CHUNK = 1_000;
const WINDOW = 20_000;
const LATENCY_RATE = 10_000;
const LATENCY_SECONDS = 2;
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

interface SinkRun {
  readonly quotes: Subject<QuoteDiff>;
  readonly ticks: Subject<Tick>;
  readonly ctx: StandaloneContext;
  acked: number;
  readonly done: Promise<void>;
  onAck: ((record: unknown) => void) | undefined;
}

function startSink(server: RedisServer, config: Record<string, unknown>): SinkRun {
  const ctx = benchContext();
  const quotes = new Subject<QuoteDiff>();
  const ticks = new Subject<Tick>();
  const run = { quotes, ticks, ctx, acked: 0, onAck: undefined } as Omit<SinkRun, 'done'> & { done?: Promise<void> };
  run.done = new Promise<void>((resolve, reject) => {
    sinkStage(
      redisSink.create(validateConfig('redis', redisSink.spec, { url: server.url, ...config }), ctx),
      reject,
    )({ quotes, ticks }).subscribe({
      next: (record) => {
        run.acked++;
        run.onAck?.(record);
      },
      error: reject,
      complete: resolve,
    });
  });
  return run as SinkRun;
}

const feedOne = (run: SinkRun, item: Item): void => (item.kind === 'tick' ? run.ticks.next(item.record) : run.quotes.next(item.record));

/** Feeds every item as fast as the sink acknowledges them (at most WINDOW outstanding), then completes; records/s and commands/s. */
async function throughput(
  server: RedisServer,
  items: readonly Item[],
  config: Record<string, unknown>,
): Promise<{ records: number; commands: number; dropped: number }> {
  const run = startSink(server, config);
  const deadline = performance.now() + RUN_BUDGET_MS;
  const started = performance.now();
  let fed = 0;
  for (let guard = 0; fed < items.length && performance.now() < deadline && guard < 10_000_000; guard++) {
    if (fed - run.acked >= WINDOW) {
      await turn();
      continue;
    }
    const end = Math.min(items.length, fed + CHUNK);
    for (; fed < end; fed++) feedOne(run, items[fed] as Item);
    await turn();
  }
  run.quotes.complete();
  run.ticks.complete();
  await run.done;
  const seconds = (performance.now() - started) / 1000;
  const commands = (await run.ctx.registry.getSingleMetric('tickflow_redis_commands_total')?.get())?.values[0]?.value ?? 0;
  return { records: fed / seconds, commands: commands / seconds, dropped: run.ctx.metrics.droppedTotal };
}

/** Feeds at LATENCY_RATE records/s in 10 ms steps and measures each record's time from next() to its acknowledgement. */
async function ackLatency(server: RedisServer, items: readonly Item[]): Promise<{ p50: number; p99: number; max: number }> {
  const run = startSink(server, {});
  const sentAt = new Map<unknown, number>();
  const latencies: number[] = [];
  run.onAck = (record) => {
    const at = sentAt.get(record);
    if (at !== undefined) latencies.push(performance.now() - at);
    sentAt.delete(record);
  };
  const total = Math.min(items.length, LATENCY_RATE * LATENCY_SECONDS);
  const started = performance.now();
  let fed = 0;
  for (let step = 0; fed < total && step < 100_000; step++) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * LATENCY_RATE));
    for (; fed < due; fed++) {
      const item = items[fed] as Item;
      sentAt.set(item.record, performance.now());
      feedOne(run, item);
    }
    await sleep(10);
  }
  run.quotes.complete();
  run.ticks.complete();
  await run.done;
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), max: latencies.at(-1) ?? NaN };
}

/**
 * The redis sink against a real local redis-server: records per second
 * (ticks → XADD, quote changes → HSET/HDEL, plus the instruments set) and
 * commands per second at several batch sizes, with pub/sub on, and the time
 * from a record entering the sink to its acknowledgement at 10,000 records/s.
 */
export async function redisThroughput(): Promise<string[]> {
  const server = await startRedisServer();
  try {
    const items = marketItems(TICKS);
    const quotes = items.filter((i) => i.kind === 'quote').length;
    const lines = [
      `${TICKS.toLocaleString('en-US')} sim ticks + ${quotes.toLocaleString('en-US')} quote changes (six instruments) into a local redis-server, one connection, one batch in flight:`,
    ];
    await throughput(server, items.slice(0, 20_000), { key_prefix: 'warmup:' });
    const cases: readonly [string, Record<string, unknown>][] = [
      ['batch_size 100', { batch_size: 100 }],
      ['batch_size 500 (default)', {}],
      ['batch_size 2000', { batch_size: 2000 }],
      ['batch_size 500, publish on', { publish: true }],
    ];
    for (const [label, config] of cases) {
      const result = await throughput(server, items, { key_prefix: `bench${lines.length}:`, ...config });
      lines.push(
        `  ${label.padEnd(30)} ${formatCount(result.records)} records/s ${formatCount(result.commands)} commands/s${result.dropped > 0 ? `  (${result.dropped} dropped)` : ''}`,
      );
    }
    const latency = await ackLatency(server, items);
    lines.push(
      `  ack latency at ${LATENCY_RATE.toLocaleString('en-US')} records/s: p50 ${latency.p50.toFixed(2)} ms, p99 ${latency.p99.toFixed(2)} ms, max ${latency.max.toFixed(2)} ms (flush_interval_ms 5)`,
    );
    return lines;
  } finally {
    await server.close();
  }
}
