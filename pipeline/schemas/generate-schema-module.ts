import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);
const COMPLEX = new Set(['record', 'enum', 'fixed', 'array', 'map']);

interface SchemaFile {
  /** Short name, the file name without `.avsc`. */
  readonly name: string;
  readonly schema: unknown;
  /** Short names of named types this file refers to without defining them. */
  readonly needs: Set<string>;
  /** Short names of named types this file defines (itself and inline ones). */
  readonly defines: Set<string>;
}

const shortName = (name: string): string => name.slice(name.lastIndexOf('.') + 1);

function walkNames(schema: unknown, needs: Set<string>, defines: Set<string>): void {
  if (typeof schema === 'string') {
    if (!PRIMITIVES.has(schema)) needs.add(shortName(schema));
  } else if (Array.isArray(schema)) {
    for (const branch of schema) walkNames(branch, needs, defines);
  } else if (schema !== null && typeof schema === 'object') {
    const s = schema as Record<string, unknown>;
    if (typeof s['name'] === 'string' && ['record', 'enum', 'fixed'].includes(String(s['type']))) {
      defines.add(shortName(s['name']));
    }
    if (typeof s['type'] !== 'string' || !COMPLEX.has(s['type'])) walkNames(s['type'], needs, defines);
    if (Array.isArray(s['fields'])) for (const f of s['fields']) walkNames((f as { type: unknown }).type, needs, defines);
    if (s['items'] !== undefined) walkNames(s['items'], needs, defines);
    if (s['values'] !== undefined) walkNames(s['values'], needs, defines);
  }
}

function readSchemaFiles(dir: string): SchemaFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.avsc'))
    .sort()
    .map((file) => {
      const schema: unknown = JSON.parse(readFileSync(join(dir, file), 'utf8'));
      const needs = new Set<string>();
      const defines = new Set<string>();
      walkNames(schema, needs, defines);
      for (const d of defines) needs.delete(d);
      return { name: file.slice(0, -'.avsc'.length), schema, needs, defines };
    });
}

/** Orders files so that every named type is defined before a file refers to it. */
function dependencyOrder(files: SchemaFile[]): SchemaFile[] {
  const ordered: SchemaFile[] = [];
  const defined = new Set<string>();
  let pending = files;
  while (pending.length > 0) {
    const ready = pending.filter((f) => [...f.needs].every((n) => defined.has(n)));
    if (ready.length === 0) {
      const missing = pending.map((f) => `${f.name}.avsc needs ${[...f.needs].filter((n) => !defined.has(n)).join(', ')}`);
      throw new Error(`schemas refer to undefined or circular named types: ${missing.join('; ')}`);
    }
    for (const f of ready) for (const d of f.defines) defined.add(d);
    ordered.push(...ready);
    pending = pending.filter((f) => !ready.includes(f));
  }
  return ordered;
}

/**
 * The attribute that marks a string as an id of one kind, e.g.
 * `{ "type": "string", "tickflow.id": "InstrumentId" }`: its TypeScript type
 * is then a branded string, so ids of different kinds cannot be swapped.
 * Avro ignores the attribute (it is not part of a schema's canonical form,
 * so fingerprints do not change).
 */
const ID_ATTRIBUTE = 'tickflow.id';
const ID_KIND = /^[A-Z][A-Za-z]*Id$/;

/** The id kind a schema marks with {@link ID_ATTRIBUTE}, or undefined. */
function idKindOf(schema: unknown): string | undefined {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return undefined;
  const s = schema as Record<string, unknown>;
  const kind = s[ID_ATTRIBUTE];
  if (kind === undefined) return undefined;
  if (s['type'] !== 'string' || typeof kind !== 'string' || !ID_KIND.test(kind)) {
    throw new Error(`'${ID_ATTRIBUTE}' must mark a string with a name like 'InstrumentId', got ${JSON.stringify(schema)}`);
  }
  return kind;
}

/** Every id kind the schemas mark, sorted. */
function collectIdKinds(schema: unknown, out: Set<string>): void {
  if (Array.isArray(schema)) {
    for (const b of schema) collectIdKinds(b, out);
  } else if (schema !== null && typeof schema === 'object') {
    const kind = idKindOf(schema);
    if (kind !== undefined) out.add(kind);
    const s = schema as Record<string, unknown>;
    if (typeof s['type'] === 'object') collectIdKinds(s['type'], out);
    if (Array.isArray(s['fields'])) for (const f of s['fields']) collectIdKinds((f as { type: unknown }).type, out);
    if (s['items'] !== undefined) collectIdKinds(s['items'], out);
    if (s['values'] !== undefined) collectIdKinds(s['values'], out);
  }
}

/** The branded type of one id kind and its maker, the one way to turn a plain string into such an id. */
function idKindDeclarations(kind: string): string[] {
  const a = /^[AEIOU]/.test(kind) ? 'an' : 'a';
  return [
    `/** A string that is ${a} ${kind} (schema fields marked \`"${ID_ATTRIBUTE}": "${kind}"\`): branded, so no other id or plain string passes for one. */`,
    `export type ${kind} = string & { readonly __brand: '${kind}' };`,
    '/**',
    ` * Takes \`value\` as ${a} ${kind}. Call it where a plain string enters as one, at a trust boundary: a`,
    ' * source parsing its input, a config, a test. It checks nothing (records are checked against their',
    ' * schema, ticks by checkTickSanity); inside the pipeline ids come typed from the records that carry them.',
    ' */',
    `export const ${kind} = (value: string): ${kind} => value as ${kind};`,
    '',
  ];
}

function tsType(schema: unknown, recordName: string | undefined, fieldName: string | undefined, enums: Map<string, string[]>): string {
  if (typeof schema === 'string') {
    switch (schema) {
      case 'null':
        return 'null';
      case 'boolean':
        return 'boolean';
      case 'int':
      case 'long':
      case 'float':
      case 'double':
        return 'number';
      case 'bytes':
        return 'Buffer';
      case 'string':
        return 'string';
      default: {
        const name = shortName(schema);
        // A field named `type` holding an enum that lists the record's own name
        // is the record's discriminator in a union: narrow it to that literal.
        if (fieldName === 'type' && recordName !== undefined && enums.get(name)?.includes(recordName)) {
          return `'${recordName}'`;
        }
        return name;
      }
    }
  }
  if (Array.isArray(schema)) return schema.map((b) => tsType(b, recordName, fieldName, enums)).join(' | ');
  const s = schema as Record<string, unknown>;
  switch (s['type']) {
    case 'array':
      return `readonly (${tsType(s['items'], undefined, undefined, enums)})[]`;
    case 'map':
      return `Readonly<Record<string, ${tsType(s['values'], undefined, undefined, enums)}>>`;
    case 'record':
    case 'enum':
    case 'fixed':
      return shortName(String(s['name']));
    default:
      if (idKindOf(s) !== undefined) return idKindOf(s) as string;
      return tsType(s['type'], recordName, fieldName, enums);
  }
}

function docComment(doc: unknown, indent: string): string {
  return typeof doc === 'string' ? `${indent}/** ${doc} */\n` : '';
}

function collectNamed(schema: unknown, out: Record<string, unknown>[]): void {
  if (Array.isArray(schema)) {
    for (const b of schema) collectNamed(b, out);
  } else if (schema !== null && typeof schema === 'object') {
    const s = schema as Record<string, unknown>;
    if (['record', 'enum', 'fixed'].includes(String(s['type']))) out.push(s);
    if (typeof s['type'] === 'object') collectNamed(s['type'], out);
    if (Array.isArray(s['fields'])) for (const f of s['fields']) collectNamed((f as { type: unknown }).type, out);
    if (s['items'] !== undefined) collectNamed(s['items'], out);
    if (s['values'] !== undefined) collectNamed(s['values'], out);
  }
}

/**
 * Generates the TypeScript module `schemas/generated.ts` from the `.avsc`
 * files in `dir`: a branded string type and its maker per id kind the
 * schemas mark (`"tickflow.id"`), one type per named Avro type, `RecordTypes`
 * (edge schema name → record type) and the schema texts in dependency order.
 */
export function generateSchemaModule(dir: string): string {
  const files = dependencyOrder(readSchemaFiles(dir));
  const named: Record<string, unknown>[] = [];
  for (const f of files) collectNamed(f.schema, named);
  const enums = new Map<string, string[]>();
  for (const n of named) if (n['type'] === 'enum') enums.set(shortName(String(n['name'])), n['symbols'] as string[]);
  const idKinds = new Set<string>();
  for (const f of files) collectIdKinds(f.schema, idKinds);

  const out: string[] = [
    '// Generated by `npm run schemas` from schemas/*.avsc. Do not edit: a test fails when this file is stale.',
    '/* eslint-disable */',
    '',
    ...[...idKinds].sort().flatMap(idKindDeclarations),
  ];
  for (const n of named) {
    const name = shortName(String(n['name']));
    if (typeof n['doc'] === 'string') out.push(docComment(n['doc'], '').trimEnd());
    if (n['type'] === 'enum') {
      const symbols = n['symbols'] as string[];
      out.push(`export type ${name} = ${symbols.map((x) => `'${x}'`).join(' | ')};`);
      out.push(`export const ${name}Symbols = [${symbols.map((x) => `'${x}'`).join(', ')}] as const;`);
    } else if (n['type'] === 'fixed') {
      out.push(`export type ${name} = Buffer; // fixed, ${String(n['size'])} bytes`);
    } else {
      out.push(`export interface ${name} {`);
      for (const field of n['fields'] as { name: string; type: unknown; doc?: string }[]) {
        out.push(`${docComment(field.doc, '  ')}  readonly ${field.name}: ${tsType(field.type, name, field.name, enums)};`);
      }
      out.push('}');
    }
    out.push('');
  }
  const unions = files.filter((f) => Array.isArray(f.schema));
  for (const u of unions) {
    out.push(`export type ${u.name} = ${tsType(u.schema, undefined, undefined, enums)};`, '');
  }
  const edgeSchemas = [
    ...named.filter((n) => n['type'] === 'record').map((n) => shortName(String(n['name']))),
    ...unions.map((u) => u.name),
  ].sort();
  out.push('/** Every schema an edge can carry (records and unions of records), by short name. */');
  out.push('export interface RecordTypes {');
  for (const name of edgeSchemas) out.push(`  ${name}: ${name};`);
  out.push('}', '');
  out.push('/** The Avro schema files, in an order in which every named type is defined before use. */');
  out.push('export const avroSchemaFiles: readonly { readonly name: string; readonly schema: unknown }[] = [');
  for (const f of files) out.push(`  { name: '${f.name}', schema: ${JSON.stringify(f.schema)} },`);
  out.push('];', '');
  return out.join('\n');
}
