// The raw JavaScript interface of native/addon (tickflow_ctp.node): types only.
// Code outside native/ uses CtpMdApi, inspectCtpLibrary and ctpSimulator instead.
import type { CtpEvent } from './ctp-event.js';

/** What `loadLibrary` reports about a CTP market-data library it loaded. */
export interface RawCtpLibrary {
  readonly path: string;
  /** GetApiVersion() as the library returns it, e.g. `v6.7.11_20250617 10:41:40.4470`. */
  readonly version: string;
  readonly factoryArity: 3 | 4;
}

/**
 * Where a delivered event's parts lie: the addon copies each queued event (its MdEvent, `sizeof` bytes) into the
 * delivery buffer; `fields` are byte offsets within one event (`depth`, `replyInfo` and `replyBody` are where the
 * CThostFtdcDepthMarketDataField, the CThostFtdcRspInfoField and the login or instrument struct start), `kinds` the
 * values of its kind byte.
 */
export interface RawCtpEventLayout {
  readonly sizeof: number;
  readonly fields: Readonly<
    Record<'kind' | 'isLast' | 'hasInfo' | 'hasBody' | 'value' | 'recvUs' | 'depth' | 'replyInfo' | 'replyBody', number>
  >;
  readonly kinds: Readonly<Record<CtpEvent['kind'], number>>;
}

/** Options of `new MdSession(…)`. */
export interface RawMdSessionOptions {
  readonly libraryPath: string;
  /** An existing directory; the vendor library appends its file names to this string, so end it with `/`. */
  readonly flowPath: string;
  /** How many events may wait for the JavaScript thread before market data is dropped (control events never are). */
  readonly queueCapacity: number;
  /** The most events per onEvents call; 1 delivers one event per call. */
  readonly maxBatch: number;
  /**
   * Called on the JavaScript thread with `count` events in arrival order, as {@link RawCtpEventLayout} lays them out
   * from the start of `buffer`, and the count dropped since the previous call. The buffer is the session's own and is
   * written over by the next call: read it before returning.
   */
  readonly onEvents: (buffer: ArrayBuffer, count: number, droppedSinceLastCall: number) => void;
  /** Receives what onEvents throws; without it the exception is kept for the next stats(). */
  readonly onError?: (error: unknown) => void;
}

/** Delivery counters of a session. */
export interface CtpSessionStats {
  /** Events waiting for the JavaScript thread now. */
  readonly queued: number;
  /** Market-data events refused because the queue was full. */
  readonly dropped: number;
  /** Events handed to onEvents. */
  readonly delivered: number;
  /** onEvents calls. */
  readonly batches: number;
  /** Requests to the thread-safe function that failed for a reason other than shutdown. */
  readonly callFailures: number;
  /** The most events that ever waited at once. */
  readonly highWater: number;
  /** What onEvents threw, when there was no onError to take it; reported once. */
  readonly callbackError: unknown;
}

/** Login credentials; each is copied into its vendor field, which bounds its length in bytes. */
export interface CtpCredentials {
  /** BrokerID: at most 10 bytes. */
  readonly brokerId: string;
  /** UserID: at most 15 bytes. */
  readonly userId: string;
  /** Password: at most 40 bytes. */
  readonly password: string;
  /** UserProductInfo: at most 10 bytes. */
  readonly userProductInfo?: string;
}

/** A session of the raw binding: one CThostFtdcMdApi with our Spi. */
export interface RawMdSession {
  registerFront(address: string): void;
  init(): void;
  login(credentials: CtpCredentials, requestId: number): number;
  logout(user: { readonly brokerId: string; readonly userId: string }, requestId: number): number;
  subscribe(ids: readonly string[]): number;
  unsubscribe(ids: readonly string[]): number;
  tradingDay(): string;
  close(): void;
  stats(): CtpSessionStats;
}

/** Our declarations of the CTP structs and classes as the compiler laid them out. */
export interface RawCtpLayout {
  readonly structs: Readonly<
    Record<
      string,
      {
        readonly sizeof: number;
        readonly alignof: number;
        readonly fields: Readonly<Record<string, { readonly offset: number; readonly size: number }>>;
      }
    >
  >;
  readonly vtables: { readonly CThostFtdcMdApi: readonly string[]; readonly CThostFtdcMdSpi: readonly string[] };
}

/** The module tickflow_ctp.node exports. Its errors carry a `code`: CTP_LIBRARY_NOT_FOUND, CTP_NOT_A_CTP_LIBRARY, CTP_CREATE_FAILED, CTP_CLOSED, CTP_NOT_A_SIMULATOR, CTP_ALREADY_INITIALIZED. */
export interface CtpAddonBinding {
  loadLibrary(path: string): RawCtpLibrary;
  simulatorControl(libraryPath: string, address: string, command: string): number;
  layout(): RawCtpLayout;
  eventLayout(): RawCtpEventLayout;
  readonly MdSession: new (options: RawMdSessionOptions) => RawMdSession;
}
