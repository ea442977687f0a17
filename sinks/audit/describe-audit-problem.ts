import { basename } from 'node:path';
import type { AuditProblem } from './audit-problem.js';

const LABELS: Readonly<Record<AuditProblem['kind'], string>> = {
  missing: 'missing record',
  altered: 'altered record',
  reordered: 'reordered records',
  inserted: 'inserted record',
  truncated: 'truncated file',
  corrupt: 'corrupt file',
};

/**
 * One line naming the kind of problem, the seq and the file:
 *
 * @example
 * ```ts
 * console.log(describeAuditProblem({ kind: 'missing', file: 'out/audit/audit-000002-20250103.avro', seq: 57, offset: 1880, detail: 'seq 58 follows seq 56' }));
 * // Logs: missing record: seq 57 in audit-000002-20250103.avro (block at byte 1880): seq 58 follows seq 56
 * ```
 */
export function describeAuditProblem(problem: AuditProblem): string {
  const seq = problem.seq === undefined ? '' : `seq ${problem.seq} `;
  const where = problem.offset === 0 ? 'header' : `block at byte ${problem.offset}`;
  return `${LABELS[problem.kind]}: ${seq}in ${basename(problem.file)} (${where}): ${problem.detail}`;
}
