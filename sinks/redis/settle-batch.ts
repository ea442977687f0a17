import type { OwedWrites } from './owed-writes.js';
import type { BatchPart, WriteBatch } from './write-batch.js';
import type { QuoteEntry, WriteEntry } from './write-entry.js';

/** `[error, reply]` per command, as ioredis resolves a pipeline; shorter (or empty) when the connection was lost. */
export type PipelineResults = readonly (readonly [Error | null, unknown])[];

/** What Redis's replies to one batch came to. */
export interface BatchSettlement {
  /** Commands Redis answered without an error. */
  readonly written: number;
  /** Some command's reply was lost with the connection. */
  readonly lost: boolean;
  /** Records dropped because Redis refused a command that carried them. */
  readonly refused: number;
  /** Records whose replies were lost, in the order they came: to go back in front of the queue. */
  readonly retry: readonly WriteEntry[];
}

/** An error Redis replied with (WRONGTYPE, OOM, …), as opposed to a lost connection: retrying the same command will not help. */
const isReplyError = (error: Error): boolean => error.name === 'ReplyError';

/**
 * Reads the replies to a batch part by part and acknowledges its records
 * in the order they came, whatever their port (the parts are grouped by
 * instrument, not by time), except those whose replies were lost, which it
 * returns for a retry. Updates `owed`: an announcement lost is owed again;
 * a hash whose write was lost is dirty (the book holds its changes already:
 * sent again they would change nothing, so a rewrite carries them); one
 * whose write Redis refused is stale (not retried: it would be refused
 * again on every batch). `onRefused` hears each part Redis refused.
 */
export function settleBatch(
  batch: WriteBatch,
  results: PipelineResults,
  owed: OwedWrites,
  onRefused: (part: BatchPart, error: Error) => void,
): BatchSettlement {
  let written = 0;
  let lost = false;
  let lostEntries: Set<WriteEntry> | undefined;
  /** Records of parts without a command (covered by a rewrite, or changing nothing): written with the batch, or lost with it. */
  let carried: QuoteEntry[] | undefined;
  let refused = 0;
  for (const part of batch.parts) {
    let error: Error | undefined;
    let connectionLost = false;
    for (let i = part.first; i < part.first + part.count; i++) {
      const result = results[i];
      if (result === undefined) connectionLost = true;
      else if (result[0] === null) written++;
      else if (isReplyError(result[0])) error ??= result[0];
      else connectionLost = true;
    }
    lost ||= connectionLost;
    if (error !== undefined) onRefused(part, error);
    switch (part.kind) {
      case 'announce':
        if (connectionLost) {
          for (const id of part.members) owed.unannounced.add(id);
          if (part.schema) owed.schemaStored = false;
        }
        break;
      case 'rewrite':
        if (connectionLost) owed.dirty.add(part.instrumentId);
        else if (error !== undefined) owed.refusedQuotes.add(part.instrumentId);
        else owed.refusedQuotes.delete(part.instrumentId);
        break;
      case 'quotes':
      case 'ticks':
        if (connectionLost) {
          lostEntries ??= new Set();
          for (const entry of part.entries) lostEntries.add(entry);
          if (part.kind === 'quotes' && part.count > 0) owed.dirty.add(part.instrumentId);
        } else if (error !== undefined) {
          refused += part.entries.length;
          if (part.kind === 'quotes') owed.refusedQuotes.add(part.instrumentId);
        } else if (part.kind === 'quotes' && part.count === 0) {
          (carried ??= []).push(...part.entries);
        }
        break;
    }
  }
  if (carried !== undefined && lost) for (const entry of carried) (lostEntries ??= new Set()).add(entry);
  const retry: WriteEntry[] = [];
  if (lostEntries === undefined) {
    for (const entry of batch.entries) entry.group.acknowledgeOne();
  } else {
    for (const entry of batch.entries) {
      if (lostEntries.has(entry)) retry.push(entry);
      else entry.group.acknowledgeOne();
    }
  }
  return { written, lost, refused, retry };
}
