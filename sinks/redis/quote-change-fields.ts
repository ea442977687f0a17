import { DiffQuoteFields } from '../../protocols/diff/diff-quote-fields.js';
import { GeneratedFunction } from '../../pipeline/schemas/generated-function.js';

/** A QuoteDiff's `changes`: Tick field names, a value or null (unset). */
type Changes = Readonly<Record<string, null | number | string | undefined>>;

/** Changes of several QuoteDiffs merged: every quote field present, `undefined` where none of them carried it. */
export type MergedChanges = Record<string, null | number | string | undefined>;

/** The quote fields (Tick names): the only keys of `changes` the book reads; our own constants, never input. */
const FIELDS = Object.keys(DiffQuoteFields.keyOf);

function generate<T>(body: (field: string) => string, prelude: string, end: string): T {
  return new GeneratedFunction().build<T>(`return function (c, r) {\n${prelude}\n${FIELDS.map(body).join('\n')}\n${end}\n};`);
}

/**
 * Straight-line code over the quote fields for the `redis` sink's hot path,
 * generated once: a `for…in` over a QuoteDiff's `changes` (a fresh object
 * of one of many shapes per record) took about 1.4 µs for a sim tick's
 * changes under load, keyed loads and stores into a growing object each;
 * one named load per field is several times cheaper, and the merged run
 * keeps one hidden class. Keys that are not quote fields are skipped: the
 * book ignores them.
 */
export const quoteChangeFields = {
  /** How many quote fields `changes` carries (for the buffer's estimate of bytes). */
  count: generate<(changes: Changes) => number>((f) => `if (c.${f} !== undefined) n++;`, 'let n = 0;', 'return n;'),
  /** A run to merge changes into: every quote field `undefined`. */
  emptyRun: generate<() => MergedChanges>(() => '', '', `return {${FIELDS.map((f) => `${f}: undefined`).join(', ')}};`),
  /** Merges `changes` into `run`: each field it carries at its value (null included). */
  merge: generate<(changes: Changes, run: MergedChanges) => void>((f) => `{ const v = c.${f}; if (v !== undefined) r.${f} = v; }`, '', ''),
  /** The changes a run holds, as a QuoteDiff carries them: only the fields set (to a value or null). */
  changesOf: generate<(run: MergedChanges) => Record<string, null | number | string>>(
    (f) => `if (c.${f} !== undefined) o.${f} = c.${f};`,
    'const o = {};',
    'return o;',
  ),
} as const;
