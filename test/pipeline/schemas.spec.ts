import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { avroSchemaFiles, type OrderAccepted } from '../../schemas/generated.js';
import { checkSchemaResolution } from '../../pipeline/schemas/check-schema-resolution.js';
import { generateSchemaModule } from '../../pipeline/schemas/generate-schema-module.js';
import { SchemaCatalog } from '../../pipeline/schemas/schema-catalog.js';
import { makeTick } from '../support/make-tick.js';
import { fromPlainIds } from '../support/plain-ids.js';

const schemasDir = fileURLToPath(new URL('../../schemas/', import.meta.url));
const record = (name: string, fields: unknown[], extra: object = {}) => ({ type: 'record', name, namespace: 'tickflow', fields, ...extra });
const parse = (schema: unknown) => avro.Type.forSchema(schema as avro.Schema, { wrapUnions: 'auto' });

describe('schemas', () => {
  it('generated.ts is what `npm run schemas` makes from the .avsc files (run it when this fails)', () => {
    expect(readFileSync(new URL('generated.ts', `file://${schemasDir}`), 'utf8')).toBe(generateSchemaModule(schemasDir));
  });

  it('every schema is in namespace tickflow and parses', () => {
    for (const { name, schema } of avroSchemaFiles) {
      if (!Array.isArray(schema)) expect((schema as { namespace: string }).namespace, name).toBe('tickflow');
    }
    expect(SchemaCatalog.default().names()).toEqual(
      expect.arrayContaining([
        'Tick',
        'QuoteDiff',
        'Bar',
        'Signal',
        'SubmitOrder',
        'CancelOrder',
        'OrderEvent',
        'FeedStatus',
        'AuditRecord',
        'DeadLetter',
      ]),
    );
  });

  it('Tick holds what DESIGN.md §5 lists, with timestamps in microseconds and nullable prices', () => {
    const tick = SchemaCatalog.default().type('Tick') as avro.types.RecordType;
    const fields = new Map(tick.fields.map((f) => [f.name, f.type]));
    for (const name of [
      'instrument_id',
      'trading_day',
      'action_day',
      'ts_event',
      'volume',
      'turnover',
      'open_interest',
      'upper_limit',
      'lower_limit',
      'feed_id',
      'ts_recv',
      'sequence',
    ]) {
      expect(fields.has(name), name).toBe(true);
    }
    for (let level = 1; level <= 5; level++) for (const side of ['bid', 'ask']) expect(fields.has(`${side}_price${level}`)).toBe(true);
    const tickJson = avroSchemaFiles.find((f) => f.name === 'Tick')?.schema as { fields: { name: string; type: unknown }[] };
    expect(tickJson.fields.find((f) => f.name === 'ts_event')?.type).toEqual({ type: 'long', logicalType: 'timestamp-micros' });
    expect(fields.get('last_price')?.typeName).toMatch(/^union/);
  });
});

describe('id kinds ("tickflow.id")', () => {
  /** The schema without its id marks: each marked string back to a plain "string". */
  const unmarked = (schema: unknown): unknown =>
    JSON.parse(JSON.stringify(schema), (_key, value: unknown) =>
      value !== null && typeof value === 'object' && 'tickflow.id' in value ? (value as Record<string, unknown>)['type'] : value,
    );
  /** A schemas folder holding one file, for the generator. */
  const generateFrom = (schema: unknown): string => {
    const dir = mkdtempSync(join(tmpdir(), 'tickflow-schemas-'));
    try {
      writeFileSync(join(dir, 'Probe.avsc'), JSON.stringify(schema));
      return generateSchemaModule(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('mark the ids that must not be swapped in every command and event', () => {
    const marks = (name: string) =>
      Object.fromEntries(
        (avroSchemaFiles.find((f) => f.name === name)?.schema as { fields: { name: string; type: unknown }[] }).fields
          .filter((f) => typeof f.type === 'object' && f.type !== null && 'tickflow.id' in f.type)
          .map((f) => [f.name, (f.type as Record<string, unknown>)['tickflow.id']]),
      );
    const orderIds = {
      client_order_id: 'ClientOrderId',
      strategy_id: 'StrategyId',
      account_id: 'AccountId',
      instrument_id: 'InstrumentId',
    };
    for (const name of ['SubmitOrder', 'CancelOrder', 'OrderSubmitted', 'OrderAccepted', 'OrderFilled', 'OrderDenied', 'OrderCanceled'])
      expect(marks(name), name).toEqual(orderIds);
    expect(marks('Tick')).toEqual({ instrument_id: 'InstrumentId' });
    expect(marks('Signal')).toEqual({ strategy_id: 'StrategyId', instrument_id: 'InstrumentId' });
  });

  it('leave Avro as it was: every schema parses to the same fingerprint with and without them', () => {
    const plain = new SchemaCatalog(avroSchemaFiles.map((f) => ({ name: f.name, schema: unmarked(f.schema) })));
    const marked = SchemaCatalog.default();
    expect(plain.names()).toEqual(marked.names());
    for (const name of marked.names())
      expect(marked.type(name).fingerprint().toString('hex'), name).toBe(plain.type(name).fingerprint().toString('hex'));
    // The mark is not part of what avsc exports either (what a registry would be sent).
    expect(JSON.stringify(marked.type('SubmitOrder').schema({ exportAttrs: true }))).not.toContain('tickflow.id');
  });

  it('become branded string types with a maker of the same name; unmarked strings stay string', () => {
    const module = generateFrom({
      type: 'record',
      name: 'Probe',
      namespace: 'tickflow',
      fields: [
        { name: 'venue_id', type: { type: 'string', 'tickflow.id': 'VenueId' } },
        { name: 'note', type: 'string' },
      ],
    });
    expect(module).toContain("export type VenueId = string & { readonly __brand: 'VenueId' };");
    expect(module).toContain('export const VenueId = (value: string): VenueId => value as VenueId;');
    expect(module).toContain('  readonly venue_id: VenueId;');
    expect(module).toContain('  readonly note: string;');
  });

  it.each([
    ['on a non-string', { type: 'long', 'tickflow.id': 'SeqId' }],
    ['with a name that is not an id kind', { type: 'string', 'tickflow.id': 'venue' }],
  ])('are refused %s', (_label, type) => {
    expect(() => generateFrom({ type: 'record', name: 'Probe', namespace: 'tickflow', fields: [{ name: 'x', type }] })).toThrow(
      /'tickflow\.id' must mark a string with a name like 'InstrumentId'/,
    );
  });
});

describe('SchemaCatalog codecs', () => {
  const catalog = SchemaCatalog.default();

  it('round-trips a tick through Avro binary', () => {
    const codec = catalog.codec('Tick');
    const tick = makeTick({ last_price: null, ts_event: 1_735_822_800_123_456 });
    expect(codec.check(tick)).toBeUndefined();
    expect({ ...codec.decode(codec.encode(tick)) }).toEqual(tick);
  });

  it('names the field and the value of an invalid record', () => {
    expect(catalog.codec('Tick').check(makeTick({ last_price: 'high' as never }))).toEqual({
      path: 'last_price',
      reason: 'field \'last_price\' expected null or double, got string "high"',
    });
    expect(catalog.codec('Tick').check({ ...makeTick(), extra: 1 })).toEqual({
      path: 'extra',
      reason: "field 'extra' is not in schema tickflow.Tick",
    });
  });

  it('names a bad object or array value by its kind, never printing it (it may be deep, or throw when printed)', () => {
    let deep: unknown[] = [];
    const root = deep;
    for (let i = 0; i < 100_000; i++) deep.push((deep = []));
    const hostile = {
      toString: () => {
        throw new Error('printed');
      },
    };
    expect(catalog.codec('Tick').check(makeTick({ volume: hostile as never }))?.reason).toBe("field 'volume' expected long, got an object");
    expect(catalog.codec('Tick').check(makeTick({ instrument_id: root as never }))?.reason).toBe(
      "field 'instrument_id' expected string, got an array of 1",
    );
    expect(catalog.codec('Tick').check(makeTick({ instrument_id: 'x'.repeat(1e6) }))).toBeUndefined();
    expect(catalog.codec('Tick').check(makeTick({ volume: 'y'.repeat(1e6) as never }))?.reason.length).toBeLessThan(100);
  });

  it('encodes a union of records by its type field, and rejects an unknown type', () => {
    const codec = catalog.codec('OrderEvent');
    const accepted = fromPlainIds<OrderAccepted>({
      type: 'OrderAccepted',
      event_id: 'e1',
      client_order_id: 'c1',
      strategy_id: 's',
      account_id: 'a',
      instrument_id: 'SHFE.rb2501',
      venue_order_id: 'v1',
      ts_event: 1,
      ts_init: 2,
      causation_id: 'cmd1',
    });
    expect(codec.check(accepted)).toBeUndefined();
    expect({ ...(codec.decode(codec.encode(accepted)) as object) }).toEqual(accepted);
    expect(codec.check({ ...accepted, type: 'OrderLost' })?.path).toBe('type');
    expect(codec.check({ ...accepted, type: 'OrderFilled' })?.path).toBe('trade_id');
  });
});

describe('checkSchemaResolution', () => {
  const base = record('Quote', [
    { name: 'id', type: 'string' },
    { name: 'qty', type: 'int' },
  ]);
  const cases: [string, unknown, unknown, string | undefined][] = [
    ['identical records', base, base, undefined],
    [
      'reader adds a field with a default',
      base,
      record('Quote', [
        { name: 'id', type: 'string' },
        { name: 'qty', type: 'int' },
        { name: 'venue', type: 'string', default: 'x' },
      ]),
      undefined,
    ],
    [
      'reader adds a field without default',
      base,
      record('Quote', [
        { name: 'id', type: 'string' },
        { name: 'qty', type: 'int' },
        { name: 'venue', type: 'string' },
      ]),
      'venue',
    ],
    [
      'int promoted to long',
      base,
      record('Quote', [
        { name: 'id', type: 'string' },
        { name: 'qty', type: 'long' },
      ]),
      undefined,
    ],
    [
      'long cannot be read as int',
      record('Quote', [
        { name: 'id', type: 'string' },
        { name: 'qty', type: 'long' },
      ]),
      base,
      'qty',
    ],
    [
      'writer drops a field the reader ignores',
      record('Quote', [
        { name: 'id', type: 'string' },
        { name: 'qty', type: 'int' },
        { name: 'x', type: 'int' },
      ]),
      base,
      undefined,
    ],
    ['other record name', base, record('Trade', [{ name: 'id', type: 'string' }]), ''],
    [
      'renamed record with alias',
      base,
      record(
        'QuoteV2',
        [
          { name: 'id', type: 'string' },
          { name: 'qty', type: 'int' },
        ],
        { aliases: ['tickflow.Quote'] },
      ),
      undefined,
    ],
    [
      'map value narrowed',
      record('M', [{ name: 'm', type: { type: 'map', values: 'double' } }]),
      record('M', [{ name: 'm', type: { type: 'map', values: 'int' } }]),
      'm.<value>',
    ],
    [
      'nullable reader of a plain writer',
      record('N', [{ name: 'p', type: 'double' }]),
      record('N', [{ name: 'p', type: ['null', 'double'] }]),
      undefined,
    ],
    [
      'plain reader of a nullable writer',
      record('N', [{ name: 'p', type: ['null', 'double'] }]),
      record('N', [{ name: 'p', type: 'double' }]),
      'p',
    ],
    [
      'enum reader lacks a symbol',
      record('E', [{ name: 's', type: { type: 'enum', name: 'Side', symbols: ['BUY', 'SELL'] } }]),
      record('E', [{ name: 's', type: { type: 'enum', name: 'Side', symbols: ['BUY'] } }]),
      's',
    ],
  ];

  it.each(cases)('%s', (_label, writerSchema, readerSchema, problemPath) => {
    const writer = parse(writerSchema);
    const reader = parse(readerSchema);
    const problem = checkSchemaResolution(writer, reader);
    expect(problem?.path).toBe(problemPath);
    // Agrees with avsc's own resolver.
    const avscResolves = (() => {
      try {
        reader.createResolver(writer);
        return true;
      } catch {
        return false;
      }
    })();
    expect(avscResolves).toBe(problemPath === undefined);
  });

  it('lets a record be read by a union that contains it', () => {
    const catalog = SchemaCatalog.default();
    expect(checkSchemaResolution(catalog.type('OrderFilled'), catalog.type('OrderEvent'))).toBeUndefined();
    expect(checkSchemaResolution(catalog.type('Tick'), catalog.type('OrderEvent'))?.reason).toMatch(/no branch/);
  });
});
