import { fencedBlocks, type FencedBlock } from '../support/fenced-blocks.js';

/** What the README test does with a block. */
export type BlockMarker = { readonly mode: 'apart' | 'lint-only'; readonly reason: string };

const MARKER = /^\s*<!--\s*readme-test:(.*?)-->\s*$/;

/** The fenced code blocks of README.md, each with its `<!-- readme-test: … -->` comment on the last non-blank line before it, if any. */
export function readmeBlocks(markdown: string): FencedBlock[] {
  return fencedBlocks(markdown, MARKER);
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
    throw new Error(
      `README.md:${block.line}: marker '${block.marker}' must be 'readme-test: apart — REASON' or 'readme-test: lint-only — REASON'`,
    );
  }
  return { mode: match[1] as BlockMarker['mode'], reason: match[2] ?? '' };
}
