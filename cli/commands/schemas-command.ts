import avro from 'avsc';
import { SchemaRegistryError, UsageError } from '../../errors/errors.js';
import { checkCompatibility, type CompatibilityLevel, type RegisteredVersion } from '../../pipeline/schemas/check-compatibility.js';
import type { CliCommand, CliIo, ParsedArgs } from '../cli-command.js';
import { SchemaRegistryApi, type RegisteredSchema } from '../schemas/schema-registry-api.js';
import { workingTreeSchemas, type WorkingTreeSchema } from '../schemas/working-tree-schemas.js';

const SUBCOMMANDS = ['register', 'check', 'list'] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

/** The environment variable of the registry's URL, the one the kafka sink and source read too. */
const REGISTRY_ENV = 'TICKFLOW_SCHEMA_REGISTRY_URL';

const LEVELS = [
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
  'NONE',
] as const satisfies readonly CompatibilityLevel[];
const DEFAULT_LEVEL: CompatibilityLevel = 'BACKWARD';

/** The registry named by --registry, else by the environment; a usage error when neither names one. */
function registryOf(args: ParsedArgs, io: CliIo): SchemaRegistryApi {
  const flag = args.values['registry'];
  if (typeof flag === 'string') return new SchemaRegistryApi(flag, '--registry');
  const fromEnv = io.env[REGISTRY_ENV]?.trim();
  if (fromEnv === undefined || fromEnv === '')
    throw new UsageError(
      `no schema registry: give --registry URL or set ${REGISTRY_ENV} (e.g. the registry address 'npm run kafka:up' prints)`,
    );
  return new SchemaRegistryApi(fromEnv, REGISTRY_ENV);
}

function levelOf(args: ParsedArgs): CompatibilityLevel | undefined {
  const given = args.values['compatibility'];
  if (given === undefined) return undefined;
  const level = String(given).toUpperCase();
  if (!(LEVELS as readonly string[]).includes(level))
    throw new UsageError(`--compatibility must be one of ${LEVELS.join(', ')}; got '${String(given)}'`);
  return level as CompatibilityLevel;
}

/** The working tree's schemas that `names` (short names or subjects) pick, all of them when none is given. */
function pick(schemas: readonly WorkingTreeSchema[], names: readonly string[]): WorkingTreeSchema[] {
  if (names.length === 0) return [...schemas];
  return names.map((name) => {
    const schema = schemas.find((s) => s.name === name || s.subject === name);
    if (schema === undefined) throw new UsageError(`unknown schema '${name}'; record schemas: ${schemas.map((s) => s.name).join(', ')}`);
    return schema;
  });
}

/** `version 2 (id 5)`, or `versions 1-3` for several. */
function describeVersions(versions: readonly RegisteredSchema[]): string {
  if (versions.length === 0) return 'no registered version';
  const [first, last] = [versions[0], versions[versions.length - 1]] as [RegisteredSchema, RegisteredSchema];
  return versions.length === 1 ? `version ${first.version} (id ${first.id})` : `versions ${first.version}-${last.version}`;
}

/** The registered versions a check at `level` compares with: the latest, or every one for a _TRANSITIVE level. */
async function versionsToCheck(registry: SchemaRegistryApi, subject: string, level: CompatibilityLevel): Promise<RegisteredSchema[]> {
  const numbers = await registry.versions(subject);
  const wanted = level.endsWith('_TRANSITIVE') ? numbers : numbers.slice(-1);
  const versions: RegisteredSchema[] = [];
  for (const version of wanted) versions.push(await registry.version(subject, version));
  return versions;
}

/** A registered version parsed; a version that is no Avro schema (a JSON Schema or Protobuf subject) cannot be checked. */
function parsed(registry: SchemaRegistryApi, schema: RegisteredSchema): RegisteredVersion {
  try {
    return { version: schema.version, type: avro.Type.forSchema(JSON.parse(schema.schema) as avro.Schema) };
  } catch (error) {
    throw new SchemaRegistryError(
      `${schema.subject} version ${schema.version} at ${registry.where} is not an Avro schema tickflow can read: ${(error as Error).message}`,
    );
  }
}

/**
 * Why `schema` breaks readers of its subject at `level`: one line per field (tickflow's check), and the registry's
 * reason when it would refuse the schema (its own rule for the subject). Empty when compatible both ways.
 */
async function incompatibilities(
  registry: SchemaRegistryApi,
  schema: WorkingTreeSchema,
  level: CompatibilityLevel,
  registered: readonly RegisteredSchema[],
): Promise<string[]> {
  const fields = checkCompatibility(
    schema.type,
    registered.map((r) => parsed(registry, r)),
    level,
  ).map((p) => (registered.length > 1 ? `version ${p.version}: ${p.reason}` : p.reason));
  const verdict = await registry.verdict(schema.subject, schema.text);
  if (verdict === undefined || verdict.compatible) return fields;
  const because = verdict.reason ?? 'no reason given';
  return [
    ...fields,
    fields.length > 0
      ? `the registry refuses it too (its rule for ${schema.subject}): ${because}`
      : `the registry refuses it under its own rule for ${schema.subject} (not ${level}, or stricter): ${because}`,
  ];
}

const pad = (text: string, width: number): string => text.padEnd(width);

/** `register`: each schema under its subject (its level set first with --compatibility); 1 when the registry refused one. */
async function register(
  registry: SchemaRegistryApi,
  schemas: readonly WorkingTreeSchema[],
  level: CompatibilityLevel | undefined,
  io: CliIo,
) {
  const width = Math.max(...schemas.map((s) => s.subject.length));
  const refused: string[] = [];
  for (const schema of schemas) {
    if (level !== undefined) await registry.setCompatibility(schema.subject, level);
    const before = await registry.lookup(schema.subject, schema.text);
    if (before !== undefined) {
      io.out(`${pad(schema.subject, width)}  version ${before.version}  id ${before.id}  (registered already)\n`);
      continue;
    }
    const latest = await versionsToCheck(registry, schema.subject, 'BACKWARD');
    try {
      await registry.register(schema.subject, schema.text);
    } catch (error) {
      if (!(error instanceof SchemaRegistryError) || error.status !== 409) throw error;
      refused.push(schema.subject);
      const why = checkCompatibility(
        schema.type,
        latest.map((r) => parsed(registry, r)),
        level ?? DEFAULT_LEVEL,
      );
      io.err(
        `${schema.subject}: refused by the registry as incompatible with ${describeVersions(latest)}: ${error.message.replace(/^.*?HTTP 409: /, '')}\n` +
          why.map((p) => `  - ${p.reason}\n`).join(''),
      );
      continue;
    }
    const now = await registry.lookup(schema.subject, schema.text);
    if (now === undefined)
      throw new SchemaRegistryError(`the schema registry at ${registry.where} took ${schema.subject} but does not find it by its text`);
    io.out(`${pad(schema.subject, width)}  version ${now.version}  id ${now.id}  (${now.version === 1 ? 'new subject' : 'new version'})\n`);
  }
  if (refused.length > 0) {
    io.err(`refused: ${refused.join(', ')} (${refused.length} of ${schemas.length} schemas); the others are registered\n`);
    return 1;
  }
  return 0;
}

/** `check`: each schema against its registered versions at `level` and by the registry's own rule; 1 when one breaks readers. */
async function check(registry: SchemaRegistryApi, schemas: readonly WorkingTreeSchema[], level: CompatibilityLevel, io: CliIo) {
  const failed: string[] = [];
  // Asked first: a URL that is no registry's API fails here, rather than finding no subject registered.
  const subjects = new Set(await registry.subjects());
  for (const schema of schemas) {
    const registered = subjects.has(schema.subject) ? await versionsToCheck(registry, schema.subject, level) : [];
    if (registered.length === 0) {
      io.out(`${schema.subject}: not registered yet: nothing to break (register makes it version 1)\n`);
      continue;
    }
    const problems = await incompatibilities(registry, schema, level, registered);
    if (problems.length > 0) {
      failed.push(schema.subject);
      io.err(
        `${schema.subject}: incompatible at ${level} with ${describeVersions(registered)}:\n${problems.map((p) => `  - ${p}\n`).join('')}`,
      );
      continue;
    }
    const latest = registered[registered.length - 1] as RegisteredSchema;
    io.out(
      latest.schema === schema.text
        ? `${schema.subject}: unchanged: version ${latest.version} (id ${latest.id})\n`
        : `${schema.subject}: compatible at ${level} with ${describeVersions(registered)}\n`,
    );
  }
  if (failed.length > 0) {
    io.err(`incompatible at ${level}: ${failed.join(', ')} (${failed.length} of ${schemas.length}, against ${registry.where})\n`);
    return 1;
  }
  io.out(
    `${schemas.length} schema${schemas.length === 1 ? '' : 's'} checked at ${level} against ${registry.where}: no change breaks readers\n`,
  );
  return 0;
}

/** `list`: every subject of the registry, one line per version with its id. */
async function list(registry: SchemaRegistryApi, io: CliIo) {
  const subjects = await registry.subjects();
  if (subjects.length === 0) {
    io.out(`no subjects at ${registry.where}\n`);
    return 0;
  }
  const width = Math.max(...subjects.map((s) => s.length));
  for (const subject of subjects) {
    for (const version of await registry.versions(subject)) {
      const { id } = await registry.version(subject, version);
      io.out(`${pad(subject, width)}  version ${version}  id ${id}\n`);
    }
  }
  return 0;
}

/**
 * `tickflow schemas register|check|list`: the record schemas of `schemas/` and a Confluent-compatible schema
 * registry. Subjects are the records' full names (the record name strategy, see registrySchema).
 *
 * - `register [NAME...]` registers each record schema (the text every tickflow writer registers), printing its
 *   subject, id and version; with `--compatibility`, sets each subject's own level first.
 * - `check [NAME...]` checks the working tree's schemas against what is registered and never changes the registry:
 *   at `--compatibility` (BACKWARD by default), field by field with Avro schema resolution, against the latest
 *   version (every version for a _TRANSITIVE level); and it asks the registry's compatibility endpoint, which
 *   applies the subject's own rule there, so that a schema `register` (or a sink) would be refused fails too.
 *   Each field that breaks readers is named, with the fix.
 * - `list` prints every subject of the registry with its versions and their ids.
 *
 * Exit codes: 0 done and compatible; 1 incompatible (check) or refused (register); 2 when it could not tell: a bad
 * flag, an unreadable schema file, a registry that cannot be reached or answers an error.
 */
export const schemasCommand: CliCommand = {
  name: 'schemas',
  summary:
    'Register the record schemas with a schema registry, check the working tree’s schemas against it (exit 1 naming each field that breaks readers), list its subjects.',
  usage: [
    'register [NAME...] [--registry URL] [--schemas DIR] [--compatibility LEVEL]',
    '       tickflow schemas check [NAME...] [--registry URL] [--schemas DIR] [--compatibility LEVEL]',
    '       tickflow schemas list [--registry URL]',
    '',
    'NAME: a record schema of schemas/ (Tick) or its subject (tickflow.Tick); every record schema when none is given.',
    `Exit codes: 0 done (check: nothing breaks readers), 1 check found an incompatible change or register was refused,`,
    '2 a bad flag, a bad schema file, or the registry unreachable or answering an error.',
  ].join('\n'),
  options: {
    registry: { type: 'string', short: 'r' },
    schemas: { type: 'string' },
    compatibility: { type: 'string', short: 'c' },
  },
  optionHelp: {
    registry: `URL of a Confluent-compatible schema registry (Apicurio: http://HOST:PORT/apis/ccompat/v7); else ${REGISTRY_ENV}`,
    schemas: 'Folder of .avsc files to use instead of the schemas this tickflow ships (a branch’s schemas/, a proposed change)',
    compatibility: `check: the level to check at (${LEVELS.join(', ')}; default ${DEFAULT_LEVEL}). register: set each subject’s level first`,
  },
  async run(args, io) {
    const [sub, ...names] = args.positionals;
    if (sub === undefined) throw new UsageError(`missing subcommand; subcommands: ${SUBCOMMANDS.join(', ')}`);
    if (!(SUBCOMMANDS as readonly string[]).includes(sub))
      throw new UsageError(`unknown subcommand '${sub}'; subcommands: ${SUBCOMMANDS.join(', ')}`);
    const subcommand = sub as Subcommand;
    const level = levelOf(args);
    const dir = args.values['schemas'];
    if (subcommand === 'list') {
      if (names.length > 0) throw new UsageError(`unexpected argument '${names[0]}': list takes no NAME`);
      if (dir !== undefined || level !== undefined) throw new UsageError('list takes only --registry');
    }
    const registry = registryOf(args, io);
    const schemas = subcommand === 'list' ? [] : pick(workingTreeSchemas(typeof dir === 'string' ? dir : undefined), names);
    try {
      if (subcommand === 'list') return await list(registry, io);
      if (subcommand === 'register') return await register(registry, schemas, level, io);
      return await check(registry, schemas, level ?? DEFAULT_LEVEL, io);
    } catch (error) {
      // The registry could not be asked, so nothing was decided: exit 2, apart from check's 1 (incompatible).
      if (!(error instanceof SchemaRegistryError)) throw error;
      io.err(`tickflow schemas ${subcommand}: ${error.message}\n`);
      return 2;
    }
  },
};
