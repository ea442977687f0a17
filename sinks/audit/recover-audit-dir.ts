import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { AuditIntegrityError, StageError } from '../../errors/errors.js';
import { AuditChain } from './audit-chain.js';
import type { AuditProblem } from './audit-problem.js';
import { describeAuditProblem } from './describe-audit-problem.js';
import { listAuditFiles, type AuditFileEntry } from './list-audit-files.js';
import { readAuditFileEnds } from './read-audit-file-ends.js';
import { scanAuditFile, type AuditChainPoint, type AuditFileScan } from './scan-audit-file.js';
import { syncDirectory } from './sync-directory.js';

/** Where an audit trail ends after recovery: what the next record links to, and where it goes. */
export interface AuditRecovery {
  /** `seq` of the last record in the trail; 0 when it is empty. */
  readonly seq: number;
  /** Its hash; 32 zero bytes when the trail is empty. */
  readonly hash: Buffer;
  /** The newest file, to append to; `undefined` when the next record starts a new file. */
  readonly current:
    | {
        readonly path: string;
        readonly index: number;
        readonly day: string;
        readonly sync: Buffer;
        readonly end: number;
        readonly records: number;
      }
    | undefined;
  /** Index of the next new file. */
  readonly nextIndex: number;
  /** Torn tails cut (or torn files set aside) on the way. */
  readonly repairs: readonly {
    readonly file: string;
    readonly offset: number;
    readonly bytes: number;
    readonly savedAs: string | undefined;
  }[];
}

function refuse(problem: AuditProblem, dir: string): never {
  throw new AuditIntegrityError(
    `audit: refusing to start: ${describeAuditProblem(problem)}. That is not a crash (only the tail of the newest file can be torn); run 'tickflow audit verify ${dir}' and investigate; to run meanwhile, move the directory aside as evidence (mv ${dir} ${dir}.damaged) or give the audit stage another 'dir'`,
    {
      context: { component: 'audit', path: problem.file },
    },
  );
}

/** A name for the set-aside bytes of a torn tail that no earlier repair used. */
async function saveTornBytes(path: string, offset: number, bytes: Buffer): Promise<string> {
  // Bounded: a crash loop leaves at most a few copies per offset.
  for (let n = 0; n < 100; n++) {
    const name = `${path}.torn-${offset}${n === 0 ? '' : `.${n}`}`;
    try {
      const handle = await open(name, 'wx');
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return name;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new StageError(`audit: cannot find a free name to set aside the torn tail of ${path}`, { context: { component: 'audit', path } });
}

/** Cuts the torn tail of the newest file back to its last good block; sets the file aside or removes it when no record is left. */
async function cutTornTail(file: AuditFileEntry, scan: AuditFileScan, logger: Logger): Promise<AuditRecovery['repairs'][number]> {
  const problem = scan.problem as AuditProblem;
  const handle = await open(file.path, 'r+');
  let size: number;
  let savedAs: string | undefined;
  const keepsRecords = scan.records > 0;
  try {
    size = (await handle.stat()).size;
    if (keepsRecords) {
      const tail = Buffer.alloc(size - scan.goodEnd);
      await handle.read(tail, 0, tail.length, scan.goodEnd);
      // Kept aside, not just dropped: a torn write looks like tampering with the last block, and evidence is not ours to destroy.
      savedAs = await saveTornBytes(file.path, scan.goodEnd, tail);
      await handle.truncate(scan.goodEnd);
      await handle.sync();
    }
  } finally {
    await handle.close();
  }
  if (!keepsRecords) {
    // No complete record: the file is only a torn header or header and torn block. A header alone is nothing to keep.
    if (size > (scan.headerEnd ?? 0)) {
      savedAs = `${file.path}.torn-0`;
      await rename(file.path, savedAs);
    } else {
      await unlink(file.path);
    }
  }
  await syncDirectory(dirname(file.path));
  const cut = keepsRecords ? size - scan.goodEnd : size;
  logger.warn(
    {
      file: file.name,
      offset: keepsRecords ? scan.goodEnd : 0,
      bytes: cut,
      last_good_seq: scan.last?.seq,
      problem: describeAuditProblem(problem),
      saved_as: savedAs === undefined ? undefined : basename(savedAs),
    },
    keepsRecords
      ? `audit: cut a torn tail of ${cut} bytes from ${file.name} after seq ${scan.last?.seq} (${problem.detail}); the chain continues from there`
      : `audit: ${file.name} held no complete record (${problem.detail}); ${savedAs === undefined ? 'removed it' : `set it aside as ${basename(savedAs)}`}`,
  );
  return { file: file.path, offset: keepsRecords ? scan.goodEnd : 0, bytes: cut, savedAs };
}

/**
 * Finds where the audit trail in `dir` ends, repairing a crash and refusing
 * tampering, before the audit sink appends to it.
 *
 * - Files are taken in index order; an index missing in between refuses.
 * - Every file but the newest was finished before the next one was created,
 *   so it must be whole. Each is checked by its ends (header, first and
 *   last block, see `readAuditFileEnds`) and its link to the file before:
 *   any damage refuses to start, naming file and seq.
 * - The newest file is scanned in full. A problem that can be a torn write
 *   (framing, decoding or a record's own hash, with no intact block after
 *   it) is cut back to the end of the last good block: the cut bytes are
 *   set aside as `NAME.torn-OFFSET`, the file is truncated and fsynced, the
 *   directory fsynced, and a warning says what was cut. A file left without
 *   records is removed (or set aside when it held bytes past its header).
 *   Any other problem refuses.
 * - The chain then continues from the last good record.
 *
 * @example
 * ```ts
 * import { AuditTrailWriter } from './audit-trail-writer.js';
 * // A small trail to read: two records of trading day 2025-01-03, one of 2025-01-06, so two files.
 * const trail = await AuditTrailWriter.open({ dir: 'out/audit', rotate: 'daily', maxFileBytes: 256 << 20, logger: ctx.logger });
 * for (const tsInit of [1_735_822_800_000_000, 1_735_822_800_000_001, 1_736_128_800_000_000]) await trail.append([{ tsInit, recordType: 'tickflow.Tick', payload: Buffer.from([1]) }]);
 * await trail.close();
 * const end = await recoverAuditDir('out/audit', ctx.logger);
 * console.log(end.seq, end.current?.path, end.repairs.length);
 * // Logs: 3 out/audit/audit-000002-20250106.avro 0
 * ```
 */
export async function recoverAuditDir(dir: string, logger: Logger): Promise<AuditRecovery> {
  await mkdir(dir, { recursive: true });
  const files = await listAuditFiles(dir);
  const empty = { seq: 0, hash: AuditChain.genesisHash(), current: undefined, nextIndex: 1, repairs: [] };
  const newest = files.at(-1);
  if (newest === undefined) return empty;
  for (let i = 1; i < files.length; i++) {
    const [before, file] = [files[i - 1] as AuditFileEntry, files[i] as AuditFileEntry];
    if (file.index !== before.index + 1) {
      const detail =
        file.index === before.index
          ? `two files have index ${file.index} (${before.name} and ${file.name})`
          : `the file with index ${before.index + 1} is missing between ${before.name} and ${file.name}`;
      refuse({ kind: 'missing', file: file.path, seq: undefined, offset: 0, detail }, dir);
    }
  }
  // A trail that starts with file 1 starts with seq 1; one whose early files were archived starts where its first file says.
  let prev: AuditChainPoint | undefined = (files[0] as AuditFileEntry).index === 1 ? { seq: 0, hash: AuditChain.genesisHash() } : undefined;
  for (const file of files.slice(0, -1)) {
    const ends = await readAuditFileEnds(file.path, prev);
    if (ends.problem !== undefined) refuse(ends.problem, dir);
    if (ends.first === undefined || ends.last === undefined)
      refuse(
        {
          kind: 'corrupt',
          file: file.path,
          seq: prev === undefined ? undefined : prev.seq + 1,
          offset: 0,
          detail: 'a finished file holds no records',
        },
        dir,
      );
    if (prev !== undefined && (ends.first.seq !== prev.seq + 1 || !ends.first.prevHash.equals(prev.hash))) {
      // The link is broken; a full scan from the previous file's end says how, naming the seq.
      const scan = await scanAuditFile(file.path, prev);
      refuse(
        scan.problem ?? {
          kind: 'altered',
          file: file.path,
          seq: ends.first.seq,
          offset: 0,
          detail: `it does not continue the chain after seq ${prev.seq}`,
        },
        dir,
      );
    }
    prev = ends.last;
  }

  const scan = await scanAuditFile(newest.path, prev);
  const repairs: AuditRecovery['repairs'][number][] = [];
  if (scan.problem !== undefined) {
    if (!scan.torn) refuse(scan.problem, dir);
    repairs.push(await cutTornTail(newest, scan, logger));
  } else if (scan.records === 0) {
    // A header without records (written by something other than this sink, which writes the header with the first block).
    await unlink(newest.path);
    await syncDirectory(dir);
  }
  const last = scan.last ?? prev;
  const current =
    scan.records > 0 && scan.sync !== undefined
      ? { path: newest.path, index: newest.index, day: newest.day, sync: scan.sync, end: scan.goodEnd, records: scan.records }
      : undefined;
  return {
    seq: last?.seq ?? 0,
    hash: last?.hash ?? AuditChain.genesisHash(),
    current,
    nextIndex: current === undefined ? newest.index : newest.index + 1,
    repairs,
  };
}
