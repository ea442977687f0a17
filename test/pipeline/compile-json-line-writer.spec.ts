import type { Type } from 'avsc';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { compileJsonLineWriter, type JsonLineWriter } from '../../pipeline/schemas/compile-json-line-writer.js';
import { compileRecordDecoder } from '../../pipeline/schemas/compile-record-decoder.js';
import { SchemaCatalog } from '../../pipeline/schemas/schema-catalog.js';
import { SimMarket } from '../../sources/sim-market.js';

const catalog = SchemaCatalog.default();

/** The ndjson sink's line before the writer: `JSON.stringify`, with a Buffer's JSON replaced by its base64 when the record holds objects. */
function sinkLine(record: unknown): string {
  const holdsObjects = Object.values(record as object).some((value) => value !== null && typeof value === 'object');
  const replacer = (_key: string, value: unknown): unknown =>
    value !== null &&
    typeof value === 'object' &&
    (value as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((value as { data?: unknown }).data)
      ? Buffer.from((value as { data: number[] }).data).toString('base64')
      : value;
  return `${holdsObjects ? JSON.stringify(record, replacer) : JSON.stringify(record)}\n`;
}

const writerOf = (type: Type): JsonLineWriter => {
  const writer = compileJsonLineWriter(type);
  if (writer === undefined) throw new Error(`no writer generated for ${type.name}`);
  return writer;
};

/** A one-record schema of the given fields. */
const recordOf = (fields: unknown[]): Type =>
  new SchemaCatalog([{ name: 'R', schema: { type: 'record', name: 'R', fields } }]).type('R' as never);

/** A seeded generator of numbers in [0, 1), so that a run can be repeated. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => ((state = (state * 16_807) % 2_147_483_647) - 1) / 2_147_483_646;
}

/** avsc's random values of a record type, as plain objects of its fields in schema order (avsc's own are class instances). */
function samples(type: avro.types.RecordType, count: number, seed: number): unknown[] {
  const decoder = compileRecordDecoder(type);
  if (decoder === undefined) throw new Error(`no decoder for ${type.name}`);
  const random = Math.random;
  Math.random = seeded(seed);
  try {
    return Array.from({ length: count }, () => decoder.read(type.toBuffer(type.random()), 0));
  } finally {
    Math.random = random;
  }
}

const TRICKY_STRINGS = [
  '',
  'plain',
  'a "quoted" word',
  'back\\slash',
  'line\nfeed\r\ttab',
  '\u0000\u0001\u001f',
  '\u007f delete',
  'é ü ß 中文',
  '\u2028\u2029',
  '😀 pair',
  '\ud800 lone high',
  'lone low \udfff',
  '</script>',
];
const TRICKY_NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.1 + 0.2,
  -2.5,
  1e-7,
  123e-20,
  5e-324,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31),
  -(2 ** 31) - 1,
  999_999_999,
  1_000_000_000,
  1_000_000_001,
  1_735_822_800_000_000,
  -1_735_822_800_000_123,
  Number.MAX_SAFE_INTEGER,
  -Number.MAX_SAFE_INTEGER,
  2 ** 53,
  2 ** 60,
  1e21,
  -1e21,
  NaN,
  Infinity,
  -Infinity,
  3300.25,
  620.02,
];

/** `value` (of `type`) with its strings, numbers and buffers swapped for hard cases now and then, chosen by `next`. */
function trickier(type: Type, value: unknown, next: () => number): unknown {
  const pick = <T>(choices: readonly T[]): T => choices[Math.floor(next() * choices.length)] as T;
  switch (type.typeName) {
    case 'string':
      return next() < 0.5 ? pick(TRICKY_STRINGS) : value;
    case 'int':
    case 'long':
    case 'float':
    case 'double':
      return next() < 0.5 ? pick(TRICKY_NUMBERS) : value;
    case 'bytes':
      return next() < 0.3 ? Buffer.alloc(0) : value;
    case 'union:unwrapped': {
      const branch = (type as avro.types.UnwrappedUnionType).types.find((t) => t.isValid(value));
      return branch === undefined ? value : trickier(branch, value, next);
    }
    case 'record': {
      const record = value as Record<string, unknown>;
      return Object.fromEntries((type as avro.types.RecordType).fields.map((f) => [f.name, trickier(f.type, record[f.name], next)]));
    }
    case 'map': {
      const entries = Object.entries(value as Record<string, unknown>);
      const valuesType = (type as avro.types.MapType).valuesType as Type;
      const tricky = entries.map(([k, v]) => [next() < 0.3 ? pick(TRICKY_STRINGS) : k, trickier(valuesType, v, next)]);
      // Integer-like keys come first in JSON.stringify's order as in for-in's.
      if (next() < 0.5) tricky.push(['7', trickier(valuesType, entries[0]?.[1] ?? null, next)]);
      return Object.fromEntries(tricky);
    }
    case 'array':
      return (value as unknown[]).map((item) => trickier((type as avro.types.ArrayType).itemsType, item, next));
    default:
      return value;
  }
}

/** Every record type an edge can carry: the record schemas, and the branches of the unions of records. */
const recordTypes: avro.types.RecordType[] = catalog.names().flatMap((name) => {
  const type = catalog.type(name);
  return (type.typeName === 'record' ? [type] : (type as avro.types.WrappedUnionType).types) as avro.types.RecordType[];
});

/** Appends every record (each must be written) and answers the text taken. */
function written(writer: JsonLineWriter, records: readonly unknown[]): string {
  for (const record of records) expect(writer.append(record)).toBe(true);
  return writer.take().toString('utf8');
}

describe('compileJsonLineWriter', () => {
  it("writes hundreds of random records of every schema of tickflow byte for byte as the ndjson sink's JSON.stringify", () => {
    expect(recordTypes.length).toBeGreaterThan(10);
    for (const [n, type] of recordTypes.entries()) {
      const writer = writerOf(type);
      const next = seeded(n + 1);
      const records = samples(type, 300, n + 7).map((record, i) => (i % 2 === 0 ? record : trickier(type, record, next)));
      for (const record of records) {
        expect(writer.append(record), String(type.name)).toBe(true);
        expect(writer.take().toString('utf8'), String(type.name)).toBe(sinkLine(record));
      }
      expect(written(writer, records)).toBe(records.map(sinkLine).join(''));
    }
  });

  it('writes a union of records (OrderEvent) by the branch whose fields the record has', () => {
    const union = catalog.type('OrderEvent');
    const branches = (union as avro.types.WrappedUnionType).types as avro.types.RecordType[];
    const records = branches.flatMap((branch, i) => samples(branch, 20, i + 3));
    expect(written(writerOf(union), records)).toBe(records.map(sinkLine).join(''));
  });

  it('writes sim ticks as JSON.stringify does, many batches in a row', () => {
    const market = new SimMarket({
      instruments: ['SHFE.rb2501', 'SHFE.au2502', 'CFFEX.IF2501', 'DCE.m2501'],
      seed: 5,
      start: 1_735_822_800_000_000,
      tickIntervalMs: 500,
      feedId: 'a',
      latencyUs: 0,
    });
    const writer = writerOf(catalog.type('Tick'));
    for (let batch = 0; batch < 5; batch++) {
      const ticks = Array.from({ length: 400 }, () => market.next());
      const lines = written(writer, ticks);
      expect(lines).toBe(ticks.map((t) => `${JSON.stringify(t)}\n`).join(''));
    }
  });

  it('writes every hard string, number, null, boolean, enum, map and buffer as the sink does', () => {
    const type = recordOf([
      { name: 's', type: 'string' },
      { name: 'd', type: 'double' },
      { name: 'n', type: ['null', 'long'] },
      { name: 'b', type: 'boolean' },
      { name: 'e', type: { type: 'enum', name: 'Side', symbols: ['BUY', 'SELL'] } },
      { name: 'm', type: { type: 'map', values: ['null', 'double', 'string'] } },
      { name: 'xs', type: { type: 'array', items: ['null', 'int'] } },
      { name: 'raw', type: 'bytes' },
      { name: 'hash', type: { type: 'fixed', name: 'Hash', size: 2 } },
      { name: 'r', type: ['null', { type: 'record', name: 'Inner', fields: [{ name: 'x', type: 'float' }] }] },
    ]);
    const records = TRICKY_STRINGS.flatMap((s, i) =>
      TRICKY_NUMBERS.map((d, j) => ({
        s,
        d,
        n: j % 3 === 0 ? null : Math.trunc(d % 1e15) || 0,
        b: j % 2 === 0,
        e: j % 2 === 0 ? 'BUY' : 'SELL',
        m: { [s]: d, '10': null, '2': s, [`k${j}`]: i },
        xs: [null, i, -j, 2 ** 31 - 1],
        raw: Buffer.from(s, 'utf8'),
        hash: Buffer.from([i, j]),
        r: j % 4 === 0 ? null : { x: d },
      })),
    );
    const writer = writerOf(type);
    for (const record of records) {
      expect(writer.append(record)).toBe(true);
      expect(writer.take().toString('utf8')).toBe(sinkLine(record));
    }
    expect(
      written(writer, [{ s: '', d: 0, n: null, b: true, e: 'BUY', m: {}, xs: [], raw: Buffer.alloc(0), hash: Buffer.alloc(2), r: null }]),
    ).toBe('{"s":"","d":0,"n":null,"b":true,"e":"BUY","m":{},"xs":[],"raw":"","hash":"AAA=","r":null}\n');
  });

  it('refuses, appending nothing, what JSON.stringify would write differently: other key orders, left-out, undeclared or undefined fields, class instances, values of other types', () => {
    const type = recordOf([
      { name: 'id', type: 'string' },
      { name: 'px', type: ['null', 'double'], default: null },
    ]);
    const writer = writerOf(type);
    class Px {
      constructor(
        readonly id: string,
        readonly px: number,
      ) {}
    }
    expect(writer.append({ id: 'rb', px: 1 })).toBe(true);
    const refused = [
      { px: 1, id: 'rb' },
      { id: 'rb' },
      { id: 'rb', px: 1, extra: 2 },
      { id: 'rb', px: undefined },
      new Px('rb', 1),
      Object.assign(Object.create(null) as object, { id: 'rb', px: 1 }),
      { id: 1, px: 1 },
      { id: 'rb', px: '1' },
      { id: 'rb', px: 1n },
      null,
      'text',
      [],
    ];
    for (const record of refused) {
      expect(writer.append(record)).toBe(false);
      expect(writer.length).toBe('{"id":"rb","px":1}\n'.length);
    }
    expect(writer.take().toString()).toBe('{"id":"rb","px":1}\n');
  });

  it("refuses a record or map the sink's replacer would write as base64 ({ type: 'Buffer', data: [...] }), and a union branch that fails halfway leaves nothing behind", () => {
    const bufferLike = recordOf([
      { name: 'type', type: 'string' },
      { name: 'data', type: { type: 'array', items: 'int' } },
    ]);
    expect(writerOf(bufferLike).append({ type: 'Buffer', data: [1, 2] })).toBe(false);
    expect(written(writerOf(bufferLike), [{ type: 'Buffers', data: [1, 2] }])).toBe('{"type":"Buffers","data":[1,2]}\n');
    const map = recordOf([{ name: 'm', type: { type: 'map', values: ['string', { type: 'array', items: 'int' }] } }]);
    expect(writerOf(map).append({ m: { type: 'Buffer', data: [1] } })).toBe(false);
    const union = recordOf([
      {
        name: 'v',
        type: [
          'null',
          {
            type: 'record',
            name: 'A',
            fields: [
              { name: 'a', type: 'int' },
              { name: 'b', type: 'string' },
            ],
          },
        ],
      },
    ]);
    // {a: 1, b: 2} is no A (b is no string), found only after A's first field was written: that text is taken back.
    const writer = writerOf(union);
    expect(writer.append({ v: { a: 1, b: 'x' } })).toBe(true);
    expect(writer.append({ v: { a: 1, b: 2 } })).toBe(false);
    expect(written(writer, [{ v: null }])).toBe('{"v":{"a":1,"b":"x"}}\n{"v":null}\n');
  });

  it('grows its buffer for long lines and many records, and the buffer taken is not written again', () => {
    const type = recordOf([{ name: 's', type: 'string' }]);
    const writer = writerOf(type);
    const long = 'x'.repeat(300_000);
    expect(writer.append({ s: 'first' })).toBe(true);
    const first = writer.take();
    expect(written(writer, [{ s: long }, { s: `${long}é` }])).toBe(`{"s":"${long}"}\n{"s":"${long}é"}\n`);
    const many = Array.from({ length: 20_000 }, (_, i) => ({ s: `record ${i}` }));
    expect(written(writer, many)).toBe(many.map(sinkLine).join(''));
    writer.appendText('{"made":"by the caller"}\n');
    expect(written(writer, [{ s: 'after' }])).toBe('{"made":"by the caller"}\n{"s":"after"}\n');
    expect(first.toString()).toBe('{"s":"first"}\n');
  });

  it('generates no writer for what it does not know: recursion, a wrapped union inside a record, a schema that is no record', () => {
    expect(compileJsonLineWriter(recordOf([{ name: 'n', type: ['int', 'double'] }]))).toBeUndefined();
    const recursive = new SchemaCatalog([
      { name: 'Node', schema: { type: 'record', name: 'Node', fields: [{ name: 'next', type: ['null', 'Node'] }] } },
    ]);
    expect(compileJsonLineWriter(recursive.type('Node' as never))).toBeUndefined();
    expect(compileJsonLineWriter(avro.Type.forSchema('string'))).toBeUndefined();
  });
});
