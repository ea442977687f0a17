import { RecordValidationError } from '../../errors/errors.js';

/** The magic byte that opens a value in Confluent's wire format. */
const CONFLUENT_MAGIC = 0x00;
/** Magic byte and the 4-byte big-endian schema id. */
const CONFLUENT_HEADER_BYTES = 5;
/** The two bytes that open an Avro single-object encoding (format version 1). */
const SINGLE_OBJECT_MARKER = [0xc3, 0x01] as const;
/** Marker and the 8-byte little-endian CRC-64-AVRO fingerprint. */
const SINGLE_OBJECT_HEADER_BYTES = 10;

/** What a message value's header says decodes its Avro body, and where the body starts. */
export type KafkaWireHeader =
  | { readonly format: 'confluent'; readonly schemaId: number; readonly bodyOffset: number }
  | {
      readonly format: 'single-object';
      /** Hex of the 8 fingerprint bytes, as they stand. */ readonly fingerprint: string;
      readonly bodyOffset: number;
    };

/**
 * The two framings of an Avro record in a Kafka message value that tickflow
 * writes and reads:
 * - Confluent's wire format, with a schema registry: byte 0x00, the
 *   schema's registry id as 4 bytes big-endian, then the Avro binary body.
 *   What Confluent's, Apicurio's (ccompat) and most other clients read.
 * - Avro single-object encoding, without one: C3 01, the schema's 8-byte
 *   little-endian CRC-64-AVRO fingerprint of its Parsing Canonical Form
 *   (see {@link rabinFingerprint}), then the body; what the Avro
 *   specification defines, so any Avro library reads it given the schema.
 *
 * @example
 * ```ts
 * const value = Buffer.concat([KafkaWireFormat.confluentHeader(42), Buffer.from([0x02])]);
 * console.log(value.toString('hex'), KafkaWireFormat.read(value));
 * // Logs: 000000002a02 { format: 'confluent', schemaId: 42, bodyOffset: 5 }
 * ```
 */
export const KafkaWireFormat = {
  /** The 5 bytes before a body in Confluent's wire format. */
  confluentHeader(schemaId: number): Buffer {
    if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > 0xffff_ffff)
      throw new RangeError(`schema id ${schemaId} is not a 32-bit id`);
    const header = Buffer.alloc(CONFLUENT_HEADER_BYTES);
    header[0] = CONFLUENT_MAGIC;
    header.writeUInt32BE(schemaId, 1);
    return header;
  },

  /** The 10 bytes before a body in Avro single-object encoding, from the schema's 8 fingerprint bytes. */
  singleObjectHeader(fingerprint: Uint8Array): Buffer {
    if (fingerprint.length !== 8) throw new RangeError(`a fingerprint is 8 bytes, not ${fingerprint.length}`);
    return Buffer.concat([Buffer.from(SINGLE_OBJECT_MARKER), fingerprint]);
  },

  /**
   * The header of a message value. A value in neither framing (empty, too
   * short, another magic byte) is a RecordValidationError that says what its
   * first bytes are, for the dead letter.
   */
  read(value: Uint8Array): KafkaWireHeader {
    if (value.length > CONFLUENT_HEADER_BYTES && value[0] === CONFLUENT_MAGIC) {
      const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
      return { format: 'confluent', schemaId: view.getUint32(1, false), bodyOffset: CONFLUENT_HEADER_BYTES };
    }
    if (value.length > SINGLE_OBJECT_HEADER_BYTES && value[0] === SINGLE_OBJECT_MARKER[0] && value[1] === SINGLE_OBJECT_MARKER[1]) {
      const fingerprint = Buffer.from(value.buffer, value.byteOffset + 2, 8).toString('hex');
      return { format: 'single-object', fingerprint, bodyOffset: SINGLE_OBJECT_HEADER_BYTES };
    }
    const start = Buffer.from(value.buffer, value.byteOffset, Math.min(value.length, 10)).toString('hex');
    throw new RecordValidationError(
      value.length === 0
        ? 'the message value is empty: not an Avro record in Confluent wire format (00 + schema id) or single-object encoding (C3 01 + fingerprint)'
        : `the message value (${value.length} bytes, starting ${start}) is not an Avro record in Confluent wire format (00 + 4-byte schema id + body) or single-object encoding (C3 01 + 8-byte fingerprint + body)`,
    );
  },
};
