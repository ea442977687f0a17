import { basename } from 'node:path';
import { avroContainer } from './avro-container.js';
import type { AuditProblem } from './audit-problem.js';
import { AuditFileReader } from './audit-file-reader.js';
import { decodeAuditBlock, type AuditRecordRef } from './decode-audit-block.js';

/** The record a file's chain continues from: the last record of the file before it, or seq 0 with the genesis hash. */
export interface AuditChainPoint {
  readonly seq: number;
  readonly hash: Buffer;
  /** Its file and block, for messages; absent for the start of a trail. */
  readonly file?: string;
  readonly blockOffset?: number;
}

/** What a full scan of one audit file found. */
export interface AuditFileScan {
  readonly path: string;
  /** Offset of the first block; `undefined` when the header is bad. */
  readonly headerEnd: number | undefined;
  readonly sync: Buffer | undefined;
  /** Records in the blocks that passed every check. */
  readonly records: number;
  /** Records that passed every check before the problem, some perhaps in the block that has it. */
  readonly intact: number;
  /** The last of those. */
  readonly lastIntact: AuditRecordRef | undefined;
  /** The first record that passed every check. */
  readonly first: AuditRecordRef | undefined;
  /** The last record of the last block that passed every check. */
  readonly last: AuditRecordRef | undefined;
  /** End of the last block that passed every check (the header's end when none did; 0 when the header is bad). */
  readonly goodEnd: number;
  readonly problem: AuditProblem | undefined;
  /**
   * True when the problem can be a torn write: it is one of framing,
   * decoding or a record's own hash (never a broken link between intact
   * records), and no complete, intact block follows it in the file.
   */
  readonly torn: boolean;
}

/** How far past a gap to look for the missing seq before calling it missing rather than reordered. */
const LOOKAHEAD_RECORDS = 10_000;

type Item =
  | { readonly kind: 'record'; readonly ref: AuditRecordRef; readonly index: number; readonly count: number; readonly blockEnd: number }
  | {
      readonly kind: 'bad';
      readonly problem: 'truncated' | 'corrupt';
      readonly offset: number;
      readonly detail: string;
      readonly seq: number | undefined;
    };

async function* itemsOf(reader: AuditFileReader, headerEnd: number, sync: Buffer): AsyncGenerator<Item> {
  for await (const block of reader.blocks(headerEnd, sync)) {
    if (block.kind !== 'block') {
      yield { kind: 'bad', problem: block.kind, offset: block.offset, detail: block.detail, seq: undefined };
      return;
    }
    const decoded = decodeAuditBlock(block.data, block.count, reader.path, block.offset);
    if (!decoded.ok) {
      yield { kind: 'bad', problem: 'corrupt', offset: block.offset, detail: decoded.detail, seq: decoded.seq };
      return;
    }
    for (let i = 0; i < decoded.records.length; i++)
      yield { kind: 'record', ref: decoded.records[i] as AuditRecordRef, index: i, count: block.count, blockEnd: block.end };
  }
}

/** Whether a complete block whose records decode, hash and link among themselves starts after a sync marker somewhere past `offset`. */
async function intactBlockAfter(reader: AuditFileReader, offset: number, sync: Buffer): Promise<boolean> {
  const chunk = 1 << 20;
  // Windows overlap by a marker's length less one, so that a marker across two windows is seen whole in the second.
  const step = chunk - (avroContainer.SYNC_SIZE - 1);
  for (let pos = offset + 1; pos < reader.size; pos += step) {
    const window = await reader.readAt(pos, chunk);
    // Bounded: each round moves past one occurrence of the marker.
    for (let from = 0, round = 0; round <= window.length; round++) {
      const at = window.indexOf(sync, from);
      if (at < 0) break;
      const start = pos + at + avroContainer.SYNC_SIZE;
      if (start < reader.size) {
        const blocks = reader.blocks(start, sync);
        const first = await blocks.next();
        await blocks.return(undefined);
        if (!first.done && first.value.kind === 'block') {
          const decoded = decodeAuditBlock(first.value.data, first.value.count, reader.path, start);
          if (
            decoded.ok &&
            decoded.records.every(
              (r, i, all) =>
                r.hashOk &&
                (i === 0 || (r.seq === (all[i - 1] as AuditRecordRef).seq + 1 && r.prevHash.equals((all[i - 1] as AuditRecordRef).hash))),
            )
          )
            return true;
        }
      }
      from = at + 1;
    }
    if (pos + window.length >= reader.size) break;
  }
  return false;
}

function after(ref: AuditChainPoint | AuditRecordRef, file: string): string {
  if (ref.seq === 0) return 'the start of the trail';
  return ref.file !== undefined && ref.file !== file ? `seq ${ref.seq} (the last record of ${basename(ref.file)})` : `seq ${ref.seq}`;
}

/**
 * Tells what is wrong at `r`, an intact record (its hash matches) that does
 * not continue the chain (`expected` with `prevHash` after `prev`), looking at
 * the records after it.
 */
async function classify(
  r: AuditRecordRef,
  expected: number,
  prevHash: Buffer,
  prev: AuditChainPoint | AuditRecordRef,
  pull: () => Promise<AuditRecordRef | undefined>,
): Promise<AuditProblem> {
  const at = { file: r.file, offset: r.blockOffset };
  if (r.seq === expected) {
    if (expected === 1) return { kind: 'altered', seq: 1, ...at, detail: 'its prev_hash is not the genesis hash (32 zero bytes)' };
    // Rewriting a record with a fresh hash of its own breaks the link of the next one: the rewritten record is most likely the one before.
    if (prev.file !== undefined && prev.blockOffset !== undefined) {
      return {
        kind: 'altered',
        seq: prev.seq,
        file: prev.file,
        offset: prev.blockOffset,
        detail: `its hash is not the prev_hash of seq ${r.seq}${r.file === prev.file ? '' : ` (in ${basename(r.file)})`}: it was rewritten with a recomputed hash (or seq ${r.seq}'s prev_hash was)`,
      };
    }
    return {
      kind: 'altered',
      seq: expected,
      ...at,
      detail: `its prev_hash does not match the hash of ${after(prev, r.file)}: one of the two was rewritten`,
    };
  }
  const next = await pull();
  if (next !== undefined && next.hashOk && next.seq === expected && next.prevHash.equals(prevHash)) {
    if (r.seq === expected + 1 && r.prevHash.equals(next.hash))
      return { kind: 'reordered', seq: expected, ...at, detail: `seq ${r.seq} comes before seq ${expected}` };
    return {
      kind: 'inserted',
      seq: r.seq,
      ...at,
      detail: `a record with seq ${r.seq} sits between seq ${expected - 1} and seq ${expected}, which link to each other`,
    };
  }
  if (r.seq < expected) {
    if (
      r.seq === prev.seq &&
      next !== undefined &&
      next.hashOk &&
      next.prevHash.equals(r.hash) &&
      prev.file !== undefined &&
      prev.blockOffset !== undefined
    ) {
      return {
        kind: 'inserted',
        seq: r.seq,
        file: prev.file,
        offset: prev.blockOffset,
        detail: `seq ${r.seq} appears twice and the chain continues from the second copy (block at byte ${r.blockOffset}), so the first is not part of it`,
      };
    }
    return { kind: 'inserted', seq: r.seq, ...at, detail: `seq ${r.seq} appears again after ${after(prev, r.file)}` };
  }
  let found = next?.seq === expected ? next : undefined;
  for (let i = 0; found === undefined && i < LOOKAHEAD_RECORDS; i++) {
    const later = await pull();
    if (later === undefined) break;
    if (later.seq === expected) found = later;
  }
  if (found !== undefined)
    return {
      kind: 'reordered',
      seq: expected,
      ...at,
      detail: `seq ${expected} comes after seq ${r.seq} (block at byte ${found.blockOffset})`,
    };
  const gap = r.seq - expected;
  return {
    kind: 'missing',
    seq: expected,
    ...at,
    detail: `seq ${r.seq} follows ${after(prev, r.file)}${gap > 1 ? ` (${gap} records missing: seq ${expected} to ${r.seq - 1})` : ''}`,
  };
}

/**
 * Reads one audit file completely and checks it: the container header and
 * every block's framing and sync marker, that every record decodes, that
 * each record's hash matches its contents, and that seq and prev_hash
 * continue the chain from `from` (or, without `from`, from the file's own
 * first record, taken as given). Stops at the first problem and says what
 * it is; `torn` tells whether it can be the tail of an interrupted write.
 * Memory stays at about one block.
 *
 * @example
 * ```ts
 * import { AuditTrailWriter } from './audit-trail-writer.js';
 * import { describeAuditProblem } from './describe-audit-problem.js';
 * // A small trail to read: two records of trading day 2025-01-03, one of 2025-01-06, so two files.
 * const trail = await AuditTrailWriter.open({ dir: 'out/audit', rotate: 'daily', maxFileBytes: 256 << 20, logger: ctx.logger });
 * for (const tsInit of [1_735_822_800_000_000, 1_735_822_800_000_001, 1_736_128_800_000_000]) await trail.append([{ tsInit, recordType: 'tickflow.Tick', payload: Buffer.from([1]) }]);
 * await trail.close();
 * const first = await scanAuditFile('out/audit/audit-000001-20250103.avro');
 * // The second file's chain continues from the first file's last record.
 * const scan = await scanAuditFile('out/audit/audit-000002-20250106.avro', first.lastIntact);
 * console.log(scan.problem === undefined ? `ok, ${scan.records} records` : describeAuditProblem(scan.problem));
 * // Logs: ok, 1 records
 * ```
 */
export async function scanAuditFile(path: string, from?: AuditChainPoint): Promise<AuditFileScan> {
  const reader = await AuditFileReader.open(path);
  try {
    const header = await reader.header();
    if (header.kind !== 'ok') {
      const detail = header.kind === 'incomplete' ? `the file ends inside its header (${reader.size} bytes)` : header.reason;
      const problem: AuditProblem = {
        kind: header.kind === 'incomplete' ? 'truncated' : 'corrupt',
        file: path,
        seq: from === undefined ? undefined : from.seq + 1,
        offset: 0,
        detail,
      };
      return {
        path,
        headerEnd: undefined,
        sync: undefined,
        records: 0,
        intact: 0,
        lastIntact: undefined,
        first: undefined,
        last: undefined,
        goodEnd: 0,
        problem,
        torn: header.kind === 'incomplete',
      };
    }
    const { end: headerEnd, sync } = header.header;
    const stream = itemsOf(reader, headerEnd, sync);
    const pull = async (): Promise<AuditRecordRef | undefined> => {
      const next = await stream.next();
      return next.done === true || next.value.kind !== 'record' ? undefined : next.value.ref;
    };
    let expected = from === undefined ? undefined : from.seq + 1;
    let prevHash = from?.hash;
    let prev: AuditChainPoint | AuditRecordRef | undefined = from;
    let first: AuditRecordRef | undefined;
    let last: AuditRecordRef | undefined;
    let records = 0;
    let intact = 0;
    let lastIntact: AuditRecordRef | undefined;
    let goodEnd = headerEnd;
    let problem: AuditProblem | undefined;
    let torn = false;
    // Bounded by the file: every item is a record of at least one byte, and the stream ends after the last block.
    for (let items = 0; items <= reader.size; items++) {
      const next = await stream.next();
      if (next.done === true) break;
      const item = next.value;
      if (item.kind === 'bad') {
        problem = { kind: item.problem, file: path, seq: item.seq ?? expected, offset: item.offset, detail: item.detail };
        torn = item.problem === 'truncated' || !(await intactBlockAfter(reader, item.offset, sync));
        break;
      }
      const r = item.ref;
      if (!r.hashOk) {
        problem = { kind: 'altered', file: path, seq: r.seq, offset: r.blockOffset, detail: 'its stored hash does not match its contents' };
        torn = !(await intactBlockAfter(reader, r.blockOffset, sync));
        break;
      }
      if (expected === undefined || prevHash === undefined || prev === undefined) {
        // A file checked on its own: its first record's place in the chain is taken as given.
        expected = r.seq;
        prevHash = r.prevHash;
        prev = { seq: r.seq - 1, hash: r.prevHash };
      }
      if (r.seq !== expected || !r.prevHash.equals(prevHash)) {
        problem = await classify(r, expected, prevHash, prev, pull);
        break;
      }
      first ??= r;
      intact++;
      lastIntact = r;
      expected++;
      prevHash = r.hash;
      prev = r;
      if (item.index === item.count - 1) {
        last = r;
        records += item.count;
        goodEnd = item.blockEnd;
      }
    }
    await stream.return(undefined);
    return { path, headerEnd, sync, records, intact, lastIntact, first, last, goodEnd, problem, torn };
  } finally {
    await reader.close();
  }
}
