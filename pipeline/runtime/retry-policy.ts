import { TickflowError } from '../../errors/errors.js';

export interface RetryOptions {
  /** Delay before the first retry. Default 200 ms. */
  readonly initialMs?: number;
  /** Longest delay between two attempts. Default 5,000 ms. */
  readonly maxMs?: number;
  /** Each delay is the previous one times this. Default 2. */
  readonly factor?: number;
  /** Each delay varies by up to ± this fraction, so that many clients do not retry in step. Default 0.2. */
  readonly jitter?: number;
  /** Attempts after which to give up; 0 retries for ever. Default 0. */
  readonly maxAttempts?: number;
}

/**
 * The one retry policy of tickflow: exponential backoff with jitter, capped,
 * optionally bounded in attempts. Errors that retrying cannot fix — a
 * `TickflowError` that is not `retriable` (bad config, refused
 * credentials, programmer errors) — are never retried.
 */
export class RetryPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  readonly jitter: number;
  readonly maxAttempts: number;

  constructor(
    options: RetryOptions = {},
    private readonly random: () => number = Math.random,
  ) {
    this.initialMs = options.initialMs ?? 200;
    this.maxMs = options.maxMs ?? 5_000;
    this.factor = options.factor ?? 2;
    this.jitter = options.jitter ?? 0.2;
    this.maxAttempts = options.maxAttempts ?? 0;
  }

  /** Milliseconds to wait before retry number `attempt` (1 for the first retry). */
  delayMs(attempt: number): number {
    const base = Math.min(this.maxMs, this.initialMs * this.factor ** Math.max(0, attempt - 1));
    return Math.max(0, Math.round(base * (1 + this.jitter * (2 * this.random() - 1))));
  }

  /** Whether to try again after `error` ended attempt number `attempt`. */
  shouldRetry(attempt: number, error: unknown): boolean {
    if (error instanceof TickflowError && !error.retriable) return false;
    return this.maxAttempts === 0 || attempt < this.maxAttempts;
  }
}
