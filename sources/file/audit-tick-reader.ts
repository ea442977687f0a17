import type { Resolver, Type } from 'avsc';
import type { RecordCodec } from '../../pipeline/schemas/schema-catalog.js';
import type { AuditRecord, Tick } from '../../schemas/generated.js';
import { AvroContainerReader, type AvroBlock } from './avro-container-reader.js';
import type { InputPosition } from './invalid-input-reporter.js';
import { recordPosition } from './record-position.js';
import { schemaResolver } from './schema-resolver.js';
import type { TickBatchReader } from './tick-batch-reader.js';

/** The record type of the ticks in an audit trail. */
const TICK_RECORD_TYPE = 'tickflow.Tick';

export interface AuditTickReaderOptions {
  /** The AuditRecord codec: its type is the reader schema of the file. */
  readonly auditCodec: RecordCodec<AuditRecord>;
  /** The Tick codec: payloads of `tickflow.Tick` records are decoded with it. */
  readonly tickCodec: RecordCodec<Tick>;
  /** Called for records that are not replayed. */
  readonly onInvalid: (position: InputPosition, reason: string, count: number) => void;
  /** A batch is at least this many ticks, unless the file ends first. Default 1000. */
  readonly batchSize?: number;
  /** Bytes read at a time. Default 256 KiB. */
  readonly chunkBytes?: number;
}

/**
 * Reads the ticks of an audit trail file: an Avro object container file of
 * `tickflow.AuditRecord`, whose records with `record_type` `tickflow.Tick`
 * carry a Tick in Avro binary as `payload`. Records of other types are
 * passed over; a Tick payload that does not decode is reported with its
 * record number and audit `seq`. The hash chain is not verified here
 * (`tickflow audit verify` does that).
 */
export class AuditTickReader implements TickBatchReader {
  private readonly container: AvroContainerReader;
  private readonly batchSize: number;
  private resolver: Resolver | undefined;
  private opened = false;

  constructor(
    readonly path: string,
    private readonly options: AuditTickReaderOptions,
  ) {
    this.container = new AvroContainerReader(path, { onInvalid: options.onInvalid, chunkBytes: options.chunkBytes });
    this.batchSize = options.batchSize ?? 1000;
  }

  get bytesRead(): number {
    return this.container.bytesRead;
  }

  async next(): Promise<Tick[] | undefined> {
    if (!this.opened) {
      const header = await this.container.open();
      this.resolver = schemaResolver(this.options.auditCodec.type, header.type);
      this.opened = true;
    }
    const ticks: Tick[] = [];
    // Bounded: each turn decodes one more block of the file.
    while (ticks.length < this.batchSize) {
      const block = await this.container.nextBlock();
      if (block === undefined) return ticks.length === 0 ? undefined : ticks;
      this.decode(block, ticks);
    }
    return ticks;
  }

  close(): void {
    this.container.close();
  }

  private decode(block: AvroBlock, into: Tick[]): void {
    const type: Type = this.options.auditCodec.type;
    const { tickCodec, onInvalid } = this.options;
    let at = 0;
    for (let i = 0; i < block.count; i++) {
      const record = recordPosition(block, i);
      let decoded: { value: AuditRecord | string; offset: number };
      try {
        decoded = type.decode(block.data, at, this.resolver) as { value: AuditRecord; offset: number };
      } catch (error) {
        decoded = { value: (error as Error).message, offset: -2 };
      }
      if (decoded.offset < 0 || typeof decoded.value === 'string') {
        const reason = decoded.offset === -1 ? 'the block ends inside this record' : `the audit record does not decode: ${String(decoded.value)}`;
        onInvalid(record, `${reason}; the rest of its block is skipped`, block.count - i);
        return;
      }
      at = decoded.offset;
      const entry = decoded.value;
      if (entry.record_type !== TICK_RECORD_TYPE) continue;
      try {
        into.push(tickCodec.decode(entry.payload));
      } catch (error) {
        onInvalid(record, `audit seq ${entry.seq}: the payload is not a ${TICK_RECORD_TYPE}: ${(error as Error).message}`, 1);
      }
    }
  }
}
