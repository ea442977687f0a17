import type { Resolver } from 'avsc';
import type { RecordCodec } from '../../pipeline/schemas/schema-catalog.js';
import type { Tick } from '../../schemas/generated.js';
import { AvroContainerReader, type AvroBlock } from './avro-container-reader.js';
import type { InputPosition } from './invalid-input-reporter.js';
import { recordPosition } from './record-position.js';
import { schemaResolver } from './schema-resolver.js';
import type { TickBatchReader } from './tick-batch-reader.js';

export interface AvroTickReaderOptions {
  /** The Tick codec: its type is the reader schema. */
  readonly codec: RecordCodec<Tick>;
  /** Called for records that are not replayed. */
  readonly onInvalid: (position: InputPosition, reason: string, count: number) => void;
  /** A batch is at least this many ticks, unless the file ends first. Default 1000. */
  readonly batchSize?: number;
  /** Bytes read at a time. Default 256 KiB. */
  readonly chunkBytes?: number;
}

/**
 * Reads ticks from an Avro object container file of `tickflow.Tick`. The
 * writer schema in the file's header is resolved to tickflow's Tick schema
 * (Avro schema resolution), so files written by an older or newer
 * compatible schema replay too; a file whose schema does not resolve is
 * refused. Decoding against the schema is the check: a record that does
 * not decode ends its block, and the block's remaining records are
 * reported.
 */
export class AvroTickReader implements TickBatchReader {
  private readonly container: AvroContainerReader;
  private readonly batchSize: number;
  private resolver: Resolver | undefined;
  private opened = false;

  constructor(
    readonly path: string,
    private readonly options: AvroTickReaderOptions,
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
      this.resolver = schemaResolver(this.options.codec.type, header.type);
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
    const type = this.options.codec.type;
    let at = 0;
    for (let i = 0; i < block.count; i++) {
      let decoded: { value: unknown; offset: number };
      try {
        decoded = type.decode(block.data, at, this.resolver) as { value: unknown; offset: number };
      } catch (error) {
        decoded = { value: (error as Error).message, offset: -2 };
      }
      if (decoded.offset < 0) {
        const reason = decoded.offset === -1 ? 'the block ends inside this record' : `the record does not decode: ${String(decoded.value)}`;
        this.options.onInvalid(recordPosition(block, i), `${reason}; the rest of its block is skipped`, block.count - i);
        return;
      }
      at = decoded.offset;
      into.push(decoded.value as Tick);
    }
  }
}
