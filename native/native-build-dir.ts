import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeAddonError } from '../errors/errors.js';

/** Where a package carries the native parts built for one platform: `prebuilds/linux-x64/`. */
export const PREBUILDS_DIR = join('prebuilds', `${process.platform}-${process.arch}`);

/**
 * The folder holding the addons and the builds of the CTP simulator: the
 * package's own build (`native/build/Release`, made by `npm run build` or by
 * the install script), else the binaries the package ships for this
 * platform (`prebuilds/<platform>-<arch>/`, N-API, so any Node since 16
 * loads them). The package is found by walking up from this file to the
 * folder holding package.json, so it is the same from the sources (tsx,
 * vitest), from dist/native/, and installed in node_modules.
 */
export function nativeBuildDir(): string {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start, depth = 0; depth < 16; depth++) {
    if (existsSync(join(dir, 'package.json'))) {
      const built = join(dir, 'native', 'build', 'Release');
      const shipped = join(dir, PREBUILDS_DIR);
      return !existsSync(join(built, 'tickflow_ctp.node')) && existsSync(join(shipped, 'tickflow_ctp.node')) ? shipped : built;
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new NativeAddonError(`cannot find the tickflow package (a folder with package.json) above ${start}`, { context: { path: start } });
}
