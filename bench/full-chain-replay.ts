import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline as pipeStreams } from 'node:stream/promises';
import avro from 'avsc';
import { Observable, type SchedulerAction } from 'rxjs';
import { barsOperator } from '../operators/bars-operator.js';
import { dedupMergeOperator } from '../operators/dedup-merge-operator.js';
import { orderRouterOperator } from '../operators/order-router-operator.js';
import { paperVenueOperator } from '../operators/router/paper-venue-operator.js';
import { quoteDiffOperator } from '../operators/quote-diff-operator.js';
import { riskOperator } from '../operators/risk-operator.js';
import { strategyOperator } from '../operators/strategy-operator.js';
import { defineComponent } from '../pipeline/components/define-component.js';
import { pipeline } from '../pipeline/graph/pipeline.js';
import type { GraphBuilder } from '../pipeline/graph/graph-builder.js';
import type { Stream } from '../pipeline/graph/stream.js';
import { runPipeline, type PipelineHealth, type ValidationPolicy } from '../pipeline/runtime/run-pipeline.js';
import { SchemaCatalog } from '../pipeline/schemas/schema-catalog.js';
import type { Tick } from '../schemas/generated.js';
import { fileSource } from '../sources/file-source.js';
import { SimMarket } from '../sources/sim-market.js';
import { formatCount } from './format-count.js';

/** Ticks in the recording (both feeds together): 1,000,000 replays in well under a minute per run here. */
const DEFAULT_TICKS = 1_000_000;
const SIM_START_US = Date.parse('2025-01-02T21:00:00+08:00') * 1000;
/** Ten products with a night session past 23:00 × ten delivery months: 100 instruments. */
const PRODUCTS = ['rb', 'hc', 'ru', 'bu', 'cu', 'al', 'zn', 'ni', 'au', 'ag'];
const INSTRUMENTS = PRODUCTS.flatMap((p) => Array.from({ length: 10 }, (_, m) => `SHFE.${p}25${String(m + 1).padStart(2, '0')}`));
/** Feed b's copy of a market event is written this many events after feed a's: it arrives later, as a slower feed's would. */
const FEED_B_LAG = 3;
/** Ticks per scheduler action of the in-memory source, as the file source emits a batch at a time. */
const MEMORY_BATCH = 1000;

/** Two redundant feeds of one market: feed a's tick of each event, feed b's copy of it FEED_B_LAG events later, `count` ticks in all. */
function* twoFeeds(count: number): Generator<Tick> {
  const market = (feedId: string, latencyUs: number): SimMarket =>
    new SimMarket({ instruments: INSTRUMENTS, seed: 7, start: SIM_START_US, tickIntervalMs: 500, feedId, latencyUs });
  const a = market('a', 1000);
  const b = market('b', 4000);
  for (let written = 0, events = 0; written < count; events++) {
    yield a.next();
    written++;
    if (events >= FEED_B_LAG && written < count) {
      yield b.next();
      written++;
    }
  }
}

/** The recording as the file source reads it: an Avro object container file of `tickflow.Tick`, codec null. */
async function writeRecording(path: string, count: number): Promise<void> {
  const encoder = new avro.streams.BlockEncoder(SchemaCatalog.default().type('Tick'), { codec: 'null' });
  const done = pipeStreams(encoder, createWriteStream(path));
  for (const tick of twoFeeds(count)) if (!encoder.write(tick)) await new Promise((r) => encoder.once('drain', r));
  encoder.end();
  await done;
}

/** A source of ticks already in memory: the chain's cost without a file, its decoding or the check at its boundary. */
const memorySource = defineComponent({
  name: 'memory',
  kind: 'source',
  out: 'Tick',
  description: 'Emits ticks held in memory, a thousand per scheduler action.',
  spec: {},
  create: (_config, ctx) =>
    new Observable<Tick>((subscriber) => {
      let at = 0;
      const action = ctx.scheduler.schedule(function (this: SchedulerAction<undefined>) {
        const end = Math.min(at + MEMORY_BATCH, memoryTicks.length);
        while (at < end && !subscriber.closed) subscriber.next(memoryTicks[at++] as Tick);
        if (at === memoryTicks.length) subscriber.complete();
        else this.schedule(undefined, 0);
      });
      return () => action.unsubscribe();
    }),
});
/** What the memory source emits; filled only for its runs, so the file runs do not carry a million objects on the heap. */
let memoryTicks: readonly Tick[] = [];

/** Acknowledges and forgets whatever reaches it: the chain's cost without a sink's IO. */
const discardSink = defineComponent({
  name: 'discard',
  kind: 'sink',
  in: { quotes: 'QuoteDiff', orders: 'OrderEvent' },
  description: 'Acknowledges and forgets every record.',
  spec: {},
  create: () => ({ write: () => undefined, close: async () => undefined }),
});

/** dedup-merge → quote-diff and bars → ma-cross on the bars of every instrument → risk → router → paper venue, fills fed back; from `ticks`. */
function chain(g: GraphBuilder, ticks: Stream<'Tick'>): void {
  const merged = g.operator('merge', dedupMergeOperator, { feeds: ['a', 'b'] }, ticks);
  const quotes = g.operator('quotes', quoteDiffOperator, {}, merged);
  const bars = g.operator('bars', barsOperator, { period_s: 5 }, merged);
  const orderEvents = g.feedback('OrderEvent');
  const denials = g.feedback('OrderEvent');
  const venueReports = g.feedback('OrderEvent');
  const strategy = g.operator(
    'ma-cross',
    strategyOperator,
    { strategy: 'ma-cross', strategy_id: 'ma-cross-1', instruments: INSTRUMENTS, fast_period: 5, slow_period: 20 },
    { bars, events: [orderEvents, denials] },
  );
  const approved = g.operator('risk', riskOperator, {}, { commands: strategy, ticks: merged, events: orderEvents });
  const routed = g.operator('router', orderRouterOperator, {}, { commands: approved, reports: venueReports });
  const fills = g.operator('paper', paperVenueOperator, {}, { commands: routed.side('routed'), ticks: merged });
  venueReports.connect(fills);
  orderEvents.connect(routed);
  denials.connect(approved.side('denials'));
  g.sink('out', discardSink, {}, { quotes, orders: [routed, approved.side('denials')] });
}

/** The runs of the benchmark: from the file under each validation policy, and from memory. */
type ChainRun = 'boundary' | 'strict' | 'memory';
const CHAIN_RUNS: readonly ChainRun[] = ['boundary', 'strict', 'memory'];

interface Outcome {
  readonly ticksPerSecond: number;
  readonly health: PipelineHealth;
}

/** One run of the chain over `count` ticks, from the recording at `path` or (without one) from memory. */
async function runChain(validation: ValidationPolicy, count: number, path: string | undefined): Promise<Outcome> {
  const graph = pipeline('bench-full-chain', '', (g) =>
    chain(g, path === undefined ? g.source('replay', memorySource, {}) : g.source('replay', fileSource, { path, progress: 'off' })),
  ).build();
  const started = performance.now();
  const run = runPipeline(graph, { validation });
  const result = await run.done;
  const seconds = (performance.now() - started) / 1000;
  const health = run.health();
  if (!result.ok || health.stages['merge']?.records_in !== count) throw new Error(`bench run failed: ${JSON.stringify(health)}`);
  return { ticksPerSecond: count / seconds, health };
}

/** What the run did downstream of the merge, so that a faster figure cannot hide less work. */
function workDone(health: PipelineHealth): string {
  const out = (id: string): string => (health.stages[id]?.records_out ?? 0).toLocaleString('en-US');
  return `(${out('merge')} merged, ${out('quotes')} diffs, ${out('bars')} bars, ${out('ma-cross')} orders, ${out('risk')} passed risk, ${out('paper')} venue reports)`;
}

/**
 * The full chain of a backtest replay, in one process: an Avro recording of
 * two redundant feeds through dedup-merge → quote-diff and bars →
 * strategy → risk → router → paper venue, under `boundary` and `strict`
 * validation, and the same chain fed from memory; ticks replayed per second.
 *
 * @param options `ticks` in the recording (both feeds; default 1,000,000), and which `runs` (default all three; a profile may want one).
 */
export async function fullChainReplay(options: { readonly ticks?: number; readonly runs?: readonly ChainRun[] } = {}): Promise<string[]> {
  const ticks = options.ticks ?? DEFAULT_TICKS;
  const runs = options.runs ?? CHAIN_RUNS;
  const dir = mkdtempSync(join(tmpdir(), 'tickflow-bench-full-chain-'));
  try {
    const path = join(dir, 'two-feeds.avro');
    await writeRecording(path, ticks);
    const mb = (statSync(path).size / 1e6).toFixed(0);
    const lines = [
      `${ticks.toLocaleString('en-US')} ticks (two redundant feeds of ${INSTRUMENTS.length} instruments, Avro container ${mb} MB, codec null) → dedup-merge → quote-diff and 5 s bars → ma-cross (5 / 20, every instrument) → risk → router → paper venue, one process, ticks replayed per second:`,
    ];
    for (const validation of (['boundary', 'strict'] as const).filter((v) => runs.includes(v))) {
      const { ticksPerSecond, health } = await runChain(validation, ticks, path);
      lines.push(`  ${`Avro file, validation ${validation}`.padEnd(36)} ${formatCount(ticksPerSecond)} ticks/s   ${workDone(health)}`);
    }
    if (!runs.includes('memory')) return lines;
    memoryTicks = [...twoFeeds(ticks)];
    try {
      const { ticksPerSecond, health } = await runChain('boundary', ticks, undefined);
      lines.push(`  ${'from memory (no edge validated)'.padEnd(36)} ${formatCount(ticksPerSecond)} ticks/s   ${workDone(health)}`);
    } finally {
      memoryTicks = [];
    }
    return lines;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
