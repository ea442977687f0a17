import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import avro from 'avsc';
import type { Type } from 'avsc';
import { ConfigError } from '../../errors/errors.js';
import { registrySchema } from '../../pipeline/schemas/registry-schema.js';
import { avroSchemaFiles } from '../../schemas/generated.js';

/** A record schema as `tickflow schemas` registers and checks it. */
export interface WorkingTreeSchema {
  /** Its short name, the file name without `.avsc` (`Tick`). */
  readonly name: string;
  /** Its subject: the record's full name (`tickflow.Tick`), as {@link registrySchema} gives it. */
  readonly subject: string;
  /** The one text every tickflow writer registers. */
  readonly text: string;
  readonly type: Type;
}

/** Largest schema file read: tickflow's biggest (Tick) is about 6 KB. */
const MAX_FILE_BYTES = 1024 * 1024;

/** The `*.avsc` files of `dir`, parsed as JSON; every unreadable or malformed file is reported at once. */
function readSchemaDir(dir: string): { name: string; schema: unknown }[] {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((f) => f.endsWith('.avsc'))
      .sort();
  } catch (error) {
    throw new ConfigError(`--schemas ${dir}`, [`cannot read the folder: ${(error as Error).message}`]);
  }
  if (names.length === 0) throw new ConfigError(`--schemas ${dir}`, ['holds no .avsc file']);
  const problems: string[] = [];
  const files: { name: string; schema: unknown }[] = [];
  for (const file of names) {
    const path = join(dir, file);
    try {
      if (statSync(path).size > MAX_FILE_BYTES) throw new Error(`larger than ${MAX_FILE_BYTES} bytes`);
      files.push({ name: file.slice(0, -'.avsc'.length), schema: JSON.parse(readFileSync(path, 'utf8')) as unknown });
    } catch (error) {
      problems.push(`${file}: ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(`--schemas ${dir}`, problems);
  return files;
}

/**
 * The record schemas of tickflow's `schemas/` as this build ships them, or of the `*.avsc` files of `dir` (a
 * branch's working tree, a proposed change), each as the subject and text tickflow registers ({@link registrySchema})
 * and parsed. Enums and unions are not subjects: a record that uses one carries it inline, and each record of a union
 * (the order events) is a subject of its own. Sorted by subject.
 *
 * @throws ConfigError naming every file of `dir` that is not JSON or not a valid Avro schema.
 */
export function workingTreeSchemas(dir?: string): WorkingTreeSchema[] {
  const files = dir === undefined ? avroSchemaFiles : readSchemaDir(dir);
  const problems: string[] = [];
  const schemas: WorkingTreeSchema[] = [];
  for (const file of files) {
    const schema = file.schema as { type?: unknown } | null;
    if (schema === null || typeof schema !== 'object' || schema.type !== 'record') continue;
    try {
      const { subject, text } = registrySchema(file.name, files);
      schemas.push({ name: file.name, subject, text, type: avro.Type.forSchema(JSON.parse(text) as avro.Schema) });
    } catch (error) {
      problems.push(`${file.name}.avsc: not a valid Avro schema: ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(dir === undefined ? 'schemas' : `--schemas ${dir}`, problems);
  return schemas.sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0));
}
