import type { SchedulerLike } from 'rxjs';
import type { DeadLetter } from '../../schemas/generated.js';

/** Longest payload a dead letter keeps: input from outside may be large, and the letter is evidence, not a copy. */
const MAX_PAYLOAD_CHARS = 4096;
/** Longest reason: a parser's message may quote the whole input. */
const MAX_REASON_CHARS = 500;

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}

/** Best-effort JSON of a rejected payload (bigints as text; a text payload as itself), cut to a bounded length. */
export function payloadJson(payload: unknown): string {
  if (typeof payload === 'string') return cut(payload, MAX_PAYLOAD_CHARS);
  try {
    return cut(JSON.stringify(payload, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'undefined', MAX_PAYLOAD_CHARS);
  } catch {
    return cut(String(payload), MAX_PAYLOAD_CHARS);
  }
}

/**
 * The DeadLetter of input a stage rejected where it entered the pipeline
 * (no edge: `edge` reads `origin -> stage`), stamped with scheduler time.
 * The payload must already be bounded in depth (it came through a bounded
 * parser or was built by the stage); its JSON is cut to a few KB.
 */
export function deadLetterOf(
  stage: string,
  letter: { readonly origin: string; readonly schema: string; readonly reason: string; readonly payload: unknown },
  scheduler: SchedulerLike,
): DeadLetter {
  return {
    stage,
    edge: `${letter.origin} -> ${stage}`,
    schema: letter.schema,
    reason: cut(letter.reason, MAX_REASON_CHARS),
    payload_json: payloadJson(letter.payload),
    ts_init: Math.round(scheduler.now() * 1000),
  };
}
