import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { AuditChain } from './audit-chain.js';
import type { AuditProblem } from './audit-problem.js';
import { listAuditFiles } from './list-audit-files.js';
import { scanAuditFile, type AuditChainPoint } from './scan-audit-file.js';

/** What `verifyAuditTrail` found: counts of what it checked, and the first problem if any. */
export interface AuditVerification {
  /** Files read, up to the one with the problem. */
  readonly files: number;
  /** Records that passed every check (before the problem, if any). */
  readonly records: number;
  readonly firstSeq: number | undefined;
  /** seq and hash of the last record that passed. */
  readonly lastSeq: number | undefined;
  readonly lastHash: Buffer | undefined;
  readonly problem: AuditProblem | undefined;
}

/**
 * Checks an audit trail completely: `path` is a directory (its files
 * `audit-NNNNNN-YYYYMMDD.avro` in index order, other files ignored) or one
 * file. Every file's container structure, every record's decoding and hash,
 * every prev_hash link and the continuity of seq, across files too, are
 * checked; the first problem stops the check. A directory's trail must
 * start at seq 1 from the genesis hash; a single file's first record is
 * taken as given. A record deleted from the very end of the trail cannot
 * be told from a trail that ended there: compare the last hash with one
 * kept elsewhere (the summary prints it).
 *
 * @throws Error when `path` cannot be read (missing, no permission).
 *
 * @example
 * ```ts
 * import { AuditTrailWriter } from './audit-trail-writer.js';
 * import { rmSync } from 'node:fs';
 * import { describeAuditProblem } from './describe-audit-problem.js';
 * // A small trail to read: two records of trading day 2025-01-03, one of 2025-01-06, so two files.
 * const trail = await AuditTrailWriter.open({ dir: 'out/audit', rotate: 'daily', maxFileBytes: 256 << 20, logger: ctx.logger });
 * for (const tsInit of [1_735_822_800_000_000, 1_735_822_800_000_001, 1_736_128_800_000_000]) await trail.append([{ tsInit, recordType: 'tickflow.Tick', payload: Buffer.from([1]) }]);
 * await trail.close();
 * const result = await verifyAuditTrail('out/audit');
 * console.log(result.problem === undefined ? `ok, ${result.records} records` : describeAuditProblem(result.problem));
 * rmSync('out/audit/audit-000001-20250103.avro'); // the trail now starts at seq 3
 * const broken = await verifyAuditTrail('out/audit');
 * console.log(broken.problem === undefined ? 'ok' : describeAuditProblem(broken.problem));
 * // Logs: ok, 3 records
 * // Logs: missing record: seq 1 in audit-000002-20250106.avro (block at byte 1068): seq 3 follows the start of the trail (2 records missing: seq 1 to 2)
 * ```
 */
export async function verifyAuditTrail(path: string): Promise<AuditVerification> {
  const isDirectory = (await stat(path)).isDirectory();
  const files = isDirectory ? (await listAuditFiles(path)).map((f) => f.path) : [path];
  let from: AuditChainPoint | undefined = isDirectory ? { seq: 0, hash: AuditChain.genesisHash() } : undefined;
  let records = 0;
  let firstSeq: number | undefined;
  let checked = 0;
  if (files.length === 0) {
    const problem: AuditProblem = {
      kind: 'missing',
      file: path,
      seq: 1,
      offset: 0,
      detail: `no audit files (audit-NNNNNN-YYYYMMDD.avro) in ${basename(path)}`,
    };
    return { files: 0, records: 0, firstSeq: undefined, lastSeq: undefined, lastHash: undefined, problem };
  }
  for (const file of files) {
    const scan = await scanAuditFile(file, from);
    checked++;
    records += scan.intact;
    firstSeq ??= scan.first?.seq;
    if (scan.lastIntact !== undefined) from = scan.lastIntact;
    if (scan.problem !== undefined)
      return {
        files: checked,
        records,
        firstSeq: records === 0 ? undefined : firstSeq,
        lastSeq: records === 0 ? undefined : from?.seq,
        lastHash: records === 0 ? undefined : from?.hash,
        problem: scan.problem,
      };
  }
  return {
    files: checked,
    records,
    firstSeq,
    lastSeq: records === 0 ? undefined : from?.seq,
    lastHash: records === 0 ? undefined : from?.hash,
    problem: undefined,
  };
}
