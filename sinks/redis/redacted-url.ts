/**
 * `url` with its password (and user name) replaced, for logs: the sink's
 * `url` is a secret field because it may carry credentials. Text that is not
 * a URL is not echoed at all.
 *
 * @example
 * ```ts
 * console.log(redactedUrl('redis://:s3cret@10.0.0.5:6379/2'));
 * // Logs: redis://***@10.0.0.5:6379/2
 * ```
 */
export function redactedUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(not a URL)';
  }
  const credentials = parsed.username !== '' || parsed.password !== '' ? '***@' : '';
  return `${parsed.protocol}//${credentials}${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
}
