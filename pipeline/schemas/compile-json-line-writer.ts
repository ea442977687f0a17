import { GeneratedHelpers } from './generated-helpers.js';
import { GeneratedFunction } from './generated-function.js';
import type { Type } from 'avsc';
import type avro from 'avsc';

/** Writes records of one schema as JSON lines into a growing buffer. */
export interface JsonLineWriter {
  /**
   * Appends the record's JSON line (its JSON and `\n`), or appends nothing
   * and answers `false` when the record is not one this writer writes
   * exactly as `JSON.stringify` would: another shape, an optional field left
   * out, keys in another order, a class instance. The caller writes that
   * record itself ({@link appendText}).
   */
  append(record: unknown): boolean;
  /** Appends `text` as UTF-8: a line the caller made. */
  appendText(text: string): void;
  /** The bytes appended since the last `take`; the writer goes on in a new buffer, so the one returned is the caller's. */
  take(): Buffer;
  /** The number of bytes appended since the last `take`. */
  readonly length: number;
}

/** The most bytes a number takes as JSON (`-1.7976931348623157e+308` is 24), `null`, `true` or `false`. */
const SCALAR_MAX_BYTES = 24;

/** The first buffer's size, and the least a buffer after a `take` starts with. */
const INITIAL_BYTES = 64 * 1024;

/**
 * The writing primitives the generated code calls: `b` is the buffer, `p`
 * the position. Every write makes room first (`room`): a store past a
 * Buffer's end would be dropped without a word.
 */
const PRIMITIVES = `
let b = Buffer.allocUnsafe(${INITIAL_BYTES});
let p = 0;
function grow(n) {
  const bigger = Buffer.allocUnsafe(Math.max(2 * b.length, p + n));
  b.copy(bigger, 0, 0, p);
  b = bigger;
}
// Digits of an integer 0 <= n < 2^31 with int32 arithmetic: on a double, % and / call out to the C library.
function int(x) {
  let n = x | 0;
  const length = n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : n < 100000 ? 5 : n < 1000000 ? 6 : n < 10000000 ? 7 : n < 100000000 ? 8 : n < 1000000000 ? 9 : 10;
  let at = p + length;
  p = at;
  do {
    const rest = (n / 10) | 0;
    b[--at] = 48 + n - rest * 10;
    n = rest;
  } while (n > 0);
}
// Nine digits of 0 <= n < 10^9, leading zeros included.
function nineDigits(x) {
  let n = x | 0;
  let at = p + 9;
  p = at;
  for (let i = 0; i < 9; i++) {
    const rest = (n / 10) | 0;
    b[--at] = 48 + n - rest * 10;
    n = rest;
  }
}
// JSON.stringify's text of a number: ToString for finite ones (-0 is "0"), null for NaN and the infinities.
// Integers up to 2^53 digit by digit (epoch microseconds are 16 digits); others through V8's shortest form.
function number(f) {
  if (f >= 0 && f < 2147483648 && (f | 0) === f) return int(f);
  if (f === Math.floor(f) && f <= 9007199254740991 && f >= -9007199254740991) {
    let n = f;
    if (n < 0) {
      b[p++] = 45;
      n = -n;
    }
    if (n < 1000000000) return int(n);
    const high = Math.floor(n / 1000000000);
    int(high);
    return nineDigits(n - high * 1000000000);
  }
  if (f - f !== 0) {
    b[p] = 110;
    b[p + 1] = 117;
    b[p + 2] = 108;
    b[p + 3] = 108;
    p += 4;
    return;
  }
  const text = '' + f;
  for (let i = 0; i < text.length; i++) b[p++] = text.charCodeAt(i);
}
// A string as JSON: printable ASCII without quote or backslash byte for byte; anything else as JSON.stringify quotes it.
function string(s) {
  const n = s.length;
  if (p + n + 2 > b.length) grow(n + 2);
  const start = p;
  b[p++] = 34;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 32 || c > 126 || c === 34 || c === 92) {
      p = start;
      const quoted = JSON.stringify(s);
      // UTF-8 takes at most 3 bytes per UTF-16 unit (a pair takes 4); JSON.stringify escapes lone surrogates.
      if (p + 3 * quoted.length > b.length) grow(3 * quoted.length);
      p += b.utf8Write(quoted, p);
      return;
    }
    b[p++] = c;
  }
  b[p++] = 34;
}
// A Buffer as the ndjson sink writes it: its base64 in quotes.
function bytes(v) {
  const text = v.toString('base64');
  if (p + text.length + 2 > b.length) grow(text.length + 2);
  b[p++] = 34;
  p += b.latin1Write(text, p);
  b[p++] = 34;
}
`;

/** Statements that store `text` (ASCII) at `p` byte by byte and move `p` past it: no call, no string. */
function storeText(text: string, indent: string): string {
  const bytes = Buffer.from(text, 'latin1');
  const stores = [...bytes].map((byte, i) => `b[p${i === 0 ? '' : ` + ${i}`}] = ${byte};`);
  return `${indent}${stores.join(' ')} p += ${bytes.length};`;
}

/**
 * A writer of records of `type` as JSON lines, generated as straight-line
 * code (one test and one write per field, constants stored byte by byte,
 * numbers written digit by digit, no string built per record), or
 * `undefined` when the schema uses a type this does not generate (logical
 * types, wrapped unions inside a record, recursion).
 *
 * Each line is byte for byte the ndjson sink's: `JSON.stringify` of the
 * record, with a Buffer (a `bytes` or `fixed` field) as its base64. A
 * record written must be a plain object with exactly the schema's fields,
 * in schema order; anything else is refused (`append` answers `false`), so
 * that the caller's `JSON.stringify` writes it as before. Unions are tried
 * branch by branch, as is a top-level union of records.
 *
 * @example
 * ```ts
 * import avro from 'avsc';
 * const type = avro.Type.forSchema({ type: 'record', name: 'Px', fields: [{ name: 'id', type: 'string' }, { name: 'px', type: ['null', 'double'] }] });
 * const writer = compileJsonLineWriter(type);
 * console.log(writer?.append({ id: 'rb', px: 3500.5 }), writer?.append({ px: 1, id: 'cu' }), JSON.stringify(writer?.take().toString()));
 * // Logs: true false "{\"id\":\"rb\",\"px\":3500.5}\n"
 * ```
 *
 * @param type A record type, or a union of record types (avsc).
 * @returns The writer, or `undefined` when the schema is not generated.
 */
export function compileJsonLineWriter(type: Type): JsonLineWriter | undefined {
  const generated = new GeneratedFunction();
  const helpers = new GeneratedHelpers('w', 'v');
  const constant = (value: unknown): string => generated.constant(value);

  /** Whether a value of `t` may be a string, or an array: an object of both, `{ type: 'Buffer', data: [...] }`, is what the sink's replacer writes as base64. */
  const admits = (t: Type, typeName: 'string' | 'array'): boolean =>
    t.typeName === typeName ||
    (typeName === 'string' && t.typeName === 'enum') ||
    (t.typeName.startsWith('union') && (t as avro.types.UnwrappedUnionType).types.some((branch) => admits(branch, typeName)));

  /**
   * Statements that write `x` (a local) as a value of `t`, or undefined when `t` is not generated. They run
   * `otherwise` (statements that leave the function) when `x` is no value of `t`. Room for a scalar is made here.
   */
  const write = (t: Type, x: string, otherwise: string, indent: string): string | undefined => {
    const scalar = (test: string, statements: string): string =>
      `${indent}if (${test}) {\n${indent}  if (p + ${SCALAR_MAX_BYTES} > b.length) grow(${SCALAR_MAX_BYTES});\n${statements}\n${indent}} else ${otherwise}`;
    switch (t.typeName) {
      case 'null':
        return scalar(`${x} === null`, storeText('null', `${indent}  `));
      case 'boolean':
        return scalar(
          `typeof ${x} === 'boolean'`,
          `${indent}  if (${x}) {\n${storeText('true', `${indent}    `)}\n${indent}  } else {\n${storeText('false', `${indent}    `)}\n${indent}  }`,
        );
      case 'int':
      case 'long':
      case 'float':
      case 'double':
        return scalar(`typeof ${x} === 'number'`, `${indent}  number(${x});`);
      case 'string':
      case 'enum':
        return `${indent}if (typeof ${x} === 'string') string(${x});\n${indent}else ${otherwise}`;
      case 'bytes':
        return `${indent}if (${constant(Buffer)}.isBuffer(${x})) bytes(${x});\n${indent}else ${otherwise}`;
      case 'fixed':
        return `${indent}if (${constant(Buffer)}.isBuffer(${x}) && ${x}.length === ${(t as avro.types.FixedType).size}) bytes(${x});\n${indent}else ${otherwise}`;
      case 'union:unwrapped': {
        // Each branch but the last falls through to the next: its `otherwise` is the rest of the chain.
        const branches = (t as avro.types.UnwrappedUnionType).types;
        let chain = otherwise;
        for (let i = branches.length - 1; i >= 0; i--) {
          const branch = branches[i] as Type;
          const statements = write(branch, x, `{\n${chain}\n${indent}}`, indent);
          if (statements === undefined) return undefined;
          chain = statements;
        }
        return chain;
      }
      case 'record':
      case 'array':
      case 'map': {
        const name = writer(t);
        return name === undefined ? undefined : `${indent}if (!${name}(${x})) ${otherwise}`;
      }
      default:
        return undefined;
    }
  };

  /** The name of the generated function for a value of `t`, or undefined when `t` is not generated. */
  const writer = (t: Type): string | undefined => helpers.nameOf(t, bodyOf);

  const refuse = '{\n    p = start;\n    return false;\n  }';
  const plainObject = `v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === ${constant(Object.prototype)}`;
  /** What the sink's replacer would turn into base64: then `JSON.stringify` writes the record. */
  const bufferLike = "v.type === 'Buffer' && Array.isArray(v.data)";

  const bodyOf = (t: Type): string | undefined => {
    switch (t.typeName) {
      case 'record': {
        const fields = (t as avro.types.RecordType).fields;
        const lines = [
          `  if (!(${plainObject})) return false;`,
          // JSON.stringify writes keys in the object's order: only a record with the schema's fields in schema order is written here.
          '  let k = 0;',
          `  for (const key in v) if (key !== ${constant(fields.map((field) => field.name))}[k++]) return false;`,
          `  if (k !== ${fields.length}) return false;`,
        ];
        const typeField = fields.find((field) => field.name === 'type');
        const dataField = fields.find((field) => field.name === 'data');
        if (typeField !== undefined && dataField !== undefined && admits(typeField.type, 'string') && admits(dataField.type, 'array')) {
          lines.push(`  if (${bufferLike}) return false;`);
        }
        lines.push('  const start = p;', '  let x;');
        for (const [i, field] of fields.entries()) {
          const key = `${i === 0 ? '{' : ','}${JSON.stringify(field.name)}:`;
          lines.push(
            `  if (p + ${key.length} > b.length) grow(${key.length});`,
            storeText(key, '  '),
            `  x = v[${JSON.stringify(field.name)}];`,
          );
          const statements = write(field.type, 'x', refuse, '  ');
          if (statements === undefined) return undefined;
          lines.push(statements);
        }
        if (fields.length === 0) lines.push('  if (p + 1 > b.length) grow(1);', storeText('{', '  '));
        lines.push('  if (p + 1 > b.length) grow(1);', storeText('}', '  '), '  return true;');
        return lines.join('\n');
      }
      case 'array': {
        const item = write((t as avro.types.ArrayType).itemsType, 'x', refuse, '    ');
        if (item === undefined) return undefined;
        return [
          '  if (!Array.isArray(v)) return false;',
          '  const start = p;',
          '  if (p + 1 > b.length) grow(1);',
          storeText('[', '  '),
          '  for (let i = 0; i < v.length; i++) {',
          '    if (p + 1 > b.length) grow(1);',
          '    if (i > 0) b[p++] = 44;',
          '    const x = v[i];',
          item,
          '  }',
          '  if (p + 1 > b.length) grow(1);',
          storeText(']', '  '),
          '  return true;',
        ].join('\n');
      }
      case 'map': {
        const valuesType = (t as avro.types.MapType).valuesType as Type;
        const value = write(valuesType, 'x', refuse, '    ');
        if (value === undefined) return undefined;
        return [
          `  if (!(${plainObject})) return false;`,
          ...(admits(valuesType, 'string') && admits(valuesType, 'array') ? [`  if (${bufferLike}) return false;`] : []),
          '  const start = p;',
          '  if (p + 1 > b.length) grow(1);',
          storeText('{', '  '),
          '  let first = true;',
          // for-in visits a plain object's keys in the order JSON.stringify writes them (integer keys first).
          '  for (const key in v) {',
          '    const x = v[key];',
          '    if (p + 1 > b.length) grow(1);',
          '    if (!first) b[p++] = 44;',
          '    first = false;',
          '    string(key);',
          '    if (p + 1 > b.length) grow(1);',
          '    b[p++] = 58;',
          value,
          '  }',
          '  if (p + 1 > b.length) grow(1);',
          storeText('}', '  '),
          '  return true;',
        ].join('\n');
      }
      default:
        return undefined;
    }
  };

  /** The top-level writers: the record's, or each branch's of a union of records (tried in order). */
  const roots =
    type.typeName === 'record'
      ? [writer(type)]
      : type.typeName.startsWith('union') && (type as avro.types.UnwrappedUnionType).types.every((branch) => branch.typeName === 'record')
        ? (type as avro.types.UnwrappedUnionType).types.map(writer)
        : [undefined];
  if (roots.some((root) => root === undefined)) return undefined;
  const source = [
    PRIMITIVES,
    ...helpers.texts,
    'return {',
    '  append(record) {',
    `    if (!(${roots.map((root) => `${root}(record)`).join(' || ')})) return false;`,
    '    if (p + 1 > b.length) grow(1);',
    '    b[p++] = 10;',
    '    return true;',
    '  },',
    '  appendText(text) {',
    '    if (p + 3 * text.length > b.length) grow(3 * text.length);',
    '    p += b.utf8Write(text, p);',
    '  },',
    '  take() {',
    '    const taken = b.subarray(0, p);',
    // The next batch likely needs what this one took: a buffer of that size, not one grown again.
    `    b = Buffer.allocUnsafe(Math.max(${INITIAL_BYTES}, p + (p >> 2)));`,
    '    p = 0;',
    '    return taken;',
    '  },',
    '  get length() {',
    '    return p;',
    '  },',
    '};',
  ].join('\n');
  return generated.build<JsonLineWriter>(source);
}
