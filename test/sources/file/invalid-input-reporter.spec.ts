import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { StageMetrics } from '../../../pipeline/runtime/stage-metrics.js';
import { InvalidInputReporter } from '../../../sources/file/invalid-input-reporter.js';

describe('InvalidInputReporter', () => {
  function reporter() {
    const lines: string[] = [];
    const metrics = new StageMetrics('s', 'file', [1]);
    const r = new InvalidInputReporter(pino({ level: 'info' }, { write: (l: string) => lines.push(l) }), metrics);
    return { r, metrics, logged: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
  }

  it('counts every skipped record as dropped invalid, logging the first ten and then every thousandth', () => {
    const { r, metrics, logged } = reporter();
    for (let line = 1; line <= 2000; line++) r.report('a.ndjson', { line }, 'not JSON');
    expect(metrics.droppedByReason.get('invalid')).toBe(2000);
    expect(r.total).toBe(2000);
    expect(logged().map((l) => l['line'])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1000, 2000]);
    expect(logged()[0]).toMatchObject({
      level: 40,
      file: 'a.ndjson',
      line: 1,
      reason: 'not JSON',
      skipped: 1,
      invalid: 1,
      msg: 'skipped invalid input at a.ndjson line 1: not JSON',
    });
  });

  it('always logs damage beyond one record, also when it loses no countable record', () => {
    const { r, metrics, logged } = reporter();
    for (let line = 1; line <= 20; line++) r.report('a.avro', { record: line }, 'bad');
    r.report('a.avro', { record: 21 }, 'block ends early', 30);
    r.report('a.avro', { byte: 4096 }, 'corrupt block header', 0);
    expect(metrics.droppedByReason.get('invalid')).toBe(50);
    expect(
      logged()
        .slice(10)
        .map((l) => l['msg']),
    ).toEqual([
      'skipped invalid input at a.avro record 21 (30 records): block ends early',
      'skipped invalid input at a.avro byte 4096: corrupt block header',
    ]);
  });

  it('sends every skipped record to the dead letters, naming file and position; a problem that loses no record sends none', () => {
    const letters: unknown[] = [];
    const r = new InvalidInputReporter(pino({ level: 'silent' }), new StageMetrics('s', 'file', [1]), (letter) => letters.push(letter));
    r.report('a.ndjson', { line: 3 }, 'not JSON', 1, '{"x":');
    r.report('a.avro', { record: 7 }, 'not a plausible tickflow.Tick', 1, { instrument_id: '' });
    r.report('a.avro', { byte: 4096 }, 'block ends early', 30);
    r.report('a.avro', { byte: 9000 }, 'corrupt block header', 0);
    expect(letters).toEqual([
      { origin: 'a.ndjson:3', schema: 'Tick', reason: 'not JSON', payload: '{"x":' },
      { origin: 'a.avro record 7', schema: 'Tick', reason: 'not a plausible tickflow.Tick', payload: { instrument_id: '' } },
      { origin: 'a.avro byte 4096', schema: 'Tick', reason: 'block ends early (30 records)', payload: null },
    ]);
  });

  it('cuts a long reason', () => {
    const { r, logged } = reporter();
    r.report('a.ndjson', { line: 1 }, 'x'.repeat(500));
    expect(String(logged()[0]?.['reason']).length).toBe(201);
  });
});
