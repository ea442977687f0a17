import { describe, expect, it } from 'vitest';
import { ReplayPosition } from '../../../sources/file/replay-position.js';

describe('ReplayPosition', () => {
  it('is 0 before anything is read or replayed', () => {
    const position = new ReplayPosition();
    expect(position.bytesAt(0)).toBe(0);
    position.read(300, 3000);
    expect(position.bytesAt(0)).toBe(0);
  });

  it('interpolates the bytes of the records replayed within the batch that holds them, not the bytes read ahead', () => {
    const position = new ReplayPosition();
    position.read(300, 3000);
    position.read(600, 9000);
    position.read(900, 9900);
    expect(position.bytesAt(150)).toBe(1500);
    expect(position.bytesAt(300)).toBe(3000);
    expect(position.bytesAt(450)).toBe(6000);
    expect(position.bytesAt(600)).toBe(9000);
    expect(position.bytesAt(900)).toBe(9900);
  });

  it('counts the bytes of batches without records (skipped lines, the end of a file) once the records before them are replayed', () => {
    const position = new ReplayPosition();
    position.read(10, 100);
    position.read(10, 180); // a batch of invalid lines only
    position.read(10, 200); // the end of the file
    position.read(20, 300); // the next file
    expect(position.bytesAt(9)).toBe(90);
    expect(position.bytesAt(10)).toBe(200);
    expect(position.bytesAt(15)).toBe(250);
  });

  it('holds only the marks not yet passed, across many batches', () => {
    const position = new ReplayPosition();
    // Bounded: 10,000 batches.
    for (let batch = 1; batch <= 10_000; batch++) {
      position.read(batch * 10, batch * 1000);
      expect(position.bytesAt(batch * 10 - 5)).toBe(batch * 1000 - 500);
    }
    expect((position as unknown as { marks: unknown[] }).marks.length).toBeLessThan(200);
    expect(position.bytesAt(100_000)).toBe(10_000_000);
  });
});
