import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where Debian's chromium package puts the browser. */
const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function run(command: string, args: readonly string[], timeoutMs: number): void {
  execFileSync(command, args, { cwd: ROOT, stdio: 'inherit', timeout: timeoutMs, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

/**
 * The path of a headless-capable Chromium for browser tests, installing
 * Debian's `chromium` package first where it is missing (apt-get, as root:
 * the project's machines and CI run as root); `playwright-core` drives it
 * and is a devDependency. The install takes minutes; call this from a hook
 * with a generous timeout.
 */
export function ensureChromium(): string {
  if (!existsSync(CHROMIUM)) {
    run('apt-get', ['update'], 5 * 60_000);
    run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], 15 * 60_000);
    if (!existsSync(CHROMIUM)) throw new Error(`apt-get install chromium did not provide ${CHROMIUM}`);
  }
  return CHROMIUM;
}
