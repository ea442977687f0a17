import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expectedLogs, fencedBlocks } from './fenced-blocks.js';
import { SOURCE_FOLDERS } from './source-folders.js';

/** One `@example` of a TSDoc comment. */
export interface TsdocExample {
  /** The source file, relative to the repository root, e.g. `domain/trading-sessions.ts`. */
  readonly file: string;
  /** 1-based line of the `@example` tag in `file`. */
  readonly line: number;
  /** The symbol the comment documents (the declaration after it), e.g. `TradingSessions` or `apply`. */
  readonly symbol: string;
  /** The code of its ```ts fence, without the comment's ` * ` prefixes; undefined when the example has no such fence. */
  readonly code?: string;
  /** The reason of its `<!-- tsdoc-test: exempt — REASON -->` marker, when it has one. */
  readonly exempt?: string;
  /** Its `// Logs:` lines. */
  readonly logs: readonly string[];
}

/** The folders whose .ts files hold the documented sources. */
export const DOCUMENTED_FOLDERS = SOURCE_FOLDERS.filter((folder) => folder !== 'schemas'); // schemas/ holds generated types

const MARKER = /^\s*<!--\s*tsdoc-test:(.*?)-->\s*$/;
const DECLARATION =
  /^\s*(?:export\s+)?(?:default\s+)?(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?(?:function\*?|class|const|let|interface|type|enum)\s+([\w$]+)/;
const MEMBER = /^\s*(?:(?:public|static|readonly|async|get|set)\s+)*([\w$]+)\s*[<(:=]/;

/** Every .ts file under `folders` of `root`, relative to `root`, in a stable order. */
function sourceFiles(root: string, folders: readonly string[]): string[] {
  return folders
    .flatMap((folder) =>
      readdirSync(join(root, folder), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
        .map((e) => relative(root, join(e.parentPath, e.name))),
    )
    .sort();
}

/** The `@example`s of one source file's TSDoc comments, in order. */
export function examplesOf(file: string, source: string): TsdocExample[] {
  const examples: TsdocExample[] = [];
  for (const comment of source.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const firstLine = source.slice(0, comment.index).split('\n').length;
    // The comment's text as Markdown: the ` * ` prefixes gone, one line per line of the file.
    const lines = comment[0].split('\n').map((l) => l.replace(/^\s*\/?\*+\/?\s?/, '').replace(/\s*\*\/$/, ''));
    const following =
      source
        .slice(comment.index + comment[0].length)
        .split('\n')
        .find((l) => l.trim() !== '') ?? '';
    const symbol = DECLARATION.exec(following)?.[1] ?? MEMBER.exec(following)?.[1] ?? '(unknown)';
    lines.forEach((line, i) => {
      if (!/^@example\b/.test(line)) return;
      // The example runs to the next block tag; its code is the first ```ts fence there.
      const end = lines.findIndex((l, j) => j > i && /^@\w/.test(l));
      const block = fencedBlocks(lines.slice(i + 1, end === -1 ? undefined : end).join('\n'), MARKER).find((b) => b.lang === 'ts');
      const exempt = block?.marker === undefined ? undefined : parseExemption(block.marker, `${file}:${firstLine + i}`);
      examples.push({
        file,
        line: firstLine + i,
        symbol,
        ...(block === undefined ? {} : { code: block.code }),
        ...(exempt === undefined ? {} : { exempt }),
        logs: block === undefined ? [] : expectedLogs(block.code),
      });
    });
  }
  return examples;
}

/** The reason of `exempt — REASON`; anything else is an error naming the place, so a typo cannot silently exempt an example. */
function parseExemption(marker: string, where: string): string {
  const reason = /^exempt\s*(?:—|–|-|:)\s*(\S.*)$/.exec(marker)?.[1];
  if (reason === undefined) throw new Error(`${where}: marker '${marker}' must be 'tsdoc-test: exempt — REASON'`);
  return reason;
}

/** Every `@example` of the TSDoc comments of the documented sources under `root`. */
export function tsdocExamples(root: string): TsdocExample[] {
  return sourceFiles(root, DOCUMENTED_FOLDERS).flatMap((file) => examplesOf(file, readFileSync(join(root, file), 'utf8')));
}

/**
 * Whether a printed line is what a `// Logs:` line says: its text up to a
 * remark set off by two or more spaces, exactly, or as the line's beginning
 * when the text ends in `…`.
 */
export function printedAsLogged(printed: string, logged: string): boolean {
  const text = (logged.split(/\s{2,}/)[0] ?? '').trim();
  return text.endsWith('…') ? printed.trim().startsWith(text.slice(0, -1).trimEnd()) : printed.trim() === text;
}

/** The first `// Logs:` line not printed, in order, by `stdout` (other lines may come between), or undefined when all were. */
export function firstUnprintedLog(stdout: string, logs: readonly string[]): string | undefined {
  const printed = stdout.split('\n');
  let at = 0;
  for (const logged of logs) {
    const found = printed.findIndex((line, i) => i >= at && printedAsLogged(line, logged));
    if (found === -1) return logged;
    at = found + 1;
  }
  return undefined;
}
