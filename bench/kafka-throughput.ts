import { Kafka, logLevel } from 'kafkajs';
import { Subject, asyncScheduler } from 'rxjs';
import { standaloneContext, type StandaloneContext } from '../pipeline/components/standalone-context.js';
import { validateComponentConfig } from '../pipeline/components/validate-component-config.js';
import { sinkStage } from '../pipeline/runtime/sink-stage.js';
import { SchemaCatalog } from '../pipeline/schemas/schema-catalog.js';
import { KafkaWireFormat } from '../protocols/kafka/kafka-wire-format.js';
import type { Tick } from '../schemas/generated.js';
import { kafkaSink } from '../sinks/kafka-sink.js';
import { SimMarket } from '../sources/sim-market.js';
import { formatCount } from './format-count.js';
import { latencyPercentiles, type LatencyPercentiles } from './latency-percentiles.js';
import { startKafkaBenchServers, type KafkaBenchServers } from './start-kafka-bench-servers.js';
import { mainThreadCpuUs } from './main-thread-cpu-us.js';

const INSTRUMENTS = ['SHFE.rb2501', 'SHFE.cu2501', 'DCE.m2501', 'CZCE.SR501', 'CFFEX.IF2501', 'INE.sc2501'];
const SIM_START_US = Date.parse('2025-01-02T21:00:00+08:00') * 1000;
const TICKS = 200_000;
const PARTITIONS = 3;
/** Records fed per event-loop turn, and the most unacknowledged at once (below the sink's max_buffered_records). */
const CHUNK = 1_000;
const WINDOW = 50_000;
/** Ticks offered per second in the latency run, and for how long. */
const LATENCY_RATE = 10_000;
const LATENCY_SECONDS = 5;
/** Everything of one run after which it gives up. */
const RUN_BUDGET_MS = 120_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Sim ticks of six instruments, each with its index as `sequence` (the latency run finds a tick's feed time by it). */
function simTicks(n: number): Tick[] {
  const market = new SimMarket({
    instruments: INSTRUMENTS,
    seed: 5,
    start: SIM_START_US,
    tickIntervalMs: 500,
    feedId: 'bench',
    latencyUs: 0,
  });
  return Array.from({ length: n }, (_, i) => ({ ...market.next(), sequence: i }));
}

interface SinkRun {
  readonly input: Subject<Tick>;
  readonly ctx: StandaloneContext;
  acked: number;
  readonly done: Promise<void>;
  /** When each tick was fed (performance.now()), by sequence; and ms from feed to acknowledgement of each acknowledged one. */
  readonly fedAt: Float64Array;
  readonly ackLatencies: number[];
}

function startSink(servers: KafkaBenchServers, config: Record<string, unknown>, ticks: number): SinkRun {
  const ctx = { ...standaloneContext(asyncScheduler, { stage: 'kafka', component: kafkaSink }), inputSchemas: { in: 'Tick' as const } };
  const input = new Subject<Tick>();
  const run = { input, ctx, acked: 0, fedAt: new Float64Array(ticks), ackLatencies: [] as number[] } as Omit<SinkRun, 'done'> & {
    done?: Promise<void>;
  };
  run.done = new Promise<void>((resolve, reject) => {
    sinkStage(
      kafkaSink.create(validateComponentConfig(kafkaSink, { brokers: servers.brokers, partitions: PARTITIONS, ...config }), ctx),
      reject,
    )({ in: input }).subscribe({
      next: (tick) => {
        run.acked++;
        run.ackLatencies.push(performance.now() - (run.fedAt[(tick as Tick).sequence] ?? 0));
      },
      error: reject,
      complete: resolve,
    });
  });
  return run as SinkRun;
}

/** One figure line: label, two or more spaces, the figures (bench/figures-of.ts reads them so). */
const row = (label: string, figures: string): string => `  ${label.padEnd(40)}  ${figures}`;

interface Throughput {
  readonly ticks: number;
  readonly megabytes: number;
  readonly batches: number;
  readonly ack: LatencyPercentiles;
  readonly nodeCpu: number;
  readonly cpuPerTickUs: number;
  readonly mainThreadCpuPerTickUs: number;
}

/** A counter of the run's sink, from its registry. */
async function counted(run: SinkRun, name: string): Promise<number> {
  return (await run.ctx.registry.getSingleMetric(`tickflow_kafka_sink_${name}`)?.get())?.values[0]?.value ?? 0;
}

/** Feeds every tick as fast as the sink acknowledges them (at most WINDOW outstanding), then completes. */
async function throughput(servers: KafkaBenchServers, ticks: readonly Tick[], config: Record<string, unknown>): Promise<Throughput> {
  const run = startSink(servers, config, ticks.length);
  // Connected and registered before the clock starts: the first batch waits for neither.
  run.input.next(ticks[0] as Tick);
  for (let i = 0; run.acked < 1 && i < 10_000; i++) await sleep(5);
  const deadline = performance.now() + RUN_BUDGET_MS;
  const cpuBefore = process.cpuUsage();
  const mainBefore = mainThreadCpuUs();
  const started = performance.now();
  let fed = 1;
  for (let guard = 0; fed < ticks.length && performance.now() < deadline && guard < 10_000_000; guard++) {
    if (fed - run.acked >= WINDOW) {
      await turn();
      continue;
    }
    const end = Math.min(ticks.length, fed + CHUNK);
    for (; fed < end; fed++) {
      run.fedAt[fed] = performance.now();
      run.input.next(ticks[fed] as Tick);
    }
    await turn();
  }
  run.input.complete();
  await run.done;
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    ticks: (fed - 1) / seconds,
    megabytes: (await counted(run, 'bytes_total')) / 1e6 / seconds,
    batches: (await counted(run, 'batches_total')) / seconds,
    ack: latencyPercentiles(run.ackLatencies.slice(1)),
    nodeCpu: ((cpu.user + cpu.system) / 1e6 / seconds) * 100,
    cpuPerTickUs: (cpu.user + cpu.system) / Math.max(1, fed - 1),
    mainThreadCpuPerTickUs: (mainThreadCpuUs() - mainBefore) / Math.max(1, fed - 1),
  };
}

/**
 * Feeds LATENCY_RATE ticks/s in 10 ms steps into the sink while a plain kafkajs consumer (in its group, joined
 * before) reads the topic: each tick's time from entering the sink to being acknowledged, and to being consumed.
 */
async function produceToConsume(
  servers: KafkaBenchServers,
  ticks: readonly Tick[],
  config: Record<string, unknown>,
): Promise<{ ack: LatencyPercentiles; consumed: LatencyPercentiles; count: number }> {
  const topic = String(config['topic']);
  const kafka = new Kafka({ clientId: 'kafka-throughput-bench', brokers: servers.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
  await admin.disconnect();
  const tickType = SchemaCatalog.default().type('Tick');
  const total = Math.min(ticks.length, LATENCY_RATE * LATENCY_SECONDS);
  const run = startSink(servers, config, total);
  const consumedLatencies: number[] = [];
  const consumer = kafka.consumer({ groupId: `kafka-throughput-${topic}`, maxWaitTimeInMs: 50 });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const now = performance.now();
      for (const message of batch.messages) {
        const value = message.value ?? Buffer.alloc(0);
        const { sequence } = tickType.fromBuffer(value.subarray(KafkaWireFormat.read(value).bodyOffset)) as Tick;
        if (sequence > 0 && sequence < total) consumedLatencies.push(now - (run.fedAt[sequence] ?? now));
      }
    },
  });
  for (let i = 0; !joined && i < 2_000; i++) await sleep(10);
  // Connected and registered before the clock starts (the first write connects): tick 0 is not timed.
  run.input.next(ticks[0] as Tick);
  for (let i = 0; run.acked < 1 && i < 10_000; i++) await sleep(5);
  const started = performance.now();
  let fed = 1;
  for (let step = 0; fed < total && step < 100_000; step++) {
    const due = Math.min(total, 1 + Math.floor(((performance.now() - started) / 1000) * LATENCY_RATE));
    for (; fed < due; fed++) {
      run.fedAt[fed] = performance.now();
      run.input.next(ticks[fed] as Tick);
    }
    await sleep(10);
  }
  run.input.complete();
  await run.done;
  for (let i = 0; consumedLatencies.length < total - 1 && i < 1_000; i++) await sleep(10);
  await consumer.disconnect();
  return {
    ack: latencyPercentiles(run.ackLatencies.slice(1)),
    consumed: latencyPercentiles(consumedLatencies),
    count: consumedLatencies.length,
  };
}

/**
 * The kafka sink against a real local broker and schema registry (started by
 * scripts/kafka/start-kafka-servers.mjs, as `npm run kafka:up` does): at
 * saturation (fed as fast as it acknowledges, at most 50,000 ticks
 * outstanding) ticks/s, MB/s of values, produce requests/s and the time from a
 * tick entering the sink to its acknowledgement (acks -1), with Node's CPU per
 * tick (the process's, then the JavaScript thread's: the figures to trust on a
 * shared machine), at several batch sizes, in the Confluent wire format and in
 * single-object encoding; then, at 10,000 ticks/s offered, the time to the
 * acknowledgement and to a plain kafkajs consumer receiving it.
 */
export async function kafkaThroughput(): Promise<string[]> {
  const servers = await startKafkaBenchServers();
  try {
    const ticks = simTicks(TICKS);
    const lines = [
      `${TICKS.toLocaleString('en-US')} sim ticks (six instruments) into the kafka sink, a local broker (one node, ${PARTITIONS} partitions a topic, ` +
        `idempotent, acks -1) and schema registry; saturation (at most ${WINDOW.toLocaleString('en-US')} unacknowledged), ` +
        `then ${LATENCY_RATE.toLocaleString('en-US')} ticks/s offered for ${LATENCY_SECONDS} s in 10 ms steps, read back by a kafkajs consumer:`,
    ];
    const registry = { schema_registry_url: servers.registryUrl };
    await throughput(servers, ticks.slice(0, 20_000), { ...registry, topic: 'warmup.ticks' });
    // Labels name the settings, not the build's defaults, so two builds compare case by case.
    const cases: readonly [string, Record<string, unknown>][] = [
      ['confluent, batch_size 500', { ...registry, batch_size: 500 }],
      ['confluent, batch_size 2000', { ...registry, batch_size: 2000 }],
      ['confluent, batch_size 3000', { ...registry, batch_size: 3000 }],
      ['single-object, batch_size 2000', { batch_size: 2000 }],
      ['default config + registry', { ...registry }],
    ];
    for (const [label, config] of cases) {
      const result = await throughput(servers, ticks, { topic: `bench${lines.length}.ticks`, ...config });
      lines.push(
        row(
          label,
          `${formatCount(result.ticks).trim()} ticks/s, ${result.megabytes.toFixed(1)} MB/s, ${formatCount(result.batches, 0)} batches/s, ` +
            `ack ${result.ack.text}; node ${result.nodeCpu.toFixed(0)} %CPU, ${result.cpuPerTickUs.toFixed(2)} µs CPU per tick, ` +
            `${result.mainThreadCpuPerTickUs.toFixed(2)} µs on the JavaScript thread`,
        ),
      );
    }
    const latency = await produceToConsume(servers, ticks, { ...registry, topic: 'latency.ticks' });
    const label = `at ${LATENCY_RATE.toLocaleString('en-US')} ticks/s, default config`;
    lines.push(row(`ack ${label}`, latency.ack.text));
    lines.push(row(`consumed ${label}`, `${latency.consumed.text}  (${latency.count.toLocaleString('en-US')} ticks)`));
    return lines;
  } finally {
    await servers.close();
  }
}
