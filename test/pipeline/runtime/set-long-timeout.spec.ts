import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS, setLongTimeout } from '../../../pipeline/runtime/set-long-timeout.js';

const DAY_MS = 86_400_000;

describe('setLongTimeout', () => {
  // The fake timers behave like Node's: a delay past 2^31 - 1 ms fires after 1 ms.
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('waits 30 days when asked to, where setTimeout would fire after 1 ms', () => {
    const plain = vi.fn();
    setTimeout(plain, 30 * DAY_MS);
    const long = vi.fn();
    setLongTimeout(long, 30 * DAY_MS);
    vi.advanceTimersByTime(2);
    expect(plain).toHaveBeenCalledOnce();
    expect(long).not.toHaveBeenCalled();
    vi.advanceTimersByTime(MAX_TIMER_MS);
    expect(long).not.toHaveBeenCalled();
    vi.advanceTimersByTime(30 * DAY_MS - MAX_TIMER_MS - 3);
    expect(long).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(long).toHaveBeenCalledOnce();
    vi.advanceTimersByTime(100 * DAY_MS);
    expect(long).toHaveBeenCalledOnce();
  });

  it('fires a short delay like setTimeout', () => {
    const fn = vi.fn();
    setLongTimeout(fn, 1500);
    vi.advanceTimersByTime(1499);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledOnce();
  });

  it('never fires once cleared, in the first timer of the chain or a later one', () => {
    const early = vi.fn();
    setLongTimeout(early, 1e9 * 1000).clear();
    const late = vi.fn();
    const t = setLongTimeout(late, 3 * MAX_TIMER_MS);
    vi.advanceTimersByTime(MAX_TIMER_MS + 10);
    t.clear();
    vi.advanceTimersByTime(10 * MAX_TIMER_MS);
    expect(early).not.toHaveBeenCalled();
    expect(late).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });
});
