import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeAddonError } from '../pipeline/errors.js';

/**
 * The absolute path of `native/build/Release` in the tickflow package, where
 * `npm run build` puts the addon and the simulated libraries. Found by walking
 * up from this file to the folder holding package.json, so it is the same
 * whether this runs from the sources (tsx, vitest) or from dist/native/.
 */
export function nativeBuildDir(): string {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start, depth = 0; depth < 16; depth++) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'native', 'build', 'Release');
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new NativeAddonError(`cannot find the tickflow package (a folder with package.json) above ${start}`, { context: { path: start } });
}
