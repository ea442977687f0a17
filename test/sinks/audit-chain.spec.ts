import { createHash } from 'node:crypto';
import avro from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TradingSessions } from '../../domain/trading-sessions.js';
import { AuditChain } from '../../sinks/audit/audit-chain.js';
import { auditFileName } from '../../sinks/audit/audit-file-name.js';
import { auditTradingDay } from '../../sinks/audit/audit-trading-day.js';
import { avroContainer } from '../../sinks/audit/avro-container.js';
import { AuditFileWriter } from '../../sinks/audit/audit-file-writer.js';
import { auditType, tickEntries } from '../support/audit-harness.js';

/** The five hashed fields as their own Avro record: the hash definition, spelled out independently of the writer. */
const hashedFields = avro.Type.forSchema({
  type: 'record',
  name: 'Hashed',
  fields: [
    { name: 'seq', type: 'long' },
    { name: 'ts_init', type: 'long' },
    { name: 'record_type', type: 'string' },
    { name: 'payload', type: 'bytes' },
    { name: 'prev_hash', type: { type: 'fixed', name: 'H', size: 32 } },
  ],
});

describe('avroContainer', () => {
  it('encodes longs exactly as avsc does, up to ±2^52 (seq and µs timestamps stay far below)', () => {
    const long = avro.Type.forSchema('long');
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 52), max: 2 ** 52 - 1 }), (n) => {
        const buf = Buffer.alloc(10);
        const end = avroContainer.writeLong(buf, 0, n);
        expect(buf.subarray(0, end)).toEqual(long.toBuffer(n));
        expect(avroContainer.longSize(n)).toBe(end);
        expect(avroContainer.readLong(buf, 0)).toEqual([n, end]);
      }),
      { numRuns: 500 },
    );
  });

  it('reads an incomplete varint as undefined and an overlong one as NaN', () => {
    expect(avroContainer.readLong(Buffer.from([0x80, 0x80]), 0)).toBeUndefined();
    expect(avroContainer.readLong(Buffer.alloc(11, 0xff), 0)?.[0]).toBeNaN();
  });

  it('writes a header avsc can read, and reads it back; a cut header is incomplete, another file invalid', () => {
    const sync = Buffer.alloc(16, 7);
    const header = avroContainer.encodeHeader(AuditFileWriter.headerMeta(), sync);
    const read = avroContainer.decodeHeader(header);
    expect(read).toMatchObject({ kind: 'ok', header: { end: header.length, sync } });
    if (read.kind !== 'ok') return;
    expect(read.header.meta.get('avro.codec')?.toString()).toBe('null');
    expect(avro.Type.forSchema(JSON.parse(String(read.header.meta.get('avro.schema'))) as avro.Schema).fingerprint()).toEqual(
      auditType.fingerprint(),
    );
    expect(avroContainer.decodeHeader(header.subarray(0, header.length - 1)).kind).toBe('incomplete');
    expect(avroContainer.decodeHeader(header.subarray(0, 2)).kind).toBe('incomplete');
    expect(avroContainer.decodeHeader(Buffer.from('PK\x03\x04 not avro')).kind).toBe('invalid');
  });
});

describe('AuditChain', () => {
  it('encodes AuditRecords byte for byte as avsc does, seq from 1, prev_hash from the genesis hash', () => {
    const chain = new AuditChain();
    const { bytes, records } = chain.encode(tickEntries(1, 3));
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(records[0]?.prev_hash).toEqual(Buffer.alloc(32));
    expect(bytes).toEqual(Buffer.concat(records.map((r) => auditType.toBuffer(r))));
    expect(chain.lastSeq).toBe(3);
    expect(chain.lastHash).toEqual(records[2]?.hash);
  });

  it('hashes SHA-256 over the Avro encoding of seq, ts_init, record_type, payload, prev_hash, and links each record to the one before', () => {
    const { records } = new AuditChain().encode(tickEntries(1, 5));
    for (const [i, r] of records.entries()) {
      const expected = createHash('sha256')
        .update(
          hashedFields.toBuffer({ seq: r.seq, ts_init: r.ts_init, record_type: r.record_type, payload: r.payload, prev_hash: r.prev_hash }),
        )
        .digest();
      expect(r.hash).toEqual(expected);
      expect(AuditChain.hashOf(auditType.toBuffer(r))).toEqual(expected);
      if (i > 0) expect(r.prev_hash).toEqual(records[i - 1]?.hash);
    }
  });

  it('continues a chain from a given seq and hash, and the same entries give the same hashes', () => {
    const first = new AuditChain();
    first.encode(tickEntries(1, 10));
    const whole = first.encode(tickEntries(11, 12)).records;
    const split = new AuditChain();
    split.encode(tickEntries(1, 10));
    const resumed = new AuditChain(split.lastSeq, Buffer.from(split.lastHash)).encode(tickEntries(11, 12)).records;
    expect(resumed.map((r) => [r.seq, r.hash.toString('hex')])).toEqual(whole.map((r) => [r.seq, r.hash.toString('hex')]));
  });

  it('changes the hash when any hashed field changes', () => {
    const [entry] = tickEntries(1, 1);
    if (entry === undefined) throw new Error('no entry');
    const base = new AuditChain().encode([entry]).records[0]?.hash;
    const variants = [
      new AuditChain(1).encode([entry]).records[0]?.hash,
      new AuditChain().encode([{ ...entry, tsInit: entry.tsInit + 1 }]).records[0]?.hash,
      new AuditChain().encode([{ ...entry, recordType: 'tickflow.Bar' }]).records[0]?.hash,
      new AuditChain().encode([{ ...entry, payload: Buffer.concat([entry.payload, Buffer.from([0])]) }]).records[0]?.hash,
      new AuditChain(0, Buffer.alloc(32, 1)).encode([entry]).records[0]?.hash,
    ];
    for (const v of variants) expect(v).not.toEqual(base);
  });
});

describe('auditFileName', () => {
  it('formats names that sort in trail order and parses them back; other names are not audit files', () => {
    const names = [1, 2, 10, 999_999].map((i) => auditFileName.format(i, '20250103'));
    expect(names[0]).toBe('audit-000001-20250103.avro');
    expect([...names].sort()).toEqual(names);
    expect(auditFileName.parse('audit-000012-20250106.avro')).toEqual({ index: 12, day: '20250106' });
    expect(auditFileName.parse('audit-000012-20250106.avro.torn-100')).toBeUndefined();
    expect(auditFileName.parse('notes.avro')).toBeUndefined();
  });
});

describe('auditTradingDay', () => {
  it('is the trading day of TradingSessions: 18:00 cut-off, weekends to Monday', () => {
    const at = (iso: string): number => Date.parse(iso) * 1000;
    expect(auditTradingDay(at('2025-01-02T17:59:59+08:00'))).toBe('20250102');
    expect(auditTradingDay(at('2025-01-02T21:00:00+08:00'))).toBe('20250103');
    expect(auditTradingDay(at('2025-01-03T21:30:00+08:00'))).toBe('20250106');
    expect(auditTradingDay(at('2025-01-04T01:00:00+08:00'))).toBe('20250106');
    const sessions = new TradingSessions();
    fc.assert(
      fc.property(fc.integer({ min: at('2024-01-01T00:00:00Z'), max: at('2026-12-31T00:00:00Z') }), (ts) => {
        expect(auditTradingDay(ts)).toBe(sessions.tradingDay('SHFE.rb2501', ts));
      }),
      { numRuns: 2000 },
    );
  });
});
