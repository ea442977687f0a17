import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import avro from 'avsc';
import { asyncScheduler, from, lastValueFrom, toArray } from 'rxjs';
import { DEFAULT_PORT } from '../../../pipeline/graph/pipeline-graph.js';
import { sinkStage } from '../../../pipeline/runtime/sink-stage.js';
import { validateConfig } from '../../../pipeline/config/validate-config.js';
import { SchemaCatalog } from '../../../pipeline/schemas/schema-catalog.js';
import { InstrumentId, StrategyId, type AuditRecord, type Tick } from '../../../schemas/generated.js';
import { ndjsonFileSink } from '../../../sinks/ndjson-file-sink.js';
import { SimMarket } from '../../../sources/sim-market.js';
import { testContext } from '../../support/test-context.js';
import { waitFor } from '../../support/wait-for.js';

const catalog = SchemaCatalog.default();
const SIM_START = Date.parse('2025-01-02T21:00:00+08:00') * 1000;

/** A fresh temporary directory and its removal. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tickflow-file-source-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `n` ticks of the simulated market (null prices and all), 500 ms of event time apart per round. */
export function simTicks(n: number, seed = 3, feedId = 'rec'): Tick[] {
  const market = new SimMarket({
    instruments: ['SHFE.rb2501', 'DCE.m2501', 'CZCE.SR501'],
    seed,
    start: SIM_START,
    tickIntervalMs: 500,
    feedId,
    latencyUs: 1500,
  });
  return Array.from({ length: n }, () => market.next());
}

/** Writes `ticks` with the ndjson-file sink itself, and waits until it has closed the file. */
export async function writeNdjson(path: string, ticks: readonly Tick[]): Promise<void> {
  const writer = ndjsonFileSink.create(
    validateConfig('ndjson-file', ndjsonFileSink.spec, { path }),
    testContext(asyncScheduler, ndjsonFileSink),
  );
  await lastValueFrom(
    sinkStage(writer, (error) => {
      throw error;
    })({ [DEFAULT_PORT]: from(ticks) }).pipe(toArray()),
  );
}

/** Writes `records` of `type` with avsc's createFileEncoder and waits until every byte is in the file. */
export async function writeContainer(
  path: string,
  type: avro.Type,
  records: readonly unknown[],
  options: { codec?: 'null' | 'deflate'; blockSize?: number } = {},
): Promise<void> {
  const encoder = avro.createFileEncoder(path, type, options);
  let bytes = 0;
  encoder.on('data', (chunk: Buffer) => (bytes += chunk.length));
  const ended = new Promise<void>((resolve, reject) => {
    encoder.on('end', resolve);
    encoder.on('error', reject);
  });
  for (const record of records) encoder.write(record);
  encoder.end();
  await ended;
  // createFileEncoder pipes into a write stream it does not return: wait for the bytes to land.
  await waitFor(`${path} written`, () => (existsSync(path) && statSync(path).size === bytes ? true : undefined));
}

/** Writes an Avro container file of Tick. */
export function writeAvroTicks(
  path: string,
  ticks: readonly Tick[],
  options: { codec?: 'null' | 'deflate'; blockSize?: number } = {},
): Promise<void> {
  return writeContainer(path, catalog.type('Tick'), ticks, options);
}

/** An audit record of `recordType` with `payload` (hashes zero-filled: the file source does not verify the chain). */
export function auditRecord(seq: number, recordType: string, payload: Buffer): AuditRecord {
  return { seq, ts_init: SIM_START + seq, record_type: recordType, payload, prev_hash: Buffer.alloc(32), hash: Buffer.alloc(32) };
}

/** An audit trail holding `ticks` interleaved with records of other types; returns what it wrote. */
export async function writeAudit(
  path: string,
  ticks: readonly Tick[],
  options: { codec?: 'null' | 'deflate' } = {},
): Promise<AuditRecord[]> {
  const tickCodec = catalog.codec('Tick');
  const signal = catalog.codec('Signal').encode({
    signal_id: 's1',
    strategy_id: StrategyId('st'),
    instrument_id: InstrumentId('SHFE.rb2501'),
    name: 'ma_cross',
    value: 1,
    ts_event: SIM_START,
    ts_init: SIM_START,
    causation_id: null,
  });
  const records: AuditRecord[] = [];
  let seq = 0;
  ticks.forEach((tick, i) => {
    if (i % 2 === 0) records.push(auditRecord(++seq, 'tickflow.Signal', signal));
    records.push(auditRecord(++seq, 'tickflow.Tick', tickCodec.encode(tick)));
  });
  records.push(auditRecord(++seq, 'tickflow.OrderFilled', Buffer.from([1, 2, 3])));
  await writeContainer(path, catalog.type('AuditRecord'), records, options);
  return records;
}
