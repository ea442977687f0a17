import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ConfigError } from '../errors/errors.js';
import { ControlAccess } from '../pipeline/runtime/control-access.js';

/** The environment variable with control tokens, comma-separated `principal:token` entries. */
export const CONTROL_TOKENS_ENV = 'TICKFLOW_CONTROL_TOKENS';
/** The environment variable naming a file of control tokens, one `principal:token` a line. */
export const CONTROL_TOKENS_FILE_ENV = 'TICKFLOW_CONTROL_TOKENS_FILE';
/** A token file is a few lines; anything larger is not one. */
const MAX_TOKEN_FILE_BYTES = 64 * 1024;

/**
 * Reads a small secret file whole, refusing one over `maxBytes` (so a device
 * or a huge file cannot exhaust memory). Warns through `warn` when others
 * than its owner may read it.
 *
 * @throws ConfigError naming the file when it cannot be read or is too large
 */
export function readSecretFile(path: string, what: string, warn: (message: string) => void, maxBytes = MAX_TOKEN_FILE_BYTES): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new ConfigError(`${what} ${path}`, [`cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`], {
      cause: error,
    });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new ConfigError(`${what} ${path}`, ['is not a regular file']);
    if ((stat.mode & 0o077) !== 0)
      warn(`${what} ${path} can be read by others than its owner (mode ${(stat.mode & 0o777).toString(8)}); chmod 600 it`);
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (let n = 1; n > 0 && length <= maxBytes; length += n) n = readSync(fd, buffer, length, buffer.length - length, null);
    if (length > maxBytes) throw new ConfigError(`${what} ${path}`, [`is larger than ${maxBytes} bytes; it should hold a few lines`]);
    return buffer.subarray(0, length).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

export interface ControlAccessFlags {
  /** `--control-tokens-file`, else the run config's `control_tokens_file`. */
  readonly tokensFile?: string;
  /** `--control-open`: no credential, loopback only. */
  readonly open?: boolean;
}

/**
 * Who may use a run's control endpoints, from (first that is set) the
 * `--control-tokens-file` flag or run config, `TICKFLOW_CONTROL_TOKENS_FILE`,
 * `TICKFLOW_CONTROL_TOKENS`; `--control-open` opts in to no credential (and
 * cannot be combined with tokens). Nothing set: the controls are off.
 */
export function loadControlAccess(flags: ControlAccessFlags, env: NodeJS.ProcessEnv, warn: (message: string) => void): ControlAccess {
  const file = flags.tokensFile ?? env[CONTROL_TOKENS_FILE_ENV];
  const inline = env[CONTROL_TOKENS_ENV];
  if (flags.open === true) {
    if (file !== undefined || inline !== undefined) {
      throw new ConfigError('--control-open', [
        `cannot be combined with control tokens (${file !== undefined ? 'a token file' : CONTROL_TOKENS_ENV}); choose one`,
      ]);
    }
    return ControlAccess.open();
  }
  if (file !== undefined && file !== '')
    return ControlAccess.tokens(readSecretFile(file, 'control token file', warn).split('\n'), `file ${file}`);
  if (inline !== undefined && inline !== '') return ControlAccess.tokens(inline.split(','), CONTROL_TOKENS_ENV);
  return ControlAccess.off();
}
