import type { Type } from 'avsc';
import { SchemaCatalog } from '../../pipeline/schemas/schema-catalog.js';
import type { AuditRecord } from '../../schemas/generated.js';
import { AuditChain } from './audit-chain.js';

/** Where a record sits in the trail, and what it says about the chain. */
export interface AuditRecordRef {
  readonly seq: number;
  readonly hash: Buffer;
  readonly prevHash: Buffer;
  /** Path of its file. */
  readonly file: string;
  /** Offset of its block in the file. */
  readonly blockOffset: number;
  /** Whether its stored hash matches its contents. */
  readonly hashOk: boolean;
}

/** The records of a block, or why they cannot be read. */
export type DecodedBlock =
  | { readonly ok: true; readonly records: AuditRecordRef[] }
  | { readonly ok: false; readonly detail: string; readonly seq: number | undefined };

let auditType: Type | undefined;

/**
 * Decodes the `count` AuditRecords of a block's data and checks each
 * record's hash against its own bytes (not yet the links between records).
 * The block must hold exactly `count` records and nothing else.
 *
 * @example
 * ```ts
 * import { AuditTrailWriter } from './audit-trail-writer.js';
 * import { AuditFileReader } from './audit-file-reader.js';
 * // A small trail to read: three records of 2025-01-03.
 * const trail = await AuditTrailWriter.open({ dir: 'out/audit', rotate: 'daily', maxFileBytes: 256 << 20, logger: ctx.logger });
 * await trail.append([1, 2, 3].map((n) => ({ tsInit: 1_735_822_800_000_000 + n, recordType: 'tickflow.Tick', payload: Buffer.from([n]) })));
 * await trail.close();
 * const path = 'out/audit/audit-000001-20250103.avro';
 * const reader = await AuditFileReader.open(path);
 * const header = await reader.header();
 * if (header.kind === 'ok') {
 *   for await (const block of reader.blocks(header.header.end, header.header.sync)) {
 *     if (block.kind !== 'block') break;
 *     const decoded = decodeAuditBlock(block.data, block.count, path, block.offset);
 *     if (decoded.ok) console.log(decoded.records.map((r) => r.seq), decoded.records.every((r) => r.hashOk));
 *   }
 * }
 * await reader.close();
 * // Logs: [ 1, 2, 3 ] true
 * ```
 */
export function decodeAuditBlock(data: Buffer, count: number, file: string, blockOffset: number): DecodedBlock {
  auditType ??= SchemaCatalog.default().type('AuditRecord');
  const records: AuditRecordRef[] = [];
  let pos = 0;
  for (let i = 0; i < count; i++) {
    let decoded: { value: unknown; offset: number };
    try {
      decoded = auditType.decode(data, pos);
    } catch {
      decoded = { value: undefined, offset: -1 };
    }
    if (decoded.offset < 0 || decoded.offset > data.length) {
      return {
        ok: false,
        detail: `record ${i + 1} of the block's ${count} does not decode as an AuditRecord`,
        seq: records.at(-1) === undefined ? undefined : (records.at(-1) as AuditRecordRef).seq + 1,
      };
    }
    const value = decoded.value as AuditRecord;
    records.push({
      seq: value.seq,
      hash: value.hash,
      prevHash: value.prev_hash,
      file,
      blockOffset,
      hashOk: AuditChain.hashOf(data.subarray(pos, decoded.offset)).equals(value.hash),
    });
    pos = decoded.offset;
  }
  if (pos !== data.length)
    return { ok: false, detail: `the block holds ${data.length - pos} bytes after its ${count} records`, seq: records[0]?.seq };
  return { ok: true, records };
}
