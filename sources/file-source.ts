import { defer, finalize, tap } from 'rxjs';
import { checkTickSanity } from '../domain/tick-sanity.js';
import { defineComponent } from '../pipeline/components/define-component.js';
import { field } from '../pipeline/config/field.js';
import type { RecordCodec } from '../pipeline/schemas/schema-catalog.js';
import type { AuditRecord, Tick } from '../schemas/generated.js';
import { AvroTickReader } from './file/avro-tick-reader.js';
import { CreditGate } from './file/credit-gate.js';
import { InvalidInputReporter, type InputPosition } from './file/invalid-input-reporter.js';
import { NdjsonTickReader } from './file/ndjson-tick-reader.js';
import { paceTicks } from './file/pace-ticks.js';
import { planReplay, type ReplayFile } from './file/plan-replay.js';
import { ProgressBar } from './file/progress-bar.js';
import { readTicks } from './file/read-ticks.js';
import { ReplayPosition } from './file/replay-position.js';
import type { TickBatchReader } from './file/tick-batch-reader.js';

/** Ticks the pacer may hold before reading pauses (it may overshoot by the few batches read ahead): about 7 MB of tick objects. */
const READ_AHEAD_TICKS = 10_000;

/** Field names, shared by the spec and `create`. */
const PATH = 'path';
const FORMAT = 'format';
const SPEED = 'speed';
const MAX_GAP_MS = 'max_gap_ms';
const PROGRESS = 'progress';
const FEED_ID = 'feed_id';
/** The record type of the ticks in an audit trail. */
const TICK_RECORD_TYPE = 'tickflow.Tick';

/** Why a tick that passed the schema is not replayed, or undefined: the one semantic check ws-feed applies too. */
function implausible(tick: Tick): string | undefined {
  const problem = checkTickSanity(tick);
  return problem === undefined ? undefined : `not a plausible ${TICK_RECORD_TYPE}: ${problem}`;
}

/** The reader of one file in its format, reporting what it skips to `reporter`. */
function openReader(
  file: ReplayFile,
  codecs: { tick: RecordCodec<Tick>; audit: RecordCodec<AuditRecord> },
  reporter: InvalidInputReporter,
): TickBatchReader {
  const onInvalid = (position: InputPosition, reason: string, count = 1, payload: unknown = null): void =>
    reporter.report(file.path, position, reason, count, payload);
  switch (file.format) {
    case 'ndjson':
      return new NdjsonTickReader(file.path, {
        codec: codecs.tick,
        check: implausible,
        onInvalid: (position, reason, line) => onInvalid(position, reason, 1, line ?? null),
      });
    case 'avro':
      return new AvroTickReader(file.path, {
        readerType: codecs.tick.type,
        tickOf: (record, report) => {
          const tick = record as Tick;
          const problem = implausible(tick);
          if (problem === undefined) return tick;
          report(problem, tick);
          return undefined;
        },
        onInvalid,
      });
    case 'audit':
      return new AvroTickReader(file.path, {
        readerType: codecs.audit.type,
        tickOf: (record, report) => {
          const entry = record as AuditRecord;
          if (entry.record_type !== TICK_RECORD_TYPE) return undefined;
          let tick: Tick;
          try {
            tick = codecs.tick.decode(entry.payload);
          } catch (error) {
            report(`audit seq ${entry.seq}: the payload is not a ${TICK_RECORD_TYPE}: ${(error as Error).message}`, entry);
            return undefined;
          }
          const problem = implausible(tick);
          if (problem === undefined) return tick;
          report(`audit seq ${entry.seq}: ${problem}`, tick);
          return undefined;
        },
        onInvalid,
      });
  }
}

/**
 * The `file` source: replays recorded ticks from a file, or from every file
 * of a directory in name order, and completes after the last.
 *
 * Formats: NDJSON (one Tick JSON per line, as the `ndjson-file` sink writes
 * it), Avro object container files of `tickflow.Tick`, and audit trails
 * (container files of `tickflow.AuditRecord`, of which only the
 * `tickflow.Tick` records are replayed). `format: auto` tells them apart by
 * the Avro magic and schema, or the `.ndjson`/`.jsonl` extension.
 *
 * `speed: 0` replays as fast as the pipeline takes the ticks; `speed: 1`
 * at the recorded pace of `ts_event`, `10` ten times faster, each gap
 * capped at `max_gap_ms` of scheduler time so the night break does not
 * stall a replay (see {@link paceTicks}). Time is the scheduler's only.
 *
 * ```
 * file:               a(+3ms)b(+9s)c
 * speed 0:            (abc|)               as fast as read
 * speed 1:            a 2ms b 4999ms (c|)  the 9 s gap capped at max_gap_ms (default 5000)
 * speed 1, max_gap 0: a 2ms b 8999ms (c|)  no cap but the longest timer
 * speed 1, max_gap 5: a 2ms b 4ms (c|)
 * ```
 *
 * Files are streamed a chunk at a time and ticks emitted from scheduler
 * actions, a batch at a time; reading stays at most ~10,000 ticks ahead of
 * the pacer, and stops when the subscriber unsubscribes. A directory's
 * files of no known format (notes, checksums, the audit sink's set-aside
 * torn tails) are passed over with a warning. An NDJSON line is bounded
 * before it is parsed (1 MiB, 8 levels deep). A line or record that is
 * malformed, fails the Tick schema, or is not a plausible tick (see
 * {@link checkTickSanity}: an instrument `""`, a price of 1e308 or NaN, a
 * negative volume, a time past 2200) is skipped, counted as
 * `dropped{reason="invalid"}`, sent to the dead letters (origin
 * `file:line` or `file record N`) and logged with its file and line or
 * record number (the first ten, then every thousandth). A path that cannot be
 * read, a file of no known format given as `path`, a recording that cannot
 * be replayed (an Avro file of another schema, a damaged header) or a
 * directory with nothing to replay is a `ConfigError` when the stage is
 * created. Each subscription replays from the start.
 *
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * import { lastValueFrom, take, toArray } from 'rxjs';
 * // A recording of two sim ticks, as an ndjson sink writes them (the demo writes out/demo-ticks.ndjson).
 * const recorded = await lastValueFrom(simSource.create(validateComponentConfig(simSource, { rate: 0, count: 2 }), ctx).pipe(toArray()));
 * writeFileSync('ticks.ndjson', recorded.map((tick) => JSON.stringify(tick)).join('\n') + '\n');
 * const ticks$ = fileSource.create(validateComponentConfig(fileSource, { path: 'ticks.ndjson' }), ctx);
 * ticks$.pipe(take(2)).subscribe((tick) => console.log(`${tick.sequence} ${tick.instrument_id}`));
 * // Logs: 1 SHFE.rb2501   (the recorded ticks, in file order)
 * // Logs: 2 SHFE.cu2501
 * ```
 */
export const fileSource = defineComponent({
  name: 'file',
  kind: 'source',
  out: 'Tick',
  boundary: true,
  description:
    'Replays recorded ticks from NDJSON, Avro container or audit trail files, as fast as possible or at a multiple of the recorded pace.',
  spec: {
    [PATH]: field.string({
      description: 'A recorded file, or a directory whose files are replayed in name order (hidden files and subdirectories passed over)',
      example: 'out/demo-ticks.ndjson',
    }),
    [FORMAT]: field.choice(['auto', 'ndjson', 'avro', 'audit'] as const, {
      description:
        'File format: ndjson (one Tick JSON per line), avro (Avro container file of tickflow.Tick), audit (Avro container file of tickflow.AuditRecord: its tickflow.Tick records), or auto: by Avro magic and schema, else .ndjson/.jsonl extension',
      default: 'auto',
      example: 'audit',
    }),
    [SPEED]: field.number({
      description: 'Replay speed against ts_event: 0 as fast as possible, 1 the recorded pace, 10 ten times faster',
      default: 0,
      example: 1,
      min: 0,
      max: 1_000_000,
    }),
    [MAX_GAP_MS]: field.integer({
      description:
        'Longest wait between two ticks when paced, in milliseconds of scheduler time after speed (e.g. over the night break); 0 for no cap but the longest timer (2^31 - 1 ms, about 24.8 days)',
      default: 5000,
      example: 1000,
      min: 0,
      max: 86_400_000,
    }),
    [PROGRESS]: field.choice(['auto', 'on', 'off'] as const, {
      description:
        'A one-line progress bar on stderr (percent replayed, records, rate, event time reached, ETA), redrawn five times a second: auto and on draw it only when stderr is a terminal, on warns when it is not',
      default: 'auto',
      example: 'off',
    }),
    [FEED_ID]: field.string({
      description: 'Feed id written into every tick; empty keeps the recorded one',
      default: '',
      example: 'replay',
    }),
  },
  checkedAtStart: ["that 'path' names readable recorded files (read when the stage is built)"],
  drops: { invalid: 'A line or record of the file that is not a valid record of its schema (dead-lettered with its position)' },
  create(config, ctx) {
    const codecs = { tick: ctx.schemas.codec('Tick'), audit: ctx.schemas.codec('AuditRecord') };
    const { files, skipped } = planReplay({
      path: config[PATH],
      format: config[FORMAT],
      readers: { tick: codecs.tick.type, audit: codecs.audit.type },
      subject: `stage '${ctx.stage}' (file)`,
    });
    for (const problem of skipped) ctx.logger.warn({ path: config[PATH] }, `passing over ${problem}`);
    const totalBytes = files.reduce((sum, f) => sum + f.size, 0);
    const scheduler = ctx.scheduler;
    const feedId = config[FEED_ID] === '' ? undefined : config[FEED_ID];

    return defer(() => {
      const reporter = new InvalidInputReporter(ctx.logger, ctx.metrics, (letter) => ctx.deadLetter(letter));
      const gate = new CreditGate(READ_AHEAD_TICKS);
      const position = new ReplayPosition();
      let emitted = 0;
      let eventTimeUs: number | undefined;
      const bar = ProgressBar.create(config[PROGRESS], process.stderr, { totalBytes, label: ctx.stage }, (reason) =>
        ctx.logger.warn({ progress: config[PROGRESS] }, `no progress bar: ${reason}`),
      );
      ctx.logger.info(
        {
          path: config[PATH],
          files: files.length,
          formats: [...new Set(files.map((f) => f.format))],
          bytes: totalBytes,
          speed: config[SPEED],
          max_gap_ms: config[MAX_GAP_MS],
        },
        'file replay started',
      );
      // The bar redraws on its own wall-clock timer from these figures: records and event time as replayed (after pacing), bytes up to the latest record replayed.
      bar?.start(() => ({ records: emitted, bytes: position.bytesAt(emitted), eventTimeUs }));
      return readTicks(files, {
        scheduler,
        open: (file) => openReader(file, codecs, reporter),
        gate,
        feedId,
        onProgress: (bytes, _emitted, read) => position.read(read, bytes),
        onFileEnd: (file, ticks) => ctx.logger.info({ file: file.path, format: file.format, ticks }, `replayed ${file.path}`),
      }).pipe(
        paceTicks({ speed: config[SPEED], maxGapMs: config[MAX_GAP_MS], scheduler }),
        tap({
          next: (tick) => {
            emitted++;
            if (eventTimeUs === undefined || tick.ts_event > eventTimeUs) eventTimeUs = tick.ts_event;
            gate.release();
          },
          complete: () => ctx.logger.info({ files: files.length, ticks: emitted, invalid: reporter.total }, 'file replay finished'),
        }),
        finalize(() => bar?.finish()),
      );
    });
  },
});
