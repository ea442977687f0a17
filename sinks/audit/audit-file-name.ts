const PATTERN = /^audit-(\d{6,})-(\d{8})\.avro$/;

/** What an audit file's name says: its place in the trail and the day of its first record. */
export interface AuditFileNameParts {
  /** 1 for the first file of a trail, then one more per rotation. */
  readonly index: number;
  /** YYYYMMDD: the trading day of the file's first record. */
  readonly day: string;
}

/**
 * Names of audit files: `audit-000001-20250103.avro`. The index is
 * zero-padded to six digits so that names sort in trail order in a listing;
 * past 999,999 files it grows a digit, and tickflow itself always orders by
 * the parsed index, never by the name.
 *
 * @example
 * ```ts
 * console.log(auditFileName.format(1, '20250103'), auditFileName.parse('audit-000012-20250106.avro'));
 * // Logs: audit-000001-20250103.avro { index: 12, day: '20250106' }
 * ```
 */
export const auditFileName = {
  format(index: number, day: string): string {
    return `audit-${String(index).padStart(6, '0')}-${day}.avro`;
  },
  /** The parts of an audit file name, or `undefined` for any other name (torn-tail copies, stray files). */
  parse(name: string): AuditFileNameParts | undefined {
    const match = PATTERN.exec(name);
    if (match === null) return undefined;
    return { index: Number(match[1]), day: match[2] as string };
  },
} as const;
