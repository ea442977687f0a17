import { AuditFileReader } from './audit-file-reader.js';
import type { AuditProblem } from './audit-problem.js';
import { decodeAuditBlock, type AuditRecordRef } from './decode-audit-block.js';
import { scanAuditFile, type AuditChainPoint } from './scan-audit-file.js';

/** The first and last records of a finished audit file, or its first problem. */
export interface AuditFileEnds {
  readonly first: AuditRecordRef | undefined;
  readonly last: AuditRecordRef | undefined;
  readonly problem: AuditProblem | undefined;
}

/** The records of the complete block at `offset`, when it ends at `end` and its records are intact and linked to each other. */
async function intactBlock(reader: AuditFileReader, offset: number, sync: Buffer, end?: number): Promise<AuditRecordRef[] | undefined> {
  const blocks = reader.blocks(offset, sync);
  const read = await blocks.next();
  await blocks.return(undefined);
  if (read.done === true || read.value.kind !== 'block' || (end !== undefined && read.value.end !== end)) return undefined;
  const decoded = decodeAuditBlock(read.value.data, read.value.count, reader.path, offset);
  if (!decoded.ok) return undefined;
  const linked = decoded.records.every(
    (r, i, all) =>
      r.hashOk && (i === 0 || (r.seq === (all[i - 1] as AuditRecordRef).seq + 1 && r.prevHash.equals((all[i - 1] as AuditRecordRef).hash))),
  );
  return linked ? decoded.records : undefined;
}

/**
 * Checks a finished (not newest) audit file quickly, by its ends only: the
 * header, the first block, and the last block found from the end of the
 * file, which must end exactly with the sync marker; their records must be
 * intact and linked. Cost: a few reads, whatever the file's size. What lies
 * between is left to `tickflow audit verify`. When a check fails, the file
 * is scanned in full, so that the problem reported is the first one, with
 * its seq (counted on from `from`, the record before the file, when given).
 *
 * @example
 * ```ts
 * import { AuditTrailWriter } from './audit-trail-writer.js';
 * // A small trail to read: three records of 2025-01-03.
 * const trail = await AuditTrailWriter.open({ dir: 'out/audit', rotate: 'daily', maxFileBytes: 256 << 20, logger: ctx.logger });
 * await trail.append([1, 2, 3].map((n) => ({ tsInit: 1_735_822_800_000_000 + n, recordType: 'tickflow.Tick', payload: Buffer.from([n]) })));
 * await trail.close();
 * const ends = await readAuditFileEnds('out/audit/audit-000001-20250103.avro');
 * console.log(ends.first?.seq, ends.last?.seq);
 * // Logs: 1 3
 * ```
 */
export async function readAuditFileEnds(path: string, from?: AuditChainPoint): Promise<AuditFileEnds> {
  const reader = await AuditFileReader.open(path);
  let ends: AuditFileEnds | undefined;
  try {
    const header = await reader.header();
    if (header.kind === 'ok') {
      const { end: headerEnd, sync } = header.header;
      const lastOffset = await reader.lastBlockOffset(headerEnd, sync);
      const firstBlock = lastOffset === undefined ? undefined : await intactBlock(reader, headerEnd, sync);
      const lastBlock =
        lastOffset === undefined || firstBlock === undefined ? undefined : await intactBlock(reader, lastOffset, sync, reader.size);
      if (firstBlock !== undefined && lastBlock !== undefined) ends = { first: firstBlock[0], last: lastBlock.at(-1), problem: undefined };
    }
  } finally {
    await reader.close();
  }
  if (ends !== undefined) return ends;
  const scan = await scanAuditFile(path, from);
  return { first: scan.first, last: scan.last, problem: scan.problem };
}
