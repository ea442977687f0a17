import { avroSchemaFiles } from '../../schemas/generated.js';

/** Avro's primitive type names: never references to a named type. */
const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A record schema as tickflow registers it with a schema registry: under the
 * subject of its full name (`tickflow.Tick`: the record name strategy, so
 * that a schema has one history of versions and one compatibility rule
 * whatever topics carry it: the topics of a split graph's edges, a
 * recording, its replay), and as one text: its `schemas/*.avsc` file as
 * shipped (docs, logical types and tickflow's attributes kept), each named
 * type it uses from another file defined inline where it is first used. The
 * same bytes from every writer, since a registry gives a byte-different text
 * a new id.
 *
 * @example
 * ```ts
 * const { subject, text } = registrySchema('OrderDenied');
 * console.log(subject, text.includes('"name":"DenialReason"'));
 * // Logs: tickflow.OrderDenied true
 * ```
 *
 * @param name A schema of `schemas/`, by its short name (`Tick`).
 * @param files The schema files, in an order in which every named type is defined before use; tickflow's own by default.
 */
export function registrySchema(
  name: string,
  files: readonly { readonly name: string; readonly schema: unknown }[] = avroSchemaFiles,
): { readonly subject: string; readonly text: string } {
  const byName = new Map<string, Json>();
  for (const file of files) {
    const schema = file.schema as { name?: string; namespace?: string };
    byName.set(fullName(String(schema.name), schema.namespace ?? ''), file.schema as Json);
  }
  const root = files.find((file) => file.name === name)?.schema as ({ name?: string; namespace?: string } & Json) | undefined;
  if (root === undefined) throw new RangeError(`no schema ${name} among ${files.map((f) => f.name).join(', ')}`);
  const defined = new Set<string>();
  const inline = (schema: Json, namespace: string): Json => {
    if (typeof schema === 'string') {
      if (PRIMITIVES.has(schema)) return schema;
      const full = fullName(schema, namespace);
      const definition = byName.get(full);
      if (defined.has(full) || definition === undefined) return schema;
      return inline(definition, namespace);
    }
    if (Array.isArray(schema)) return schema.map((branch) => inline(branch, namespace));
    if (schema === null || typeof schema !== 'object') return schema;
    const own =
      typeof schema['name'] === 'string'
        ? fullName(schema['name'], typeof schema['namespace'] === 'string' ? schema['namespace'] : namespace)
        : undefined;
    if (own !== undefined) defined.add(own);
    const inner = own === undefined ? namespace : own.slice(0, Math.max(0, own.lastIndexOf('.')));
    const copy: { [key: string]: Json } = {};
    for (const [key, value] of Object.entries(schema)) {
      if (key === 'fields' && Array.isArray(value)) {
        copy[key] = value.map((field) =>
          field !== null && typeof field === 'object' && !Array.isArray(field)
            ? { ...field, type: inline(field['type'] ?? null, inner) }
            : field,
        );
      } else copy[key] = key === 'type' || key === 'items' || key === 'values' ? inline(value, inner) : value;
    }
    return copy;
  };
  const text = JSON.stringify(inline(root, ''));
  return { subject: fullName(String(root.name), root.namespace ?? ''), text };
}

/** A name with its namespace: as it stands when it holds a dot, else in `namespace`. */
function fullName(name: string, namespace: string): string {
  return name.includes('.') || namespace === '' ? name : `${namespace}.${name}`;
}
