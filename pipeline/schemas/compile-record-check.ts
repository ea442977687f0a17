import { GeneratedFunction } from './generated-function.js';
import type { Type } from 'avsc';
import type avro from 'avsc';

/** avsc's bounds of a long held in a JavaScript number. */
const SAFE_LONG = 9_007_199_254_740_990;

/**
 * A fast yes for a record of `type`, generated as straight-line code (one
 * `typeof` or comparison per field, unions as alternatives, a key count for
 * undeclared fields), or `undefined` when the schema uses a type this does
 * not generate (logical types, wrapped unions), so that avsc
 * checks it alone.
 *
 * `true` means avsc's `isValid(value, { noUndeclaredFields: true })` holds;
 * `false` means nothing: the caller asks avsc, which is slower but also
 * says where the record fails. Every generated test is at least as strict as
 * avsc's (an enum value must be a string, a record not an array), never less.
 * avsc walks a record through a generic checker per field and union; on the
 * hot path, where almost every record is valid, this answers instead.
 */
export function compileRecordCheck(type: Type): ((value: unknown) => boolean) | undefined {
  const generated = new GeneratedFunction();
  const helpers: string[] = [];
  /** The name under which the generated code sees `value`, one per value. */
  const constant = (value: unknown): string => generated.constant(value);

  /** A boolean expression that holds when `x` (a plain identifier) is valid for `t`, or undefined when `t` is not generated. */
  const test = (t: Type, x: string): string | undefined => {
    switch (t.typeName) {
      case 'null':
        return `${x} === null`;
      case 'boolean':
        return `typeof ${x} === 'boolean'`;
      case 'int':
        return `${x} === (${x} | 0)`;
      case 'long':
        return `(typeof ${x} === 'number' && ${x} % 1 === 0 && ${x} >= -${SAFE_LONG} && ${x} <= ${SAFE_LONG})`;
      case 'float':
      case 'double':
        return `typeof ${x} === 'number'`;
      case 'string':
        return `typeof ${x} === 'string'`;
      case 'bytes':
        return `${constant(Buffer)}.isBuffer(${x})`;
      case 'enum':
        return `(typeof ${x} === 'string' && ${constant(new Set((t as avro.types.EnumType).symbols))}.has(${x}))`;
      case 'fixed':
        return `(${constant(Buffer)}.isBuffer(${x}) && ${x}.length === ${(t as avro.types.FixedType).size})`;
      case 'map': {
        const map = helper(t);
        return map === undefined ? undefined : `${map}(${x})`;
      }
      case 'union:unwrapped': {
        const branches = (t as avro.types.UnwrappedUnionType).types.map((branch) => test(branch, x));
        return branches.some((b) => b === undefined) ? undefined : `(${branches.join(' || ')})`;
      }
      case 'array': {
        const array = helper(t);
        return array === undefined ? undefined : `${array}(${x})`;
      }
      case 'record': {
        const record = helper(t);
        return record === undefined ? undefined : `${record}(${x})`;
      }
      default:
        return undefined;
    }
  };

  /** The types whose helper is being generated: a recursive schema is left to avsc. */
  const generating = new Set<Type>();

  /** The name of a generated function testing one value of `t`, a record, map or array. */
  const helper = (t: Type): string | undefined => {
    if (generating.has(t)) return undefined;
    generating.add(t);
    const index = helpers.length;
    helpers.push(''); // reserved, so nested helpers take the next names
    const body =
      t.typeName === 'record'
        ? recordBody(t as avro.types.RecordType)
        : t.typeName === 'map'
          ? mapBody(t as avro.types.MapType)
          : arrayBody(t as avro.types.ArrayType);
    generating.delete(t);
    if (body === undefined) return undefined;
    helpers[index] = `function h${index}(v) {\n${body}\n}`;
    return `h${index}`;
  };

  /** Statements that return whether `v` is a valid array of `t`: every index, holes too (they hold undefined, as avsc reads them). */
  const arrayBody = (t: avro.types.ArrayType): string | undefined => {
    const itemTest = test(t.itemsType, 'item');
    if (itemTest === undefined) return undefined;
    return [
      '  if (!Array.isArray(v)) return false;',
      '  for (let i = 0; i < v.length; i++) {',
      '    const item = v[i];',
      `    if (!(${itemTest})) return false;`,
      '  }',
      '  return true;',
    ].join('\n');
  };

  /** Statements that return whether `v` is a valid map of `t`: an object whose every value is valid. */
  const mapBody = (t: avro.types.MapType): string | undefined => {
    const valueTest = test(t.valuesType as Type, 'value');
    if (valueTest === undefined) return undefined;
    return [
      "  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;",
      '  for (const key in v) {',
      '    const value = v[key];',
      `    if (!(${valueTest})) return false;`,
      '  }',
      '  return true;',
    ].join('\n');
  };

  /** Statements that return whether `v` is a valid record of `t`: each field read once, into a local. */
  const recordBody = (t: avro.types.RecordType): string | undefined => {
    const lines = ["  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;"];
    const optional: string[] = [];
    for (const [i, field] of t.fields.entries()) {
      const fieldTest = test(field.type, `f${i}`);
      if (fieldTest === undefined) return undefined;
      lines.push(`  const f${i} = v[${JSON.stringify(field.name)}];`);
      // A field with a default may be left out (avsc fills it in when it encodes).
      if (field.defaultValue() !== undefined) {
        optional.push(`(${JSON.stringify(field.name)} in v ? 1 : 0)`);
        lines.push(`  if (f${i} !== undefined && !(${fieldTest})) return false;`);
      } else lines.push(`  if (!(${fieldTest})) return false;`);
    }
    // No undeclared field: as many enumerable keys as declared fields present.
    lines.push(`  return keyCount(v) === ${[String(t.fields.length - optional.length), ...optional].join(' + ')};`);
    return lines.join('\n');
  };

  if (type.typeName !== 'record') return undefined;
  const root = helper(type);
  if (root === undefined) return undefined;
  // for-in walks the prototype chain too: an avsc record (its class's prototype has enumerable methods) counted 50 keys for 43
  // fields, failed, and was walked by avsc again, at 2.3 µs for the count alone; Object.keys counts own keys only (0.1 µs).
  const keyCount = [
    'function keyCount(v) {',
    `  if (Object.getPrototypeOf(v) !== ${constant(Object.prototype)}) return Object.keys(v).length;`,
    '  let n = 0;',
    '  for (const _ in v) n++;',
    '  return n;',
    '}',
  ].join('\n');
  const source = [keyCount, ...helpers, `return ${root};`].join('\n');
  return generated.build<(value: unknown) => boolean>(source);
}
