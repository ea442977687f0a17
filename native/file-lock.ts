import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { NativeAddonError } from '../errors/errors.js';
import { nativeBuildDir } from './native-build-dir.js';

interface FsAddon {
  tryLockExclusive(fd: number): boolean;
}

let addon: FsAddon | undefined;

function loadFsAddon(): FsAddon {
  if (addon !== undefined) return addon;
  const path = join(nativeBuildDir(), 'tickflow_fs.node');
  if (!existsSync(path))
    throw new NativeAddonError(`the file-lock addon is not built at ${path}; run \`npm run build\``, { context: { path } });
  addon = createRequire(import.meta.url)(path) as FsAddon;
  return addon;
}

/**
 * Takes the exclusive `flock(2)` lock of an open file descriptor without
 * waiting. The lock belongs to the descriptor's open file description and
 * ends when it is closed, by `fs.closeSync` or by the process dying, so a
 * crashed holder never leaves it stale; a second open of the same file, in
 * this process or another, does not get it.
 *
 * @returns true when the lock is now held, false when another holds it
 * @throws NativeAddonError when the addon is missing; an Error with `errno` on other failures
 */
export function tryLockExclusive(fd: number): boolean {
  return loadFsAddon().tryLockExclusive(fd);
}
