import { mkdirSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import type { CtpCredentials, CtpSessionStats, RawMdSession } from './ctp-addon-binding.js';
import { CtpEventDecoder } from './ctp-event-decoder.js';
import type { CtpEvent } from './ctp-event.js';
import { fromAddonError } from './from-addon-error.js';
import { inspectCtpLibrary, type CtpLibraryInfo } from './inspect-ctp-library.js';
import { loadCtpAddon } from './load-ctp-addon.js';

/** Options of {@link CtpMdApi.open}. */
export interface CtpMdApiOptions {
  /** The CTP market-data library: the vendor's thostmduserapi_se.so or `ctpSimulator.libraryPath()`. */
  readonly libraryPath: string;
  /** The directory the library writes its flow files into; created if missing. One per session. */
  readonly flowPath: string;
  /** Events that may wait for the JavaScript thread before market data is dropped (counted, never silent). Default 65536. */
  readonly queueCapacity?: number;
  /** The most events per onEvents call; 1 delivers each event on its own. Default 1024. */
  readonly maxBatch?: number;
  /** Called on the JavaScript thread with events in arrival order and the count of market-data events dropped since the previous call. */
  readonly onEvents: (events: readonly CtpEvent[], dropped: number) => void;
  /** Receives what onEvents throws (delivery goes on); without it the exception is kept for the next `stats()`. */
  readonly onError?: (error: unknown) => void;
}

/**
 * One CTP market-data API (CThostFtdcMdApi) on a loaded library, its
 * callbacks delivered to JavaScript in batches.
 *
 * The vendor calls back on its own threads; the addon copies each callback
 * into a bounded queue and delivers on the JavaScript thread. When the
 * JavaScript thread falls `queueCapacity` events behind, market data is
 * dropped and counted (`dropped` in onEvents and stats); control events
 * (connected, disconnected, responses) are never dropped. After a reconnect
 * (`front-connected` again) log in and subscribe again: the library keeps
 * neither.
 *
 * @example
 * ```ts
 * // The session's threads do not keep Node running: this timer does, until the first quote.
 * const running = setInterval(() => {}, 60_000);
 * const api = CtpMdApi.open({
 *   libraryPath: ctpSimulator.libraryPath(),
 *   flowPath: 'ctp-flow/md1',
 *   onEvents(events) {
 *     for (const event of events) {
 *       if (event.kind === 'front-connected') api.login({ brokerId: '', userId: '', password: '' });
 *       else if (event.kind === 'login' && !event.error) api.subscribe(['rb2501']);
 *       else if (event.kind === 'depth') {
 *         console.log(event.data.InstrumentID, event.data.LastPrice);
 *         api.close();
 *         clearInterval(running);
 *       }
 *     }
 *   },
 * });
 * api.registerFront('tcp://127.0.0.1:41001?rate=2');
 * api.init();
 * // Logs: rb2501 3302
 * ```
 */
export class CtpMdApi {
  /** The library this API was created from. */
  readonly library: CtpLibraryInfo;
  readonly #session: RawMdSession;
  #nextRequestId = 1;

  private constructor(session: RawMdSession, library: CtpLibraryInfo) {
    this.#session = session;
    this.library = library;
  }

  /**
   * Inspects the library (a wrong path or an unknown version fails here, before anything is created), creates the flow
   * directory if missing, and creates the API with our Spi registered. Call `registerFront` and `init` next.
   *
   * @param options the library, the flow directory, the queue and the event handler
   * @returns the API, not yet connected
   * @throws NativeAddonError when the library is missing, not a CTP library, of an unknown version, or refuses to create the API
   */
  static open(options: CtpMdApiOptions): CtpMdApi {
    const library = inspectCtpLibrary(options.libraryPath);
    const flowPath = resolve(options.flowPath);
    mkdirSync(flowPath, { recursive: true });
    const { onEvents, onError } = options;
    let session: RawMdSession;
    try {
      const addon = loadCtpAddon();
      const decoder = new CtpEventDecoder(addon.eventLayout(), addon.layout());
      session = new addon.MdSession({
        libraryPath: library.path,
        // The vendor library prefixes its file names with this string: without the separator they land beside the directory.
        flowPath: flowPath.endsWith(sep) ? flowPath : flowPath + sep,
        queueCapacity: options.queueCapacity ?? 65536,
        maxBatch: options.maxBatch ?? 1024,
        // Refers to nothing but the handlers, so an API dropped without close() can still be collected (and closed).
        onEvents: (buffer, count, dropped) => onEvents(decoder.decode(buffer, count), dropped),
        ...(onError === undefined ? {} : { onError }),
      });
    } catch (error) {
      throw fromAddonError(error, { path: library.path });
    }
    return new CtpMdApi(session, library);
  }

  /** Adds a front address (`tcp://host:port`); the library tries them in turn. Before `init`. */
  registerFront(address: string): void {
    this.#call(() => this.#session.registerFront(address));
  }

  /** Starts the library's threads: it connects and reports `front-connected`. Once per API. */
  init(): void {
    this.#call(() => this.#session.init());
  }

  /**
   * Sends ReqUserLogin; the answer arrives as a `login` event with this request id.
   * @returns the library's return code: 0 sent, -1 network failure, -2 too many pending requests, -3 too many per second
   * @throws RangeError when a field is longer than its vendor field allows
   */
  login(credentials: CtpCredentials, requestId: number = this.#nextRequestId++): number {
    return this.#call(() => this.#session.login(credentials, requestId));
  }

  /** Sends ReqUserLogout; the answer arrives as a `logout` event. @returns the library's return code */
  logout(user: { readonly brokerId: string; readonly userId: string }, requestId: number = this.#nextRequestId++): number {
    return this.#call(() => this.#session.logout(user, requestId));
  }

  /**
   * Subscribes market data; one `subscribed` event answers each id.
   * @param ids the exchange's instrument ids (`rb2501`), each at most 80 bytes
   * @returns the library's return code
   */
  subscribe(ids: readonly string[]): number {
    return this.#call(() => this.#session.subscribe(ids));
  }

  /** Unsubscribes market data; one `unsubscribed` event answers each id. @returns the library's return code */
  unsubscribe(ids: readonly string[]): number {
    return this.#call(() => this.#session.unsubscribe(ids));
  }

  /** The trading day the front reported at login (`yyyymmdd`), empty before. */
  tradingDay(): string {
    return this.#call(() => this.#session.tradingDay());
  }

  /** Delivery counters: queued, dropped, delivered, batches, callFailures, highWater, and a kept onEvents exception. */
  stats(): CtpSessionStats {
    return this.#call(() => this.#session.stats());
  }

  /** Releases the API. No onEvents call happens after this returns; queued events are discarded. Idempotent. */
  close(): void {
    this.#session.close();
  }

  #call<T>(method: () => T): T {
    try {
      return method();
    } catch (error) {
      throw fromAddonError(error, { path: this.library.path });
    }
  }
}
