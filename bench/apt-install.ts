import { execFileSync } from 'node:child_process';

/**
 * Installs a Debian package with apt-get (as root, as on the project's
 * machines and CI), for a test or benchmark that needs a real server or
 * browser: says in one line what it installs and why, then runs apt-get
 * quietly, showing apt-get's output only when it fails. Takes minutes on a
 * fresh machine; call it from a hook with a generous timeout.
 */
export function aptInstall(pkg: string, why: string): void {
  process.stderr.write(`tickflow: installing Debian's ${pkg} with apt-get (as root), ${why}\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const [args, timeout] of [
    [['-qq', 'update'], 5 * 60_000],
    [['-qq', 'install', '-y', '--no-install-recommends', pkg], 15 * 60_000],
  ] as const) {
    try {
      execFileSync('apt-get', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout, env, maxBuffer: 64 * 1024 * 1024 });
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
      throw new Error(
        `apt-get ${args.join(' ')} failed: ${(error as Error).message}\n${stdout?.toString() ?? ''}${stderr?.toString() ?? ''}`,
        { cause: error },
      );
    }
  }
}
