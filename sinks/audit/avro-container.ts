import { avroLong } from '../../pipeline/schemas/avro-long.js';

/** `Obj` and format version 1: the first four bytes of every Avro object container file. */
const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]);
const SYNC_SIZE = 16;
const MAX_LONG_BYTES = avroLong.MAX_BYTES;
/** Largest header we accept; ours is ~1.5 KiB (the schema with its docs), so anything bigger is not ours. */
const MAX_HEADER_BYTES = 1 << 20;

/** The parsed header of an object container file. */
export interface ContainerHeader {
  /** Offset of the first block: the header's length in bytes. */
  readonly end: number;
  readonly sync: Buffer;
  readonly meta: ReadonlyMap<string, Buffer>;
}

/** Result of reading a header from the start of a file. */
export type HeaderRead =
  | { readonly kind: 'ok'; readonly header: ContainerHeader }
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid'; readonly reason: string };

/** A varint read: its value (NaN when malformed or when its zig-zag form passes 2^53, i.e. beyond ±2^52) and the offset after it; `undefined` when the buffer ends first. */
type LongRead = readonly [value: number, next: number] | undefined;

const longSize = avroLong.size;
const writeLong = avroLong.write;

function readLong(buf: Buffer, pos: number, end = buf.length): LongRead {
  let z = 0;
  let scale = 1;
  for (let i = 0; i < MAX_LONG_BYTES; i++) {
    if (pos + i >= end) return undefined;
    const b = buf[pos + i] as number;
    z += (b & 0x7f) * scale;
    scale *= 128;
    if ((b & 0x80) === 0) {
      if (z > Number.MAX_SAFE_INTEGER) return [Number.NaN, pos + i + 1];
      return [z % 2 === 0 ? z / 2 : -(z + 1) / 2, pos + i + 1];
    }
  }
  return [Number.NaN, pos + MAX_LONG_BYTES];
}

function encodeHeader(meta: ReadonlyMap<string, Buffer>, sync: Buffer): Buffer {
  const entries = [...meta].map(([k, v]) => [Buffer.from(k, 'utf8'), v] as const);
  let size = MAGIC.length + longSize(entries.length) + 1 + SYNC_SIZE;
  for (const [k, v] of entries) size += longSize(k.length) + k.length + longSize(v.length) + v.length;
  const buf = Buffer.alloc(size);
  let pos = MAGIC.copy(buf, 0);
  // The metadata map as one Avro map block, then the empty block that ends it.
  pos = writeLong(buf, pos, entries.length);
  for (const [k, v] of entries) {
    pos = writeLong(buf, pos, k.length);
    pos += k.copy(buf, pos);
    pos = writeLong(buf, pos, v.length);
    pos += v.copy(buf, pos);
  }
  pos = writeLong(buf, pos, 0);
  sync.copy(buf, pos);
  return buf;
}

function decodeHeader(buf: Buffer): HeaderRead {
  if (buf.length < MAGIC.length)
    return buf.equals(MAGIC.subarray(0, buf.length))
      ? { kind: 'incomplete' }
      : { kind: 'invalid', reason: 'not an Avro object container file (bad magic)' };
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) return { kind: 'invalid', reason: 'not an Avro object container file (bad magic)' };
  const meta = new Map<string, Buffer>();
  let pos = MAGIC.length;
  // Bounded by the header size cap: every map block and entry consumes at least one byte.
  for (let blocks = 0; blocks < MAX_HEADER_BYTES; blocks++) {
    const countRead = readLong(buf, pos);
    if (countRead === undefined) return { kind: 'incomplete' };
    let count = countRead[0];
    if (Number.isNaN(count)) return { kind: 'invalid', reason: 'malformed metadata map' };
    pos = countRead[1];
    if (count === 0) break;
    if (count < 0) {
      // A negative count is followed by the block's byte size, which we do not need.
      count = -count;
      const sizeRead = readLong(buf, pos);
      if (sizeRead === undefined) return { kind: 'incomplete' };
      pos = sizeRead[1];
    }
    for (let i = 0; i < count; i++) {
      const key = readBytes(buf, pos);
      if (key === undefined) return { kind: 'incomplete' };
      if (key === null) return { kind: 'invalid', reason: 'malformed metadata key' };
      const value = readBytes(buf, key.next);
      if (value === undefined) return { kind: 'incomplete' };
      if (value === null) return { kind: 'invalid', reason: 'malformed metadata value' };
      meta.set(key.bytes.toString('utf8'), value.bytes);
      pos = value.next;
    }
    if (pos > MAX_HEADER_BYTES) return { kind: 'invalid', reason: 'header larger than 1 MiB' };
  }
  if (pos + SYNC_SIZE > buf.length)
    return buf.length >= MAX_HEADER_BYTES ? { kind: 'invalid', reason: 'header larger than 1 MiB' } : { kind: 'incomplete' };
  return { kind: 'ok', header: { end: pos + SYNC_SIZE, sync: Buffer.from(buf.subarray(pos, pos + SYNC_SIZE)), meta } };
}

/** Length-prefixed bytes at `pos`; `undefined` when the buffer ends first, `null` when malformed. */
function readBytes(buf: Buffer, pos: number): { bytes: Buffer; next: number } | undefined | null {
  const lengthRead = readLong(buf, pos);
  if (lengthRead === undefined) return undefined;
  const [length, start] = lengthRead;
  if (!Number.isSafeInteger(length) || length < 0 || length > MAX_HEADER_BYTES) return null;
  if (start + length > buf.length) return undefined;
  return { bytes: buf.subarray(start, start + length), next: start + length };
}

/** The count and byte size that open a data block. */
function encodeBlockPrefix(count: number, size: number): Buffer {
  const buf = Buffer.alloc(longSize(count) + longSize(size));
  writeLong(buf, writeLong(buf, 0, count), size);
  return buf;
}

/**
 * The framing of Avro object container files (Avro 1.11 spec, "Object
 * Container Files"), written by hand because the audit trail needs what
 * avsc's stream encoder hides: one block per group commit written with one
 * call, exact block offsets for truncation, and a reader that can stop at a
 * torn block. The files stay standard: any Avro reader opens them.
 *
 * ```
 * file:   magic "Obj\x01" | meta map<bytes> | sync[16] | block | block | …
 * block:  count: long | size: long | size bytes of records | sync[16]
 * ```
 *
 * @example
 * ```ts
 * import { randomBytes } from 'node:crypto';
 * const sync = randomBytes(avroContainer.SYNC_SIZE);
 * const header = avroContainer.encodeHeader(new Map([['avro.codec', Buffer.from('null')]]), sync);
 * console.log(avroContainer.decodeHeader(header).kind);
 * // Logs: ok
 * ```
 */
export const avroContainer = {
  MAGIC,
  SYNC_SIZE,
  MAX_LONG_BYTES,
  longSize,
  writeLong,
  readLong,
  encodeHeader,
  decodeHeader,
  encodeBlockPrefix,
} as const;
