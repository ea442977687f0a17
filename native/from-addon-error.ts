import { NativeAddonError, type ErrorContext } from '../errors/errors.js';

/**
 * An error the addon threw, as tickflow reports it: one with a `CTP_*` code
 * becomes a NativeAddonError keeping the code in its context and the original
 * as its cause; anything else (a TypeError or RangeError for a bad argument,
 * which is the caller's mistake) is returned unchanged.
 *
 * @param error what the addon threw
 * @param context where it happened (path, instrument…)
 * @param message the message to use instead of the addon's
 */
export function fromAddonError(error: unknown, context: ErrorContext = {}, message?: string): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (!(error instanceof Error) || typeof code !== 'string' || !code.startsWith('CTP_')) return error;
  return new NativeAddonError(message ?? error.message, { cause: error, context: { ...context, code } });
}
