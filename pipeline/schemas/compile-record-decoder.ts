import { GeneratedHelpers } from './generated-helpers.js';
import { GeneratedFunction } from './generated-function.js';
import type { Type } from 'avsc';
import type avro from 'avsc';

/** Reads records of one schema out of Avro binary data. */
export interface RecordDecoder {
  /**
   * The record encoded at `at` in `buffer`, or `undefined` when the buffer
   * ends inside it. Throws when the bytes are no record of the schema (an
   * invalid union or enum index, a long beyond 2^53).
   */
  read(buffer: Buffer, at: number): unknown;
  /** The offset just after the record the last `read` returned. */
  readonly offset: number;
}

/** avsc's bounds of a long held in a JavaScript number. */
const SAFE_LONG = 9_007_199_254_740_990;

/** The reading primitives the generated code calls; `b` is the buffer, `p` the position. */
const PRIMITIVES = `
let b;
let p = 0;
/** The index of the union being read. */
let u = 0;
/** A view of the buffer being read (kept while the next record is in the same buffer, a block of a file). */
let viewed;
let view;
// A zig-zag varint: integer arithmetic for the first 28 bits, then floating point, which holds up to 2^53 exactly.
function varint() {
  let byte = b[p++];
  let n = byte & 0x7f;
  let shift = 7;
  while (byte & 0x80 && shift < 28) {
    byte = b[p++];
    n |= (byte & 0x7f) << shift;
    shift += 7;
  }
  if (!(byte & 0x80)) return (n >>> 1) ^ -(n & 1);
  let f = n;
  let scale = 268435456;
  do {
    byte = b[p++];
    f += (byte & 0x7f) * scale;
    scale *= 128;
  } while (byte & 0x80);
  return f % 2 ? -(f + 1) / 2 : f / 2;
}
function long() {
  const n = varint();
  if (!(n >= -${SAFE_LONG} && n <= ${SAFE_LONG})) {
    if (p > b.length) return 0;
    throw new Error('potential precision loss');
  }
  return n;
}
// Through a DataView of the buffer, which V8 compiles to a plain load: Buffer.readDoubleLE validates its offset each call.
function double() {
  const at = p;
  p += 8;
  return p > b.length ? 0 : view.getFloat64(at, true);
}
function float() {
  const at = p;
  p += 4;
  return p > b.length ? 0 : view.getFloat32(at, true);
}
// A negative length cannot be: the position is set past the end, so the record reads as cut off.
function length() {
  const n = varint();
  if (n < 0) p = Infinity;
  return n;
}
// Short ASCII strings (ids, days, feeds: the same few hundred again and again) are interned: hashing and comparing
// ten bytes costs a fraction of slicing a new string, which the heap would then hold once per record.
const INTERN_MAX_LENGTH = 32;
const INTERN_SLOTS = 4096;
const interned = new Array(INTERN_SLOTS).fill('');
const internedHash = new Int32Array(INTERN_SLOTS);
function string() {
  const n = length();
  const at = p;
  p += n;
  if (p > b.length) return '';
  if (n > INTERN_MAX_LENGTH) return b.utf8Slice(at, p);
  let hash = n;
  let ascii = true;
  for (let i = at; i < p; i++) {
    const byte = b[i];
    if (byte & 0x80) ascii = false;
    hash = (Math.imul(hash, 31) + byte) | 0;
  }
  if (!ascii) return b.utf8Slice(at, p);
  const slot = hash & (INTERN_SLOTS - 1);
  const known = interned[slot];
  if (internedHash[slot] === hash && known.length === n) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (known.charCodeAt(i) !== b[at + i]) {
        same = false;
        break;
      }
    }
    if (same) return known;
  }
  const text = b.latin1Slice(at, p);
  interned[slot] = text;
  internedHash[slot] = hash;
  return text;
}
function fixed(n) {
  const at = p;
  p += n;
  if (p > b.length) return Buffer.alloc(0);
  // A copy, as avsc gives: a view would keep the whole block alive as long as the record.
  const copy = Buffer.allocUnsafe(n);
  b.copy(copy, 0, at, p);
  return copy;
}
function bytes() {
  return fixed(length());
}
// The count of the next block of an array or map; a negative count is followed by the block's size in bytes.
function blockCount() {
  const n = varint();
  if (n >= 0) return n;
  varint();
  return -n;
}
function invalid(what, index) {
  if (p > b.length) return undefined;
  throw new Error('invalid ' + what + ' index: ' + index);
}
`;

/**
 * A reader of Avro binary records of `type` generated as straight-line code
 * (one read per field, each record an object literal in schema order, so
 * that every record read has one hidden class), or `undefined` when the
 * schema uses a type this does not generate (logical types, wrapped unions,
 * recursion), so that avsc reads it.
 *
 * It reads what avsc's `type.decode(buffer, at)` reads, without resolution
 * (for records written in the same schema): the same values, `undefined`
 * where avsc reports the buffer ending inside the record, an error where
 * avsc throws. avsc builds each record through its generic readers, an
 * instance of its record class, plus a `{ value, offset }` and a reading
 * position per record; this reads into a plain object and nothing else.
 *
 * @example
 * ```ts
 * import avro from 'avsc';
 * const type = avro.Type.forSchema({ type: 'record', name: 'Px', fields: [{ name: 'id', type: 'string' }, { name: 'px', type: ['null', 'double'] }] });
 * const decoder = compileRecordDecoder(type);
 * const encoded = type.toBuffer({ id: 'rb', px: 3500.5 });
 * console.log(decoder?.read(encoded, 0), decoder?.offset === encoded.length);
 * // Logs: { id: 'rb', px: 3500.5 } true
 * ```
 *
 * @param type A record type (avsc).
 * @returns The decoder, or `undefined` when the schema is not generated.
 */
export function compileRecordDecoder(type: Type): RecordDecoder | undefined {
  const generated = new GeneratedFunction();
  const helpers = new GeneratedHelpers('r', '');
  const constant = (value: unknown): string => generated.constant(value);

  /** Whether a value of `t` may take no bytes: an array or map of such items is left to avsc, so that every item read moves on and the loop ends with the buffer. */
  const mayTakeNoBytes = (t: Type): boolean =>
    t.typeName === 'null' ||
    (t.typeName === 'fixed' && (t as avro.types.FixedType).size === 0) ||
    (t.typeName === 'record' && (t as avro.types.RecordType).fields.every((field) => mayTakeNoBytes(field.type)));

  /** A JavaScript expression reading one value of `t` at `p`, or undefined when `t` is not generated. */
  const read = (t: Type): string | undefined => {
    switch (t.typeName) {
      case 'null':
        return 'null';
      case 'boolean':
        return '!!b[p++]';
      case 'int':
        return 'varint()';
      case 'long':
        return 'long()';
      case 'float':
        return 'float()';
      case 'double':
        return 'double()';
      case 'string':
        return 'string()';
      case 'bytes':
        return 'bytes()';
      case 'fixed':
        return `fixed(${(t as avro.types.FixedType).size})`;
      case 'union:unwrapped': {
        // Inline, not a function each: a tick has 22 nullable fields, and V8 inlines only so many calls into one reader.
        // One shared index: it is tested before the branch is read, so a union inside the branch may reuse it.
        const branches = (t as avro.types.UnwrappedUnionType).types.map(read);
        if (branches.some((r) => r === undefined)) return undefined;
        return `((u = varint()) === 0 ? ${branches[0]} : ${branches
          .slice(1)
          .map((r, i) => `u === ${i + 1} ? ${r} : `)
          .join('')}invalid('union', u))`;
      }
      case 'enum':
      case 'record':
      case 'array':
      case 'map': {
        const name = reader(t);
        return name === undefined ? undefined : `${name}()`;
      }
      default:
        return undefined;
    }
  };

  /** The name of the generated function for a value of `t`, or undefined when `t` is not generated. */
  const reader = (t: Type): string | undefined => helpers.nameOf(t, bodyOf);

  const bodyOf = (t: Type): string | undefined => {
    switch (t.typeName) {
      case 'enum': {
        const enumType = t as avro.types.EnumType;
        const symbols = constant(enumType.symbols);
        return `  const i = varint();\n  return i >= 0 && i < ${symbols}.length ? ${symbols}[i] : invalid(${JSON.stringify(`${enumType.name ?? 'enum'} enum`)}, i);`;
      }
      case 'record': {
        const fields = (t as avro.types.RecordType).fields;
        const values = fields.map((field) => read(field.type));
        if (values.some((v) => v === undefined)) return undefined;
        // Property values are evaluated in order: the fields are read in the order they were written.
        return `  return {\n${fields.map((field, i) => `    ${JSON.stringify(field.name)}: ${values[i]},`).join('\n')}\n  };`;
      }
      case 'array': {
        const itemType = (t as avro.types.ArrayType).itemsType;
        const item = mayTakeNoBytes(itemType) ? undefined : read(itemType);
        if (item === undefined) return undefined;
        return [
          '  const items = [];',
          '  for (let n = blockCount(); n > 0 && p <= b.length; n = blockCount()) {',
          `    for (let i = 0; i < n && p <= b.length; i++) items.push(${item});`,
          '  }',
          '  return items;',
        ].join('\n');
      }
      case 'map': {
        const valueType = (t as avro.types.MapType).valuesType as Type;
        const value = mayTakeNoBytes(valueType) ? undefined : read(valueType);
        if (value === undefined) return undefined;
        return [
          '  const entries = {};',
          '  for (let n = blockCount(); n > 0 && p <= b.length; n = blockCount()) {',
          '    for (let i = 0; i < n && p <= b.length; i++) {',
          '      const key = string();',
          `      entries[key] = ${value};`,
          '    }',
          '  }',
          '  return entries;',
        ].join('\n');
      }
      default:
        return undefined;
    }
  };

  if (type.typeName !== 'record') return undefined;
  const root = reader(type);
  if (root === undefined) return undefined;
  const source = [
    PRIMITIVES,
    ...helpers.texts,
    'return {',
    '  read(buffer, at) {',
    '    b = buffer;',
    '    p = at;',
    '    if (buffer !== viewed) {',
    '      viewed = buffer;',
    '      view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);',
    '    }',
    '    try {',
    `      const value = ${root}();`,
    '      return p > buffer.length ? undefined : value;',
    '    } finally {',
    '      b = undefined;',
    '    }',
    '  },',
    '  get offset() {',
    '    return p;',
    '  },',
    '};',
  ].join('\n');
  return generated.build<RecordDecoder>(source);
}
