import type { SchedulerLike, Subscription } from 'rxjs';
import type { Logger } from 'pino';
import type { CtpDepthMarketData } from '../../native/ctp-depth-market-data.js';
import type { CtpEvent } from '../../native/ctp-event.js';
import type { NativeAddonError } from '../../errors/errors.js';
import { RetryPolicy } from '../../pipeline/runtime/retry-policy.js';
import type { CtpFrontApi, OpenCtpFrontApi } from './ctp-front-api.js';
import type { FrontView } from './front-view.js';

/** Where a front's session stands. `stale`: logged in and holding subscriptions, but silent for longer than allowed. */
export type CtpFrontState = 'connecting' | 'logging-in' | 'ready' | 'stale';

/** One front of a ctp source, as configured. */
export interface CtpFrontOptions {
  readonly name: string;
  readonly address: string;
  readonly brokerId: string;
  readonly userId: string;
  readonly password: string;
  readonly maxSubscriptions: number;
  readonly priority: number;
  readonly flowPath: string;
  readonly libraryPath: string;
  readonly queueCapacity: number;
  readonly maxBatch: number;
  readonly staleAfterMs: number;
  /** How long a front that went stale is passed over when instruments are placed, unless its data comes back sooner. */
  readonly staleHoldMs: number;
}

/** What a front tells the source that owns it. All calls arrive on the JavaScript thread. */
export interface CtpFrontListener {
  onState(front: CtpFront, previous: CtpFrontState, detail: string): void;
  /** The front confirmed (error null) or refused a subscription of a CTP instrument id. */
  onSubscribed(front: CtpFront, instrumentId: string, error: NativeAddonError | null): void;
  onDepth(front: CtpFront, data: CtpDepthMarketData): void;
  /** The addon's queue was full and dropped this many ticks of this front. */
  onOverflow(front: CtpFront, dropped: number): void;
  /** A login failed (refused, or the request could not be sent); the front tries again after a backoff. */
  onLoginFailed(front: CtpFront, detail: string): void;
}

/** Errors older than this no longer count against a front's quality. */
const ERROR_WINDOW_MS = 60_000;
/** Backoff between logins of one connection: 500 ms, doubling, at most 30 s, each ± 20 %. */
const LOGIN_RETRY = { initialMs: 500, maxMs: 30_000 } as const;

/**
 * One CTP front of a ctp source: its own API instance (so fronts connect,
 * fail and recover independently), logged in again after every connect,
 * and the instruments subscribed on it. It re-subscribes nothing by itself:
 * after a reconnect the source decides what this front should carry.
 *
 * ```
 * script:  ------------s 52ms x--------    s: the front goes silent, connected; x: the connection drops
 *   one front: connected 1 ms after a try, each answer 1 ms, a reconnect 3 ms; stale_after_ms 40
 * state:   -ir 57ms t 4ms n--ir-           i: logging-in, r: ready, t: stale (checked every 10 ms), n: connecting
 * ```
 */
export class CtpFront {
  state: CtpFrontState = 'connecting';
  /** CTP instrument ids (no exchange prefix) this front confirmed. */
  readonly subscribed = new Set<string>();
  /** Subscriptions asked for and not yet answered. */
  readonly pending = new Set<string>();
  /** Unsubscriptions sent and not yet answered, so a stream of leftover ticks sends one request, not one per tick. */
  private readonly releasing = new Set<string>();
  /** Scheduler time of this front's latest tick. */
  lastTickAt: number | null = null;
  /** Event time of this front's latest tick, for its FeedStatus. */
  lastTickTs: number | null = null;
  /** Ticks of this front the source dropped (invalid, outside sessions, duplicates). */
  dropCount = 0;
  private api: CtpFrontApi | undefined;
  private readonly errorTimes: number[] = [];
  private requestId = 0;
  private loginAttempt = 0;
  private loginTimer: Subscription | undefined;
  /** Scheduler time from which silence counts towards staleness: the latest tick or subscription, whichever is later. */
  private quietSince = 0;
  private staleUntil = 0;
  /** A front whose data came back after staleness takes no instruments before this (scheduler time). */
  private warmUntil = 0;
  private readonly retry: RetryPolicy;

  /**
   * @param openApi opens this front's API (`CtpMdApi.open` in the ctp source)
   * @param random the jitter of the login backoff, in [0, 1)
   */
  constructor(
    readonly options: CtpFrontOptions,
    private readonly scheduler: SchedulerLike,
    private readonly logger: Logger,
    private readonly listener: CtpFrontListener,
    private readonly openApi: OpenCtpFrontApi,
    random: () => number = Math.random,
  ) {
    this.retry = new RetryPolicy(LOGIN_RETRY, random);
  }

  get name(): string {
    return this.options.name;
  }

  /** Opens the API and starts connecting; the library itself retries a refused connection. */
  start(): void {
    this.api = this.openApi({
      libraryPath: this.options.libraryPath,
      flowPath: this.options.flowPath,
      queueCapacity: this.options.queueCapacity,
      maxBatch: this.options.maxBatch,
      onEvents: (events, dropped) => this.onEvents(events, dropped),
      onError: (error) => this.logger.error({ err: error, front: this.name }, `ctp front ${this.name}: a tick handler threw`),
    });
    this.api.registerFront(this.options.address);
    this.api.init();
  }

  /** Asks for market data of CTP instrument ids; answers arrive as `onSubscribed`. */
  subscribe(ids: readonly string[]): void {
    const asked = ids.filter((id) => !this.subscribed.has(id) && !this.pending.has(id));
    if (asked.length === 0 || this.api === undefined || this.state === 'connecting' || this.state === 'logging-in') return;
    for (const id of asked) {
      this.pending.add(id);
      this.releasing.delete(id);
    }
    this.quietSince = this.scheduler.now();
    const code = this.api.subscribe(asked);
    // Non-zero: the request never left (not connected, or the library's request limits); the next reconnect re-plans.
    if (code !== 0) {
      for (const id of asked) this.pending.delete(id);
      this.noteError();
      this.logger.warn(
        { front: this.name, code, instruments: asked.length },
        `ctp front ${this.name}: SubscribeMarketData returned ${code}`,
      );
    }
  }

  /**
   * Lets go of CTP instrument ids. Sent even for ids this front does not
   * think it holds: a subscription answered after it was called off still
   * delivers, and its ticks are how the source finds it.
   */
  unsubscribe(ids: readonly string[]): void {
    for (const id of ids) {
      this.subscribed.delete(id);
      this.pending.delete(id);
    }
    const send = ids.filter((id) => !this.releasing.has(id));
    if (send.length === 0 || this.api === undefined || this.state === 'connecting' || this.state === 'logging-in') return;
    for (const id of send) this.releasing.add(id);
    this.api.unsubscribe(send);
  }

  /**
   * Whether instruments may be placed on this front now: logged in, and not
   * half-way to stale itself. When every front goes quiet at once (a market
   * break), the first to be judged stale must not hand its instruments to
   * another that is just as silent.
   */
  isHealthy(): boolean {
    const now = this.scheduler.now();
    if (this.state !== 'ready' || now < this.warmUntil) return false;
    return this.subscribed.size + this.pending.size === 0 || now - this.quietSince < this.options.staleAfterMs / 2;
  }

  /** Whether this front is stale and still holds instruments, which the source may place elsewhere. */
  holdsStaleInstruments(): boolean {
    return this.state === 'stale' && this.subscribed.size + this.pending.size > 0;
  }

  /** The front as the subscription planner sees it. */
  view(): FrontView {
    const now = this.scheduler.now();
    while (this.errorTimes.length > 0 && (this.errorTimes[0] as number) < now - ERROR_WINDOW_MS) this.errorTimes.shift();
    return {
      id: this.name,
      priority: this.options.priority,
      healthy: this.isHealthy(),
      maxSubscriptions: this.options.maxSubscriptions,
      tickAgeMs: this.lastTickAt === null ? null : now - this.lastTickAt,
      recentErrors: this.errorTimes.length,
    };
  }

  /** Marks the front stale when it holds subscriptions and has been silent too long; true when that changed its state. */
  checkStale(): boolean {
    const now = this.scheduler.now();
    if (this.state !== 'ready' || this.subscribed.size + this.pending.size === 0) return false;
    if (now - this.quietSince <= this.options.staleAfterMs) return false;
    this.staleUntil = now + this.options.staleHoldMs;
    this.setState('stale', `no market data for ${this.options.staleAfterMs} ms`);
    return true;
  }

  /**
   * Gives a stale front another chance once its instruments have moved away
   * and the hold is over (with no subscriptions it cannot prove itself by
   * data); true when it did. A stale front that still holds subscriptions —
   * every front goes quiet in a market break — waits for its data instead.
   */
  recheck(): boolean {
    if (this.state !== 'stale' || this.subscribed.size + this.pending.size > 0 || this.scheduler.now() < this.staleUntil) return false;
    this.setState('ready', `stale for ${this.options.staleHoldMs} ms with nothing subscribed; trying it again`);
    return true;
  }

  close(): void {
    this.loginTimer?.unsubscribe();
    this.api?.close();
    this.api = undefined;
  }

  private onEvents(events: readonly CtpEvent[], dropped: number): void {
    if (dropped > 0) this.listener.onOverflow(this, dropped);
    for (const event of events) {
      switch (event.kind) {
        case 'depth':
          this.lastTickAt = this.quietSince = this.scheduler.now();
          if (this.state === 'stale') {
            // Fronts come back from a market break a few ms apart: the first back must not take the others' instruments.
            this.warmUntil = this.lastTickAt + this.options.staleAfterMs / 2;
            this.setState('ready', 'market data again');
          }
          this.listener.onDepth(this, event.data);
          break;
        case 'front-connected':
          this.loginAttempt = 0;
          this.setState('logging-in', `connected to ${this.options.address}`);
          this.login();
          break;
        case 'front-disconnected':
          this.loginTimer?.unsubscribe();
          this.subscribed.clear();
          this.pending.clear();
          this.releasing.clear();
          this.setState('connecting', `disconnected (reason 0x${event.reason.toString(16)}); the library reconnects`);
          break;
        case 'login':
          if (this.state !== 'logging-in') break;
          if (event.error === null) {
            this.setState('ready', `logged in, trading day ${event.login?.TradingDay ?? '?'}`);
          } else {
            this.noteError();
            this.retryLogin(event.error.message);
          }
          break;
        case 'subscribed':
          if (!this.pending.delete(event.instrumentId)) break; // answered after an unsubscribe or a reconnect
          if (event.error === null) this.subscribed.add(event.instrumentId);
          else this.noteError();
          this.listener.onSubscribed(this, event.instrumentId, event.error);
          break;
        case 'unsubscribed':
          this.releasing.delete(event.instrumentId);
          break;
        case 'error':
          this.noteError();
          this.logger.warn({ front: this.name, err: event.error }, `ctp front ${this.name}: ${event.error.message}`);
          break;
        case 'heartbeat-warning':
          this.logger.debug(
            { front: this.name, timeLapse: event.timeLapse },
            `ctp front ${this.name}: no heartbeat for ${event.timeLapse} s`,
          );
          break;
        default:
          break;
      }
    }
  }

  private login(): void {
    if (this.api === undefined || this.state !== 'logging-in') return;
    const { brokerId, userId, password } = this.options;
    const code = this.api.login({ brokerId, userId, password }, ++this.requestId);
    if (code !== 0) this.retryLogin(`ReqUserLogin returned ${code}`);
  }

  private retryLogin(reason: string): void {
    const delay = this.retry.delayMs(++this.loginAttempt);
    this.listener.onLoginFailed(this, `login failed (${reason}); again in ${delay} ms`);
    this.loginTimer?.unsubscribe();
    this.loginTimer = this.scheduler.schedule(() => this.login(), delay);
  }

  private noteError(): void {
    this.errorTimes.push(this.scheduler.now());
  }

  private setState(next: CtpFrontState, detail: string): void {
    const previous = this.state;
    if (previous === next) return;
    this.state = next;
    this.listener.onState(this, previous, detail);
  }
}
