import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { rabinFingerprint } from '../../pipeline/schemas/rabin-fingerprint.js';

/** Canonical forms and their CRC-64-AVRO fingerprints (signed), as the Avro project publishes them (share/test/data/schema-tests.txt). */
const AVRO_VECTORS: readonly [string, bigint][] = [
  ['"null"', 7195948357588979594n],
  ['"boolean"', -6970731678124411036n],
  ['"int"', 8247732601305521295n],
  ['"long"', -3434872931120570953n],
  ['{"name":"foo","type":"fixed","size":15}', 1756455273707447556n],
  ['{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"}]}', 7843277075252814651n],
];

describe('rabinFingerprint', () => {
  it("gives the Avro specification's published fingerprints, as 8 little-endian bytes", () => {
    for (const [canonical, expected] of AVRO_VECTORS) {
      const bytes = rabinFingerprint(canonical);
      expect(bytes, canonical).toHaveLength(8);
      expect(bytes.readBigInt64LE(0), canonical).toBe(expected);
    }
  });

  it("is given a schema's Parsing Canonical Form by avsc's schema(), which drops docs and defaults and orders the attributes", () => {
    const written = {
      type: 'record',
      name: 'foo',
      doc: 'a record',
      fields: [{ name: 'f1', doc: 'a flag', type: 'boolean', default: true }],
    };
    const canonical = JSON.stringify(avro.Type.forSchema(written as avro.Schema).schema());
    expect(canonical).toBe('{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"}]}');
    expect(rabinFingerprint(canonical).readBigInt64LE(0)).toBe(7843277075252814651n);
  });
});
