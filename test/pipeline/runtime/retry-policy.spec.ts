import { describe, expect, it } from 'vitest';
import { ConfigError, TickflowError } from '../../../errors/errors.js';
import { RetryPolicy } from '../../../pipeline/runtime/retry-policy.js';

describe('RetryPolicy', () => {
  it('backs off exponentially up to the cap', () => {
    const policy = new RetryPolicy({ initialMs: 100, maxMs: 1000, jitter: 0 });
    expect([1, 2, 3, 4, 5, 6].map((a) => policy.delayMs(a))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('varies each delay within the jitter', () => {
    expect(new RetryPolicy({ initialMs: 100, jitter: 0.2 }, () => 0).delayMs(1)).toBe(80);
    expect(new RetryPolicy({ initialMs: 100, jitter: 0.2 }, () => 0.999_999).delayMs(1)).toBe(120);
  });

  it('gives up after maxAttempts, and never retries what retrying cannot fix', () => {
    const policy = new RetryPolicy({ maxAttempts: 3 });
    expect(policy.shouldRetry(2, new Error('ECONNREFUSED'))).toBe(true);
    expect(policy.shouldRetry(3, new Error('ECONNREFUSED'))).toBe(false);
    expect(new RetryPolicy().shouldRetry(1000, new TickflowError('socket closed', { retriable: true }))).toBe(true);
    expect(new RetryPolicy().shouldRetry(1, new ConfigError('ws-feed', ['401 Unauthorized']))).toBe(false);
  });
});
