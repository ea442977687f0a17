import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const BEARER = /^Bearer\s+(.+)$/i;

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * The tokens that open a WebSocket connection. A client presents one as
 * `Authorization: Bearer TOKEN` or, for browsers (which cannot set headers
 * on a WebSocket), as `?token=TOKEN`. Tokens are compared as SHA-256 digests
 * with `timingSafeEqual`, against every configured token without stopping
 * early, so neither a token's content nor its length leaks through timing.
 * No token is none required.
 */
export class AuthTokens {
  private readonly digests: readonly Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = tokens
      .map((t) => t.trim())
      .filter((t) => t !== '')
      .map(digest);
  }

  /** True when no token is configured: every client is let in. */
  get isOpen(): boolean {
    return this.digests.length === 0;
  }

  /** Whether the request (an upgrade, or the page and metrics) carries a configured token. */
  allows(request: IncomingMessage): boolean {
    if (this.isOpen) return true;
    const presented = AuthTokens.presentedToken(request);
    if (presented === undefined) return false;
    const candidate = digest(presented);
    let match = false;
    for (const known of this.digests) match = timingSafeEqual(candidate, known) || match;
    return match;
  }

  /** The token of the Authorization header, else of the `token` query parameter. */
  private static presentedToken(request: IncomingMessage): string | undefined {
    const header = BEARER.exec(request.headers.authorization ?? '');
    if (header?.[1] !== undefined) return header[1].trim();
    // URLSearchParams never throws, whatever the request target is (`new URL('//', base)` does).
    const target = request.url ?? '';
    const q = target.indexOf('?');
    const query = q < 0 ? null : new URLSearchParams(target.slice(q + 1)).get('token');
    return query === null || query === '' ? undefined : query;
  }
}
