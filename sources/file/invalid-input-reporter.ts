import type { Logger } from 'pino';
import type { StageMetrics } from '../../pipeline/runtime/stage-metrics.js';

/** Where in a file skipped input was: a line of an NDJSON file, a record (1-based, counting every record) or a byte offset of an Avro container file. */
export type InputPosition = { readonly line: number } | { readonly record: number } | { readonly byte: number };

/** Reasons are cut to this length: a parser's message may quote a whole line. */
const MAX_REASON = 200;

/** Where skipped input goes besides the count and the log: the stage's dead letters (`ctx.deadLetter`). */
export type DeadLetterWriter = (letter: {
  readonly origin: string;
  readonly schema: string;
  readonly reason: string;
  readonly payload: unknown;
}) => void;

/** Skipped records are logged one by one at first, then every thousandth, so a broken file cannot flood the log; damage that is not one record (a block, or bytes of unknown records) always is. */
const shouldLog = (total: number, count: number): boolean => count !== 1 || total <= 10 || total % 1000 === 0;

/** A position as a dead letter's origin names it: `file:line`, `file record N`, `file byte N`. */
function originOf(file: string, position: InputPosition): string {
  return 'line' in position
    ? `${file}:${position.line}`
    : 'record' in position
      ? `${file} record ${position.record}`
      : `${file} byte ${position.byte}`;
}

/**
 * Counts and logs input of a replayed file that is not replayed: every
 * skipped record counts in the stage's `dropped{reason="invalid"}`, is
 * sent to the dead letters (schema Tick, origin `file:line` or
 * `file record N`, with the line or record when there is one), and is
 * logged with its file, position and reason (the first ten, then every
 * thousandth; damage beyond one record, such as a corrupt block, always).
 */
export class InvalidInputReporter {
  private count = 0;

  constructor(
    private readonly logger: Logger,
    private readonly metrics: StageMetrics,
    private readonly deadLetter?: DeadLetterWriter,
  ) {}

  /** Records skipped so far. */
  get total(): number {
    return this.count;
  }

  /**
   * Reports `count` records skipped at `position` of `file` (0 for a problem
   * that loses no record, which is only logged); `payload` is the skipped
   * line or record when there is one (a line is kept as text, cut in the letter).
   */
  report(file: string, position: InputPosition, reason: string, count = 1, payload: unknown = null): void {
    this.count += count;
    if (reason.length > MAX_REASON) reason = `${reason.slice(0, MAX_REASON)}…`;
    if (count > 0) {
      this.metrics.dropped('invalid', count);
      this.deadLetter?.({
        origin: originOf(file, position),
        schema: 'Tick',
        reason: count === 1 ? reason : `${reason} (${count} records)`,
        payload,
      });
    }
    if (!shouldLog(this.count, count)) return;
    const where =
      'line' in position ? `line ${position.line}` : 'record' in position ? `record ${position.record}` : `byte ${position.byte}`;
    const what = count <= 1 ? '' : ` (${count} records)`;
    this.logger.warn(
      { file, ...position, reason, skipped: count, invalid: this.count },
      `skipped invalid input at ${file} ${where}${what}: ${reason}`,
    );
  }
}
