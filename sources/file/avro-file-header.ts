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

/** The header as the Avro specification defines it. */
const HEADER_TYPE = avro.Type.forSchema({
  type: 'record',
  name: 'org.apache.avro.file.Header',
  fields: [
    { name: 'magic', type: { type: 'fixed', name: 'Magic', size: 4 } },
    { name: 'meta', type: { type: 'map', values: 'bytes' } },
    { name: 'sync', type: { type: 'fixed', name: 'Sync', size: 16 } },
  ],
});

/**
 * Decodes the header at the start of `buffer`: `'not-avro'` when the bytes
 * do not start with the magic `Obj\x01`, `undefined` when more bytes are
 * needed. Throws when the header is there but its schema cannot be parsed.
 */
export function decodeAvroFileHeader(buffer: Buffer): AvroFileHeader | 'not-avro' | undefined {
  const prefix = Math.min(buffer.length, MAGIC.length);
  if (!buffer.subarray(0, prefix).equals(MAGIC.subarray(0, prefix))) return 'not-avro';
  if (buffer.length < MAGIC.length) return undefined;
  const { value, offset } = HEADER_TYPE.decode(buffer, 0) as { value: { meta: Record<string, Buffer>; sync: Buffer } | undefined; offset: number };
  if (offset < 0 || value === undefined) return undefined;
  const schema = value.meta['avro.schema'];
  if (schema === undefined) throw new Error('the Avro header has no avro.schema');
  let type: Type;
  try {
    type = avro.Type.forSchema(JSON.parse(schema.toString('utf8')) as avro.Schema, { wrapUnions: 'auto' });
  } catch (error) {
    throw new Error(`the Avro header's schema cannot be parsed: ${(error as Error).message}`, { cause: error });
  }
  return { type, codec: value.meta['avro.codec']?.toString('utf8') || 'null', sync: Buffer.from(value.sync), length: offset };
}
