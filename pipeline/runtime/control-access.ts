import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../../errors/errors.js';

/** The principal of requests when the control endpoints are explicitly open (loopback only). */
export const OPEN_PRINCIPAL = 'anonymous@loopback';
/** A bare token (no `principal:`) authenticates as this principal. */
export const DEFAULT_PRINCIPAL = 'control';
/** Shortest control token accepted: a short one could be guessed. */
export const MIN_CONTROL_TOKEN_CHARS = 16;

const PRINCIPAL = /^[A-Za-z0-9._@-]{1,64}$/;
const BEARER = /^Bearer\s+(\S+)\s*$/i;

const digest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** Whether a control request may go on: the principal that sent it, or the HTTP status and message that refuse it. */
export type ControlVerdict = { readonly principal: string } | { readonly status: 401 | 403; readonly message: string };

/**
 * Who may use the stages' run-time controls (the risk stage's kill switch
 * and limits): `off` (the default when no control token is configured: every
 * control request is refused), `open` (explicitly opted in: anyone who can
 * reach the loopback port, as `anonymous@loopback`), or a list of control
 * tokens, each naming its principal (`ops-desk:7f3c…`; a bare token is
 * `control`). Control tokens are separate from the WebSocket sink's client
 * tokens. A presented token is compared with every configured one as SHA-256
 * digests in constant time, so neither its content nor its length leaks.
 */
export class ControlAccess {
  private constructor(
    readonly mode: 'off' | 'open' | 'tokens',
    private readonly tokens: readonly { readonly principal: string; readonly digest: Buffer }[] = [],
  ) {}

  static off(): ControlAccess {
    return new ControlAccess('off');
  }

  static open(): ControlAccess {
    return new ControlAccess('open');
  }

  /**
   * Control tokens from `entries` (`principal:token` or a bare token; blank
   * entries and `#` comments skipped), read from `source` (named in errors,
   * never the tokens themselves).
   *
   * @throws ConfigError when an entry is malformed, a token is shorter than {@link MIN_CONTROL_TOKEN_CHARS}, a principal repeats, or there is none
   */
  static tokens(entries: readonly string[], source: string): ControlAccess {
    const problems: string[] = [];
    const tokens: { principal: string; digest: Buffer }[] = [];
    entries.forEach((raw, i) => {
      const entry = raw.trim();
      if (entry === '' || entry.startsWith('#')) return;
      const colon = entry.indexOf(':');
      const principal = colon < 0 ? DEFAULT_PRINCIPAL : entry.slice(0, colon);
      const token = colon < 0 ? entry : entry.slice(colon + 1);
      if (!PRINCIPAL.test(principal)) problems.push(`entry ${i + 1}: the principal must be 1 to 64 letters, digits or . _ @ -`);
      else if (tokens.some((t) => t.principal === principal)) problems.push(`entry ${i + 1}: principal '${principal}' is named twice`);
      if (token.length < MIN_CONTROL_TOKEN_CHARS || /\s/.test(token))
        problems.push(`entry ${i + 1}: a control token needs at least ${MIN_CONTROL_TOKEN_CHARS} characters and no spaces`);
      tokens.push({ principal, digest: digest(token) });
    });
    if (problems.length === 0 && tokens.length === 0) problems.push('no control token in it');
    if (problems.length > 0) throw new ConfigError(`control tokens from ${source}`, problems);
    return new ControlAccess('tokens', tokens);
  }

  /** The principals that hold a token, for the start-up log (never the tokens). */
  get principals(): readonly string[] {
    return this.tokens.map((t) => t.principal);
  }

  /** Judges a control request's `Authorization` header. */
  authenticate(authorization: string | undefined): ControlVerdict {
    if (this.mode === 'off') {
      return {
        status: 403,
        message:
          'the control endpoints are off: no control token is configured (set TICKFLOW_CONTROL_TOKENS or --control-tokens-file; see docs/security.md)',
      };
    }
    if (this.mode === 'open') return { principal: OPEN_PRINCIPAL };
    const presented = BEARER.exec(authorization ?? '')?.[1];
    if (presented === undefined)
      return {
        status: 401,
        message:
          'a control token is required: send "Authorization: Bearer TOKEN" (tickflow halt reads it from TICKFLOW_CONTROL_TOKEN or --token-file)',
      };
    const candidate = digest(presented);
    let principal: string | undefined;
    for (const known of this.tokens) if (timingSafeEqual(candidate, known.digest) && principal === undefined) principal = known.principal;
    return principal === undefined ? { status: 401, message: 'the control token is not valid' } : { principal };
  }
}
