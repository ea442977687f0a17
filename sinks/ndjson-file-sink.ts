import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { finished } from 'node:stream/promises';
import { defineComponent } from '../pipeline/components/define-component.js';
import { field } from '../pipeline/config/field.js';
import { DEFAULT_PORT } from '../pipeline/graph/pipeline-graph.js';
import { compileJsonLineWriter } from '../pipeline/schemas/compile-json-line-writer.js';
import { StageError } from '../errors/errors.js';

/** A Buffer's JSON (`{ type: 'Buffer', data }`) as base64, so that records with `bytes` or `fixed` fields stay readable JSON. */
const bytesAsBase64 = (_key: string, value: unknown): unknown =>
  value !== null &&
  typeof value === 'object' &&
  (value as { type?: unknown }).type === 'Buffer' &&
  Array.isArray((value as { data?: unknown }).data)
    ? Buffer.from((value as { data: number[] }).data).toString('base64')
    : value;

/** Whether any field of `record` holds an object (a Buffer, an array, a record): only then can it hold bytes. */
function holdsObjects(record: unknown): boolean {
  if (record === null || typeof record !== 'object') return false;
  for (const key in record) {
    const value = (record as Record<string, unknown>)[key];
    if (value !== null && typeof value === 'object') return true;
  }
  return false;
}

/** The record's line. A flat record (a tick: numbers, strings, nulls) skips the replacer, which costs a call per field (1.5x). */
function jsonLine(record: unknown): string {
  return `${holdsObjects(record) ? JSON.stringify(record, bytesAsBase64) : JSON.stringify(record)}\n`;
}

/**
 * The `ndjson-file` sink: one JSON object per line, any schema. A record of
 * the schema its input carries is written by code generated from that
 * schema into one buffer per batch, byte for byte what `JSON.stringify`
 * writes; any other record (keys in another order, an optional field left
 * out) by `JSON.stringify`. Lines are written in batches; a record is acknowledged once its batch has reached
 * the operating system, and the sink completes after the file is closed.
 * The file is opened (created, or emptied unless `append`) at the first
 * record, or at the end when there was none, so a run that does not start
 * leaves it as it was.
 */
export const ndjsonFileSink = defineComponent({
  name: 'ndjson-file',
  kind: 'sink',
  description: 'Writes records as newline-delimited JSON to a file.',
  in: 'any',
  boundary: true,
  spec: {
    path: field.string({
      description: 'File to write; its directory is created when missing.',
      default: 'out/records.ndjson',
      example: 'out/ticks.ndjson',
    }),
    append: field.boolean({ description: 'Append to an existing file instead of replacing it.', default: false, example: true }),
    batch_size: field.integer({ description: 'Most records written in one batch.', default: 1000, min: 1, max: 100_000, example: 1000 }),
  },
  checkedAtStart: ["that 'path' can be written"],
  create: (config, ctx) => {
    const cannotWrite = (error: unknown): StageError =>
      new StageError(`ndjson-file: cannot write ${config.path}: ${(error as Error).message}`, {
        cause: error,
        context: { stage: ctx.stage, path: config.path },
      });
    let file: WriteStream | undefined;
    const schema = ctx.inputSchemas?.[DEFAULT_PORT];
    // Generated from the schema, a tick's line is written in well under half of JSON.stringify's time, into one buffer per batch.
    const writer = schema === undefined ? undefined : compileJsonLineWriter(ctx.schemas.type(schema));
    /** The lines of the batch being collected (in `writer` when there is one), and how its writes learn that it reached the operating system. */
    let lines = '';
    let count = 0;
    let batch: { written: Promise<void>; resolve: () => void; reject: (error: unknown) => void } | undefined;

    const opened = (): WriteStream => {
      if (file !== undefined) return file;
      try {
        mkdirSync(dirname(config.path), { recursive: true });
      } catch (error) {
        throw cannotWrite(error);
      }
      file = createWriteStream(config.path, { flags: config.append ? 'a' : 'w' });
      // Errors reach the batches through their write callbacks, and close through finished(); unlistened, one would crash the process.
      file.on('error', () => undefined);
      return file;
    };
    const flush = (): void => {
      if (batch === undefined) return;
      const { resolve, reject } = batch;
      const chunk = writer === undefined ? lines : writer.take();
      batch = undefined;
      lines = '';
      count = 0;
      opened().write(chunk, (error) => (error ? reject(cannotWrite(error)) : resolve()));
    };
    return {
      write(_port, record) {
        opened();
        if (writer === undefined) lines += jsonLine(record);
        else if (!writer.append(record)) writer.appendText(jsonLine(record));
        if (batch === undefined) {
          let resolve!: () => void;
          let reject!: (error: unknown) => void;
          const written = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
          batch = { written, resolve, reject };
          queueMicrotask(flush);
        }
        const { written } = batch;
        if (++count >= config.batch_size) flush();
        return written;
      },
      async close() {
        flush();
        const closing = opened();
        closing.end();
        try {
          await finished(closing);
        } catch (error) {
          throw cannotWrite(error);
        }
        ctx.logger.info({ path: config.path }, 'ndjson-file closed');
      },
    };
  },
});
