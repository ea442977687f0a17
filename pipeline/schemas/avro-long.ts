/** A long takes at most 10 bytes in Avro's zig-zag varint encoding. */
const MAX_BYTES = 10;

/** Bytes of `n` as an Avro long. */
function size(n: number): number {
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  let bytes = 1;
  for (; z >= 128 && bytes < MAX_BYTES; bytes++) z = Math.floor(z / 128);
  return bytes;
}

/** Writes `n` as an Avro long at `pos` of `buf` (which must have room for it) and returns the position after it. */
function write(buf: Buffer, pos: number, n: number): number {
  // Arithmetic, not bit operators: those truncate to 32 bits, and seq or a timestamp in µs reach 2^50.
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  for (let i = 0; z >= 128 && i < MAX_BYTES; i++) {
    buf[pos++] = (z % 128) | 0x80;
    z = Math.floor(z / 128);
  }
  buf[pos++] = z;
  return pos;
}

/**
 * Avro's long (a zig-zag varint, Avro 1.11 spec, "Binary Encoding") for
 * any safe integer, written by code that encodes into a buffer of its own:
 * the generated payload writer and the audit trail's container framing.
 *
 * @example
 * ```ts
 * const buf = Buffer.alloc(avroLong.MAX_BYTES);
 * const end = avroLong.write(buf, 0, -65);
 * console.log(buf.subarray(0, end), avroLong.size(-65));
 * // Logs: <Buffer 81 01> 2
 * ```
 */
export const avroLong = { MAX_BYTES, size, write } as const;
