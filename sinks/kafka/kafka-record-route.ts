import type { Type } from 'avsc';
import { compilePayloadWriter, type PayloadWriter } from '../../pipeline/schemas/compile-payload-writer.js';
import { rabinFingerprint } from '../../pipeline/schemas/rabin-fingerprint.js';
import { registrySchema } from '../../pipeline/schemas/registry-schema.js';
import { KafkaWireFormat } from '../../protocols/kafka/kafka-wire-format.js';

/**
 * Where and how the `kafka` sink writes the records of one record type
 * (`Tick`, or one branch of a union such as `OrderFilled`): its topic, the
 * registry subject and schema text it is registered as, the Avro writer of
 * its body, the field its key is read from, and the header every value of
 * it starts with (the Confluent header once the registry gave the id, else
 * the single-object header).
 */
export class KafkaRecordRoute {
  /** The record's full name and registry subject (record name strategy), e.g. `tickflow.Tick`. */
  readonly subject: string;
  /** The schema text registered under {@link subject}: the one text every tickflow writer registers. */
  readonly schemaText: string;
  /** Writes the Avro body, byte for byte avsc's encoding. */
  readonly writer: PayloadWriter;
  /** The 10 bytes of the Avro single-object header: C3 01 and the CRC-64-AVRO fingerprint of the Parsing Canonical Form. */
  readonly singleObjectHeader: Buffer;
  /** The bytes before each body: {@link singleObjectHeader} until {@link useRegistryId} is called. */
  header: Buffer;
  /** The registry id of {@link schemaText}, once registered. */
  schemaId: number | undefined;

  /**
   * @param name The record's short name in `schemas/` (`Tick`, `OrderFilled`).
   * @param type Its parsed avsc type.
   * @param topic The topic its records go to.
   * @param keyField The field whose value keys each record (`instrument_id`), or undefined for no key.
   * @param timeField The field of epoch microseconds that stamps each message (`ts_event`), or undefined.
   */
  constructor(
    readonly name: string,
    readonly type: Type,
    readonly topic: string,
    readonly keyField: string | undefined,
    readonly timeField: string | undefined,
  ) {
    const { subject, text } = registrySchema(name);
    this.subject = subject;
    this.schemaText = text;
    this.writer = compilePayloadWriter(type);
    // avsc's schema() is the Parsing Canonical Form: full names, only the attributes that matter for parsing, in order.
    this.singleObjectHeader = KafkaWireFormat.singleObjectHeader(rabinFingerprint(JSON.stringify(type.schema())));
    this.header = this.singleObjectHeader;
  }

  /** Frames this record type's values in the Confluent wire format with the registry's `id` for {@link schemaText}. */
  useRegistryId(id: number): void {
    this.schemaId = id;
    this.header = KafkaWireFormat.confluentHeader(id);
  }
}
