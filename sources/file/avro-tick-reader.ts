import type { Resolver, Type } from 'avsc';
import { compileRecordDecoder, type RecordDecoder } from '../../pipeline/schemas/compile-record-decoder.js';
import type { Tick } from '../../schemas/generated.js';
import { AvroContainerReader, type AvroBlock } from './avro-container-reader.js';
import type { InputPosition } from './invalid-input-reporter.js';
import { recordPosition } from './record-position.js';
import { schemaResolver } from './schema-resolver.js';
import type { TickBatchReader } from './tick-batch-reader.js';

export interface AvroTickReaderOptions {
  /** The reader schema the file's records are resolved to (Tick, or AuditRecord for an audit trail). */
  readonly readerType: Type;
  /**
   * The tick a decoded record holds, or undefined to pass it over (e.g. an
   * audit record of another type); may report a bad record through `report`,
   * with what to keep of it as evidence (`payload`).
   */
  readonly tickOf: (record: unknown, report: (reason: string, payload?: unknown) => void) => Tick | undefined;
  /** Called for records that are not replayed, with the record when one was decoded. */
  readonly onInvalid: (position: InputPosition, reason: string, count: number, payload?: unknown) => void;
  /** A batch is at least this many ticks, unless the file ends first. Default 1000. */
  readonly batchSize?: number;
  /** Bytes read at a time. Default 256 KiB. */
  readonly chunkBytes?: number;
}

/** The generated decoder of each reader type, compiled once per process (undefined: the schema is left to avsc). */
const decoders = new WeakMap<Type, RecordDecoder | undefined>();

function decoderOf(type: Type): RecordDecoder | undefined {
  if (!decoders.has(type)) decoders.set(type, compileRecordDecoder(type));
  return decoders.get(type);
}

/**
 * Reads ticks from an Avro object container file: of `tickflow.Tick`, or an
 * audit trail of `tickflow.AuditRecord` whose Tick records carry a tick as
 * their payload (`tickOf` says which). The writer schema in the file's
 * header is resolved to the reader schema (Avro schema resolution), so files
 * written by an older or newer compatible schema replay too; a file whose
 * schema does not resolve is refused. A file in the reader schema itself (the
 * usual case) is read by a decoder generated from the schema
 * ({@link compileRecordDecoder}): plain records of one shape, nothing else
 * allocated per record. Decoding against the schema is the
 * check: a record that does not decode ends its block, and the block's
 * remaining records are reported. An audit trail's hash chain is not
 * verified here (`tickflow audit verify` does that).
 */
export class AvroTickReader implements TickBatchReader {
  private readonly container: AvroContainerReader;
  private readonly batchSize: number;
  private resolver: Resolver | undefined;
  /** Reads the records when the file's schema is the reader's: generated, plain objects of one shape. */
  private decoder: RecordDecoder | undefined;
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
      this.resolver = schemaResolver(this.options.readerType, header.type);
      this.decoder = this.resolver === undefined ? decoderOf(this.options.readerType) : undefined;
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
    const { readerType, tickOf, onInvalid } = this.options;
    const { decoder, resolver } = this;
    let at = 0;
    for (let i = 0; i < block.count; i++) {
      let value: unknown;
      let failure: string | undefined;
      try {
        if (decoder !== undefined) {
          value = decoder.read(block.data, at);
          at = decoder.offset;
          if (value === undefined) failure = 'the block ends inside this record';
        } else {
          const decoded = readerType.decode(block.data, at, resolver);
          value = decoded.value;
          at = decoded.offset;
          if (at < 0) failure = 'the block ends inside this record';
        }
      } catch (error) {
        failure = `the record does not decode: ${(error as Error).message}`;
      }
      if (failure !== undefined) {
        onInvalid(recordPosition(block, i), `${failure}; the rest of its block is skipped`, block.count - i);
        return;
      }
      const tick = tickOf(value, (reason, payload) => onInvalid(recordPosition(block, i), reason, 1, payload));
      if (tick !== undefined) into.push(tick);
    }
  }
}
