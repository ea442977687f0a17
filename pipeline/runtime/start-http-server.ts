import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { ConfigError, TickflowError } from '../errors.js';
import type { ControlHandler } from '../components/component-definition.js';
import type { PipelineHealth } from './run-pipeline.js';

export interface HttpServerOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly health: () => PipelineHealth;
  readonly metrics: () => Promise<string>;
  /** Stage controls, served as POST /control/{stage}/{name} with a JSON body. */
  readonly controls?: ReadonlyMap<string, ReadonlyMap<string, ControlHandler>>;
  readonly logger: Logger;
}

const MAX_CONTROL_BODY = 64 * 1024;

function json(response: import('node:http').ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

export interface HttpEndpoint {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves `GET /health` (JSON: the pipeline's and every stage's state; 200
 * while running or cleanly stopped, 503 once a stage failed) and
 * `GET /metrics` (Prometheus text format).
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpEndpoint> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const control = /^\/control\/([^/]+)\/([^/]+)$/.exec(path);
    if (control !== null && request.method === 'POST') {
      const [, stage = '', name = ''] = control;
      const handler = options.controls?.get(stage)?.get(name);
      if (handler === undefined) {
        const known = [...(options.controls ?? new Map())].flatMap(([s, names]) => [...names.keys()].map((n) => `${s}/${n}`));
        json(response, 404, { error: `no control ${stage}/${name}; controls: ${known.join(', ') || '(none)'}` });
        return;
      }
      let text = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => {
        text += chunk;
        if (text.length > MAX_CONTROL_BODY) request.destroy();
      });
      request.on('end', () => {
        let body: unknown = {};
        try {
          body = text === '' ? {} : JSON.parse(text);
        } catch {
          json(response, 400, { error: `control ${stage}/${name}: the body is not JSON` });
          return;
        }
        Promise.resolve()
          .then(() => handler(body, { principal: 'anonymous' }))
          .then(
            (result) => {
              options.logger.info({ stage, control: name }, `control ${stage}/${name} applied`);
              json(response, 200, result ?? { ok: true });
            },
            (error: unknown) => json(response, error instanceof TickflowError && !error.retriable ? 400 : 500, { error: (error as Error).message }),
          );
      });
      return;
    }
    if (request.method !== 'GET') {
      response.writeHead(405, { 'content-type': 'application/json', allow: 'GET' }).end(JSON.stringify({ error: `method ${request.method} not allowed` }));
      return;
    }
    if (path === '/health') {
      const health = options.health();
      const status = health.state === 'failed' ? 503 : 200;
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ status: status === 200 ? 'ok' : 'failing', ...health }));
      return;
    }
    if (path === '/metrics') {
      options.metrics().then(
        (text) => response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text),
        (error: unknown) => {
          options.logger.error({ err: error }, 'metrics could not be rendered');
          response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
        },
      );
      return;
    }
    response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `no route ${path}; routes: /health, /metrics, POST /control/{stage}/{name}` }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new ConfigError('http server', [`port ${options.port} on ${host} is in use; choose another with --port (0 picks a free one)`], { cause: error })
          : error,
      ),
    );
    server.listen(options.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host}:${port}`;
  options.logger.info({ url }, `health on ${url}/health, metrics on ${url}/metrics`);
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
