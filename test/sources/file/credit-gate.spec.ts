import { describe, expect, it } from 'vitest';
import { CreditGate } from '../../../sources/file/credit-gate.js';

describe('CreditGate', () => {
  it('closes at the limit and resumes its waiter once half the credits are back', () => {
    const gate = new CreditGate(4);
    let resumed = 0;
    gate.whenOpen(() => resumed++);
    expect(resumed).toBe(1);
    gate.take(4);
    expect(gate.open).toBe(false);
    gate.whenOpen(() => resumed++);
    gate.release();
    expect(gate.open).toBe(true);
    expect(resumed).toBe(1); // 3 out: more than half
    gate.release();
    expect(resumed).toBe(2);
    gate.release(5);
    expect(gate.outstanding).toBe(0);
    expect(resumed).toBe(2);
  });

  it('forgets its waiter when cancelled', () => {
    const gate = new CreditGate(1);
    let resumed = 0;
    gate.take();
    gate.whenOpen(() => resumed++);
    gate.cancel();
    gate.release();
    expect(resumed).toBe(0);
  });
});
