import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { RecordValidationError } from '../../errors/errors.js';
import { rabinFingerprint } from '../../pipeline/schemas/rabin-fingerprint.js';
import { KafkaWireFormat } from '../../protocols/kafka/kafka-wire-format.js';

describe('KafkaWireFormat', () => {
  const type = avro.Type.forSchema({ type: 'record', name: 'P', fields: [{ name: 'price', type: 'double' }] });
  const body = type.toBuffer({ price: 3500.5 });

  it('frames a body in Confluent wire format: 0x00, the id big-endian, the body; and reads it back', () => {
    const value = Buffer.concat([KafkaWireFormat.confluentHeader(0x01020304), body]);
    expect([...value.subarray(0, 5)]).toEqual([0, 1, 2, 3, 4]);
    const header = KafkaWireFormat.read(value);
    expect(header).toEqual({ format: 'confluent', schemaId: 0x01020304, bodyOffset: 5 });
    expect(type.fromBuffer(value.subarray(header.bodyOffset))).toEqual({ price: 3500.5 });
    expect(() => KafkaWireFormat.confluentHeader(-1)).toThrow(RangeError);
    expect(() => KafkaWireFormat.confluentHeader(2 ** 32)).toThrow(RangeError);
  });

  it('frames a body in Avro single-object encoding: C3 01, the fingerprint, the body; and reads it back', () => {
    const fingerprint = rabinFingerprint(JSON.stringify(type.schema()));
    const value = Buffer.concat([KafkaWireFormat.singleObjectHeader(fingerprint), body]);
    expect([...value.subarray(0, 2)]).toEqual([0xc3, 0x01]);
    expect(value.subarray(2, 10)).toEqual(fingerprint);
    expect(type.fromBuffer(value.subarray(10))).toEqual({ price: 3500.5 });
    expect(KafkaWireFormat.read(value)).toEqual({ format: 'single-object', fingerprint: fingerprint.toString('hex'), bodyOffset: 10 });
    expect(() => KafkaWireFormat.singleObjectHeader(Buffer.alloc(7))).toThrow(RangeError);
  });

  it('refuses a value in neither framing, saying how long it is and what it starts with', () => {
    expect(() => KafkaWireFormat.read(Buffer.alloc(0))).toThrow(/the message value is empty/);
    expect(() => KafkaWireFormat.read(Buffer.from('{"price":1}'))).toThrow(/11 bytes, starting 7b227072696365223a31\)/);
    // A header with no body is not a record either.
    expect(() => KafkaWireFormat.read(KafkaWireFormat.confluentHeader(7))).toThrow(RecordValidationError);
  });
});
