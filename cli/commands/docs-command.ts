import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TickflowError, UsageError } from '../../errors/errors.js';
import { builtinComponents } from '../builtin-components.js';
import type { CliCommand } from '../cli-command.js';
import { componentDocFiles } from '../docs/component-doc-files.js';
import { GENERATED_NOTICE } from '../docs/generated-notice.js';

const DEFAULT_DOCS_DIR = 'docs/components';

/** Runs a file-system step, turning its failure into an error that names the path (exit 1, no stack). */
function onDisk<T>(what: string, path: string, step: () => T): T {
  try {
    return step();
  } catch (error) {
    throw new TickflowError(`cannot ${what} ${path}: ${(error as Error).message}`, { cause: error });
  }
}

const readOrUndefined = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/**
 * `tickflow docs [DIR]`: writes the components' pages from their
 * definitions into DIR (docs/components/ by default). A file whose content
 * is already right is left untouched; a generated file no component makes
 * any more is removed; a file tickflow did not generate is never touched.
 */
export const docsCommand: CliCommand = {
  name: 'docs',
  summary: `Write one Markdown and one JSON page per built-in component, and an index, from the definitions into DIR (default ${DEFAULT_DOCS_DIR}).`,
  usage: '[DIR]',
  options: {},
  optionHelp: {},
  async run(args, io) {
    if (args.positionals.length > 1)
      throw new UsageError(`expected at most one DIR, got ${args.positionals.length}: ${args.positionals.join(' ')}`);
    const dir = args.positionals[0] ?? DEFAULT_DOCS_DIR;
    const files = componentDocFiles(builtinComponents());
    onDisk('create', dir, () => mkdirSync(dir, { recursive: true }));
    const written: string[] = [];
    for (const [name, content] of files) {
      const path = join(dir, name);
      if (readOrUndefined(path) === content) continue;
      onDisk('write', path, () => writeFileSync(path, content));
      written.push(name);
    }
    const removed: string[] = [];
    for (const entry of onDisk('read', dir, () => readdirSync(dir, { withFileTypes: true }))) {
      if (!entry.isFile() || files.has(entry.name)) continue;
      const path = join(dir, entry.name);
      // Only a file carrying the notice near its top is ours to remove: a page of a component that is gone.
      if (!(readOrUndefined(path)?.slice(0, 400).includes(GENERATED_NOTICE) ?? false)) continue;
      onDisk('remove', path, () => rmSync(path));
      removed.push(entry.name);
    }
    const changes = [
      ...written.map((n) => `  wrote ${join(dir, n)}\n`),
      ...removed.map((n) => `  removed ${join(dir, n)} (no component makes it)\n`),
    ];
    io.out(
      `${dir}: ${files.size} files, ${written.length} written, ${files.size - written.length} already up to date, ${removed.length} removed\n${changes.join('')}`,
    );
    return 0;
  },
};
