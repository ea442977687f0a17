// Every TSDoc marble diagram of the source folders is run by a case of the
// marble-diagrams-*.spec.ts files beside this one; this file checks that none
// is left out, and that the reader they share says clearly what is wrong.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIAGRAM_FOLDERS, listDiagrams, readDiagram, REPOSITORY_ROOT } from '../support/tsdoc-diagrams.js';

const SPEC_DIR = join(REPOSITORY_ROOT, 'test', 'docs');

/** `file#symbol` of every diagram the diagram specs run, by the readDiagram calls in their text (this file's reader tests aside). */
function diagramsRun(): Set<string> {
  const run = new Set<string>();
  for (const name of readdirSync(SPEC_DIR).filter((n) => /^marble-diagrams-.*\.spec\.ts$/.test(n))) {
    const text = readFileSync(join(SPEC_DIR, name), 'utf8');
    for (const call of text.matchAll(/readDiagram\(\s*'([^']+)',\s*'([^']+)'\s*\)/g)) run.add(`${call[1]}#${call[2]}`);
  }
  return run;
}

describe('TSDoc marble diagrams', () => {
  it('every diagram in operators/, pipeline/, sources/, sinks/, strategies/ and protocols/ has a case that runs it', () => {
    const diagrams = listDiagrams();
    // The reader finds the diagrams there are (23 when this was written); none may hide from it.
    expect(diagrams.length).toBeGreaterThanOrEqual(23);
    expect(diagrams.filter((d) => d.symbol === '?').map((d) => `${d.file}:${d.line}`)).toEqual([]);
    const run = diagramsRun();
    const untested = diagrams.map((d) => `${d.file}#${d.symbol}`).filter((key) => !run.has(key));
    expect(untested, 'diagrams without a case in test/docs/marble-diagrams-*.spec.ts').toEqual([]);
    expect(DIAGRAM_FOLDERS).toEqual(['operators', 'pipeline', 'sources', 'sinks', 'strategies', 'protocols']);
  });

  describe('the reader', () => {
    it('gives each line’s marbles without the note, the note with its continuation lines, the call and the column', () => {
      const diagram = readDiagram('operators/bars.ts', 'bars');
      expect(diagram.lines.map((l) => l.label)).toEqual(['source', 'result']);
      expect(diagram.call).toBe('bars({ periodS: 60, closeDelayMs: 2 })');
      const result = diagram.get('result');
      expect(result.marbles).toBe('-----A-----C----(D|)');
      expect(result.note).toMatch(
        /^A \(09:00–09:01\) closed by c; .* by the timer, 4 \+ 2 frames after c; D \(09:03–09:04\) at completion$/,
      );
      expect(result.column).toBe(diagram.get('source').column);
      // Time progression keeps its single spaces.
      expect(readDiagram('sources/sim-source.ts', 'simSource').marbles('rate 2, count 3')).toBe('500ms a 499ms b 499ms (c|)');
    });

    it('splits a diagram at its blank lines into sections, and will not guess which section a label is taken from', () => {
      const diagram = readDiagram('pipeline/runtime/hand-written-stage.ts', 'handWrittenStage');
      expect(diagram.sections.map((s) => s.lines.map((l) => l.label))).toEqual([
        ['input a', 'input b', 'result'],
        ['input', 'result'],
      ]);
      expect(() => diagram.marbles('result')).toThrow(/hand-written-stage\.ts:\d+ \(the diagram of 'handWrittenStage'\) has 2 sections/);
    });

    it('says which export has no diagram, which file has no such export, and which labels a diagram has', () => {
      expect(() => readDiagram('operators/bars.ts', 'noSuchExport')).toThrow("operators/bars.ts has no export 'noSuchExport'");
      expect(() => readDiagram('operators/bars-operator.ts', 'barsOperator')).toThrow(
        /operators\/bars-operator\.ts: the TSDoc comment of 'barsOperator' has no marble diagram/,
      );
      expect(() => readDiagram('operators/pass-through.ts', 'passThrough').marbles('output')).toThrow(
        /operators\/pass-through\.ts:\d+ \(the diagram of 'passThrough'\) has no line 'output'; its lines are 'source', 'result'/,
      );
    });
  });
});
