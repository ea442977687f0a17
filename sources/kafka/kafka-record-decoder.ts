import avro from 'avsc';
import type { Type } from 'avsc';
import { RecordValidationError } from '../../errors/errors.js';
import { KafkaWireFormat, type KafkaWireHeader } from '../../protocols/kafka/kafka-wire-format.js';
import { compileRecordDecoder, type RecordDecoder } from '../../pipeline/schemas/compile-record-decoder.js';
import { rabinFingerprint } from '../../pipeline/schemas/rabin-fingerprint.js';
import type { SchemaCatalog, SchemaName } from '../../pipeline/schemas/schema-catalog.js';

/** Where the writer schema of a Confluent-framed value comes from: the registry, by id. */
export interface WriterSchemaLookup {
  /** The writer schema registered under `id` as an avsc type; rejects with `{ status: 404 }` when the registry has no such id. */
  schemaById(id: number): Promise<Type>;
}

/** Turns a message body written in one writer schema into a record of the reader schema. */
type BodyReader = (value: Buffer, bodyOffset: number) => unknown;

/** What a writer schema gives: a reader of its bodies, or why its records cannot be read. */
type WriterEntry = { readonly read: BodyReader } | { readonly problem: string };

/** The Parsing Canonical Form of a type as avsc writes it (full names, only what parsing needs, in order). */
const canonical = (type: Type): string => JSON.stringify(type.schema());

/**
 * Decodes Kafka message values into records of one reader schema (the
 * schema of the source's edge): reads the framing ({@link KafkaWireFormat}),
 * finds the writer schema (by registry id, cached per id; by single-object
 * fingerprint among the schemas of `schemas/`) and reads the Avro body
 * resolved to the reader schema, so a record written with an older version
 * (without a field added later with a default) still reads. A writer schema
 * whose canonical form is the reader's (or one branch's, for a union such
 * as OrderEvent) is read by code generated from it
 * ({@link compileRecordDecoder}); others by avsc through a resolver.
 *
 * A value that cannot be read throws a `RecordValidationError` naming why:
 * neither framing, an unknown id or fingerprint, a writer schema the reader
 * cannot resolve (a field removed without a default, a type changed), bytes
 * that are no record of the writer schema, or trailing bytes.
 *
 * @example
 * ```ts
 * const catalog = SchemaCatalog.default();
 * const decoder = new KafkaRecordDecoder('Signal', catalog);
 * const signal = { signal_id: 's1', strategy_id: 'px', instrument_id: 'SHFE.rb2501', name: 'z', value: 1.5, ts_event: 1, ts_init: 2, causation_id: null };
 * const value = Buffer.concat([decoder.singleObjectHeaderOf('Signal'), catalog.codec('Signal').encode(signal as Signal)]);
 * const header = { format: 'single-object', fingerprint: value.subarray(2, 10).toString('hex'), bodyOffset: 10 } as const;
 * console.log((decoder.readerOf(header) as (v: Buffer, at: number) => Signal)(value, header.bodyOffset).value);
 * // Logs: 1.5
 * ```
 */
export class KafkaRecordDecoder {
  private readonly readerType: Type;
  /** The reader's record types: itself, or the branches of a union. */
  private readonly readerRecords: readonly Type[];
  private readonly byId = new Map<number, WriterEntry | Promise<WriterEntry>>();
  private readonly byFingerprint = new Map<string, WriterEntry>();
  private readonly fingerprints = new Map<string, Type>();

  constructor(
    readonly reader: SchemaName,
    private readonly catalog: SchemaCatalog,
    private readonly registry?: WriterSchemaLookup,
  ) {
    this.readerType = catalog.type(reader);
    this.readerRecords = this.readerType.typeName === 'record' ? [this.readerType] : (this.readerType as avro.types.WrappedUnionType).types;
    for (const name of catalog.names()) {
      const type = catalog.type(name);
      for (const record of type.typeName === 'record' ? [type] : (type as avro.types.WrappedUnionType).types) {
        this.fingerprints.set(rabinFingerprint(canonical(record)).toString('hex'), record);
      }
    }
  }

  /** The 10 bytes that frame a body of schema `name` (a record schema of `schemas/`) in single-object encoding. */
  singleObjectHeaderOf(name: SchemaName): Buffer {
    return KafkaWireFormat.singleObjectHeader(rabinFingerprint(canonical(this.catalog.type(name))));
  }

  /**
   * The reader of bodies framed by `header`: at once when its writer schema
   * is known, else a promise (the first value of a registry id); throws (or
   * rejects) a `RecordValidationError` when it cannot be read, and rejects
   * with the registry's error when the registry could not answer.
   */
  readerOf(header: KafkaWireHeader): BodyReader | Promise<BodyReader> {
    if (header.format === 'single-object') {
      let entry = this.byFingerprint.get(header.fingerprint);
      if (entry === undefined) {
        const writer = this.fingerprints.get(header.fingerprint);
        entry =
          writer === undefined
            ? { problem: `single-object fingerprint ${header.fingerprint} names no schema of schemas/` }
            : this.entryFor(writer, `the schema of fingerprint ${header.fingerprint} (${String(writer.name)})`);
        this.byFingerprint.set(header.fingerprint, entry);
      }
      return readerOrThrow(entry);
    }
    const cached = this.byId.get(header.schemaId);
    if (cached !== undefined && !(cached instanceof Promise)) return readerOrThrow(cached);
    const pending = cached ?? this.lookUp(header.schemaId);
    return pending.then(readerOrThrow);
  }

  /** Fetches the writer schema of `id`; a failure to reach the registry is not cached, so the next value asks again. */
  private lookUp(id: number): Promise<WriterEntry> {
    const registry = this.registry;
    const pending: Promise<WriterEntry> =
      registry === undefined
        ? Promise.resolve({ problem: `schema id ${id}: the value is in Confluent wire format, but no schema registry is configured` })
        : registry.schemaById(id).then(
            (writer) => this.entryFor(writer, `registry schema id ${id} (${String(writer.name ?? writer.typeName)})`),
            (error: unknown) => {
              if ((error as { status?: unknown }).status === 404) return { problem: `schema id ${id} is not in the schema registry` };
              throw error;
            },
          );
    this.byId.set(id, pending);
    pending.then(
      (entry) => this.byId.set(id, entry),
      () => this.byId.delete(id),
    );
    return pending;
  }

  /** How bodies written in `writer` are read into the reader schema, or why they cannot be. */
  private entryFor(writer: Type, named: string): WriterEntry {
    const writerForm = canonical(writer);
    const same = this.readerRecords.find((record) => canonical(record) === writerForm);
    const unwrap = this.readerType.typeName !== 'record';
    if (same !== undefined) {
      const generated = compileRecordDecoder(same);
      if (generated !== undefined) return { read: generatedReader(generated) };
      return { read: (value, at): unknown => same.fromBuffer(value.subarray(at)) as unknown };
    }
    let resolver: avro.Resolver;
    try {
      resolver = this.readerType.createResolver(writer);
    } catch (error) {
      return { problem: `${named} cannot be resolved to the reader schema ${this.reader}: ${(error as Error).message}` };
    }
    const readerType = this.readerType;
    return {
      read: (value, at) => {
        const record = readerType.fromBuffer(value.subarray(at), resolver) as unknown;
        // A union of records (OrderEvent) reads as { 'tickflow.OrderFilled': record }: in-process, the record itself.
        return unwrap ? Object.values(record as Record<string, unknown>)[0] : record;
      },
    };
  }
}

function readerOrThrow(entry: WriterEntry): BodyReader {
  if ('read' in entry) return entry.read;
  throw new RecordValidationError(entry.problem);
}

/** A body reader of generated code: the whole rest of the value must be the record. */
function generatedReader(decoder: RecordDecoder): BodyReader {
  return (value, at) => {
    const record = decoder.read(value, at);
    if (record === undefined) throw new RecordValidationError(`the Avro body ends inside the record (${value.length - at} bytes)`);
    if (decoder.offset !== value.length) {
      throw new RecordValidationError(`${value.length - decoder.offset} bytes after the record in the Avro body (trailing data)`);
    }
    return record;
  };
}
