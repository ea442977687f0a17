/**
 * What is wrong with an audit trail, from the reader's point of view:
 * - `missing`: a seq is absent (the chain skips from n - 1 to a later seq);
 * - `altered`: a record's stored hash does not match its contents, or its
 *   `prev_hash` does not match the record before it (that one was rewritten);
 * - `reordered`: records are present but out of order;
 * - `inserted`: a record that is not part of the chain (a duplicate seq, or
 *   one the next record's `prev_hash` skips);
 * - `truncated`: a file ends inside its header or a block (a torn write);
 * - `corrupt`: the container structure is broken (magic, schema, block
 *   framing, sync marker) or a record does not decode.
 */
export type AuditProblemKind = 'missing' | 'altered' | 'reordered' | 'inserted' | 'truncated' | 'corrupt';

/** The first problem found in an audit trail. */
export interface AuditProblem {
  readonly kind: AuditProblemKind;
  /** Path of the file the problem is in. */
  readonly file: string;
  /** The seq it concerns; `undefined` when no seq can be told (a file whose header is broken and whose chain position is unknown). */
  readonly seq: number | undefined;
  /** Byte offset in `file` of the block (or header, 0) where it was found. */
  readonly offset: number;
  /** One sentence on what was found. */
  readonly detail: string;
}
