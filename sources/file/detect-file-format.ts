import { closeSync, openSync, readSync } from 'node:fs';
import { extname } from 'node:path';
import type { Type } from 'avsc';
import { decodeAvroFileHeader, type AvroFileHeader } from './avro-file-header.js';
import { schemaResolver } from './schema-resolver.js';

/** The formats the file source replays. */
export type ReplayFormat = 'ndjson' | 'avro' | 'audit';

/** The `format` setting: a format, or `auto` to tell by extension and content. */
export type FormatSetting = ReplayFormat | 'auto';

const NDJSON_EXTENSIONS = new Set(['.ndjson', '.jsonl']);
const TICK = 'tickflow.Tick';
const AUDIT_RECORD = 'tickflow.AuditRecord';
const MAX_HEADER_BYTES = 16 * 1024 * 1024;

/** The Avro header of `path`, `'not-avro'`, or a problem reading it. Reads only the header, synchronously. */
function readAvroHeader(path: string): AvroFileHeader | 'not-avro' | { problem: string } {
  const fd = openSync(path, 'r');
  try {
    let buffer = Buffer.alloc(0);
    let want = 4096;
    // Bounded: `want` doubles each turn up to MAX_HEADER_BYTES.
    for (;;) {
      const more = Buffer.allocUnsafe(want - buffer.length);
      const n = readSync(fd, more, 0, more.length, buffer.length);
      buffer = Buffer.concat([buffer, more.subarray(0, n)]);
      let header: AvroFileHeader | 'not-avro' | undefined;
      try {
        header = decodeAvroFileHeader(buffer);
      } catch (error) {
        return { problem: (error as Error).message };
      }
      if (header !== undefined) return header;
      if (buffer.length < want) return buffer.length < 4 ? 'not-avro' : { problem: 'the file ends inside its Avro header' };
      if (want >= MAX_HEADER_BYTES) return { problem: `its Avro header is longer than ${MAX_HEADER_BYTES} bytes` };
      want *= 2;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The format of one file to replay, or the problem that keeps it from being
 * replayed, told from the file's first bytes and its name.
 *
 * With `auto`: an Avro object container file (magic `Obj\x01`) of
 * `tickflow.Tick` is `avro`, of `tickflow.AuditRecord` is `audit`; a
 * `.ndjson` or `.jsonl` file is `ndjson`. A format named explicitly is
 * checked against the content: `avro` and `audit` need an Avro container
 * file whose schema resolves to Tick or AuditRecord respectively,
 * `ndjson` anything but an Avro container file. A file `auto` cannot
 * place at all is flagged `unknown` (a directory passes such files over).
 * Throws the operating system's error when the file cannot be opened.
 */
export function detectFileFormat(
  path: string,
  setting: FormatSetting,
  readers: { readonly tick: Type; readonly audit: Type },
): { format: ReplayFormat } | { problem: string; unknown?: true } {
  const detected = detect(path, setting);
  if (!('format' in detected) || detected.format === 'ndjson') return detected;
  // The writer schema must resolve to the reader schema now, not in the middle of a replay.
  try {
    schemaResolver(detected.format === 'avro' ? readers.tick : readers.audit, detected.writer);
  } catch (error) {
    return { problem: `${path}: ${(error as Error).message}` };
  }
  return { format: detected.format };
}

function detect(
  path: string,
  setting: FormatSetting,
): { format: 'ndjson' } | { format: 'avro' | 'audit'; writer: Type } | { problem: string; unknown?: true } {
  const header = readAvroHeader(path);
  if (header !== 'not-avro' && 'problem' in header) return { problem: `${path}: ${header.problem}` };
  if (header !== 'not-avro' && header.codec !== 'null' && header.codec !== 'deflate') {
    return { problem: `${path}: Avro codec '${header.codec}' is not supported (expected null or deflate)` };
  }
  const schema: string | undefined = header === 'not-avro' ? undefined : (header.type.name ?? header.type.typeName);
  switch (setting) {
    case 'auto':
      if (header !== 'not-avro' && schema === TICK) return { format: 'avro', writer: header.type };
      if (header !== 'not-avro' && schema === AUDIT_RECORD) return { format: 'audit', writer: header.type };
      if (schema !== undefined)
        return {
          problem: `${path}: an Avro container file of ${schema}; expected one of ${TICK} (format avro) or ${AUDIT_RECORD} (format audit)`,
        };
      if (NDJSON_EXTENSIONS.has(extname(path).toLowerCase())) return { format: 'ndjson' };
      return {
        unknown: true,
        problem: `${path}: unknown format; expected a .ndjson or .jsonl file of Ticks, or an Avro container file (starting with Obj\\x01) of ${TICK} or ${AUDIT_RECORD}; or set 'format'`,
      };
    case 'ndjson':
      return schema === undefined
        ? { format: 'ndjson' }
        : { problem: `${path}: an Avro container file of ${schema}, not NDJSON as 'format' says` };
    case 'avro':
    case 'audit': {
      const expected = setting === 'avro' ? TICK : AUDIT_RECORD;
      if (header === 'not-avro')
        return {
          problem: `${path}: not an Avro container file (it does not start with Obj\\x01); 'format: ${setting}' expects an Avro container file of ${expected}`,
        };
      if (setting === 'audit' && schema !== AUDIT_RECORD)
        return { problem: `${path}: an Avro container file of ${schema}; 'format: audit' expects ${AUDIT_RECORD}` };
      if (setting === 'avro' && schema === AUDIT_RECORD)
        return { problem: `${path}: an audit trail (${AUDIT_RECORD}); use 'format: audit' or 'auto' to replay its ticks` };
      return { format: setting, writer: header.type };
    }
  }
}
