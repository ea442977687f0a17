import { existsSync } from 'node:fs';
import { aptInstall } from '../../bench/apt-install.js';

/** Where Debian's chromium package puts the browser. */
const CHROMIUM = '/usr/bin/chromium';

/**
 * The path of a headless-capable Chromium for browser tests, installing
 * Debian's `chromium` package first where it is missing (apt-get, as root:
 * the project's machines and CI run as root); `playwright-core` drives it
 * and is a devDependency. The install takes minutes; call this from a hook
 * with a generous timeout.
 */
export function ensureChromium(): string {
  if (!existsSync(CHROMIUM)) {
    aptInstall('chromium', `for the live page's browser tests; ${CHROMIUM} is missing`);
    if (!existsSync(CHROMIUM)) throw new Error(`apt-get install chromium did not provide ${CHROMIUM}`);
  }
  return CHROMIUM;
}
