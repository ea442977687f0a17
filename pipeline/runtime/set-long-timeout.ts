/** The longest delay `setTimeout` takes: 2^31 − 1 ms (about 24.8 days). Node fires a longer one after 1 ms instead. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A pending {@link setLongTimeout}. */
export interface LongTimeout {
  clear(): void;
}

/**
 * Calls `callback` once after `ms` milliseconds, however long: a delay
 * beyond {@link MAX_TIMER_MS} waits in a chain of timers of at most that
 * each, so `--duration 2592000` (30 days) means 30 days, not 1 ms.
 *
 * @example
 * ```ts
 * const t = setLongTimeout(() => console.log('30 days elapsed'), 30 * 86_400_000);
 * t.clear(); // stopped for another reason first: the callback never runs
 * ```
 */
export function setLongTimeout(callback: () => void, ms: number): LongTimeout {
  let timer: NodeJS.Timeout | undefined;
  let cleared = false;
  const wait = (remaining: number): void => {
    const step = Math.min(remaining, MAX_TIMER_MS);
    timer = setTimeout(() => {
      if (cleared) return;
      if (remaining > step) wait(remaining - step);
      else callback();
    }, step);
  };
  wait(ms);
  return {
    clear() {
      cleared = true;
      clearTimeout(timer);
    },
  };
}
