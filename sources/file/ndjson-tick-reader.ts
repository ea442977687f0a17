import type { RecordCodec } from '../../pipeline/schemas/schema-catalog.js';
import { parseBoundedJson } from '../../protocols/json/parse-bounded-json.js';
import type { Tick } from '../../schemas/generated.js';
import { FileChunks } from './file-chunks.js';
import type { InputPosition } from './invalid-input-reporter.js';
import type { TickBatchReader } from './tick-batch-reader.js';

const NEWLINE = 0x0a;
/** Deepest nesting of a line: a Tick is one flat object (depth 1); a deeper line is refused before it is parsed, so nothing walks it. */
const MAX_LINE_DEPTH = 8;

export interface NdjsonTickReaderOptions {
  /** The Tick codec: every parsed line must pass its `check`. */
  readonly codec: RecordCodec<Tick>;
  /** A check beyond the schema (e.g. checkTickSanity): the reason a tick is not replayed, or undefined. */
  readonly check?: (tick: Tick) => string | undefined;
  /** Called for every line that is not replayed, with the line's text when it is known (not for a line too long to keep). */
  readonly onInvalid: (position: InputPosition, reason: string, line?: string) => void;
  /** A longer line is skipped (and counted invalid) without being buffered whole. Default 1 MiB. */
  readonly maxLineBytes?: number;
  /** Bytes read at a time. Default 256 KiB. */
  readonly chunkBytes?: number;
}

/**
 * Why `value` fails the Tick schema, or undefined. The check describes a
 * bad value by printing it, which throws for a parsed object with a key
 * `toString` or `valueOf` (`{"volume":{"toString":1}}`); such a line is as
 * invalid as any other, never the end of the replay.
 */
function schemaProblem(codec: RecordCodec<Tick>, value: unknown): string | undefined {
  try {
    return codec.check(value)?.reason;
  } catch (error) {
    return `a value cannot be checked (${(error as Error)?.message ?? 'unknown error'})`;
  }
}

/**
 * Reads ticks from an NDJSON file (one Tick JSON object per line, as the
 * `ndjson-file` sink writes them), a chunk at a time. Blank lines are
 * ignored, a trailing `\r` is removed, a last line without a newline is
 * read. A line is bounded before it is parsed: at most `maxLineBytes` long
 * and 8 levels deep. A line that is not JSON within those bounds, not a
 * valid Tick, or refused by `check`, is reported with its 1-based line
 * number and skipped.
 */
export class NdjsonTickReader implements TickBatchReader {
  private readonly chunks: FileChunks;
  private readonly maxLineBytes: number;
  /** The start of a line whose newline has not been read yet. */
  private rest: Buffer | undefined;
  /** Inside a line too long to keep: drop bytes until its newline. */
  private skipping = false;
  private line = 0;
  private done = false;

  constructor(
    readonly path: string,
    private readonly options: NdjsonTickReaderOptions,
  ) {
    this.chunks = new FileChunks(path, options.chunkBytes);
    this.maxLineBytes = options.maxLineBytes ?? 1024 * 1024;
  }

  get bytesRead(): number {
    return this.chunks.position;
  }

  async next(): Promise<Tick[] | undefined> {
    if (this.done) return undefined;
    const chunk = await this.chunks.read();
    const ticks: Tick[] = [];
    if (chunk === undefined) {
      this.done = true;
      const last = this.rest;
      this.rest = undefined;
      if (last !== undefined && !this.skipping) this.parseLines(last.toString('utf8'), ticks);
      return ticks;
    }
    let start = 0;
    if (this.skipping) {
      const newline = chunk.indexOf(NEWLINE);
      if (newline === -1) return ticks;
      this.skipping = false;
      start = newline + 1;
    }
    const lastNewline = chunk.lastIndexOf(NEWLINE);
    if (lastNewline < start) {
      this.keep(chunk.subarray(start));
      return ticks;
    }
    // A newline byte never occurs inside a multi-byte UTF-8 sequence, so text up to one decodes whole.
    const head =
      this.rest === undefined ? chunk.subarray(start, lastNewline) : Buffer.concat([this.rest, chunk.subarray(start, lastNewline)]);
    this.rest = undefined;
    this.parseLines(head.toString('utf8'), ticks);
    this.keep(chunk.subarray(lastNewline + 1));
    return ticks;
  }

  close(): void {
    this.done = true;
    this.rest = undefined;
    this.chunks.close();
  }

  /** Keeps the start of an unfinished line, unless it is already too long: then it is reported now and its remainder skipped. */
  private keep(bytes: Buffer): void {
    if (bytes.length === 0) return;
    const length = (this.rest?.length ?? 0) + bytes.length;
    if (length > this.maxLineBytes) {
      this.rest = undefined;
      this.skipping = true;
      this.options.onInvalid({ line: ++this.line }, `line longer than ${this.maxLineBytes} bytes`);
      return;
    }
    // Copied, so that the chunk it came from can be collected.
    this.rest = this.rest === undefined ? Buffer.from(bytes) : Buffer.concat([this.rest, bytes]);
  }

  /** Parses complete lines separated by `\n`; the text holds no newline at its end. */
  private parseLines(text: string, into: Tick[]): void {
    const { codec, check, onInvalid } = this.options;
    let start = 0;
    // Bounded: each turn consumes one line of the text.
    while (start <= text.length) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      const lineNumber = ++this.line;
      const stop = end > start && text.charCodeAt(end - 1) === 0x0d ? end - 1 : end;
      const line = text.slice(start, stop);
      start = end + 1;
      if (line.length === 0 || (line.charCodeAt(0) <= 0x20 && line.trim() === '')) continue;
      const parsed = parseBoundedJson(line, { maxLength: this.maxLineBytes, maxDepth: MAX_LINE_DEPTH });
      if (!parsed.ok) {
        onInvalid({ line: lineNumber }, parsed.reason, line);
        continue;
      }
      const problem = schemaProblem(codec, parsed.value);
      if (problem !== undefined) {
        onInvalid({ line: lineNumber }, `not a valid tickflow.Tick: ${problem}`, line);
        continue;
      }
      const tick = parsed.value as Tick;
      const implausible = check?.(tick);
      if (implausible !== undefined) {
        onInvalid({ line: lineNumber }, implausible, line);
        continue;
      }
      into.push(tick);
    }
  }
}
