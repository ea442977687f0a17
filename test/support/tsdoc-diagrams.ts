import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The folders whose TSDoc marble diagrams must each be run by a test. */
export const DIAGRAM_FOLDERS = ['operators', 'pipeline', 'sources', 'sinks', 'strategies', 'protocols'];

/** One labelled line of a marble diagram, `label:  marbles   note`. */
export interface DiagramLine {
  readonly label: string;
  /** What follows the label up to a note set off by two or more spaces: the marbles, or a line of values such as `a@0 b@3ms`. */
  readonly marbles: string;
  /** The note after the marbles, with the notes of the unlabelled lines that continue it; empty when there is none. */
  readonly note: string;
  /** 1-based line in the source file. */
  readonly line: number;
  /**
   * The column the marbles start at, counted from the start of the diagram's
   * line: lines are aligned, so a line whose marbles start further right
   * (`close:         ---r`) begins that many frames later than the others.
   */
  readonly column: number;
}

/** A diagram, or one of its sections (the parts a blank line separates). */
export interface MarbleDiagram {
  /** The source file, relative to the repository root. */
  readonly file: string;
  /** The export the diagram documents. */
  readonly symbol: string;
  /** 1-based line of the diagram's opening fence. */
  readonly line: number;
  /** The labelled lines, in order. */
  readonly lines: readonly DiagramLine[];
  /** The call between the inputs and the outputs (the line indented by two spaces, e.g. `bars({ periodS: 60 })`), empty when there is none. */
  readonly call: string;
  /** The sections; a diagram without blank lines is its own only section. */
  readonly sections: readonly MarbleDiagram[];
  /** The marbles of the line labelled `label`; throws, naming the diagram and its labels, when there is none. */
  marbles(label: string): string;
  /** The labelled line `label`; throws like `marbles`. */
  get(label: string): DiagramLine;
}

const LABELLED = /^([A-Za-z][-\w ,.']*?):\s+(\S.*)$/;
/** The marbles of a line that makes a fence a marble diagram: marble characters, with at least a frame or an end. */
const MARBLES = /^[-\w()|#^!'.@+ ]*[-|][-\w()|#^!'.@+ ]*$/;
const DECLARATION = /^export\s+(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?(?:function\*?|class|const)\s+([\w$]+)/;
/** An unlabelled line indented by at most this is the call; deeper, it continues the note above. */
const CALL_INDENT = 3;

interface Comment {
  /** The comment's lines without their ` * ` prefixes. */
  readonly text: readonly string[];
  /** 1-based line of the comment's first line. */
  readonly first: number;
  /** The export declared right after it, if one is. */
  readonly symbol: string | undefined;
}

function commentsOf(source: string): Comment[] {
  const comments: Comment[] = [];
  for (const match of source.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const first = source.slice(0, match.index).split('\n').length;
    const text = match[0].split('\n').map((l) => l.replace(/^\s*\/?\*+\/?\s?/, '').replace(/\s*\*\/$/, ''));
    const following =
      source
        .slice(match.index + match[0].length)
        .split('\n')
        .find((l) => l.trim() !== '') ?? '';
    comments.push({ text, first, symbol: DECLARATION.exec(following.trim())?.[1] });
  }
  return comments;
}

function splitNote(rest: string): { marbles: string; note: string } {
  const [marbles = '', ...note] = rest.trim().split(/\s{2,}/);
  return { marbles, note: note.join('  ') };
}

/** Whether the body of an unlabelled fence is a marble diagram: some labelled line of it has marbles. */
function isMarbleDiagram(body: readonly string[]): boolean {
  return body.some((l) => {
    const labelled = LABELLED.exec(l);
    return labelled !== null && MARBLES.test(splitNote(labelled[2] ?? '').marbles);
  });
}

/** The first marble diagram of a comment: its body and the 0-based index of its opening fence in `text`. */
function diagramFence(text: readonly string[]): { body: string[]; at: number } | undefined {
  for (let i = 0; i < text.length; i++) {
    const open = /^(`{3,})\s*(\S*)/.exec(text[i] ?? '');
    if (open === null) continue;
    const end = text.findIndex((l, j) => j > i && l.trim().startsWith(open[1] ?? '```'));
    const body = text.slice(i + 1, end === -1 ? undefined : end);
    if (open[2] === '' && isMarbleDiagram(body)) return { body, at: i };
    i = end === -1 ? text.length : end;
  }
  return undefined;
}

function section(
  file: string,
  symbol: string,
  line: number,
  lines: DiagramLine[],
  call: string,
  sections: MarbleDiagram[] | undefined,
): MarbleDiagram {
  const where = `${file}:${line} (the diagram of '${symbol}')`;
  const diagram: MarbleDiagram = {
    file,
    symbol,
    line,
    lines,
    call,
    get sections() {
      return sections ?? [diagram];
    },
    get(label) {
      if (sections !== undefined && sections.length > 1) {
        throw new Error(`${where} has ${sections.length} sections; take the line '${label}' from one of diagram.sections`);
      }
      const found = lines.find((l) => l.label === label);
      if (found === undefined)
        throw new Error(`${where} has no line '${label}'; its lines are ${lines.map((l) => `'${l.label}'`).join(', ')}`);
      return found;
    },
    marbles(label) {
      return diagram.get(label).marbles;
    },
  };
  return diagram;
}

function parseDiagram(file: string, symbol: string, fenceLine: number, body: readonly string[]): MarbleDiagram {
  const parts: { lines: DiagramLine[]; call: string; line: number }[] = [];
  let current: { lines: DiagramLine[]; call: string; line: number } | undefined;
  body.forEach((text, i) => {
    const line = fenceLine + 1 + i;
    if (text.trim() === '') {
      current = undefined;
      return;
    }
    if (current === undefined) {
      current = { lines: [], call: '', line };
      parts.push(current);
    }
    const labelled = /^\S/.test(text) ? LABELLED.exec(text) : null;
    if (labelled !== null) {
      const label = labelled[1] ?? '';
      if (current.lines.some((l) => l.label === label))
        throw new Error(`${file}:${line}: the diagram of '${symbol}' has two lines '${label}' in one section`);
      const rest = labelled[2] ?? '';
      current.lines.push({ label, ...splitNote(rest), line, column: text.length - rest.length });
      return;
    }
    const indent = /^\s*/.exec(text)?.[0].length ?? 0;
    const previous = current.lines.at(-1);
    if (indent <= CALL_INDENT || previous === undefined) {
      current.call = splitNote(text).marbles;
      return;
    }
    // A continuation of the note above.
    current.lines[current.lines.length - 1] = { ...previous, note: `${previous.note} ${text.trim()}`.trim() };
  });
  const sections = parts.map((p) => section(file, symbol, p.line, p.lines, p.call, undefined));
  if (sections.length === 1) return sections[0] as MarbleDiagram;
  return section(
    file,
    symbol,
    fenceLine,
    sections.flatMap((s) => s.lines),
    sections[0]?.call ?? '',
    sections,
  );
}

/**
 * The marble diagram in the TSDoc comment right above `export function
 * symbol` (or `export const` / `export class`) in `file`, relative to the
 * repository root. Throws, naming the file, when there is no such export or
 * its comment has no diagram.
 */
export function readDiagram(file: string, symbol: string): MarbleDiagram {
  const source = readFileSync(join(REPOSITORY_ROOT, file), 'utf8');
  const comments = commentsOf(source);
  const comment = comments.find((c) => c.symbol === symbol);
  if (comment === undefined) {
    const declared = new RegExp(`^export\\s.*\\b${symbol}\\b`, 'm').test(source);
    throw new Error(declared ? `${file}: the export '${symbol}' has no TSDoc comment right above it` : `${file} has no export '${symbol}'`);
  }
  const fence = diagramFence(comment.text);
  if (fence === undefined)
    throw new Error(
      `${file}: the TSDoc comment of '${symbol}' has no marble diagram (an unlabelled \`\`\` fence with lines such as 'source:  --a--|')`,
    );
  return parseDiagram(file, symbol, comment.first + fence.at, fence.body);
}

/** Every TSDoc marble diagram under `folders`, as file and the symbol it documents (`?` when no export follows the comment). */
export function listDiagrams(folders: readonly string[] = DIAGRAM_FOLDERS): { file: string; symbol: string; line: number }[] {
  const found: { file: string; symbol: string; line: number }[] = [];
  for (const folder of folders) {
    const files = readdirSync(join(REPOSITORY_ROOT, folder), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
      .map((e) => relative(REPOSITORY_ROOT, join(e.parentPath, e.name)))
      .sort();
    for (const file of files) {
      for (const comment of commentsOf(readFileSync(join(REPOSITORY_ROOT, file), 'utf8'))) {
        const fence = diagramFence(comment.text);
        if (fence !== undefined) found.push({ file, symbol: comment.symbol ?? '?', line: comment.first + fence.at });
      }
    }
  }
  return found;
}
