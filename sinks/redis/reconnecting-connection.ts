import { Redis, type ChainableCommander } from 'ioredis';
import type { RetryPolicy } from '../../pipeline/runtime/retry-policy.js';

/**
 * While closing, reconnect attempts are at most this far apart: a Redis that
 * came back is written to within the close timeout, not after the long
 * delay an outage grew the retry policy's backoff to.
 */
const CLOSING_RETRY_MS = 100;

/** What the connection tells its owner; only the current client's events are passed on. */
export interface ConnectionEvents {
  /** Connected (first time or again) and ready for commands. */
  ready(): void;
  /** An error or a close; may come more than once for one loss. */
  lost(detail: string): void;
}

/**
 * The `redis` sink's one ioredis connection, reconnected by the retry
 * policy. ioredis's offline queue is off and commands lost with a
 * connection are rejected at once (not resent), so the sink's own bounded
 * FIFO is the only buffer and a lost batch can be planned again. When the
 * sink closes, a connection waiting out a long reconnect delay is replaced
 * by one that connects now, and later attempts come often.
 */
export class ReconnectingConnection {
  private client: Redis;
  private closing = false;

  constructor(
    private readonly options: { readonly url: string; readonly connectionName: string; readonly retry: RetryPolicy },
    private readonly events: ConnectionEvents,
  ) {
    this.client = this.connect();
  }

  /** ioredis's status of the current client ('ready' when commands can go). */
  get status(): string {
    return this.client.status;
  }

  /** A pipeline on the current client. */
  pipeline(): ChainableCommander {
    return this.client.pipeline();
  }

  /**
   * From now on reconnect attempts are at most {@link CLOSING_RETRY_MS}
   * apart, and a client waiting to reconnect (or that gave up) is replaced
   * by one that connects now. Returns whether it was.
   */
  closeSoon(): boolean {
    this.closing = true;
    // 'reconnecting' waits out a retry delay, which a long outage grew past the close timeout; 'end' gave up.
    if (this.client.status !== 'reconnecting' && this.client.status !== 'end') return false;
    const waiting = this.client;
    this.client = this.connect();
    // Clears its pending reconnect; its events no longer reach the owner.
    waiting.disconnect();
    return true;
  }

  /**
   * Stops reconnecting and, when the client is ready, sends QUIT: resolves
   * once QUIT was answered (or failed); `reachable` says whether it was sent.
   * Call {@link disconnect} after.
   */
  quit(): { readonly reachable: boolean; readonly quitted: Promise<void> } {
    this.closing = false;
    const reachable = this.client.status === 'ready';
    const quitted = reachable
      ? this.client.quit().then(
          () => undefined,
          () => undefined,
        )
      : Promise.resolve();
    return { reachable, quitted };
  }

  /** Closes the socket at once. */
  disconnect(): void {
    this.client.disconnect();
  }

  /** A client whose events reach the owner only while it is the current one. */
  private connect(): Redis {
    const client = new Redis(this.options.url, {
      // Records wait in the sink's own bounded FIFO while Redis is away, not in an unbounded ioredis queue.
      enableOfflineQueue: false,
      // Commands lost with a connection are rejected at once, so the batch they belong to can be re-planned.
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (attempt) => this.reconnectDelay(attempt),
      connectionName: this.options.connectionName,
    });
    client.on('ready', () => {
      if (client === this.client) this.events.ready();
    });
    client.on('error', (error: Error) => {
      if (client === this.client) this.events.lost(error.message);
    });
    client.on('close', () => {
      if (client === this.client) this.events.lost('connection closed');
    });
    return client;
  }

  private reconnectDelay(attempt: number): number | null {
    if (!this.options.retry.shouldRetry(attempt, undefined)) return null;
    const delay = this.options.retry.delayMs(attempt);
    return this.closing ? Math.min(delay, CLOSING_RETRY_MS) : delay;
  }
}
