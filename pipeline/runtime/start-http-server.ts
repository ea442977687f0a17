import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { parseBoundedJson } from '../../protocols/json/parse-bounded-json.js';
import type { ControlHandler } from '../components/component-definition.js';
import { ConfigError, TickflowError } from '../../errors/errors.js';
import { ControlAccess } from './control-access.js';
import type { PipelineHealth } from './run-pipeline.js';

export interface HttpServerOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly health: () => PipelineHealth;
  readonly metrics: () => Promise<string>;
  /** Stage controls, served as POST /control/{stage}/{name} with a JSON body; read per request, so the server can start before the pipeline registers them. */
  readonly controls?: () => ReadonlyMap<string, ReadonlyMap<string, ControlHandler>>;
  /** Who may use the controls; default: nobody (off). */
  readonly controlAccess?: ControlAccess;
  /** Where `tickflow_control_requests_total` is registered (read when first counted); default: not counted. */
  readonly registry?: () => Registry | undefined;
  readonly logger: Logger;
}

/** Largest control body: a control names a state or a few limits. */
export const MAX_CONTROL_BODY_BYTES = 16 * 1024;
/** Deepest control body: a flat object of fields. */
const MAX_CONTROL_DEPTH = 4;
/** A request must send its headers, and a control its body, within this time. */
const REQUEST_TIMEOUT_MS = 10_000;
/** Refused control requests are logged one by one at first, then every hundredth, so a scan cannot flood the log. */
const shouldLogRefusal = (count: number): boolean => count <= 20 || count % 100 === 0;

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (response.headersSent) return;
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }).end(JSON.stringify(body));
}

export interface HttpEndpoint {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Host headers that name this server: its loopback address, `localhost` or `[::1]`, with its port. A browser led here by DNS rebinding sends the attacker's name. */
function hostsOf(host: string, port: number): ReadonlySet<string> {
  return new Set([`${host}:${port}`, `127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
}

/**
 * Serves the pipeline's own HTTP port (127.0.0.1 by default):
 *
 * - `GET /health`: JSON, the pipeline's and every stage's state; 200 while
 *   running or cleanly stopped, 503 once a stage failed. Open.
 * - `GET /metrics`: Prometheus text. Open (read-only; loopback).
 * - `POST /control/{stage}/{name}`: a stage's run-time control (the risk
 *   stage's kill switch and limits). Refused unless it names this server in
 *   `Host` (no DNS rebinding), carries no foreign `Origin` and is not
 *   `Sec-Fetch-Site: cross-site` (no cross-site form or fetch), sends
 *   `Content-Type: application/json` (a cross-site "simple" POST cannot), and
 *   passes {@link ControlAccess}: a control token naming its principal, which
 *   the stage audits. A body over {@link MAX_CONTROL_BODY_BYTES} is 413, a
 *   body that is not bounded JSON 400.
 *
 * Nothing a client sends can throw out of the server: a handler that fails
 * answers 500 and is logged.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpEndpoint> {
  const host = options.host ?? '127.0.0.1';
  const access = options.controlAccess ?? ControlAccess.off();
  const { logger } = options;
  const count = (outcome: string): void => {
    const registry = options.registry?.();
    if (registry === undefined) return;
    const counter =
      (registry.getSingleMetric('tickflow_control_requests_total') as Counter<'outcome'> | undefined) ??
      new Counter({
        name: 'tickflow_control_requests_total',
        help: 'Control requests by outcome (applied, or why refused).',
        labelNames: ['outcome'],
        registers: [registry],
      });
    counter.inc({ outcome });
  };
  let refusals = 0;
  let ownHosts: ReadonlySet<string> = new Set();
  let ownOrigins: ReadonlySet<string> = new Set();

  const refuse = (
    request: IncomingMessage,
    response: ServerResponse,
    status: number,
    outcome: string,
    message: string,
    headers: Record<string, string> = {},
  ): void => {
    count(outcome);
    if (shouldLogRefusal(++refusals)) {
      logger.warn(
        { remote: request.socket.remoteAddress, path: request.url?.slice(0, 200), outcome, status, refused: refusals },
        `control request refused (${status}): ${message}`,
      );
    }
    json(response, status, { error: message }, headers);
  };

  const serveControl = (request: IncomingMessage, response: ServerResponse, stage: string, name: string): void => {
    const hostHeader = request.headers.host ?? '';
    if (!ownHosts.has(hostHeader))
      return refuse(
        request,
        response,
        403,
        'foreign-host',
        `Host '${hostHeader.slice(0, 100)}' is not this server; control requests must name it (127.0.0.1:PORT or localhost:PORT)`,
      );
    const origin = request.headers.origin;
    if ((origin !== undefined && !ownOrigins.has(origin)) || request.headers['sec-fetch-site'] === 'cross-site') {
      return refuse(
        request,
        response,
        403,
        'foreign-origin',
        `requests from another origin (${(origin ?? 'cross-site').slice(0, 100)}) may not use the controls`,
      );
    }
    const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (contentType !== 'application/json')
      return refuse(
        request,
        response,
        415,
        'not-json',
        `a control body must be sent as Content-Type: application/json, got '${contentType?.slice(0, 100) ?? ''}'`,
      );
    const verdict = access.authenticate(request.headers.authorization);
    if ('status' in verdict) {
      return refuse(
        request,
        response,
        verdict.status,
        verdict.status === 401 ? 'unauthenticated' : 'controls-off',
        verdict.message,
        verdict.status === 401 ? { 'www-authenticate': 'Bearer' } : {},
      );
    }
    const controls = options.controls?.() ?? new Map<string, ReadonlyMap<string, ControlHandler>>();
    const handler = controls.get(stage)?.get(name);
    if (handler === undefined) {
      const known = [...controls].flatMap(([s, names]) => [...names.keys()].map((n) => `${s}/${n}`));
      return refuse(
        request,
        response,
        404,
        'unknown-control',
        `no control ${stage.slice(0, 100)}/${name.slice(0, 100)}; controls: ${known.join(', ') || '(none)'}`,
      );
    }
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > MAX_CONTROL_BODY_BYTES)
      return refuse(request, response, 413, 'too-large', `a control body may have at most ${MAX_CONTROL_BODY_BYTES} bytes`, {
        connection: 'close',
      });
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_CONTROL_BODY_BYTES) chunks.push(chunk);
      else if (!response.headersSent) {
        refuse(request, response, 413, 'too-large', `a control body may have at most ${MAX_CONTROL_BODY_BYTES} bytes`, {
          connection: 'close',
        });
        request.resume();
      }
    });
    request.on('end', () => {
      if (response.headersSent) return;
      const text = Buffer.concat(chunks).toString('utf8');
      const parsed =
        text.trim() === ''
          ? { ok: true as const, value: {} }
          : parseBoundedJson(text, { maxLength: MAX_CONTROL_BODY_BYTES, maxDepth: MAX_CONTROL_DEPTH });
      if (!parsed.ok) return refuse(request, response, 400, 'bad-body', `control ${stage}/${name}: the body is ${parsed.reason}`);
      const { principal } = verdict;
      Promise.resolve()
        .then(() => handler(parsed.value, { principal }))
        .then(
          (result) => {
            count('applied');
            logger.info({ stage, control: name, principal }, `control ${stage}/${name} applied for ${principal}`);
            json(response, 200, result ?? { ok: true });
          },
          (error: unknown) => {
            const refusal = error instanceof TickflowError && !error.retriable;
            count(refusal ? 'invalid' : 'failed');
            logger.warn(
              { stage, control: name, principal, err: error },
              `control ${stage}/${name} by ${principal} not applied: ${(error as Error).message}`,
            );
            json(response, refusal ? 400 : 500, { error: (error as Error).message });
          },
        );
    });
  };

  const serve = (request: IncomingMessage, response: ServerResponse): void => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const control = /^\/control\/([^/]+)\/([^/]+)$/.exec(path);
    if (control !== null) {
      if (request.method !== 'POST') return json(response, 405, { error: `control ${path.slice(0, 200)} takes POST` }, { allow: 'POST' });
      return serveControl(request, response, control[1] ?? '', control[2] ?? '');
    }
    if (request.method !== 'GET')
      return json(response, 405, { error: `method ${String(request.method).slice(0, 20)} not allowed` }, { allow: 'GET' });
    if (path === '/health') {
      const health = options.health();
      const status = health.state === 'failed' ? 503 : 200;
      return json(response, status, { status: status === 200 ? 'ok' : 'failing', ...health });
    }
    if (path === '/metrics') {
      options.metrics().then(
        (text) => response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text),
        (error: unknown) => {
          logger.error({ err: error }, 'metrics could not be rendered');
          response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
        },
      );
      return;
    }
    json(response, 404, {
      error: `no route ${path.slice(0, 200)} on the pipeline's HTTP port; routes: /health, /metrics, POST /control/{stage}/{name}`,
    });
  };

  const server = createServer((request, response) => {
    try {
      serve(request, response);
    } catch (error) {
      logger.error({ err: error, path: request.url?.slice(0, 200) }, `http request failed: ${(error as Error).message}`);
      json(response, 500, { error: 'internal error' });
    }
  });
  server.headersTimeout = REQUEST_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new ConfigError('http server', [`port ${options.port} on ${host} is in use; choose another with --port (0 picks a free one)`], {
              cause: error,
            })
          : error,
      ),
    );
    server.listen(options.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host}:${port}`;
  ownHosts = hostsOf(host, port);
  ownOrigins = new Set([...ownHosts].map((h) => `http://${h}`));
  logger.info({ url }, `health on ${url}/health, metrics on ${url}/metrics`);
  if (access.mode === 'open')
    logger.warn(
      { url },
      `control endpoints are OPEN: anyone who can reach ${url} can halt or resume trading and change risk limits (--control-open)`,
    );
  else if (access.mode === 'tokens')
    logger.info(
      { principals: access.principals },
      `control endpoints on ${url}/control/… need a control token (principals: ${access.principals.join(', ')})`,
    );
  else logger.info(`control endpoints are off: no control token configured (TICKFLOW_CONTROL_TOKENS or --control-tokens-file)`);
  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
