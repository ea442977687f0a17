import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { OrderEvent } from '../../schemas/generated.js';
import type { SchedulerLike, Subscription } from 'rxjs';
import { WebSocketServer, type WebSocket } from 'ws';
import type { PipelineHealth } from '../../pipeline/runtime/run-pipeline.js';
import type { AuthTokens } from './auth-tokens.js';
import { ClientConnection } from './client-connection.js';
import { ConnectionErrorCode } from './client-error.js';
import type { FeedBoard, FeedChange } from './feed-board.js';
import type { QuoteBook, QuoteChange } from '../../protocols/diff/quote-book.js';
import { listenOn } from './listen-on.js';
import { QuoteFanout } from './quote-fanout.js';
import { QuotePage } from './quote-page.js';
import type { TradeBook, TradeEntityChange } from './trade-book.js';
import type { WebsocketSinkMetrics } from './websocket-sink-metrics.js';

export interface WebsocketServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly authTokens: AuthTokens;
  /** Largest client message; a larger one closes the connection with 1009. */
  readonly maxFrameBytes: number;
  readonly maxSubscriptions: number;
  readonly maxMessagesPerSecond: number;
  readonly maxBytesPerSecond: number;
  readonly maxReplyBytes: number;
  /** Most WebSocket clients at once; more are refused with 503 before the handshake. */
  readonly maxConnections: number;
  /** Most WebSocket clients at once from one remote address. */
  readonly maxConnectionsPerAddress: number;
  readonly maxBufferedBytes: number;
  readonly book: QuoteBook;
  readonly feeds: FeedBoard;
  readonly trade: TradeBook;
  readonly scheduler: SchedulerLike;
  readonly logger: Logger;
  readonly metrics: WebsocketSinkMetrics;
  /** The pipeline's health for `GET /health` (a fan-out process asks the pipeline's process for it). */
  readonly health: () => PipelineHealth | Promise<PipelineHealth>;
  /** The pipeline's metrics in Prometheus text for `GET /metrics`. */
  readonly pipelineMetrics: () => Promise<string>;
  /** Scheduler milliseconds a client gets to answer the close handshake before its socket is cut; default 1000. */
  readonly closeGraceMs?: number;
}

const ROUTES = '/ (the live page, with its /live-page.js, /live-page.css and /constants.js), /health, /metrics and WebSocket upgrades';
/** Clients flushed in one turn of the event loop: with 10,000 clients a flush of all would keep ticks waiting for tens of milliseconds. */
const MAX_FLUSHED_PER_TURN = 500;
/** A request must send its headers (an upgrade its handshake) within this time, so idle half-open connections do not pile up. */
const REQUEST_TIMEOUT_MS = 10_000;

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

/** Answers an upgrade request with a plain HTTP error and closes the connection. */
function refuseUpgrade(socket: Socket, status: number, reason: string, body: string, extraHeaders = ''): void {
  socket.on('error', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extraHeaders}\r\n${body}`,
  );
}

/**
 * The WebSocket sink's server: one port for WebSocket clients (upgrades on
 * any path, the DIFF and action protocols, optional bearer-token auth) and
 * plain HTTP: `GET /` the live quote page, `GET /health` and `GET /metrics`
 * of the pipeline; anything else is 404.
 */
export class WebsocketServer {
  private readonly wss: WebSocketServer;
  private readonly clients = new Map<WebSocket, ClientConnection>();
  /** Connected clients (and handshakes under way) per remote address. */
  private readonly perAddress = new Map<string, number>();
  private handshakes = 0;
  private nextClientId = 1;
  private closing: Promise<void> | undefined;
  private onAllClientsClosed: (() => void) | undefined;
  private readonly fanout: QuoteFanout;
  /** Clients to flush next: those with something of their own to send, or woken by a change of their subscriptions. */
  private readonly ready = new Set<ClientConnection>();
  private flushScheduled = false;
  private readonly requestFlush = (client: ClientConnection): void => {
    this.ready.add(client);
    this.scheduleFlush();
  };

  private constructor(
    private readonly options: WebsocketServerOptions,
    private readonly server: Server,
    private readonly page: QuotePage,
    /** `http://host:port`. */
    readonly url: string,
    readonly port: number,
  ) {
    this.fanout = new QuoteFanout(options.book);
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes, perMessageDeflate: false, clientTracking: false });
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      // Nothing a client sends may throw out of a listener.
      try {
        this.onRequest(request, response);
      } catch (error) {
        options.logger.error(
          { err: error, path: request.url?.slice(0, 200) },
          `websocket sink: http request failed: ${(error as Error).message}`,
        );
        if (!response.headersSent) sendJson(response, 500, { error: 'internal error' });
      }
    });
    server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
      try {
        this.onUpgrade(request, socket, head);
      } catch (error) {
        options.metrics.clientErrors.labels({ code: ConnectionErrorCode.BAD_UPGRADE }).inc();
        options.logger.warn({ remote: socket.remoteAddress, err: error }, `websocket upgrade refused: ${(error as Error).message}`);
        refuseUpgrade(socket, 400, 'Bad Request', JSON.stringify({ error: 'the upgrade request could not be read' }));
      }
    });
  }

  /** Starts listening; rejects with a ConfigError when the port is taken. */
  static async start(options: WebsocketServerOptions): Promise<WebsocketServer> {
    const page = await QuotePage.load();
    const server = WebsocketServer.httpServer();
    const { port, url } = await listenOn(server, options.host, options.port);
    WebsocketServer.announce(options, url);
    return new WebsocketServer(options, server, page, url, port);
  }

  /** Logs where the sink serves, once it listens (in this process or in its fan-out processes). */
  static announce(options: { readonly logger: Logger; readonly authTokens: Pick<AuthTokens, 'isOpen'> }, url: string): void {
    options.logger.info(
      { url, auth: options.authTokens.isOpen ? 'none' : 'bearer token' },
      `websocket sink serving quotes on ${url.replace('http', 'ws')}/ (live quote page ${url}/, health ${url}/health, metrics ${url}/metrics)`,
    );
  }

  /**
   * A server that does not listen: it serves the connections handed to it
   * by {@link adopt}, taken by the process that listens on `url` (a
   * fan-out process of {@link FanoutProcesses}).
   */
  static async adopting(options: WebsocketServerOptions, url: string): Promise<WebsocketServer> {
    const page = await QuotePage.load();
    return new WebsocketServer(options, WebsocketServer.httpServer(), page, url, options.port);
  }

  /** Serves a connection accepted elsewhere, paused before anything was read from it. */
  adopt(socket: Socket): void {
    // What the listening server sets on the sockets it accepts: without it Nagle holds each small frame back for the last one's ACK.
    socket.setNoDelay(true);
    this.server.emit('connection', socket);
    socket.resume();
  }

  private static httpServer(): Server {
    const server = createServer();
    server.headersTimeout = REQUEST_TIMEOUT_MS;
    server.requestTimeout = REQUEST_TIMEOUT_MS;
    return server;
  }

  /** Clients connected now. */
  get clientCount(): number {
    return this.clients.size;
  }

  /**
   * A book change: merged once into the shared fan-out, whatever the number
   * of clients; clients waiting for pushes get it at the next flush.
   */
  quoteChanged(change: QuoteChange): void {
    this.fanout.changed(change);
    if (this.clients.size > 0) this.scheduleFlush();
  }

  /** Passes a feed status change to every client. */
  feedChanged(change: FeedChange): void {
    for (const client of this.clients.values()) client.feedChanged(change);
  }

  /** Passes trade state changes to every client (DIFF `trade`). */
  tradeChanged(changes: readonly TradeEntityChange[]): void {
    if (changes.length === 0) return;
    for (const client of this.clients.values()) client.tradeChanged(changes);
  }

  /** Pushes an order event to every client that subscribed to orders; serialized once for all of them. */
  orderEvent(event: OrderEvent): void {
    if (this.clients.size === 0) return;
    const message = Buffer.from(JSON.stringify({ action: 'order_event', event }));
    const orderKey = `${event.account_id}\u0000${event.client_order_id}`;
    for (const client of this.clients.values()) client.orderEvent(orderKey, message);
  }

  /**
   * Sends every client what is pending, closes it with `code` (1001, going
   * away, by default), cuts those that do not answer within the grace time,
   * and stops listening. Calling it again returns the same promise.
   */
  close(code = 1001, reason = 'server shutting down'): Promise<void> {
    this.closing ??= this.closeAll(code, reason);
    return this.closing;
  }

  /**
   * Flushes once the events of this turn of the event loop are in (setImmediate
   * runs after the poll phase): ticks that came in together, and peeks read
   * together, are answered by one flush, where clients in the same position
   * share one encoded frame.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /**
   * Seals the changes so far (waking the clients they concern), then flushes
   * the clients that have something to send, at most MAX_FLUSHED_PER_TURN:
   * the rest go on at the next turn, after the ticks that came in meanwhile,
   * so that many clients never hold the pipeline's input up for long.
   */
  private flush(): void {
    this.fanout.seal();
    let budget = MAX_FLUSHED_PER_TURN;
    for (const client of this.ready) {
      if (budget-- === 0) return this.scheduleFlush();
      this.ready.delete(client);
      client.flush();
    }
  }

  private async closeAll(code: number, reason: string): Promise<void> {
    for (const client of this.clients.values()) client.close(code, reason);
    if (this.clients.size > 0) {
      let cutter: Subscription | undefined;
      await new Promise<void>((resolve) => {
        this.onAllClientsClosed = resolve;
        cutter = this.options.scheduler.schedule(() => {
          for (const socket of this.clients.keys()) socket.terminate();
        }, this.options.closeGraceMs ?? 1000);
      });
      cutter?.unsubscribe();
    }
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
    this.options.logger.info({ url: this.url }, 'websocket sink stopped');
  }

  private onRequest(request: IncomingMessage, response: ServerResponse): void {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    if (path.startsWith('/control/')) {
      return sendJson(response, 404, {
        error: `this is the websocket sink's port (clients, the live page, /health, /metrics); controls are served on the pipeline's HTTP port (tickflow run --port, default 9464): use that in halt --url`,
      });
    }
    if (request.method !== 'GET')
      return sendJson(response, 405, { error: `method ${String(request.method).slice(0, 20)} not allowed` }, { allow: 'GET' });
    // The page and the metrics show what clients need a token to see; /health stays open for probes.
    if ((path === '/' || path === '/metrics') && !this.options.authTokens.allows(request)) {
      this.options.metrics.clientErrors.labels({ code: ConnectionErrorCode.UNAUTHORIZED }).inc();
      return sendJson(
        response,
        401,
        { error: 'a token is required: open the page as /?token=TOKEN, or send "Authorization: Bearer TOKEN"' },
        { 'www-authenticate': 'Bearer' },
      );
    }
    // The page's script, style and constants are open: they hold no data, only the code the package ships; the data comes over the WebSocket.
    const asset = this.page.asset(path);
    if (asset !== undefined) {
      response.writeHead(200, asset.headers).end(asset.body);
      return;
    }
    switch (path) {
      case '/health':
        Promise.resolve(this.options.health()).then(
          (health) => {
            const status = health.state === 'failed' ? 503 : 200;
            sendJson(response, status, { status: status === 200 ? 'ok' : 'failing', ...health });
          },
          (error: unknown) => {
            this.options.logger.error({ err: error }, 'health could not be read');
            sendJson(response, 500, { error: 'health unavailable' });
          },
        );
        return;
      case '/metrics':
        this.options.pipelineMetrics().then(
          (text) => response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text),
          (error: unknown) => {
            this.options.logger.error({ err: error }, 'metrics could not be rendered');
            response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
          },
        );
        return;
      default:
        return sendJson(response, 404, { error: `no route ${path.slice(0, 200)}; routes: ${ROUTES}` });
    }
  }

  private onUpgrade(request: IncomingMessage, socket: Socket, head: Buffer): void {
    // Until ws owns the socket, an error on it (a reset mid-handshake) is ours to absorb.
    socket.on('error', () => socket.destroy());
    if (this.closing !== undefined)
      return refuseUpgrade(socket, 503, 'Service Unavailable', JSON.stringify({ error: 'server shutting down' }));
    if (!this.options.authTokens.allows(request)) {
      this.options.metrics.clientErrors.labels({ code: ConnectionErrorCode.UNAUTHORIZED }).inc();
      // Never the token itself: only who knocked.
      this.options.logger.warn({ remote: socket.remoteAddress }, 'websocket client refused: missing or wrong token');
      return refuseUpgrade(
        socket,
        401,
        'Unauthorized',
        JSON.stringify({ error: 'a token is required: send "Authorization: Bearer TOKEN" or connect with ?token=TOKEN' }),
        'www-authenticate: Bearer\r\n',
      );
    }
    const address = socket.remoteAddress ?? 'unknown';
    const fromAddress = this.perAddress.get(address) ?? 0;
    const total = this.clients.size + this.handshakes;
    if (total >= this.options.maxConnections || fromAddress >= this.options.maxConnectionsPerAddress) {
      this.options.metrics.clientErrors.labels({ code: ConnectionErrorCode.TOO_MANY_CONNECTIONS }).inc();
      const limit =
        total >= this.options.maxConnections
          ? `the server holds ${total} connections, its limit (max_connections)`
          : `${address} holds ${fromAddress} connections, the limit per address (max_connections_per_address)`;
      this.options.logger.warn({ remote: address, connections: total, from_address: fromAddress }, `websocket client refused: ${limit}`);
      return refuseUpgrade(
        socket,
        503,
        'Service Unavailable',
        JSON.stringify({ error: `too many connections: ${limit}` }),
        'retry-after: 5\r\n',
      );
    }
    this.perAddress.set(address, fromAddress + 1);
    this.handshakes++;
    let settled = false;
    const handshakeDone = (): void => {
      if (settled) return;
      settled = true;
      this.handshakes--;
    };
    // A handshake that fails (ws answers it with 400 and destroys the socket) gives its place back.
    socket.once('close', () => {
      if (!settled) {
        handshakeDone();
        this.releaseAddress(address);
      }
    });
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      handshakeDone();
      this.accept(ws, request, address);
    });
  }

  private releaseAddress(address: string): void {
    const n = (this.perAddress.get(address) ?? 1) - 1;
    if (n <= 0) this.perAddress.delete(address);
    else this.perAddress.set(address, n);
  }

  private accept(socket: WebSocket, request: IncomingMessage, address: string): void {
    const id = this.nextClientId++;
    const { logger, metrics } = this.options;
    const client = new ClientConnection({
      id,
      socket,
      fanout: this.fanout,
      feeds: this.options.feeds,
      trade: this.options.trade,
      scheduler: this.options.scheduler,
      logger,
      metrics,
      maxSubscriptions: this.options.maxSubscriptions,
      maxMessagesPerSecond: this.options.maxMessagesPerSecond,
      maxBytesPerSecond: this.options.maxBytesPerSecond,
      maxReplyBytes: this.options.maxReplyBytes,
      maxBufferedBytes: this.options.maxBufferedBytes,
      requestFlush: this.requestFlush,
    });
    this.clients.set(socket, client);
    metrics.clients.inc();
    logger.debug({ client: id, remote: request.socket.remoteAddress }, 'websocket client connected');
    socket.on('error', (error: Error & { code?: string }) => {
      // ws closes the connection itself (1009 for a frame over maxPayload); the error is the client's, not the server's.
      metrics.clientErrors
        .labels({
          code:
            error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? ConnectionErrorCode.FRAME_TOO_LARGE : ConnectionErrorCode.PROTOCOL_ERROR,
        })
        .inc();
      logger.debug({ client: id, code: error.code }, `websocket client error: ${error.message}`);
    });
    socket.on('close', (code: number) => {
      this.clients.delete(socket);
      this.ready.delete(client);
      client.dispose();
      this.releaseAddress(address);
      metrics.clients.dec();
      logger.debug({ client: id, code }, 'websocket client disconnected');
      if (this.clients.size === 0) this.onAllClientsClosed?.();
    });
    // A close that started before this client was accepted still reaches it.
    if (this.closing !== undefined) client.close(1001, 'server shutting down');
  }
}
