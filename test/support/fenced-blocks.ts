/** A fenced code block of a Markdown text (a README, or the text of a TSDoc comment). */
export interface FencedBlock {
  /** 1-based line of the opening fence, in the text given. */
  readonly line: number;
  /** The fence's info string, e.g. `ts` (empty when there is none). */
  readonly lang: string;
  /** The block's text, without the fences and without the indentation of the opening fence. */
  readonly code: string;
  /** What `marker` captured on the last non-blank line before the block, if it matched there. */
  readonly marker?: string;
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)[^`]*$/;

/**
 * The fenced code blocks of `markdown`, in order. An indented fence (a block
 * inside a list item) loses its indentation; an unclosed fence runs to the
 * end, like CommonMark. `marker` reads a test marker off the line before a
 * block: its first capture group is the block's `marker`.
 */
export function fencedBlocks(markdown: string, marker: RegExp): FencedBlock[] {
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
    const found = marker.exec(lastText)?.[1]?.trim();
    blocks.push({ line: i + 1, lang, code: `${body.join('\n')}\n`, ...(found === undefined ? {} : { marker: found }) });
    lastText = '';
    i = j;
  }
  return blocks;
}

/** The `// Logs: …` lines of a TypeScript or JavaScript block: what it prints, line by line. */
export function expectedLogs(code: string): string[] {
  return [...code.matchAll(/^\s*\/\/ Logs: (.*)$/gm)].map((m) => m[1] ?? '');
}
