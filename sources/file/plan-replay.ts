import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Type } from 'avsc';
import { ConfigError } from '../../errors/errors.js';
import { detectFileFormat, type FormatSetting, type ReplayFormat } from './detect-file-format.js';

/** One file of a replay, with its format told. */
export interface ReplayFile {
  readonly path: string;
  readonly format: ReplayFormat;
  /** Bytes, when planned; for progress. */
  readonly size: number;
}

export interface PlanReplayOptions {
  /** A file, or a directory whose files are replayed in name order. */
  readonly path: string;
  readonly format: FormatSetting;
  /** Reader schemas that Avro files must resolve to. */
  readonly readers: { readonly tick: Type; readonly audit: Type };
  /** Names the stage in the ConfigError, e.g. `stage 'replay' (file)`. */
  readonly subject: string;
}

/** What a replay reads, and the files of its directory it passes over. */
export interface ReplayPlan {
  readonly files: readonly ReplayFile[];
  /** Files of the directory of no format `auto` knows (notes, checksums, the audit sink's set-aside torn tails), each with why. */
  readonly skipped: readonly string[];
}

/** Most files of a directory checked before the remaining problems are left unreported. */
const MAX_FILES = 100_000;

/**
 * The files a replay reads, in order, each with its format; throws one
 * `ConfigError` naming every file that cannot be replayed and why.
 *
 * A directory replays its regular files (symbolic links followed) sorted
 * by name in code-unit order, so `ticks-20250102.ndjson` comes before
 * `ticks-20250103.ndjson` and `audit-000001-…` before `audit-000002-…` on
 * every machine; hidden files (`.name`) and subdirectories are passed over,
 * and so are files `auto` cannot place at all (returned as `skipped`, for
 * the caller to log). A file that looks like a recording but cannot be
 * replayed (an Avro file of another schema, a torn header, a format named
 * explicitly that does not fit) is an error, as is a directory with nothing
 * to replay, and a single file of unknown format. Only headers are read,
 * synchronously.
 */
export function planReplay(options: PlanReplayOptions): ReplayPlan {
  const { path, format, readers, subject } = options;
  const fail = (problems: string[]): never => {
    throw new ConfigError(subject, problems, { context: { component: 'file', field: 'path', path } });
  };
  let isDirectory: boolean;
  try {
    const stat = statSync(path);
    if (!stat.isFile() && !stat.isDirectory())
      fail([`'path' ${path} is neither a file nor a directory; expected a recorded file of ticks or a directory of them`]);
    isDirectory = stat.isDirectory();
    accessSync(path, constants.R_OK | (isDirectory ? constants.X_OK : 0));
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    return fail([`'path' ${path} cannot be read (${(error as Error).message}); expected a recorded file of ticks or a directory of them`]);
  }

  let candidates: string[];
  if (isDirectory) {
    candidates = readdirSync(path)
      .filter((name) => !name.startsWith('.'))
      .sort()
      .slice(0, MAX_FILES)
      .map((name) => join(path, name));
  } else {
    candidates = [path];
  }
  const files: ReplayFile[] = [];
  const problems: string[] = [];
  const skipped: string[] = [];
  for (const file of candidates) {
    try {
      const stat = statSync(file);
      if (!stat.isFile()) continue;
      const detected = detectFileFormat(file, format, readers);
      if ('problem' in detected) (isDirectory && detected.unknown === true ? skipped : problems).push(detected.problem);
      else files.push({ path: file, format: detected.format, size: stat.size });
    } catch (error) {
      problems.push(`${file} cannot be read (${(error as Error).message})`);
    }
  }
  if (problems.length > 0) fail(problems);
  if (files.length === 0) {
    fail([
      `'path' ${path} is a directory without files to replay; expected .ndjson, .jsonl or Avro container files of ticks in it`,
      ...skipped,
    ]);
  }
  return { files, skipped };
}
