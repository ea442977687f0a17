import type { CtpCredentials } from '../../native/ctp-addon-binding.js';
import type { CtpMdApiOptions } from '../../native/ctp-md-api.js';

/**
 * What a `CtpFront` needs of a CTP market-data API: these calls, and the
 * events it gets back through the `onEvents` it opened the API with (the
 * vendor's callbacks as `CtpEvent`s, in order, on the JavaScript thread).
 *
 * `CtpMdApi` (the native addon over the vendor's library or the CTP simulator) is the
 * one the ctp source uses. Because the front only sees this interface, its
 * failover logic can be driven by a scripted API on virtual time.
 */
export interface CtpFrontApi {
  /** Adds the front's address; before `init`. */
  registerFront(address: string): void;
  /** Starts connecting; `front-connected` follows, and after every disconnect the API reconnects by itself. */
  init(): void;
  /** Sends ReqUserLogin, answered by a `login` event. @returns 0 when sent, else the library's code */
  login(credentials: CtpCredentials, requestId: number): number;
  /** Asks for market data, answered by one `subscribed` event per id. @returns 0 when sent, else the library's code */
  subscribe(ids: readonly string[]): number;
  /** Lets go of market data, answered by one `unsubscribed` event per id. @returns 0 when sent, else the library's code */
  unsubscribe(ids: readonly string[]): number;
  /** Releases the API; no event is delivered after it returns. Idempotent. */
  close(): void;
}

/** Opens one API for one front; throws when it cannot (a wrong library, say). `CtpMdApi.open` is one. */
export type OpenCtpFrontApi = (options: CtpMdApiOptions) => CtpFrontApi;
