import type { SchedulerLike } from 'rxjs';
import { NativeAddonError } from '../../../errors/errors.js';
import type { CtpCredentials } from '../../../native/ctp-addon-binding.js';
import type { CtpDepthMarketData } from '../../../native/ctp-depth-market-data.js';
import type { CtpEvent } from '../../../native/ctp-event.js';
import type { CtpMdApiOptions } from '../../../native/ctp-md-api.js';
import type { CtpFrontApi } from '../../../sources/ctp/ctp-front-api.js';

/** How long the scripted library takes, in virtual milliseconds. */
export interface ScriptedTiming {
  /** From `init` (or a reconnect attempt) to `front-connected`. */
  readonly connectMs: number;
  /** From a request to its answer. */
  readonly replyMs: number;
  /** From a disconnect to the library's next connection attempt. */
  readonly reconnectMs: number;
}

/** One call the front made on the API, at virtual time `at`. */
export interface ScriptedCall {
  readonly at: number;
  readonly method: 'registerFront' | 'init' | 'login' | 'subscribe' | 'unsubscribe' | 'close';
  readonly args: readonly unknown[];
}

const vendorError = (errorId: number, message: string, instrument?: string): NativeAddonError =>
  new NativeAddonError(`CTP error ${errorId}: ${message}`, { errorId, context: instrument === undefined ? {} : { instrument } });

/**
 * A scripted stand-in for the vendor's market-data library, one per front,
 * on the test's scheduler (the native addon keeps its own integration tests;
 * this one is for the failover logic above it). It behaves like a healthy
 * front unless scripted otherwise: connects `connectMs` after `init`,
 * answers each request `replyMs` later (login accepted, each known
 * instrument subscribed), delivers the market's records of what it has
 * subscribed, and after a disconnect reconnects `reconnectMs` later. A
 * disconnect loses the requests not yet answered and every subscription, as
 * the vendor library does.
 *
 * The test scripts the rest: `stall`/`resume` (connected but silent),
 * `disconnect` (the library reconnects by itself), `down`/`up` (no
 * reconnection until `up`), `refuseLogins`, `loginReturns`, `overflow`,
 * `reportError`. Every call the front makes is in `calls`.
 */
export class ScriptedMdApi implements CtpFrontApi {
  readonly calls: ScriptedCall[] = [];
  address = '';
  private connected = false;
  private loggedIn = false;
  private stalled = false;
  private isDown = false;
  private closed = false;
  /** Raised at every disconnect, so answers and connection attempts scheduled before it are lost. */
  private connection = 0;
  private connectScheduled = false;
  /** Instruments whose subscription was answered on this connection: the ones that tick. */
  private readonly live = new Set<string>();
  private loginRefusal: NativeAddonError | null = null;
  private loginCode = 0;
  private sessionId = 0;

  constructor(
    private readonly scheduler: SchedulerLike,
    private readonly options: CtpMdApiOptions,
    private readonly knows: (ctpId: string) => boolean,
    private readonly timing: ScriptedTiming,
  ) {}

  /** Whether the front is connected now (between `front-connected` and `front-disconnected`). */
  get isConnected(): boolean {
    return this.connected;
  }

  /** CTP ids whose ticks this front delivers now. */
  get subscribed(): string[] {
    return [...this.live].sort();
  }

  /** Virtual times of this front's calls of `method`. */
  timesOf(method: ScriptedCall['method']): number[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.at);
  }

  registerFront(address: string): void {
    this.record('registerFront', [address]);
    this.address = address;
  }

  init(): void {
    this.record('init', []);
    this.scheduleConnect(this.timing.connectMs);
  }

  login(credentials: CtpCredentials, requestId: number): number {
    this.record('login', [credentials, requestId]);
    if (this.loginCode !== 0) return this.loginCode;
    if (!this.connected) return -1;
    const refusal = this.loginRefusal;
    this.answer(() => {
      this.loggedIn = refusal === null;
      const login =
        refusal !== null
          ? null
          : {
              TradingDay: '20250102',
              LoginTime: '',
              BrokerID: credentials.brokerId,
              UserID: credentials.userId,
              SystemName: 'scripted',
              FrontID: 1,
              SessionID: ++this.sessionId,
            };
      return [{ kind: 'login', requestId, isLast: true, error: refusal, login, recvUs: this.nowUs() }];
    });
    return 0;
  }

  subscribe(ids: readonly string[]): number {
    this.record('subscribe', [[...ids]]);
    if (!this.connected) return -1;
    this.answer(() =>
      ids.map((instrumentId) => {
        const error = !this.loggedIn
          ? vendorError(4, 'CTP:用户未登录', instrumentId)
          : this.knows(instrumentId)
            ? null
            : vendorError(16, 'CTP:找不到合约', instrumentId);
        if (error === null) this.live.add(instrumentId);
        return { kind: 'subscribed', instrumentId, requestId: 0, isLast: true, error, recvUs: this.nowUs() };
      }),
    );
    return 0;
  }

  unsubscribe(ids: readonly string[]): number {
    this.record('unsubscribe', [[...ids]]);
    if (!this.connected) return -1;
    this.answer(() =>
      ids.map((instrumentId) => {
        this.live.delete(instrumentId);
        return { kind: 'unsubscribed', instrumentId, requestId: 0, isLast: true, error: null, recvUs: this.nowUs() };
      }),
    );
    return 0;
  }

  close(): void {
    if (!this.closed) this.record('close', []);
    this.closed = true;
  }

  /** Delivers the market's records of this instant for the instruments this front has subscribed; the market calls it. */
  deliverTicks(records: readonly CtpDepthMarketData[]): void {
    if (!this.connected || this.stalled || this.closed) return;
    const events: CtpEvent[] = records
      .filter((r) => this.live.has(r.InstrumentID))
      .map((data) => ({ kind: 'depth', data, recvUs: this.nowUs() }));
    if (events.length > 0) this.deliver(events);
  }

  /** Whether the market should go on ticking for this API. */
  get isOpen(): boolean {
    return !this.closed;
  }

  /** Connected, but no market data (a front that hangs). */
  stall(): void {
    this.stalled = true;
  }

  resume(): void {
    this.stalled = false;
  }

  /** The connection drops (0x2001: heartbeat timeout); the library reconnects `reconnectMs` later. */
  disconnect(reason = 0x2001): void {
    if (!this.connected) return;
    this.connected = false;
    this.loggedIn = false;
    this.live.clear();
    this.connection++;
    this.deliver([{ kind: 'front-disconnected', reason, recvUs: this.nowUs() }]);
    this.scheduleConnect(this.timing.reconnectMs);
  }

  /** The front dies (0x1001: read failed) and refuses connections until `up`. */
  down(): void {
    this.isDown = true;
    this.disconnect(0x1001);
  }

  /** The front accepts connections again; the library's next attempt connects. */
  up(): void {
    this.isDown = false;
    this.scheduleConnect(this.timing.reconnectMs);
  }

  /** Answers every login from now on with this vendor error (3: invalid login). */
  refuseLogins(errorId = 3, message = 'CTP:不合法的登录'): void {
    this.loginRefusal = vendorError(errorId, message);
  }

  acceptLogins(): void {
    this.loginRefusal = null;
    this.loginCode = 0;
  }

  /** ReqUserLogin returns `code` from now on without sending anything (-2: too many requests pending). */
  loginReturns(code: number): void {
    this.loginCode = code;
  }

  /** The addon's queue was full: reports `dropped` ticks lost. */
  overflow(dropped: number): void {
    this.deliver([], dropped);
  }

  /** OnRspError for a request. */
  reportError(errorId: number, message: string): void {
    this.deliver([{ kind: 'error', requestId: 0, isLast: true, error: vendorError(errorId, message), recvUs: this.nowUs() }]);
  }

  private scheduleConnect(delay: number): void {
    if (this.connectScheduled || this.closed) return;
    this.connectScheduled = true;
    this.scheduler.schedule(() => {
      this.connectScheduled = false;
      if (this.closed || this.connected) return;
      // A dead front refuses; the library keeps trying every reconnectMs.
      if (this.isDown) return this.scheduleConnect(this.timing.reconnectMs);
      this.connected = true;
      this.deliver([{ kind: 'front-connected', recvUs: this.nowUs() }]);
    }, delay);
  }

  /** Delivers what `events` returns `replyMs` from now, unless the connection dropped meanwhile. */
  private answer(events: () => CtpEvent[]): void {
    const connection = this.connection;
    this.scheduler.schedule(() => {
      if (this.closed || connection !== this.connection) return;
      this.deliver(events());
    }, this.timing.replyMs);
  }

  private deliver(events: readonly CtpEvent[], dropped = 0): void {
    if (this.closed) return;
    try {
      this.options.onEvents(events, dropped);
    } catch (error) {
      // As the addon does: what the handler throws goes to onError and delivery goes on.
      if (this.options.onError === undefined) throw error;
      this.options.onError(error);
    }
  }

  private record(method: ScriptedCall['method'], args: readonly unknown[]): void {
    this.calls.push({ at: this.scheduler.now(), method, args });
  }

  private nowUs(): number {
    return Math.round(this.scheduler.now() * 1000);
  }
}
