import avro from 'avsc';
import type { Type } from 'avsc';

/** The header of an Avro object container file. */
export interface AvroFileHeader {
  /** The writer schema, parsed. */
  readonly type: Type;
  /** `null` or `deflate`; anything else is refused by the readers. */
  readonly codec: string;
  /** The 16-byte marker that ends every block. */
  readonly sync: Buffer;
  /** Bytes the header takes at the start of the file. */
  readonly length: number;
}

const MAGIC = Buffer.from('Obj\x01', 'latin1');
const SYNC_BYTES = 16;
/** Most metadata entries a header may have: writers put two (schema, codec) and perhaps a few more. */
const MAX_META_ENTRIES = 1024;
/** A zigzag varint long takes at most 10 bytes. */
const MAX_VARINT_BYTES = 10;

/** A problem with the header's bytes themselves (not merely too few of them yet). */
const corrupt = (detail: string): Error => new Error(`corrupt Avro header: ${detail}`);

/** The zigzag varint long at `at`, or `undefined` when the buffer ends inside it. */
function readLong(buffer: Buffer, at: number): { value: number; next: number } | undefined {
  let unsigned = 0;
  let factor = 1;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    const byte = buffer[at + i];
    if (byte === undefined) return undefined;
    unsigned += (byte & 0x7f) * factor;
    if ((byte & 0x80) === 0) {
      const value = unsigned % 2 === 0 ? unsigned / 2 : -(unsigned + 1) / 2;
      if (!Number.isSafeInteger(value)) throw corrupt('a length or count beyond 2^53');
      return { value, next: at + i + 1 };
    }
    factor *= 128;
  }
  throw corrupt(`a varint longer than ${MAX_VARINT_BYTES} bytes`);
}

/** The length-prefixed bytes at `at`, or `undefined` when the buffer ends inside them. */
function readBytes(buffer: Buffer, at: number): { bytes: Buffer; next: number } | undefined {
  const length = readLong(buffer, at);
  if (length === undefined) return undefined;
  if (length.value < 0) throw corrupt(`a negative length (${length.value})`);
  const end = length.next + length.value;
  return end > buffer.length ? undefined : { bytes: buffer.subarray(length.next, end), next: end };
}

/** The metadata map and sync marker after the magic, or `undefined` when more bytes are needed. */
function readMetaAndSync(buffer: Buffer): { meta: Map<string, Buffer>; sync: Buffer; length: number } | undefined {
  const meta = new Map<string, Buffer>();
  let at = MAGIC.length;
  let entries = 0;
  // Bounded: each turn reads one block of the map, and the entries of all blocks are capped at MAX_META_ENTRIES.
  for (;;) {
    const block = readLong(buffer, at);
    if (block === undefined) return undefined;
    at = block.next;
    if (block.value === 0) break;
    let count = block.value;
    if (count < 0) {
      // A negative count is followed by the block's size in bytes.
      count = -count;
      const size = readLong(buffer, at);
      if (size === undefined) return undefined;
      at = size.next;
    }
    entries += count;
    // Checked before the entries are read: a count is only a claim, and a few bytes can claim billions.
    if (entries > MAX_META_ENTRIES) throw corrupt(`more than ${MAX_META_ENTRIES} metadata entries (${entries} claimed)`);
    for (let i = 0; i < count; i++) {
      const key = readBytes(buffer, at);
      if (key === undefined) return undefined;
      const value = readBytes(buffer, key.next);
      if (value === undefined) return undefined;
      at = value.next;
      meta.set(key.bytes.toString('utf8'), value.bytes);
    }
  }
  if (buffer.length < at + SYNC_BYTES) return undefined;
  return { meta, sync: buffer.subarray(at, at + SYNC_BYTES), length: at + SYNC_BYTES };
}

/**
 * Decodes the header at the start of `buffer`: `'not-avro'` when the bytes
 * do not start with the magic `Obj\x01`, `undefined` when more bytes are
 * needed. Throws when the header is there but its schema cannot be parsed,
 * or its bytes cannot be a header (a negative length, a count beyond 2^53,
 * more than 1024 metadata entries). It is read by hand, not with a generic
 * Avro decoder, so that the counts the bytes claim are checked before
 * anything loops over them: a 10-byte file can claim 2^40 entries.
 */
export function decodeAvroFileHeader(buffer: Buffer): AvroFileHeader | 'not-avro' | undefined {
  const prefix = Math.min(buffer.length, MAGIC.length);
  if (!buffer.subarray(0, prefix).equals(MAGIC.subarray(0, prefix))) return 'not-avro';
  if (buffer.length < MAGIC.length) return undefined;
  const header = readMetaAndSync(buffer);
  if (header === undefined) return undefined;
  const schema = header.meta.get('avro.schema');
  if (schema === undefined) throw new Error('the Avro header has no avro.schema');
  let type: Type;
  try {
    type = avro.Type.forSchema(JSON.parse(schema.toString('utf8')) as avro.Schema, { wrapUnions: 'auto' });
  } catch (error) {
    throw new Error(`the Avro header's schema cannot be parsed: ${(error as Error).message}`, { cause: error });
  }
  return { type, codec: header.meta.get('avro.codec')?.toString('utf8') || 'null', sync: Buffer.from(header.sync), length: header.length };
}
