import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { passThroughOperator } from '../operators/pass-through-operator.js';
import { pipeline } from '../pipeline/graph/pipeline.js';
import { runPipeline, type ValidationPolicy } from '../pipeline/runtime/run-pipeline.js';
import { compileJsonLineWriter } from '../pipeline/schemas/compile-json-line-writer.js';
import { SchemaCatalog } from '../pipeline/schemas/schema-catalog.js';
import { ndjsonFileSink } from '../sinks/ndjson-file-sink.js';
import { SimMarket } from '../sources/sim-market.js';
import { simSource } from '../sources/sim-source.js';

const TICKS = 200_000;
const SIM_START_US = Date.parse('2025-01-02T21:00:00+08:00') * 1000;

async function throughput(validation: ValidationPolicy, dir: string): Promise<number> {
  const graph = pipeline('bench', '', (g) => {
    const ticks = g.source('market', simSource, { rate: 0, count: TICKS });
    g.sink('out', ndjsonFileSink, { path: join(dir, `${validation}.ndjson`) }, g.operator('pass', passThroughOperator, {}, ticks));
  }).build();
  const started = performance.now();
  const run = runPipeline(graph, { validation });
  const result = await run.done;
  const seconds = (performance.now() - started) / 1000;
  if (!result.ok || run.health().stages['out']?.records_out !== TICKS) throw new Error(`bench run failed: ${JSON.stringify(run.health())}`);
  return TICKS / seconds;
}

function perSecond(label: string, n: number, work: (i: number) => void): string {
  const started = performance.now();
  for (let i = 0; i < n; i++) work(i);
  return `${label.padEnd(44)} ${Math.round(n / ((performance.now() - started) / 1000))
    .toLocaleString('en-US')
    .padStart(12)} /s`;
}

/** sim → pass-through → ndjson-file, records/s, strict vs boundary validation; and the parts of a tick's cost. */
export async function pipelineThroughput(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tickflow-bench-'));
  try {
    const lines = [`sim → pass-through → ndjson-file, ${TICKS.toLocaleString('en-US')} ticks, one process:`];
    for (const policy of ['strict', 'boundary'] as const) {
      await throughput(policy, dir); // warm-up
      const rate = await throughput(policy, dir);
      lines.push(`  validation ${policy.padEnd(33)} ${Math.round(rate).toLocaleString('en-US').padStart(12)} records/s`);
    }
    const market = new SimMarket({
      instruments: ['SHFE.rb2501', 'DCE.m2501'],
      seed: 1,
      start: SIM_START_US,
      tickIntervalMs: 500,
      feedId: 'b',
      latencyUs: 0,
    });
    const ticks = Array.from({ length: 10_000 }, () => market.next());
    const codec = SchemaCatalog.default().codec('Tick');
    const encoded = ticks.map((t) => codec.encode(t));
    lines.push('Parts of the cost of one tick:');
    lines.push(`  ${perSecond('sim market next()', TICKS, () => market.next())}`);
    lines.push(`  ${perSecond('Avro check (strict validation, per edge)', TICKS, (i) => codec.check(ticks[i % ticks.length]))}`);
    lines.push(`  ${perSecond('Avro encode', TICKS, (i) => codec.encode(ticks[i % ticks.length] as never))}`);
    lines.push(`  ${perSecond('Avro decode', TICKS, (i) => codec.decode(encoded[i % encoded.length] as Buffer))}`);
    lines.push(`  ${perSecond('JSON.stringify (ndjson line)', TICKS, (i) => JSON.stringify(ticks[i % ticks.length]))}`);
    // What the ndjson sink writes a tick with: the same line, as UTF-8 bytes in the batch's buffer (JSON.stringify's is a string yet).
    const lineWriter = compileJsonLineWriter(codec.type);
    if (lineWriter === undefined) throw new Error('no JSON line writer for Tick');
    lines.push(
      `  ${perSecond('JSON line writer generated from the schema', TICKS, (i) => {
        if (!lineWriter.append(ticks[i % ticks.length])) throw new Error('the JSON line writer refused a sim tick');
        if (lineWriter.length > 1 << 20) lineWriter.take();
      })}`,
    );
    lines.push(`  Avro size of a tick: ${encoded[0]?.length} bytes; JSON: ${JSON.stringify(ticks[0]).length} bytes`);
    return lines;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
