import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registrySchema } from '../../pipeline/schemas/registry-schema.js';
import { avroSchemaFiles } from '../../schemas/generated.js';
import { closeKafkaServers, KAFKA_SETUP_TIMEOUT_MS, startKafkaServers, type KafkaServersWithRegistry } from '../support/kafka-servers.js';
import { ROOT, runCli, type CliResult } from '../support/run-cli.js';

/** Every record schema of schemas/: the subjects `tickflow schemas` registers (enums and unions are not subjects). */
const RECORD_SCHEMAS = avroSchemaFiles.filter((f) => (f.schema as { type?: unknown }).type === 'record').map((f) => f.name);

interface AvroField {
  name: string;
  type: unknown;
  default?: unknown;
  aliases?: string[];
  doc?: string;
}

let servers: KafkaServersWithRegistry;
const folders: string[] = [];

beforeAll(async () => {
  servers = await startKafkaServers();
}, KAFKA_SETUP_TIMEOUT_MS);
afterAll(async () => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
  await closeKafkaServers();
}, 90_000);

/** `tickflow schemas ARGS --registry <the test's registry>`. */
const schemas = (...args: string[]): Promise<CliResult> => runCli(['schemas', ...args, '--registry', servers.registryUrl], 60_000);

/** A copy of schemas/ in which `edit` changed the fields of one schema file (Tick by default). */
function changedSchemas(edit: (fields: AvroField[]) => void, file = 'Tick'): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickflow-schemas-'));
  folders.push(dir);
  cpSync(join(ROOT, 'schemas'), dir, { recursive: true, filter: (path) => !path.endsWith('.ts') });
  const path = join(dir, `${file}.avsc`);
  const schema = JSON.parse(readFileSync(path, 'utf8')) as { fields: AvroField[] };
  edit(schema.fields);
  writeFileSync(path, JSON.stringify(schema, null, 2));
  return dir;
}

const field = (fields: AvroField[], name: string): AvroField => {
  const found = fields.find((f) => f.name === name);
  if (found === undefined) throw new Error(`no field ${name}`);
  return found;
};

/** A port of 127.0.0.1 nothing listens on (it was free a moment ago). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** The lines of a text, without the empty one after its last newline. */
const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');

describe('tickflow schemas', () => {
  const ids = new Map<string, number>();

  it('register registers every record schema under its full name, with the text every writer registers; again, nothing changes', async () => {
    const first = await schemas('register');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(lines(first.stdout)).toHaveLength(RECORD_SCHEMAS.length);
    for (const name of RECORD_SCHEMAS) {
      const match = new RegExp(`^tickflow\\.${name} +version 1  id (\\d+)  \\(new subject\\)$`, 'm').exec(first.stdout);
      expect(match, `${name} in:\n${first.stdout}`).not.toBeNull();
      ids.set(name, Number(match?.[1]));
    }
    expect(new Set(ids.values()).size).toBe(RECORD_SCHEMAS.length);

    // What the registry holds is byte for byte the text registrySchema gives (a different text would get a new id).
    for (const name of ['Tick', 'OrderFilled', 'OrderDenied']) {
      const answer = await fetch(`${servers.registryUrl}/subjects/tickflow.${name}/versions/1`);
      const body = (await answer.json()) as { id: number; schema: string };
      expect(body).toMatchObject({ id: ids.get(name), schema: registrySchema(name).text });
    }

    const again = await schemas('register');
    expect(again.code).toBe(0);
    for (const name of RECORD_SCHEMAS)
      expect(again.stdout).toMatch(new RegExp(`^tickflow\\.${name} +version 1  id ${ids.get(name)}  \\(registered already\\)$`, 'm'));
  });

  it('list prints every subject with its versions and ids, from --registry or the environment', async () => {
    const listed = await runCli(['schemas', 'list'], 60_000, ROOT, { TICKFLOW_SCHEMA_REGISTRY_URL: servers.registryUrl });
    expect(listed.code).toBe(0);
    expect(lines(listed.stdout)).toEqual(
      [...RECORD_SCHEMAS].sort().map((name) => expect.stringMatching(new RegExp(`^tickflow\\.${name} +version 1  id ${ids.get(name)}$`))),
    );
  });

  it('check is green when the working tree matches what is registered', async () => {
    const checked = await schemas('check');
    expect(checked.stderr).toBe('');
    expect(checked.code).toBe(0);
    for (const name of RECORD_SCHEMAS) expect(checked.stdout).toContain(`tickflow.${name}: unchanged: version 1 (id ${ids.get(name)})\n`);
    expect(checked.stdout).toContain(
      `${RECORD_SCHEMAS.length} schemas checked at BACKWARD against ${servers.registryUrl}: no change breaks readers\n`,
    );
  });

  it('check exits 1 on a field added without a default, naming the field, what breaks and the fix, beside the registry’s own reason', async () => {
    const dir = changedSchemas((fields) => fields.push({ name: 'exchange_seq', type: 'long', doc: 'Sequence the exchange gave.' }));
    const checked = await schemas('check', '--schemas', dir);
    expect(checked.code).toBe(1);
    const problem = lines(checked.stderr);
    expect(problem[0]).toBe(`tickflow.Tick: incompatible at BACKWARD with version 1 (id ${ids.get('Tick')}):`);
    expect(problem[1]).toBe(
      "  - field 'exchange_seq' is new and has no default: a reader of the new schema cannot read records written with version 1, which lack it; give it a default",
    );
    expect(problem[2]).toMatch(/^ {2}- the registry refuses it too \(its rule for tickflow\.Tick\): .*exchange_seq/);
    expect(problem[3]).toBe(`incompatible at BACKWARD: tickflow.Tick (1 of ${RECORD_SCHEMAS.length}, against ${servers.registryUrl})`);
    expect(problem).toHaveLength(4);
    // The other schemas are still checked and reported.
    expect(checked.stdout).toContain(`tickflow.Bar: unchanged: version 1 (id ${ids.get('Bar')})\n`);
  });

  it('check exits 0 on a field added with a default: readers of the new schema fill it in', async () => {
    const dir = changedSchemas((fields) =>
      fields.push({ name: 'exchange_seq', type: 'long', default: 0, doc: 'Sequence the exchange gave.' }),
    );
    const checked = await schemas('check', 'Tick', '--schemas', dir);
    expect(checked.stderr).toBe('');
    expect(checked.code).toBe(0);
    expect(checked.stdout).toBe(
      `tickflow.Tick: compatible at BACKWARD with version 1 (id ${ids.get('Tick')})\n1 schema checked at BACKWARD against ${servers.registryUrl}: no change breaks readers\n`,
    );
  });

  it('a renamed field: exit 1 naming the new name and the old one (an alias fixes it); with the alias it passes', async () => {
    const renamed = changedSchemas((fields) => {
      field(fields, 'volume').name = 'total_volume';
    });
    const checked = await schemas('check', 'tickflow.Tick', '--schemas', renamed);
    expect(checked.code).toBe(1);
    expect(checked.stderr).toContain(
      `  - field 'total_volume' is new and has no default: a reader of the new schema cannot read records written with version 1, which lack it; give it a default, or, if it renames 'volume', "aliases": ["volume"]\n`,
    );
    expect(checked.stderr).toMatch(/the registry refuses it too .*total_volume/);

    const aliased = changedSchemas((fields) => {
      Object.assign(field(fields, 'volume'), { name: 'total_volume', aliases: ['volume'] });
    });
    const fixed = await schemas('check', 'Tick', '--schemas', aliased);
    expect(fixed.stderr).toBe('');
    expect(fixed.code).toBe(0);
  });

  it('a removed field passes BACKWARD (new readers skip it) and fails FORWARD and FULL, naming it: readers of version 1 need it', async () => {
    const dir = changedSchemas((fields) => {
      fields.splice(fields.indexOf(field(fields, 'volume')), 1);
    });
    const backward = await schemas('check', 'Tick', '--schemas', dir);
    expect(backward.code).toBe(0);
    expect(backward.stdout).toContain(`tickflow.Tick: compatible at BACKWARD with version 1 (id ${ids.get('Tick')})\n`);
    for (const level of ['FORWARD', 'full']) {
      const checked = await schemas('check', 'Tick', '--schemas', dir, '--compatibility', level);
      expect(checked.code).toBe(1);
      expect(lines(checked.stderr).slice(0, 2)).toEqual([
        `tickflow.Tick: incompatible at ${level.toUpperCase()} with version 1 (id ${ids.get('Tick')}):`,
        "  - field 'volume' is gone from the new schema (removed, or renamed: an alias does not help readers of the old version) and has no default in version 1: a reader still on version 1 cannot read records written with the new schema; keep the field",
      ]);
    }
  });

  it('a changed type is named with both types', async () => {
    const dir = changedSchemas((fields) => {
      field(fields, 'bid_volume1').type = 'long';
    });
    const checked = await schemas('check', 'Tick', '--schemas', dir, '-c', 'FULL');
    expect(checked.code).toBe(1);
    expect(checked.stderr).toContain(
      "  - field 'bid_volume1': a reader still on version 1 cannot read records written with the new schema: writer type long cannot be read as reader type int\n",
    );
    // int to long is a promotion: BACKWARD alone passes.
    expect((await schemas('check', 'Tick', '--schemas', dir)).code).toBe(0);
  });

  it('register refuses an incompatible change with exit 1, naming the subject, the registry’s reason and the field; the rest registers', async () => {
    const dir = changedSchemas((fields) => fields.push({ name: 'exchange_seq', type: 'long', doc: 'Sequence the exchange gave.' }));
    const registered = await schemas('register', 'Tick', 'Bar', '--schemas', dir);
    expect(registered.code).toBe(1);
    expect(registered.stdout).toMatch(new RegExp(`^tickflow\\.Bar +version 1  id ${ids.get('Bar')}  \\(registered already\\)$`, 'm'));
    const problem = lines(registered.stderr);
    expect(problem[0]).toMatch(
      new RegExp(`^tickflow\\.Tick: refused by the registry as incompatible with version 1 \\(id ${ids.get('Tick')}\\): .*exchange_seq`),
    );
    expect(problem[1]).toContain("  - field 'exchange_seq' is new and has no default");
    expect(problem[2]).toBe('refused: tickflow.Tick (1 of 2 schemas); the others are registered');
  });

  it('register --compatibility sets the subject’s own level; check then reports what the registry would refuse under it', async () => {
    const bar = await schemas('register', 'Bar', '--compatibility', 'FULL');
    expect(bar.code).toBe(0);
    const config = (await (await fetch(`${servers.registryUrl}/config/tickflow.Bar`)).json()) as { compatibilityLevel: string };
    expect(config.compatibilityLevel).toBe('FULL');
    // Removing a field without a default passes BACKWARD, tickflow's level here, but not FULL, the registry's.
    const dir = changedSchemas((fields) => {
      fields.splice(fields.indexOf(field(fields, 'volume')), 1);
    }, 'Bar');
    const checked = await schemas('check', 'Bar', '--schemas', dir);
    expect(checked.code).toBe(1);
    expect(lines(checked.stderr)[1]).toMatch(
      /^ {2}- the registry refuses it under its own rule for tickflow\.Bar \(not BACKWARD, or stricter\): /,
    );
  });

  it('a new version: check compares with the latest, a _TRANSITIVE level with every version', async () => {
    // Version 2 adds a field with a default; a version 3 that drops the default reads version 2's records, not version 1's.
    const v2 = changedSchemas((fields) =>
      fields.push({ name: 'exchange_seq', type: 'long', default: 0, doc: 'Sequence the exchange gave.' }),
    );
    const registered = await schemas('register', 'Tick', '--schemas', v2);
    expect(registered.code).toBe(0);
    expect(registered.stdout).toMatch(/^tickflow\.Tick +version 2 {2}id \d+ {2}\(new version\)$/m);
    const v3 = changedSchemas((fields) => fields.push({ name: 'exchange_seq', type: 'long', doc: 'Sequence the exchange gave.' }));
    const latest = await schemas('check', 'Tick', '--schemas', v3);
    expect(latest.stderr).toBe('');
    expect(latest.stdout).toMatch(/^tickflow\.Tick: compatible at BACKWARD with version 2 \(id \d+\)$/m);
    const transitive = await schemas('check', 'Tick', '--schemas', v3, '--compatibility', 'BACKWARD_TRANSITIVE');
    expect(transitive.code).toBe(1);
    expect(lines(transitive.stderr).slice(0, 2)).toEqual([
      'tickflow.Tick: incompatible at BACKWARD_TRANSITIVE with versions 1-2:',
      "  - version 1: field 'exchange_seq' is new and has no default: a reader of the new schema cannot read records written with version 1, which lack it; give it a default",
    ]);
    const listed = await schemas('list');
    expect(listed.stdout).toMatch(/^tickflow\.Tick +version 1 {2}id \d+\ntickflow\.Tick +version 2 {2}id \d+$/m);
  });

  it('what stops it from deciding is one clear line and exit 2: no registry, a bad URL, an unreachable one, a URL that is no registry API', async () => {
    const none = await runCli(['schemas', 'check'], 60_000, ROOT, { TICKFLOW_SCHEMA_REGISTRY_URL: '' });
    expect(none.code).toBe(2);
    expect(lines(none.stderr)[0]).toBe(
      "tickflow schemas: no schema registry: give --registry URL or set TICKFLOW_SCHEMA_REGISTRY_URL (e.g. the registry address 'npm run kafka:up' prints)",
    );
    const badUrl = await runCli(['schemas', 'list', '--registry', 'not a url'], 60_000);
    expect(badUrl.code).toBe(2);
    expect(lines(badUrl.stderr)[0]).toBe(
      "tickflow schemas: --registry must be the http:// or https:// URL of a schema registry, e.g. http://127.0.0.1:8081; got 'not a url'",
    );
    const fromEnv = await runCli(['schemas', 'list'], 60_000, ROOT, { TICKFLOW_SCHEMA_REGISTRY_URL: 'ftp://127.0.0.1/x' });
    expect(fromEnv.code).toBe(2);
    expect(lines(fromEnv.stderr)[0]).toBe(
      'tickflow schemas: TICKFLOW_SCHEMA_REGISTRY_URL must be an http:// or https:// URL, e.g. http://127.0.0.1:8081; got a ftp: URL',
    );
    const port = await closedPort();
    for (const sub of ['register', 'check', 'list']) {
      const unreachable = await runCli(['schemas', sub, '--registry', `http://127.0.0.1:${port}/apis/ccompat/v7`], 60_000);
      expect(unreachable.code).toBe(2);
      expect(unreachable.stderr).toBe(
        `tickflow schemas ${sub}: cannot reach the schema registry at http://127.0.0.1:${port}/apis/ccompat/v7: connection refused (ECONNREFUSED)\n`,
      );
    }
    // The registry's server without its API path: not taken for an empty registry.
    const root = new URL(servers.registryUrl).origin;
    const notApi = await runCli(['schemas', 'check', '--registry', root], 60_000);
    expect(notApi.code).toBe(2);
    expect(lines(notApi.stderr)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^tickflow schemas check: the schema registry at ${root} refused GET /subjects: HTTP 404: .*Apicurio’s is …/apis/ccompat/v7\\)$`,
        ),
      ),
    ]);
  });

  it('a bad flag, level, name or schema file is a usage error (exit 2) naming it', async () => {
    const level = await schemas('check', '--compatibility', 'SIDEWAYS');
    expect(level.code).toBe(2);
    expect(lines(level.stderr)[0]).toBe(
      "tickflow schemas: --compatibility must be one of BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE, NONE; got 'SIDEWAYS'",
    );
    const name = await schemas('check', 'Nope');
    expect(name.code).toBe(2);
    expect(lines(name.stderr)[0]).toMatch(/^tickflow schemas: unknown schema 'Nope'; record schemas: AuditRecord, Bar, /);
    const sub = await schemas('drop');
    expect(sub.code).toBe(2);
    expect(lines(sub.stderr)[0]).toBe("tickflow schemas: unknown subcommand 'drop'; subcommands: register, check, list");

    const broken = changedSchemas(() => {});
    writeFileSync(join(broken, 'Tick.avsc'), '{"type": "record", ');
    const file = await schemas('check', '--schemas', broken);
    expect(file.code).toBe(2);
    expect(lines(file.stderr)).toEqual([expect.stringMatching(new RegExp(`^tickflow schemas: --schemas ${broken}: Tick\\.avsc: `))]);
    const invalid = changedSchemas((fields) => {
      field(fields, 'volume').type = 'decimal-ish';
    });
    const schema = await schemas('check', '--schemas', invalid);
    expect(schema.code).toBe(2);
    expect(lines(schema.stderr)[0]).toMatch(/^tickflow schemas: --schemas .*: Tick\.avsc: not a valid Avro schema: .*decimal-ish/);
  });

  it('--help shows the subcommands, the exit codes and the options', async () => {
    const help = await runCli(['schemas', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: tickflow schemas register [NAME...] [--registry URL] [--schemas DIR] [--compatibility LEVEL]');
    expect(help.stdout).toContain('tickflow schemas check [NAME...]');
    expect(help.stdout).toContain('tickflow schemas list [--registry URL]');
    expect(help.stdout).toMatch(/Exit codes: 0 done .*, 1 check found an incompatible change or register was refused/);
    expect(help.stdout).toMatch(/--compatibility VALUE, -c +check: the level to check at/);
  });
});
