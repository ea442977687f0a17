import type { Type, types } from 'avsc';
import { checkSchemaResolution } from './check-schema-resolution.js';

/**
 * A schema registry's compatibility levels (Confluent's names, which Apicurio's Confluent API takes too): which
 * readers a new version of a schema must not break. BACKWARD: readers of the new version read what the previous
 * one wrote (consumers upgrade first); FORWARD: readers still on the previous version read what the new one writes
 * (producers upgrade first); FULL: both. `_TRANSITIVE`: against every registered version, not only the latest.
 */
export type CompatibilityLevel =
  'BACKWARD' | 'BACKWARD_TRANSITIVE' | 'FORWARD' | 'FORWARD_TRANSITIVE' | 'FULL' | 'FULL_TRANSITIVE' | 'NONE';

/** A registered version of a schema, parsed. */
export interface RegisteredVersion {
  readonly version: number;
  readonly type: Type;
}

/** One field of a new schema version that breaks readers at a compatibility level. */
export interface CompatibilityProblem {
  /** The registered version it conflicts with. */
  readonly version: number;
  /** `backward`: a reader of the new schema cannot read data of `version`; `forward`: a reader of `version` cannot read new data. */
  readonly direction: 'backward' | 'forward';
  /** Dotted path of the field, e.g. `volume` or `legs.<item>.price`; empty when the record as a whole is at fault. */
  readonly field: string;
  /** What is wrong and what would fix it, in a sentence. */
  readonly reason: string;
}

/** A record's fields; none for any other type. */
const fieldsOf = (t: Type): readonly types.Field[] => (t.typeName === 'record' ? (t as types.RecordType).fields : []);

/**
 * Every field of `reader` that data written with `writer` cannot fill, by Avro schema resolution: a field the
 * writer lacks (by name or the reader's aliases) with no default, or a field whose writer type does not resolve to
 * its reader type. Each top-level field is checked on its own, so that every broken field is named, not only the
 * first; what is wrong below a field comes from {@link checkSchemaResolution}, with its path.
 */
function unreadableFields(writer: Type, reader: Type): { field: string; reason: string; missing: boolean }[] {
  if (writer.typeName !== 'record' || reader.typeName !== 'record' || writer.name !== reader.name) {
    const problem = checkSchemaResolution(writer, reader);
    return problem === undefined ? [] : [{ field: problem.path, reason: problem.reason, missing: false }];
  }
  const written = new Map(fieldsOf(writer).map((f) => [f.name, f]));
  const out: { field: string; reason: string; missing: boolean }[] = [];
  for (const field of fieldsOf(reader)) {
    const source = written.get(field.name) ?? field.aliases.map((a) => written.get(a)).find((f) => f !== undefined);
    if (source === undefined) {
      if (field.defaultValue() === undefined) out.push({ field: field.name, reason: '', missing: true });
      continue;
    }
    const problem = checkSchemaResolution(source.type, field.type, field.name);
    if (problem !== undefined) out.push({ field: problem.path, reason: problem.reason, missing: false });
  }
  return out;
}

/** Names of `from`'s fields that `to` has neither as a field nor as an alias of one: removed, or renamed without an alias. */
function fieldsGone(from: Type, to: Type): string[] {
  const kept = new Set(fieldsOf(to).flatMap((f) => [f.name, ...f.aliases]));
  return fieldsOf(from)
    .map((f) => f.name)
    .filter((name) => !kept.has(name));
}

/**
 * The fix for a new field with no default that may be a rename of one of the previous version's fields: an alias,
 * by which Avro resolution matches the reader's field to the writer's old name.
 */
function renameHint(gone: readonly string[]): string {
  if (gone.length === 0) return '';
  return `, or, if it renames ${gone.map((c) => `'${c}'`).join(' or ')}, "aliases": ["${gone[0]}"]`;
}

/**
 * Checks a new version of a schema against its registered versions at a compatibility level, field by field, with
 * Avro schema resolution (the rules tickflow's own readers resolve by: the kafka source, graph edges), and says for
 * each field that breaks readers why and what would fix it. Against the latest version, or every one for a
 * `_TRANSITIVE` level; `NONE` checks nothing. Returns no problem when the new version is compatible.
 *
 * @example
 * ```ts
 * import avro from 'avsc';
 * const v1 = avro.Type.forSchema({ type: 'record', name: 'Quote', fields: [{ name: 'id', type: 'string' }] });
 * const v2 = avro.Type.forSchema({ type: 'record', name: 'Quote', fields: [{ name: 'id', type: 'string' }, { name: 'venue', type: 'string' }] });
 * console.log(checkCompatibility(v2, [{ version: 1, type: v1 }], 'BACKWARD').map((p) => p.field));
 * // Logs: [ 'venue' ]
 * ```
 *
 * @param next The new version (the working tree's schema), parsed.
 * @param registered The registered versions, in any order.
 * @param level The compatibility level to check at.
 * @returns The problems, grouped by version (newest first), backward before forward.
 */
export function checkCompatibility(
  next: Type,
  registered: readonly RegisteredVersion[],
  level: CompatibilityLevel,
): CompatibilityProblem[] {
  if (level === 'NONE' || registered.length === 0) return [];
  const newestFirst = [...registered].sort((a, b) => b.version - a.version);
  const against = level.endsWith('_TRANSITIVE') ? newestFirst : newestFirst.slice(0, 1);
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  const problems: CompatibilityProblem[] = [];
  for (const { version, type: previous } of against) {
    if (backward) {
      const gone = fieldsGone(previous, next);
      for (const p of unreadableFields(previous, next)) {
        problems.push({
          version,
          direction: 'backward',
          field: p.field,
          reason: p.missing
            ? `field '${p.field}' is new and has no default: a reader of the new schema cannot read records written with version ${version}, which lack it; give it a default${renameHint(gone)}`
            : `field '${p.field || '(record)'}': records written with version ${version} cannot be read with the new schema: ${p.reason}`,
        });
      }
    }
    if (forward) {
      for (const p of unreadableFields(next, previous)) {
        problems.push({
          version,
          direction: 'forward',
          field: p.field,
          reason: p.missing
            ? `field '${p.field}' is gone from the new schema (removed, or renamed: an alias does not help readers of the old version) and has no default in version ${version}: a reader still on version ${version} cannot read records written with the new schema; keep the field`
            : `field '${p.field || '(record)'}': a reader still on version ${version} cannot read records written with the new schema: ${p.reason}`,
        });
      }
    }
  }
  return problems;
}
