import type { Type } from 'avsc';
import type avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { compileRecordCheck } from '../../pipeline/schemas/compile-record-check.js';
import { SchemaCatalog } from '../../pipeline/schemas/schema-catalog.js';

const catalog = SchemaCatalog.default();
/** Every record type an edge can carry: the record schemas, and the branches of the unions of records. */
const recordTypes: Type[] = catalog.names().flatMap((name) => {
  const type = catalog.type(name);
  return type.typeName === 'record' ? [type] : (type as avro.types.WrappedUnionType).types;
});
/** The check of the first record type. */
const check0 = (value: unknown): boolean => (compileRecordCheck(recordTypes[0] as Type) as (value: unknown) => boolean)(value);
const avscSays = (type: Type, value: unknown): boolean => type.isValid(value, { noUndeclaredFields: true });

/** Values of every kind a field could wrongly hold. */
const WRONG: readonly unknown[] = [
  undefined,
  null,
  0,
  1.5,
  -1,
  2 ** 31,
  2 ** 53,
  Number.NaN,
  '',
  'x',
  'BUY',
  true,
  [],
  {},
  Buffer.alloc(1),
];

/** The random values avsc makes for `type`, from a seeded generator so that a run can be repeated. */
function samples(type: Type, count: number): Record<string, unknown>[] {
  let seed = 7;
  const random = Math.random;
  Math.random = () => ((seed = (seed * 16_807) % 2_147_483_647) - 1) / 2_147_483_646;
  try {
    return Array.from({ length: count }, () => ({ ...(type.random() as unknown as Record<string, unknown>) }));
  } finally {
    Math.random = random;
  }
}

describe('compileRecordCheck', () => {
  it('generates a check for every edge schema of tickflow', () => {
    expect(recordTypes.length).toBeGreaterThan(10);
    for (const type of recordTypes) expect(compileRecordCheck(type), String(type.name)).toBeTypeOf('function');
  });

  it('says yes to every valid record, and to none that avsc refuses (every field set to every wrong kind, left out, or an extra field)', () => {
    let refused = 0;
    for (const type of recordTypes) {
      const check = compileRecordCheck(type) as (value: unknown) => boolean;
      const fields = (type as avro.types.RecordType).fields;
      for (const valid of samples(type, 20)) {
        expect(check(valid), `${type.name} ${JSON.stringify(valid)}`).toBe(true);
        const variants: unknown[] = [{ ...valid, undeclared: 1 }, null, [], 'a record', [valid]];
        for (const field of fields) {
          const { [field.name]: _left, ...without } = valid;
          variants.push(without);
          for (const wrong of WRONG) variants.push({ ...valid, [field.name]: wrong });
        }
        for (const variant of variants) {
          const fast = check(variant);
          if (fast) expect(avscSays(type, variant), `${type.name}: the check accepts what avsc refuses`).toBe(true);
          else refused++;
        }
      }
    }
    // Not a check that refuses everything: most variants are refused, and every valid record passed above.
    expect(refused).toBeGreaterThan(1000);
  });

  it('says yes to a record avsc decoded (an instance of its class, whose prototype has enumerable methods), and no to one given an undeclared field', () => {
    for (const type of recordTypes) {
      const check = compileRecordCheck(type) as (value: unknown) => boolean;
      for (const valid of samples(type, 3)) {
        const decoded = type.fromBuffer(type.toBuffer(valid)) as Record<string, unknown>;
        expect(Object.getPrototypeOf(decoded), String(type.name)).not.toBe(Object.prototype);
        expect(check(decoded), `${type.name} decoded`).toBe(true);
        decoded['undeclared'] = 1;
        expect(check(decoded), `${type.name} decoded, with an undeclared field`).toBe(false);
      }
    }
    const bare = Object.assign(Object.create(null) as object, samples(recordTypes[0] as Type, 1)[0]);
    expect(check0(bare)).toBe(true);
  });

  it('refuses a sparse array of ints, as avsc does, and leaves a recursive schema to avsc', () => {
    const schemas = new SchemaCatalog([
      { name: 'Ints', schema: { type: 'record', name: 'Ints', fields: [{ name: 'xs', type: { type: 'array', items: 'int' } }] } },
      {
        name: 'Node',
        schema: { type: 'record', name: 'Node', fields: [{ name: 'next', type: ['null', 'Node'] }] },
      },
    ]);
    const ints = schemas.type('Ints' as never);
    const check = compileRecordCheck(ints) as (value: unknown) => boolean;
    // eslint-disable-next-line no-sparse-arrays -- the hole is the point
    const sparse = { xs: [1, , 3] };
    expect(avscSays(ints, sparse)).toBe(false);
    expect(check(sparse)).toBe(false);
    expect(check({ xs: [1, 2, 3] })).toBe(true);
    expect(compileRecordCheck(schemas.type('Node' as never))).toBeUndefined();
  });

  it('leaves out what it does not generate, so that avsc checks it alone', () => {
    // Two branches avsc cannot tell apart by the value's kind make a wrapped union, which is not generated.
    const wrapped = new SchemaCatalog([
      { name: 'Either', schema: { type: 'record', name: 'Either', fields: [{ name: 'n', type: ['int', 'double'] }] } },
    ]);
    expect(compileRecordCheck(wrapped.type('Either' as never))).toBeUndefined();
  });
});
