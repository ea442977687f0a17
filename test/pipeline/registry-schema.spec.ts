import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { registrySchema } from '../../pipeline/schemas/registry-schema.js';
import { SchemaCatalog } from '../../pipeline/schemas/schema-catalog.js';
import { avroSchemaFiles } from '../../schemas/generated.js';

describe('registrySchema', () => {
  const records = avroSchemaFiles.filter((file) => (file.schema as { type: string }).type === 'record');

  it('gives every record schema of schemas/ as one self-contained text, the same schema as the catalog’s, under its full name', () => {
    expect(records.length).toBeGreaterThanOrEqual(19);
    const catalog = SchemaCatalog.default();
    for (const file of records) {
      const { subject, text } = registrySchema(file.name);
      expect(subject).toBe(`tickflow.${file.name}`);
      // Parsed alone, with no other file: every named type it uses is in it.
      const alone = avro.Type.forSchema(JSON.parse(text) as avro.Schema);
      expect(alone.fingerprint().toString('hex'), file.name).toBe(
        catalog
          .type(file.name as 'Tick')
          .fingerprint()
          .toString('hex'),
      );
    }
  });

  it('keeps what the file says (docs, logical types, attributes) and defines a named type from another file once, where first used', () => {
    const { text } = registrySchema('OrderDenied');
    expect(text).toContain('"logicalType":"timestamp-micros"');
    expect(text).toContain('"tickflow.id":"InstrumentId"');
    expect(text.match(/"name":"DenialReason"/g)).toHaveLength(1);
    expect(registrySchema('OrderDenied').text).toBe(text);
  });

  it('names what it has when asked for a schema it does not', () => {
    expect(() => registrySchema('Nope')).toThrow(/no schema Nope among AuditRecord, Bar/);
  });
});
