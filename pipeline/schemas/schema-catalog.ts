import avro from 'avsc';
import type { Type } from 'avsc';
import { avroSchemaFiles, type RecordTypes } from '../../schemas/generated.js';
import { SchemaMismatchError } from '../../errors/errors.js';
import { compileRecordCheck } from './compile-record-check.js';

/** The short name of a schema an edge can carry, e.g. `Tick` or `OrderEvent`. */
export type SchemaName = keyof RecordTypes;

/** Where a record fails its schema: the field path and the offending value. */
export interface RecordProblem {
  readonly path: string;
  readonly reason: string;
}

/** Validates, encodes and decodes the records of one edge schema. */
export interface RecordCodec<T> {
  readonly name: SchemaName;
  readonly type: Type;
  /** The first problem that makes `value` invalid, or `undefined` when it is valid. */
  check(value: unknown): RecordProblem | undefined;
  encode(value: T): Buffer;
  decode(buffer: Buffer): T;
}

const NAMESPACE = 'tickflow';

/** A bad value as a rejection names it: by kind for objects and arrays (never walked or printed: they may be deep, or throw when printed), cut short otherwise. */
function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean' && typeof value !== 'bigint')
    return `a ${typeof value}`;
  const text = typeof value === 'string' ? JSON.stringify(value.length > 40 ? value.slice(0, 41) : value) : String(value);
  return `${typeof value} ${text.length > 40 ? `${text.slice(0, 40)}…` : text}`;
}

function typeLabel(t: Type): string {
  if (t.typeName.startsWith('union')) return (t as avro.types.WrappedUnionType).types.map(typeLabel).join(' or ');
  if (t.typeName.startsWith('logical')) return typeLabel((t as avro.types.LogicalType).underlyingType);
  return t.name ?? t.typeName;
}

/** `firstProblem` of a record type, answered by the generated check for the valid records (nearly all of them). */
function problemFinder(type: Type): (value: unknown) => RecordProblem | undefined {
  const isValid = compileRecordCheck(type);
  if (isValid === undefined) return (value) => firstProblem(type, value);
  return (value) => (isValid(value) ? undefined : firstProblem(type, value));
}

function firstProblem(type: Type, value: unknown): RecordProblem | undefined {
  let problem: RecordProblem | undefined;
  type.isValid(value, {
    noUndeclaredFields: true,
    errorHook: (pathParts, val, t) => {
      if (problem !== undefined) return;
      const path = pathParts.join('.');
      if (t.typeName === 'record' && typeof val === 'object' && val !== null) {
        const declared = new Set((t as avro.types.RecordType).fields.map((f) => f.name));
        const undeclared = Object.keys(val as object).find((k) => !declared.has(k));
        if (undeclared !== undefined) {
          const where = path === '' ? undeclared : `${path}.${undeclared}`;
          problem = { path: where, reason: `field '${where}' is not in schema ${typeLabel(t)}` };
          return;
        }
      }
      problem = { path, reason: `field '${path || '(record)'}' expected ${typeLabel(t)}, got ${describeValue(val)}` };
    },
  });
  return problem;
}

/**
 * Every Avro schema of `schemas/`, parsed once, by short name. Unions of
 * records (OrderEvent, OrderCommand) are discriminated by their `type` field,
 * so in-process values stay plain records while their Avro encoding is the
 * standard union encoding.
 */
export class SchemaCatalog {
  private readonly registry: Record<string, Type> = {};
  private readonly codecs = new Map<string, RecordCodec<unknown>>();
  private static shared: SchemaCatalog | undefined;

  /** The catalog of the schemas shipped with tickflow. */
  static default(): SchemaCatalog {
    SchemaCatalog.shared ??= new SchemaCatalog(avroSchemaFiles);
    return SchemaCatalog.shared;
  }

  constructor(files: readonly { readonly name: string; readonly schema: unknown }[]) {
    for (const file of files) {
      const type = avro.Type.forSchema(file.schema as avro.Schema, { registry: this.registry, namespace: NAMESPACE, wrapUnions: 'auto' });
      if (Array.isArray(file.schema)) this.registry[`${NAMESPACE}.${file.name}`] = type;
    }
  }

  has(name: string): name is SchemaName {
    const type = this.registry[`${NAMESPACE}.${name}`];
    return type !== undefined && (type.typeName === 'record' || type.typeName.startsWith('union'));
  }

  /** The names of every edge schema, sorted. */
  names(): SchemaName[] {
    return Object.keys(this.registry)
      .map((n) => n.slice(NAMESPACE.length + 1))
      .filter((n): n is SchemaName => this.has(n))
      .sort();
  }

  type(name: SchemaName): Type {
    const type = this.registry[`${NAMESPACE}.${name}`];
    if (type === undefined || !this.has(name)) {
      throw new SchemaMismatchError(`unknown schema '${name}'; known schemas: ${this.names().join(', ')}`);
    }
    return type;
  }

  codec<N extends SchemaName>(name: N): RecordCodec<RecordTypes[N]> {
    let codec = this.codecs.get(name);
    if (codec === undefined) {
      codec = this.createCodec(name);
      this.codecs.set(name, codec);
    }
    return codec as RecordCodec<RecordTypes[N]>;
  }

  private createCodec(name: SchemaName): RecordCodec<unknown> {
    const type = this.type(name);
    if (type.typeName === 'record') {
      return {
        name,
        type,
        check: problemFinder(type),
        encode: (value) => type.toBuffer(value),
        decode: (buffer) => type.fromBuffer(buffer) as unknown,
      };
    }
    // A union of records: pick the branch named by the record's `type` field.
    const branches = new Map<string, Type>();
    const branchProblems = new Map<Type, (value: unknown) => RecordProblem | undefined>();
    for (const branch of (type as avro.types.WrappedUnionType).types) {
      branches.set(String(branch.name).slice(NAMESPACE.length + 1), branch);
      branchProblems.set(branch, problemFinder(branch));
    }
    const branchOf = (value: unknown): Type | undefined =>
      typeof value === 'object' && value !== null ? branches.get(String((value as { type?: unknown }).type)) : undefined;
    return {
      name,
      type,
      check: (value) => {
        const branch = branchOf(value);
        if (branch === undefined) {
          return {
            path: 'type',
            reason: `field 'type' must name one of ${[...branches.keys()].join(', ')}, got ${describeValue((value as { type?: unknown } | null)?.type)}`,
          };
        }
        return (branchProblems.get(branch) as (value: unknown) => RecordProblem | undefined)(value);
      },
      encode: (value) => {
        const branch = branchOf(value);
        if (branch === undefined) throw new SchemaMismatchError(`${name}: cannot encode a value whose 'type' names no branch`);
        return type.toBuffer({ [String(branch.name)]: value });
      },
      decode: (buffer) => {
        const wrapped = type.fromBuffer(buffer) as Record<string, unknown>;
        return Object.values(wrapped)[0];
      },
    };
  }
}
