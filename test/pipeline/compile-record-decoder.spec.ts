import type { Type } from 'avsc';
import type avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { compileRecordDecoder, type RecordDecoder } from '../../pipeline/schemas/compile-record-decoder.js';
import { SchemaCatalog } from '../../pipeline/schemas/schema-catalog.js';
import { SimMarket } from '../../sources/sim-market.js';

const catalog = SchemaCatalog.default();
/** Every record type an edge can carry: the record schemas, and the branches of the unions of records. */
const recordTypes: Type[] = catalog.names().flatMap((name) => {
  const type = catalog.type(name);
  return type.typeName === 'record' ? [type] : (type as avro.types.WrappedUnionType).types;
});

/** The random values avsc makes for `type`, from a seeded generator so that a run can be repeated. */
function samples(type: Type, count: number): unknown[] {
  let seed = 11;
  const random = Math.random;
  Math.random = () => ((seed = (seed * 16_807) % 2_147_483_647) - 1) / 2_147_483_646;
  try {
    return Array.from({ length: count }, () => type.random());
  } finally {
    Math.random = random;
  }
}

const decoderOf = (type: Type): RecordDecoder => {
  const decoder = compileRecordDecoder(type);
  if (decoder === undefined) throw new Error(`no decoder generated for ${type.name}`);
  return decoder;
};

/** A one-record schema of the given fields. */
const recordOf = (fields: unknown[]): Type =>
  new SchemaCatalog([{ name: 'R', schema: { type: 'record', name: 'R', fields } }]).type('R' as never);

describe('compileRecordDecoder', () => {
  it('reads every record schema of tickflow as avsc does: the same values, to the same offset, several records back to back', () => {
    expect(recordTypes.length).toBeGreaterThan(10);
    for (const type of recordTypes) {
      const decoder = decoderOf(type);
      const values = samples(type, 20);
      const encoded = Buffer.concat(values.map((v) => type.toBuffer(v)));
      let at = 0;
      for (let n = 0; n < values.length; n++) {
        const expected = type.decode(encoded, at);
        expect(decoder.read(encoded, at), String(type.name)).toEqual(expected.value);
        expect(decoder.offset).toBe(expected.offset);
        expect(type.isValid(decoder.read(encoded, at), { noUndeclaredFields: true })).toBe(true);
        at = expected.offset;
      }
      expect(at).toBe(encoded.length);
    }
  });

  it('reads a tick into a plain object of its fields in schema order, every tick of one shape', () => {
    const type = catalog.type('Tick');
    const market = new SimMarket({
      instruments: ['SHFE.rb2501', 'SHFE.cu2501'],
      seed: 3,
      start: 1_735_822_800_000_000,
      tickIntervalMs: 500,
      feedId: 'a',
      latencyUs: 0,
    });
    const decoder = decoderOf(type);
    for (let i = 0; i < 50; i++) {
      const tick = market.next();
      const read = decoder.read(type.toBuffer(tick), 0) as Record<string, unknown>;
      expect(Object.getPrototypeOf(read)).toBe(Object.prototype);
      expect(Object.keys(read)).toEqual((type as avro.types.RecordType).fields.map((f) => f.name));
      expect(read).toEqual(tick);
    }
  });

  it('answers undefined for every cut-off record, where avsc says the buffer ends inside it', () => {
    for (const type of recordTypes) {
      const decoder = decoderOf(type);
      for (const value of samples(type, 3)) {
        const encoded = type.toBuffer(value);
        for (let end = 0; end < encoded.length; end++) {
          const cut = encoded.subarray(0, end);
          expect(type.decode(cut, 0).offset, `${type.name} cut at ${end}`).toBe(-1);
          expect(decoder.read(cut, 0), `${type.name} cut at ${end}`).toBeUndefined();
        }
      }
    }
  });

  it('throws where avsc throws: an invalid union or enum index, a long beyond 2^53; a negative length reads as cut off', () => {
    const union = recordOf([{ name: 'x', type: ['null', 'double'] }]);
    const enumType = recordOf([{ name: 'side', type: { type: 'enum', name: 'Side', symbols: ['BUY', 'SELL'] } }]);
    const long = recordOf([{ name: 'n', type: 'long' }]);
    const text = recordOf([{ name: 's', type: 'string' }]);
    const cases: [Type, Buffer, string][] = [
      [union, Buffer.from([10]), 'invalid union index: 5'],
      [enumType, Buffer.from([4]), 'invalid tickflow.Side enum index: 2'],
      [long, Buffer.from([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), 'potential precision loss'],
    ];
    for (const [type, bytes, message] of cases) {
      expect(() => type.decode(bytes, 0)).toThrow(message);
      expect(() => decoderOf(type).read(bytes, 0)).toThrow(message);
    }
    expect(text.decode(Buffer.from([1, 65]), 0).offset).toBe(-1);
    expect(decoderOf(text).read(Buffer.from([1, 65]), 0)).toBeUndefined();
  });

  it('reads arrays and maps in blocks, a negative count followed by the block size', () => {
    const type = recordOf([
      { name: 'xs', type: { type: 'array', items: 'int' } },
      { name: 'm', type: { type: 'map', values: 'string' } },
    ]);
    // xs: a block of -2 items (4 bytes) [1, 2], then a block of 1 [3], then 0; m: one entry {a: 'b'}, then 0.
    const bytes = Buffer.from([3, 4, 2, 4, 2, 6, 0, 2, 2, 97, 2, 98, 0]);
    expect(type.decode(bytes, 0).value).toEqual({ xs: [1, 2, 3], m: { a: 'b' } });
    const decoder = decoderOf(type);
    expect(decoder.read(bytes, 0)).toEqual({ xs: [1, 2, 3], m: { a: 'b' } });
    expect(decoder.offset).toBe(bytes.length);
  });

  it('leaves to avsc what it does not generate: wrapped unions, recursion, arrays of items that may take no bytes', () => {
    expect(compileRecordDecoder(recordOf([{ name: 'n', type: ['int', 'double'] }]))).toBeUndefined();
    expect(compileRecordDecoder(recordOf([{ name: 'xs', type: { type: 'array', items: 'null' } }]))).toBeUndefined();
    const recursive = new SchemaCatalog([
      { name: 'Node', schema: { type: 'record', name: 'Node', fields: [{ name: 'next', type: ['null', 'Node'] }] } },
    ]);
    expect(compileRecordDecoder(recursive.type('Node' as never))).toBeUndefined();
  });
});
