import { closeSync, openSync, readSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { valueNestingDepth } from '../../protocols/json/parse-bounded-json.js';
import { ConfigError } from '../../errors/errors.js';
import { cutText, MAX_QUOTED_CHARS } from './quote-value.js';

/**
 * Limits on the files a user hands tickflow: pipeline definition files
 * (`tickflow lint`, `tickflow run FILE`) and run config files (`--config`).
 * Each is named in its error and in the README.
 */

/** Largest definition or config file: 1 MiB. A longer one (or `/dev/zero`, or a pipe that never ends) is refused after reading one byte more. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

/** Most stages in a definition file, and most stages a run config file configures. */
export const MAX_STAGES = 500;

/** Deepest nesting of lists and mappings in one config value (a scalar is depth 0, `[1]` depth 1). */
export const MAX_VALUE_DEPTH = 32;

/**
 * Most alias expansions the YAML parser makes (its `maxAliasCount`): a few
 * aliases of aliases of lists ("billion laughs") would otherwise build a
 * value exponentially larger than the file.
 */
export const YAML_MAX_ALIAS_COUNT = 100;

/** Longest stage id in a definition or config file, so that every message naming a stage stays short. */
export const MAX_STAGE_ID_LENGTH = 64;

/** What a stage id looks like (as the graph builder requires). */
export const STAGE_ID_PATTERN = /^[a-z][a-z0-9-]*$/;

/** Why `id` cannot be a stage id, or `undefined` when it can. */
export function stageIdProblem(id: unknown): string | undefined {
  if (typeof id !== 'string') return `must be a string`;
  if (id.length > MAX_STAGE_ID_LENGTH)
    return `must be at most ${MAX_STAGE_ID_LENGTH} characters, got '${cutText(id, MAX_STAGE_ID_LENGTH)}'`;
  if (!STAGE_ID_PATTERN.test(id)) return `must be lower-case letters, digits and dashes, starting with a letter; got '${cutText(id)}'`;
  return undefined;
}

/** The problem of a value nested deeper than {@link MAX_VALUE_DEPTH}, named by `where`, or `undefined`. */
export function depthProblem(value: unknown, where: string): string | undefined {
  return valueNestingDepth(value, MAX_VALUE_DEPTH) > MAX_VALUE_DEPTH
    ? `${where} is nested deeper than ${MAX_VALUE_DEPTH} levels`
    : undefined;
}

/**
 * The first `maxBytes + 1` bytes at most of the file at `path`, read with
 * `read(2)` into one buffer: never more, whatever the file is (a huge file,
 * `/dev/zero`, a FIFO or a process substitution). A FIFO blocks like `cat`
 * until its writer writes or closes.
 */
function readAtMost(path: string, maxBytes: number): Buffer {
  const buffer = Buffer.alloc(maxBytes + 1);
  const fd = openSync(path, 'r');
  try {
    let length = 0;
    // Each read returns at least one byte or ends the file, so this runs at most maxBytes + 2 times.
    while (length < buffer.length) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

const BYTE_ORDER_MARK = /^\uFEFF/;

/**
 * Reads and parses a definition or run config file (JSON when the name ends
 * in `.json`, YAML otherwise) within the limits above: at most
 * {@link MAX_CONFIG_FILE_BYTES} bytes, YAML aliases expanded at most
 * {@link YAML_MAX_ALIAS_COUNT} times. Every failure is a `ConfigError` naming
 * `subject` (e.g. `pipeline file rebar.yaml`) and what went wrong, with the
 * parser's message cut short.
 *
 * The value may still be nested deeply: callers check each field with
 * {@link depthProblem} before anything walks it, so the error names the field.
 */
export function readConfigFile(path: string, subject: string, maxBytes = MAX_CONFIG_FILE_BYTES): unknown {
  let bytes: Buffer;
  try {
    bytes = readAtMost(path, maxBytes);
  } catch (error) {
    throw new ConfigError(subject, [`cannot be read: ${cutText((error as Error).message)}`], { cause: error, context: { path } });
  }
  if (bytes.length > maxBytes) {
    const size = maxBytes % (1024 * 1024) === 0 ? `${maxBytes / (1024 * 1024)} MiB` : `${maxBytes} bytes`;
    throw new ConfigError(subject, [`is larger than ${size} (${maxBytes} bytes), the most a definition or config file may hold`], {
      context: { path },
    });
  }
  const text = bytes.toString('utf8').replace(BYTE_ORDER_MARK, '');
  const json = path.endsWith('.json');
  try {
    return json
      ? (JSON.parse(text) as unknown)
      : parseYaml(text, { maxAliasCount: YAML_MAX_ALIAS_COUNT, logLevel: 'error', prettyErrors: true });
  } catch (error) {
    const message = (error as Error).message;
    // The YAML parser turns a stack overflow on deep nesting into an error of its own.
    const tooDeep = (error as { code?: unknown }).code === 'RESOURCE_EXHAUSTION' && /call stack/i.test(message);
    const problem = tooDeep
      ? `is nested too deeply to parse (${cutText((message.split('\n')[0] ?? '').replace(/:$/, ''), MAX_QUOTED_CHARS)}); a value may be nested at most ${MAX_VALUE_DEPTH} levels`
      : /excessive alias count/i.test(message)
        ? `expands its YAML aliases too often (at most ${YAML_MAX_ALIAS_COUNT} alias expansions in a file)`
        : `is not valid ${json ? 'JSON' : 'YAML'}: ${cutText(message, 2 * MAX_QUOTED_CHARS)}`;
    throw new ConfigError(subject, [problem], { cause: error, context: { path } });
  }
}
