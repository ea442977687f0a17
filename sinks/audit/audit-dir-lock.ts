import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tryLockExclusive } from '../../native/file-lock.js';
import { ResourceBusyError } from '../../errors/errors.js';

/** The lock file in an audit directory; its content is the holder's pid, for the refusal message only. */
export const AUDIT_LOCK_FILE = '.lock';

/** The one-writer lock of an audit directory, held until {@link release}. */
export interface AuditDirLock {
  readonly path: string;
  /** Closes the lock file, which ends the lock. Idempotent. */
  release(): void;
}

function holderPid(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the writer lock of an audit directory (creating both when missing):
 * an `flock` on `DIR/.lock`, which the kernel ends when this process closes
 * it or dies, so a crashed writer never blocks the next start. The file
 * holds the writer's pid, so a refused second writer can name it.
 *
 * @throws ResourceBusyError naming the directory and the holder's pid when another writer holds it
 */
export function lockAuditDir(dir: string, pid = process.pid): AuditDirLock {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, AUDIT_LOCK_FILE);
  const fd = openSync(path, 'a+');
  let locked = false;
  try {
    locked = tryLockExclusive(fd);
  } finally {
    if (!locked) closeSync(fd);
  }
  if (!locked) {
    const holder = holderPid(path);
    throw new ResourceBusyError(
      `audit directory ${dir} is in use by another writer${holder === undefined ? '' : ` (pid ${holder})`}; one process writes an audit directory at a time: stop that one, or give this run another 'dir'`,
      { holderPid: holder, context: { path: dir } },
    );
  }
  ftruncateSync(fd, 0);
  writeSync(fd, `${pid}\n`, 0);
  let open = true;
  return {
    path,
    release() {
      if (!open) return;
      open = false;
      closeSync(fd);
    },
  };
}
