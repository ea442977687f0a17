/** A fenced code block of a Markdown file. */
export interface FencedBlock {
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The fence's info string, e.g. `ts` (empty when there is none). */
  readonly lang: string;
  /** The block's text, without the fences and without the indentation of the opening fence. */
  readonly code: string;
  /** The `<!-- readme-test: … -->` comment on the last non-blank line before the block, if any. */
  readonly marker?: string;
}

/** What the README test does with a block. */
export type BlockMarker = { readonly mode: 'apart' | 'lint-only'; readonly reason: string };

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)[^`]*$/;
const MARKER = /^\s*<!--\s*readme-test:(.*?)-->\s*$/;

/**
 * The fenced code blocks of `markdown`, in order. An indented fence (a block
 * inside a list item) loses its indentation; an unclosed fence runs to the
 * end, like CommonMark.
 */
export function fencedBlocks(markdown: string): FencedBlock[] {
  const lines = markdown.split('\n');
  const blocks: FencedBlock[] = [];
  let lastText = '';
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] ?? '');
    if (open === null) {
      if ((lines[i] ?? '').trim() !== '') lastText = lines[i] ?? '';
      continue;
    }
    const [, indent = '', fence = '', lang = ''] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const line = lines[j] ?? '';
      if (line.trim().startsWith(fence) && line.trim().replace(/[`~]/g, '') === '') break;
      body.push(line.startsWith(indent) ? line.slice(indent.length) : line.trimStart());
    }
    const marker = MARKER.exec(lastText)?.[1]?.trim();
    blocks.push({ line: i + 1, lang, code: `${body.join('\n')}\n`, ...(marker === undefined ? {} : { marker }) });
    lastText = '';
    i = j;
  }
  return blocks;
}

/**
 * Reads a block's marker: `apart — reason` (tested apart from the block's text) or `lint-only — reason` (a dash or
 * colon before the reason). Anything else, or a marker without a reason, is
 * an error naming the line, so a typo cannot silently exempt a block.
 */
export function parseMarker(block: FencedBlock): BlockMarker | undefined {
  if (block.marker === undefined) return undefined;
  const match = /^(apart|lint-only)\s*(?:—|–|-|:)\s*(\S.*)$/.exec(block.marker);
  if (match === null) {
    throw new Error(`README.md:${block.line}: marker '${block.marker}' must be 'readme-test: apart — REASON' or 'readme-test: lint-only — REASON'`);
  }
  return { mode: match[1] as BlockMarker['mode'], reason: match[2] ?? '' };
}

/** The `// Logs: …` lines of a TypeScript or JavaScript block: what it prints, line by line. */
export function expectedLogs(code: string): string[] {
  return [...code.matchAll(/^\s*\/\/ Logs: (.*)$/gm)].map((m) => m[1] ?? '');
}
