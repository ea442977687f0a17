import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { avroLong } from '../../pipeline/schemas/avro-long.js';
import { compilePayloadWriter } from '../../pipeline/schemas/compile-payload-writer.js';
import { SchemaCatalog, type SchemaName } from '../../pipeline/schemas/schema-catalog.js';
import type { Tick } from '../../schemas/generated.js';
import { makeTick } from '../support/make-tick.js';

const schemas = SchemaCatalog.default();
const tick = (i: number): Tick => makeTick({ sequence: i, ts_event: 1_735_822_800_000_000 + i * 1000 });

/** What the writer puts at `pos` of a buffer of `size` bytes: the bytes, or the negative "too short". */
function written(writer: ReturnType<typeof compilePayloadWriter>, value: unknown, size = 4096, pos = 3): Buffer | number {
  const buf = Buffer.alloc(size, 0xee);
  const end = writer.encodeInto(value, buf, pos);
  return end < 0 ? end : Buffer.from(buf.subarray(pos, end));
}

const recordSchemas = schemas.names().filter((name) => schemas.type(name).typeName === 'record');

describe('compilePayloadWriter', () => {
  it('writes every record schema byte for byte as avsc does, on 300 random records of each', () => {
    expect(recordSchemas.length).toBeGreaterThan(10);
    for (const name of recordSchemas) {
      const type = schemas.type(name);
      const writer = compilePayloadWriter(type);
      for (let i = 0; i < 300; i++) {
        const value: unknown = type.random();
        expect(written(writer, value), `${name} #${i}`).toEqual(type.toBuffer(value));
      }
    }
  });

  it('writes ticks as avsc does: nulls, negative and large numbers, strings short and long, ASCII or not', () => {
    const type = schemas.type('Tick');
    const writer = compilePayloadWriter(type);
    const variants = [
      tick(1),
      { ...tick(2), last_price: null, bid_price1: null, last_volume: null },
      { ...tick(3), volume: -1, sequence: 2 ** 40, bid_volume1: -(2 ** 31), ask_volume1: 2 ** 31 - 1, ts_event: -(2 ** 50) },
      { ...tick(4), instrument_id: '', feed_id: 'x'.repeat(63) },
      { ...tick(5), instrument_id: 'y'.repeat(64), feed_id: 'z'.repeat(300) },
      { ...tick(6), instrument_id: 'SHFE.螺纹钢2501', feed_id: 'é' },
      { ...tick(7), feed_id: 'a😀b', trading_day: '\u0000' },
      { ...tick(8), last_price: Number.NaN, open: -0, high: Number.POSITIVE_INFINITY, turnover: 1e-310 },
    ];
    for (const [i, value] of variants.entries()) expect(written(writer, value), `variant ${i}`).toEqual(type.toBuffer(value));
  });

  it('leaves to avsc what it does not generate: a lone surrogate, a long that is not an integer, a field left out', () => {
    const type = avro.Type.forSchema({
      type: 'record',
      name: 'Probe',
      fields: [
        { name: 's', type: 'string' },
        { name: 'n', type: 'long' },
        { name: 'd', type: 'int', default: 7 },
      ],
    });
    const writer = compilePayloadWriter(type);
    const outcome = (encode: () => Buffer): Buffer | string => {
      try {
        return encode();
      } catch (error) {
        return `throws ${(error as Error).message}`;
      }
    };
    const outcomes = [
      { s: 'a\uD800b', n: 1, d: 2 },
      { s: 'ok', n: 1.5, d: 2 },
      { s: 'ok', n: 1 },
    ].map((value) => [outcome(() => written(writer, value, 64, 0) as Buffer), outcome(() => type.toBuffer(value))]);
    for (const [ours, avsc] of outcomes) expect(ours).toEqual(avsc);
    expect(outcomes.map(([ours]) => typeof ours)).toEqual(['object', 'string', 'object']);
  });

  it('says when the buffer is too short (a negative number), and writes the record once there is room, with a long to spare', () => {
    const type = schemas.type('Tick');
    const writer = compilePayloadWriter(type);
    const value = { ...tick(9), feed_id: 'f'.repeat(100) };
    const expected = type.toBuffer(value);
    for (let size = 3; size < expected.length + 3; size += 7) expect(written(writer, value, size)).toBeLessThan(0);
    expect(written(writer, value, expected.length + 3 + avroLong.MAX_BYTES)).toEqual(expected);
  });

  it('throws as avsc does for a record it cannot encode', () => {
    const name: SchemaName = 'Tick';
    const type = schemas.type(name);
    const writer = compilePayloadWriter(type);
    const bad = { ...tick(1), instrument_id: 42 };
    expect(() => type.toBuffer(bad)).toThrow();
    expect(() => writer.encodeInto(bad, Buffer.alloc(4096), 0)).toThrow();
  });
});
