import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { auditFileName } from './audit-file-name.js';

/** One file of an audit trail. */
export interface AuditFileEntry {
  readonly name: string;
  readonly path: string;
  readonly index: number;
  readonly day: string;
}

/**
 * The audit files of `dir` (names like `audit-000001-20250103.avro`), in
 * trail order: by index. Other files are ignored. Two files with the same
 * index are kept both, in name order, for the caller to reject.
 *
 * @example
 * ```ts
 * import { AuditTrailWriter } from './audit-trail-writer.js';
 * // A small trail to read: two records of trading day 2025-01-03, one of 2025-01-06, so two files.
 * const trail = await AuditTrailWriter.open({ dir: 'out/audit', rotate: 'daily', maxFileBytes: 256 << 20, logger: ctx.logger });
 * for (const tsInit of [1_735_822_800_000_000, 1_735_822_800_000_001, 1_736_128_800_000_000]) await trail.append([{ tsInit, recordType: 'tickflow.Tick', payload: Buffer.from([1]) }]);
 * await trail.close();
 * console.log((await listAuditFiles('out/audit')).map((f) => f.name));
 * // Logs: [ 'audit-000001-20250103.avro', 'audit-000002-20250106.avro' ]
 * ```
 */
export async function listAuditFiles(dir: string): Promise<AuditFileEntry[]> {
  const files: AuditFileEntry[] = [];
  for (const name of await readdir(dir)) {
    const parts = auditFileName.parse(name);
    if (parts !== undefined) files.push({ name, path: join(dir, name), ...parts });
  }
  return files.sort((a, b) => a.index - b.index || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
