import type { Type, types } from 'avsc';

/** Where a writer schema fails to resolve to a reader schema, and why. */
export interface ResolutionProblem {
  /** Dotted path from the top-level record, e.g. `ts_event` or `changes.<value>`; empty at the top. */
  readonly path: string;
  readonly reason: string;
}

const PROMOTIONS: Readonly<Record<string, readonly string[]>> = {
  int: ['long', 'float', 'double'],
  long: ['float', 'double'],
  float: ['double'],
  string: ['bytes'],
  bytes: ['string'],
};

const join = (path: string, part: string): string => (path === '' ? part : `${path}.${part}`);

const kind = (t: Type): string =>
  t.typeName.startsWith('union') ? 'union' : t.typeName.startsWith('logical') ? underlying(t).typeName : t.typeName;

function underlying(t: Type): Type {
  return t.typeName.startsWith('logical') ? (t as types.LogicalType).underlyingType : t;
}

const describe = (t: Type): string => t.name ?? kind(t);

function namesMatch(writer: Type, reader: Type): boolean {
  return writer.name === reader.name || (reader.aliases ?? []).includes(writer.name ?? '');
}

/**
 * Checks Avro schema resolution (the rules of the Avro specification): can
 * data written with `writer` be read with `reader`? Returns the first problem
 * with the path of the field where it occurs, or `undefined` when it resolves.
 */
export function checkSchemaResolution(writer: Type, reader: Type, path = ''): ResolutionProblem | undefined {
  const w = underlying(writer);
  const r = underlying(reader);
  const wk = kind(w);
  const rk = kind(r);

  if (wk === 'union') {
    for (const branch of (w as types.WrappedUnionType).types) {
      const problem = checkSchemaResolution(branch, r, path);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  if (rk === 'union') {
    const branches = (r as types.WrappedUnionType).types;
    if (branches.some((b) => checkSchemaResolution(w, b, path) === undefined)) return undefined;
    return { path, reason: `writer type ${describe(w)} matches no branch of reader union [${branches.map(describe).join(', ')}]` };
  }
  if (wk !== rk) {
    if (PROMOTIONS[wk]?.includes(rk)) return undefined;
    return { path, reason: `writer type ${describe(w)} cannot be read as reader type ${describe(r)}` };
  }
  switch (wk) {
    case 'record': {
      if (!namesMatch(w, r)) return { path, reason: `writer record ${String(w.name)} is not reader record ${String(r.name)}` };
      const writerFields = new Map((w as types.RecordType).fields.map((f) => [f.name, f]));
      for (const field of (r as types.RecordType).fields) {
        const written = writerFields.get(field.name) ?? field.aliases.map((a) => writerFields.get(a)).find((f) => f !== undefined);
        if (written === undefined) {
          if (field.defaultValue() === undefined) {
            return { path: join(path, field.name), reason: `reader field '${field.name}' is missing from the writer and has no default` };
          }
          continue;
        }
        const problem = checkSchemaResolution(written.type, field.type, join(path, field.name));
        if (problem !== undefined) return problem;
      }
      return undefined;
    }
    case 'enum': {
      if (!namesMatch(w, r)) return { path, reason: `writer enum ${String(w.name)} is not reader enum ${String(r.name)}` };
      const readerSymbols = new Set((r as types.EnumType).symbols);
      const missing = (w as types.EnumType).symbols.filter((s) => !readerSymbols.has(s));
      const hasDefault = (r as unknown as { default?: string }).default !== undefined;
      if (missing.length > 0 && !hasDefault)
        return { path, reason: `reader enum ${String(r.name)} lacks writer symbols ${missing.join(', ')}` };
      return undefined;
    }
    case 'fixed':
      if (!namesMatch(w, r) || (w as types.FixedType).size !== (r as types.FixedType).size) {
        return {
          path,
          reason: `writer fixed ${String(w.name)}(${(w as types.FixedType).size}) is not reader fixed ${String(r.name)}(${(r as types.FixedType).size})`,
        };
      }
      return undefined;
    case 'array':
      return checkSchemaResolution((w as types.ArrayType).itemsType, (r as types.ArrayType).itemsType, join(path, '<item>'));
    case 'map':
      return checkSchemaResolution((w as types.MapType).valuesType as Type, (r as types.MapType).valuesType as Type, join(path, '<value>'));
    default:
      return undefined;
  }
}
