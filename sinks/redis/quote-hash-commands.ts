import type { ChainableCommander } from 'ioredis';
import { DiffQuoteFields } from '../../protocols/diff/diff-quote-fields.js';
import type { QuoteBook, QuoteValue } from '../../protocols/diff/quote-book.js';
import type { RedisKeys } from './redis-keys.js';

const DIFF_KEYS: readonly string[] = Object.values(DiffQuoteFields.keyOf);

/**
 * Builds the commands that keep an instrument's quote hash (and, when
 * `publish` is on, its channel) in step with the book: a patch of merged
 * changes, or a full rewrite that makes the hash right whatever it held.
 * Each method adds its commands to a pipeline and says how many.
 */
export class QuoteHashCommands {
  constructor(
    private readonly keys: RedisKeys,
    private readonly book: QuoteBook,
    private readonly publish: boolean,
  ) {}

  /** HSET of every set field, HDEL of every unset DIFF field, and the full quote published: the hash is right whatever it held. */
  rewrite(pipeline: ChainableCommander, id: string): number {
    const quote = this.book.quote(id);
    if (quote === undefined) return 0;
    const key = this.keys.quote(id);
    const sets: string[] = [key];
    for (const field in quote) sets.push(field, String(quote[field]));
    pipeline.call('HSET', sets);
    let count = 1;
    const deletes: string[] = [key];
    for (const field of DIFF_KEYS) if (!(field in quote)) deletes.push(field);
    if (deletes.length > 1) {
      pipeline.call('HDEL', deletes);
      count++;
    }
    if (this.publish) {
      pipeline.call('PUBLISH', [this.keys.quoteChannel(id), JSON.stringify(this.book.completeQuote(id))]);
      count++;
    }
    return count;
  }

  /** An instrument's changes of one batch, merged (null: unset): HSET of the fields set, HDEL of those unset, PUBLISH of the patch. */
  patch(pipeline: ChainableCommander, instrumentId: string, merged: Readonly<Record<string, QuoteValue | null>>): number {
    const key = this.keys.quote(instrumentId);
    let sets: string[] | undefined;
    let deletes: string[] | undefined;
    for (const field in merged) {
      const value = merged[field];
      if (value === null || value === undefined) (deletes ??= [key]).push(field);
      else (sets ??= [key]).push(field, String(value));
    }
    let count = 0;
    if (sets !== undefined) {
      pipeline.call('HSET', sets);
      count++;
    }
    if (deletes !== undefined) {
      pipeline.call('HDEL', deletes);
      count++;
    }
    if (this.publish) {
      pipeline.call('PUBLISH', [this.keys.quoteChannel(instrumentId), JSON.stringify(merged)]);
      count++;
    }
    return count;
  }
}
