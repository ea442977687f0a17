import type { Resolver, Type } from 'avsc';

/**
 * How to read records written with `writer` as `reader` (Avro schema
 * resolution): `undefined` when the two schemas are the same, so decoding
 * takes the fast path. Throws an error naming both schemas when the writer
 * schema does not resolve.
 */
export function schemaResolver(reader: Type, writer: Type): Resolver | undefined {
  if (reader.equals(writer)) return undefined;
  try {
    return reader.createResolver(writer);
  } catch (error) {
    throw new Error(
      `its schema ${writer.name ?? writer.typeName} cannot be read as ${reader.name ?? reader.typeName}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
