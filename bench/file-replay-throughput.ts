import { standaloneContext } from '../pipeline/components/standalone-context.js';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline as pipeStreams } from 'node:stream/promises';
import avro from 'avsc';
import { asyncScheduler, lastValueFrom, count as countRecords } from 'rxjs';
import type { ComponentContext } from '../pipeline/components/component-definition.js';
import { defineComponent } from '../pipeline/components/define-component.js';
import { validateConfig } from '../pipeline/config/validate-config.js';
import { pipeline } from '../pipeline/graph/pipeline.js';
import { runPipeline } from '../pipeline/runtime/run-pipeline.js';
import { SchemaCatalog } from '../pipeline/schemas/schema-catalog.js';
import type { AuditRecord, Tick } from '../schemas/generated.js';
import { fileSource } from '../sources/file-source.js';
import { SimMarket } from '../sources/sim-market.js';

const TICKS = 200_000;
const SIM_START_US = Date.parse('2025-01-02T21:00:00+08:00') * 1000;

/** A sink that acknowledges every record at once: the pipeline's cost without a sink's IO. */
const discardSink = defineComponent({
  name: 'discard',
  kind: 'sink',
  in: 'Tick',
  description: 'Acknowledges and forgets every tick.',
  spec: {},
  create: () => ({ write: () => undefined, close: async () => undefined }),
});

function ticks(): Tick[] {
  const market = new SimMarket({
    instruments: ['SHFE.rb2501', 'SHFE.cu2501', 'DCE.m2501', 'CZCE.SR501', 'CFFEX.IF2501', 'INE.sc2501'],
    seed: 1,
    start: SIM_START_US,
    tickIntervalMs: 500,
    feedId: 'rec',
    latencyUs: 2000,
  });
  return Array.from({ length: TICKS }, () => market.next());
}

async function writeNdjson(path: string, records: readonly Tick[]): Promise<void> {
  const lines = function* (): Generator<string> {
    for (let i = 0; i < records.length; i += 1000)
      yield records
        .slice(i, i + 1000)
        .map((t) => `${JSON.stringify(t)}\n`)
        .join('');
  };
  await pipeStreams(Readable.from(lines()), createWriteStream(path));
}

async function writeContainer(path: string, type: avro.Type, records: readonly unknown[], codec: 'null' | 'deflate'): Promise<void> {
  const encoder = new avro.streams.BlockEncoder(type, { codec });
  const done = pipeStreams(encoder, createWriteStream(path));
  for (let i = 0; i < records.length; i++) if (!encoder.write(records[i])) await new Promise((r) => encoder.once('drain', r));
  encoder.end();
  await done;
}

const context = (): ComponentContext => standaloneContext(asyncScheduler, { stage: 'replay', component: fileSource });

/** Records/s of the source alone: subscribe, count, complete. */
async function sourceRate(path: string): Promise<number> {
  const started = performance.now();
  const n = await lastValueFrom(
    fileSource.create(validateConfig('file', fileSource.spec, { path, progress: 'off' }), context()).pipe(countRecords()),
  );
  if (n !== TICKS) throw new Error(`replayed ${n} of ${TICKS} ticks from ${path}`);
  return n / ((performance.now() - started) / 1000);
}

/** Records/s of file → discard as a pipeline: the source's output edge is a boundary, so every tick is checked against Tick. */
async function pipelineRate(path: string): Promise<number> {
  const graph = pipeline('bench-replay', '', (g) => {
    g.sink('out', discardSink, {}, g.source('replay', fileSource, { path, progress: 'off' }));
  }).build();
  const started = performance.now();
  const run = runPipeline(graph, { validation: 'boundary' });
  const result = await run.done;
  const seconds = (performance.now() - started) / 1000;
  if (!result.ok || run.health().stages['out']?.records_out !== TICKS) throw new Error(`bench run failed: ${JSON.stringify(run.health())}`);
  return TICKS / seconds;
}

const rate = (n: number): string => `${Math.round(n).toLocaleString('en-US').padStart(12)} records/s`;

/** The file source at full speed (speed 0): records/s replaying a large NDJSON file, Avro container files and an audit trail. */
export async function fileReplayThroughput(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tickflow-bench-replay-'));
  try {
    const records = ticks();
    const tickCodec = SchemaCatalog.default().codec('Tick');
    const files: [string, string][] = [
      ['NDJSON', join(dir, 'ticks.ndjson')],
      ['Avro container, codec null', join(dir, 'ticks.avro')],
      ['Avro container, codec deflate', join(dir, 'ticks-deflate.avro')],
      ['audit trail (AuditRecord, codec null)', join(dir, 'audit.avro')],
    ];
    await writeNdjson(files[0]![1], records);
    await writeContainer(files[1]![1], SchemaCatalog.default().type('Tick'), records, 'null');
    await writeContainer(files[2]![1], SchemaCatalog.default().type('Tick'), records, 'deflate');
    const audit: AuditRecord[] = records.map((t, i) => ({
      seq: i + 1,
      ts_init: t.ts_recv,
      record_type: 'tickflow.Tick',
      payload: tickCodec.encode(t),
      prev_hash: Buffer.alloc(32),
      hash: Buffer.alloc(32),
    }));
    await writeContainer(files[3]![1], SchemaCatalog.default().type('AuditRecord'), audit, 'null');

    const lines = [`file source, speed 0, ${TICKS.toLocaleString('en-US')} ticks per file, one process:`];
    for (const [label, path] of files) {
      const mb = (statSync(path).size / 1e6).toFixed(1);
      await sourceRate(path); // warm-up
      const alone = await sourceRate(path);
      const inPipeline = await pipelineRate(path);
      lines.push(
        `  ${`${label} (${mb} MB)`.padEnd(48)} source alone ${rate(alone)}   → discard sink, boundary validation ${rate(inPipeline)}`,
      );
    }
    return lines;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
