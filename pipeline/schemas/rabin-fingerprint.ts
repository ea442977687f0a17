/** The CRC-64-AVRO polynomial's empty value, as the Avro specification gives it. */
const EMPTY = 0xc15d213aa4d7a795n;
const MASK_64 = 0xffff_ffff_ffff_ffffn;

/** The byte table of the Rabin fingerprint, built once (the specification's own construction). */
const TABLE: readonly bigint[] = Array.from({ length: 256 }, (_, byte) => {
  let fp = BigInt(byte);
  for (let bit = 0; bit < 8; bit++) fp = (fp >> 1n) ^ (EMPTY & -(fp & 1n));
  return fp & MASK_64;
});

/**
 * The 64-bit Rabin fingerprint (CRC-64-AVRO) of `text`'s UTF-8 bytes, as
 * the 8 little-endian bytes Avro's single-object encoding carries. Given a
 * schema's Parsing Canonical Form it is the schema fingerprint the Avro
 * specification defines for that encoding (Java's
 * `SchemaNormalization.parsingFingerprint64`). Computed once per schema, so
 * BigInt's cost does not matter.
 *
 * @example
 * ```ts
 * // A test vector of the Avro specification: "null" has fingerprint 7195948357588979594.
 * console.log(rabinFingerprint('"null"').readBigInt64LE(0));
 * // Logs: 7195948357588979594n
 * ```
 *
 * @param text The text to fingerprint, usually a schema's Parsing Canonical Form.
 * @returns 8 bytes, little-endian.
 */
export function rabinFingerprint(text: string): Buffer {
  let fp = EMPTY;
  for (const byte of Buffer.from(text, 'utf8')) fp = (fp >> 8n) ^ (TABLE[Number((fp ^ BigInt(byte)) & 0xffn)] as bigint);
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(fp & MASK_64);
  return bytes;
}
