import { open } from 'node:fs/promises';

/**
 * fsyncs a directory, so that files created, truncated, renamed or removed
 * in it stay so after a crash (a file's own fsync does not cover its
 * directory entry).
 *
 * @example
 * ```ts
 * import { mkdirSync, writeFileSync } from 'node:fs';
 * mkdirSync('out/audit', { recursive: true });
 * writeFileSync('out/audit/notes.txt', 'new entry\n');
 * await syncDirectory('out/audit'); // the new directory entry is now durable
 * console.log('synced');
 * // Logs: synced
 * ```
 */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
