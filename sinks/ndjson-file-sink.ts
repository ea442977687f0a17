import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Observable } from 'rxjs';
import { defineComponent } from '../pipeline/components/define-component.js';
import { field } from '../pipeline/config/field.js';
import { StageError } from '../errors/errors.js';

/** Bytes as base64, so that records with `bytes` or `fixed` fields stay readable JSON. */
function jsonLine(record: unknown): string {
  return `${JSON.stringify(record, (_key, value: unknown) =>
    value !== null && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)
      ? Buffer.from((value as { data: number[] }).data).toString('base64')
      : value,
  )}\n`;
}

/**
 * The `ndjson-file` sink: one JSON object per line, any schema. Lines are
 * written in batches; a record is acknowledged once its batch has reached
 * the operating system, and the sink completes after the file is closed.
 */
export const ndjsonFileSink = defineComponent({
  name: 'ndjson-file',
  kind: 'sink',
  description: 'Writes records as newline-delimited JSON to a file.',
  in: 'any',
  boundary: true,
  spec: {
    path: field.string({ description: 'File to write; its directory is created when missing.', default: 'out/records.ndjson', example: 'out/ticks.ndjson' }),
    append: field.boolean({ description: 'Append to an existing file instead of replacing it.', default: false, example: true }),
    batch_size: field.integer({ description: 'Most records written in one batch.', default: 1000, min: 1, max: 100_000, example: 1000 }),
  },
  checkedAtStart: ["that 'path' can be written"],
  create: (config, ctx) => (records) =>
    new Observable<unknown>((subscriber) => {
      mkdirSync(dirname(config.path), { recursive: true });
      const file = createWriteStream(config.path, { flags: config.append ? 'a' : 'w' });
      let pending: unknown[] = [];
      let lines = '';
      let flushScheduled = false;
      let inputDone = false;
      let inFlight = 0;
      let failed = false;

      const fail = (error: unknown): void => {
        if (failed) return;
        failed = true;
        subscriber.error(new StageError(`ndjson-file: cannot write ${config.path}: ${(error as Error).message}`, { cause: error, context: { stage: ctx.stage, path: config.path } }));
      };
      const closeIfDone = (): void => {
        if (inputDone && inFlight === 0 && pending.length === 0 && !failed) {
          file.end(() => {
            ctx.logger.info({ path: config.path }, 'ndjson-file closed');
            subscriber.complete();
          });
        }
      };
      const flush = (): void => {
        flushScheduled = false;
        if (pending.length === 0 || failed) return closeIfDone();
        const batch = pending;
        const text = lines;
        pending = [];
        lines = '';
        inFlight++;
        file.write(text, (error) => {
          inFlight--;
          if (error) return fail(error);
          for (const record of batch) subscriber.next(record);
          closeIfDone();
        });
      };
      file.on('error', fail);

      const subscription = records.subscribe({
        next(record) {
          pending.push(record);
          lines += jsonLine(record);
          if (pending.length >= config.batch_size) flush();
          else if (!flushScheduled) {
            flushScheduled = true;
            queueMicrotask(flush);
          }
        },
        error: fail,
        complete() {
          inputDone = true;
          flush();
        },
      });
      return () => {
        subscription.unsubscribe();
        if (!file.closed) file.end();
      };
    }),
});
