import type { Type } from 'avsc';
import type avro from 'avsc';
import { avroLong } from './avro-long.js';
import { GeneratedFunction } from './generated-function.js';

/** Code that writes a record's Avro binary into a buffer of its own. */
export interface PayloadWriter {
  /**
   * Writes `value`'s Avro binary at `pos` of `buf` and returns the position
   * after it, or a negative number when `buf` is too short (as avsc's
   * `Type.encode`; the writer may ask for a few bytes to spare, up to a
   * long's, and nothing is relied on past the end then). Throws when
   * `value` cannot be encoded. A function of its own (no `this`), so it can be handed on alone.
   */
  readonly encodeInto: (value: unknown, buf: Buffer, pos: number) => number;
}

/** Longs from -2^30 to 2^30 - 1 zig-zag into 31 bits, so bit operators encode them; others take arithmetic. */
const SMALL_LONG = 1_073_741_824;
/** Strings shorter than this (in UTF-16 units) that are ASCII have a one-byte length: their zig-zag length stays below 128. */
const SHORT_STRING = 64;
const LONE_SURROGATE = /[\uD800-\uDFFF]/;

/** Writes `s` as an Avro string at `pos`: the new position, -1 when `buf` is too short, NaN when avsc must encode it. */
function writeString(buf: Buffer, pos: number, s: string): number {
  const n = s.length;
  if (n < SHORT_STRING) {
    const start = pos + 1;
    if (start + n > buf.length) return -1;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[start + i] = c;
    }
    if (i === n) {
      buf[pos] = n << 1;
      return start + n;
    }
  }
  // A lone surrogate: avsc writes its code unit as is, Buffer.write a replacement character; avsc's bytes are the ones that count.
  if (LONE_SURROGATE.test(s)) return Number.NaN;
  const length = Buffer.byteLength(s, 'utf8');
  if (pos + avroLong.MAX_BYTES + length > buf.length) return -1;
  const at = avroLong.write(buf, pos, length);
  buf.write(s, at, length, 'utf8');
  return at + length;
}

/**
 * The payload writer of a record schema: code generated from the schema
 * that writes the record's Avro binary straight into a buffer the caller
 * fills (the audit sink's block, a slab of records),
 * byte for byte what avsc's `type.encode(value, buf, pos)` writes, or
 * avsc's own encode when the schema has a type this does not generate
 * (nested records, arrays, maps, wrapped unions, logical types).
 *
 * avsc writes a record field by field through a generic writer per type
 * and union (a call, a branch lookup and a Tap per value): the generated
 * writer does one typed store per field.
 * A value the generated code does not expect (a field left to its default,
 * a long that is not an integer, a string with a lone surrogate, anything
 * of another type) is handed to avsc, so the bytes, or avsc's error, are
 * avsc's.
 *
 * @example
 * ```ts
 * import avro from 'avsc';
 * const type = avro.Type.forSchema({ type: 'record', name: 'Px', fields: [{ name: 'id', type: 'string' }, { name: 'px', type: ['null', 'double'] }] });
 * const writer = compilePayloadWriter(type);
 * const buf = Buffer.alloc(64);
 * const end = writer.encodeInto({ id: 'rb', px: 3500.5 }, buf, 0);
 * console.log(buf.subarray(0, end).equals(type.toBuffer({ id: 'rb', px: 3500.5 })));
 * // Logs: true
 * ```
 *
 * @param type The record's avsc type.
 * @returns The writer, the same one for every call with `type`.
 */
export function compilePayloadWriter(type: Type): PayloadWriter {
  // One writer per schema for the process: every sink shares the function V8 optimized (a compile here took 90-140 ms of a loaded core).
  let writer = compiled.get(type);
  if (writer === undefined) {
    writer = compile(type);
    compiled.set(type, writer);
  }
  return writer;
}

const compiled = new WeakMap<Type, PayloadWriter>();

function compile(type: Type): PayloadWriter {
  const byAvsc: PayloadWriter = { encodeInto: (value, buf, pos) => type.encode(value, buf, pos) };
  const generated = type.typeName === 'record' ? generate(type as avro.types.RecordType) : undefined;
  if (generated === undefined) return byAvsc;
  let viewed: Buffer | undefined;
  let view: DataView | undefined;
  return {
    encodeInto: (value, buf, pos) => {
      if (buf !== viewed) {
        viewed = buf;
        view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      }
      const end = generated(value, buf, pos, view as DataView);
      return Number.isNaN(end) ? type.encode(value, buf, pos) : end;
    },
  };
}

type GeneratedWriter = (value: unknown, buf: Buffer, pos: number, view: DataView) => number;

/** The writer of a record whose fields are all of generated types, or undefined. */
function generate(record: avro.types.RecordType): GeneratedWriter | undefined {
  const generated = new GeneratedFunction();
  const constant = (value: unknown): string => generated.constant(value);
  const long = (x: string): string =>
    [
      `if (pos + ${avroLong.MAX_BYTES} > buf.length) return -1;`,
      `if (${x} >= -${SMALL_LONG} && ${x} < ${SMALL_LONG}) {`,
      `  let m = ${x} >= 0 ? ${x} << 1 : (~${x} << 1) | 1;`,
      '  while (m > 0x7f) { buf[pos++] = (m & 0x7f) | 0x80; m >>>= 7; }',
      '  buf[pos++] = m;',
      `} else pos = ${constant(avroLong.write)}(buf, pos, ${x});`,
    ].join('\n');
  /** A test that `x` can be written as `t` and the statements that write it, or undefined when `t` is not generated. */
  const branch = (t: Type, x: string): { test: string; write: string } | undefined => {
    switch (t.typeName) {
      case 'null':
        return { test: `${x} === null`, write: '' };
      case 'boolean':
        return { test: `typeof ${x} === 'boolean'`, write: `if (pos + 1 > buf.length) return -1;\nbuf[pos++] = ${x} ? 1 : 0;` };
      case 'int':
        return { test: `${x} === (${x} | 0)`, write: long(x) };
      case 'long':
        return { test: `(typeof ${x} === 'number' && ${x} % 1 === 0)`, write: long(x) };
      case 'float':
        return {
          test: `typeof ${x} === 'number'`,
          write: `if (pos + 4 > buf.length) return -1;\nview.setFloat32(pos, ${x}, true);\npos += 4;`,
        };
      case 'double':
        return {
          test: `typeof ${x} === 'number'`,
          write: `if (pos + 8 > buf.length) return -1;\nview.setFloat64(pos, ${x}, true);\npos += 8;`,
        };
      case 'string':
        return {
          test: `typeof ${x} === 'string'`,
          write: `pos = ${constant(writeString)}(buf, pos, ${x});\nif (!(pos >= 0)) return pos;`,
        };
      case 'bytes':
        return {
          test: `${constant(Buffer)}.isBuffer(${x})`,
          write: `${long(`${x}.length`)}\nif (pos + ${x}.length > buf.length) return -1;\nbuf.set(${x}, pos);\npos += ${x}.length;`,
        };
      case 'fixed': {
        const size = (t as avro.types.FixedType).size;
        return {
          test: `(${constant(Buffer)}.isBuffer(${x}) && ${x}.length === ${size})`,
          write: `if (pos + ${size} > buf.length) return -1;\nbuf.set(${x}, pos);\npos += ${size};`,
        };
      }
      case 'enum': {
        const indexes = new Map((t as avro.types.EnumType).symbols.map((symbol, i) => [symbol, i]));
        return {
          test: `${constant(indexes)}.has(${x})`,
          write: `{\nconst index = ${constant(indexes)}.get(${x});\n${long('index')}\n}`,
        };
      }
      case 'union:unwrapped': {
        const types = (t as avro.types.UnwrappedUnionType).types;
        // Up to 63 branches, each index is one varint byte (zig-zag 2i).
        if (types.length > 63) return undefined;
        const branches = types.map((b) => (b.typeName.startsWith('union') ? undefined : branch(b, x)));
        if (branches.some((b) => b === undefined)) return undefined;
        const cases = (branches as { test: string; write: string }[]).map(
          (b, i) => `if (${b.test}) {\nif (pos + 1 > buf.length) return -1;\nbuf[pos++] = ${i * 2};\n${b.write}\n}`,
        );
        return { test: 'true', write: `${cases.join(' else ')} else return NaN;` };
      }
      default:
        return undefined;
    }
  };
  const lines = ["if (v === null || typeof v !== 'object') return NaN;"];
  for (const [i, field] of record.fields.entries()) {
    const written = branch(field.type, `f${i}`);
    if (written === undefined) return undefined;
    lines.push(`const f${i} = v[${JSON.stringify(field.name)}];`);
    // A field left out is avsc's to fill with its default.
    lines.push(written.test === 'true' ? written.write : `if (!(${written.test})) return NaN;\n${written.write}`);
  }
  lines.push('return pos;');
  return generated.build<GeneratedWriter>(`return function writeRecord(v, buf, pos, view) {\n${lines.join('\n')}\n};`);
}
