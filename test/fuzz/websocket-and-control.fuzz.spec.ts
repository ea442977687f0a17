import fc from 'fast-check';
import { request } from 'node:http';
import { connect } from 'node:net';
import { pino } from 'pino';
import { NEVER, Subject, asyncScheduler, of, type Subscription } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { jsonNestingDepth } from '../../protocols/json/parse-bounded-json.js';
import { validateConfig } from '../../pipeline/config/validate-config.js';
import { ControlAccess } from '../../pipeline/runtime/control-access.js';
import { startHttpServer } from '../../pipeline/runtime/start-http-server.js';
import { riskOperator } from '../../operators/risk-operator.js';
import type { OrderCommand, RiskControlChanged } from '../../schemas/generated.js';
import { makeTick } from '../support/make-tick.js';
import { testContext } from '../support/test-context.js';
import { TestClient, firstQuote, laterQuote, peek, startSink, stopAllSinks, type RunningSink } from '../support/websocket-harness.js';
import { fuzzSeed } from './fuzz-seed.js';

afterAll(stopAllSinks);

/** Inputs sent per surface, printed at the end for the closing note. */
const sent: Record<string, number> = {};
afterAll(() => console.log(`websocket and control fuzz inputs: ${JSON.stringify(sent)}`));

const INSTRUMENTS = ['SHFE.rb2501', 'DCE.m2501', 'CZCE.SR501', 'nope', ''];

/** Values a hostile client puts where a request expects a string or a list: anything JSON can say, deep, huge, odd. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.array(fc.constantFrom(...INSTRUMENTS), { maxLength: 20 }),
  fc.constantFrom(...INSTRUMENTS).map((id) => [id, id, id].join(',')),
  fc.integer({ min: 1, max: 2000 }).map((d) => ({ __raw: '['.repeat(d) + ']'.repeat(d) })),
);

/** A message a client may send: valid requests, requests with hostile fields, garbage text, deep nesting. */
const clientMessage: fc.Arbitrary<string> = fc.oneof(
  fc
    .record(
      { aid: fc.constantFrom('subscribe_quote', 'peek_message', 'ins_query', 'set_chart', 'insert_order'), ins_list: hostileValue },
      { requiredKeys: ['aid'] },
    )
    .map(render),
  fc
    .record(
      {
        action: fc.constantFrom('subscribe', 'unsubscribe', 'list_instruments', 'search_instruments', 'subscribe_orders', 'x'),
        instruments: hostileValue,
        pattern: hostileValue,
      },
      { requiredKeys: ['action'] },
    )
    .map(render),
  fc.record({ aid: hostileValue, action: hostileValue }).map(render),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.integer({ min: 9, max: 5000 }).map((d) => `{"aid":"subscribe_quote","ins_list":${'['.repeat(d)}${']'.repeat(d)}}`),
);

/** JSON text of a value, with `{ __raw }` markers spliced in as raw (deeply nested) text. */
function render(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'object' && v !== null && '__raw' in v) {
      raws.push((v as { __raw: string }).__raw);
      return `__RAW_${raws.length - 1}__`;
    }
    return v;
  });
  return text.replace(/"__RAW_(\d+)__"/g, (_m, i: string) => raws[Number(i)] as string);
}

/** Whether the server answers `text` with no message of its own (peek_message is answered by data, a good subscribe_quote by the next rtn_data). */
function answeredSilently(text: string): boolean {
  if (jsonNestingDepth(text, 8) > 8) return false;
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return false;
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return false;
  const m = message as Record<string, unknown>;
  return (
    m['aid'] === 'peek_message' ||
    (m['aid'] === 'subscribe_quote' &&
      typeof m['ins_list'] === 'string' &&
      new Set(
        m['ins_list']
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== ''),
      ).size <= 500)
  );
}

/** A client that took its snapshot and must keep getting updates. */
async function watcher(sink: RunningSink): Promise<TestClient> {
  const client = await TestClient.connect(sink.wsUrl, { headers: { authorization: 'Bearer fuzz-client-token-0123' } });
  client.send({ aid: 'subscribe_quote', ins_list: 'SHFE.rb2501' });
  await peek(client);
  return client;
}

let price = 4000;
async function stillServes(sink: RunningSink, client: TestClient): Promise<void> {
  price++;
  sink.quotes.next(laterQuote('SHFE.rb2501', price, { last_price: price }));
  const update = await peek(client, 10_000);
  expect(update['data'][0].quotes['SHFE.rb2501'].last_price).toBe(price);
}

describe('fuzz: websocket sink and control endpoints', () => {
  it('answers every client message of either protocol (or holds it as the protocol says), and a good client keeps getting updates', async () => {
    const sink = await startSink({
      auth_tokens: ['fuzz-client-token-0123'],
      max_messages_per_second: 100_000,
      max_bytes_per_second: 1_073_741_824,
    });
    sink.quotes.next(firstQuote('SHFE.rb2501', 3500));
    sink.quotes.next(firstQuote('DCE.m2501', 2800));
    const good = await watcher(sink);
    await fc.assert(
      fc.asyncProperty(fc.array(clientMessage, { minLength: 1, maxLength: 20 }), async (messages) => {
        const attacker = await TestClient.connect(`${sink.wsUrl}?token=fuzz-client-token-0123`);
        try {
          for (const m of messages) attacker.send(m);
          sent['websocket messages'] = (sent['websocket messages'] ?? 0) + messages.length;
          const expected = messages.filter((m) => !answeredSilently(m)).length;
          await peek(attacker, 10_000).catch(() => undefined);
          // Pushes (rtn_data, market_data) are data, not answers.
          const replies = attacker.messages.filter((m) => m['aid'] !== 'rtn_data' && m['action'] !== 'market_data');
          expect(replies.length).toBe(expected);
          for (const r of replies) expect(JSON.stringify(r).length).toBeLessThan(4096);
          await stillServes(sink, good);
        } finally {
          attacker.close();
        }
      }),
      { seed: fuzzSeed('websocket messages'), numRuns: 60, plugins: [fc.interruptAfterTimeLimit(15_000)] },
    );
  }, 60_000);

  it('answers any upgrade request with an HTTP status or a closed connection, and keeps serving', async () => {
    const sink = await startSink({ auth_tokens: ['fuzz-client-token-0123'] });
    sink.quotes.next(firstQuote('SHFE.rb2501', 3500));
    const good = await watcher(sink);
    const target = fc.oneof(
      fc.constantFrom('/', '//', '//[', '*', '/?token=%', 'http://[::1', '/%%%'),
      fc.string({ unit: 'grapheme-ascii', maxLength: 80 }).map((s) => s.replace(/[\s]/g, '') || '/'),
    );
    const header = fc.oneof(
      fc.constant('Authorization: Bearer fuzz-client-token-0123'),
      fc.string({ unit: 'grapheme-ascii', maxLength: 60 }).map((s) => `Authorization: ${s.replace(/[\r\n]/g, '')}`),
      fc.constantFrom(
        'Sec-WebSocket-Version: 8',
        'Sec-WebSocket-Key: x',
        'Upgrade: h2c',
        'Content-Length: 99999',
        'Transfer-Encoding: chunked',
        'Host:',
      ),
    );
    await fc.assert(
      fc.asyncProperty(target, fc.array(header, { maxLength: 4 }), fc.boolean(), async (path, headers, cut) => {
        const text = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${headers.join('\r\n')}${headers.length > 0 ? '\r\n' : ''}\r\n`;
        const answer = await new Promise<string>((resolve) => {
          const socket = connect(sink.port, '127.0.0.1');
          let got = '';
          const timer = setTimeout(() => socket.destroy(), 3000);
          socket.on('data', (d) => {
            got += d.toString('latin1');
            socket.end();
          });
          socket.on('error', () => undefined);
          socket.on('close', () => {
            clearTimeout(timer);
            resolve(got);
          });
          socket.write(cut ? text.slice(0, Math.floor(text.length / 2)) : text);
          if (cut) socket.end();
        });
        sent['upgrade requests'] = (sent['upgrade requests'] ?? 0) + 1;
        if (answer !== '') expect(answer).toMatch(/^HTTP\/1\.1 (101|400|401|403|404|426|431|503) /);
        await stillServes(sink, good);
      }),
      { seed: fuzzSeed('upgrade requests'), numRuns: 80, plugins: [fc.interruptAfterTimeLimit(15_000)] },
    );
  }, 60_000);

  it('answers any control request with a 2xx or 4xx, applies only authenticated valid ones, and keeps serving', async () => {
    const token = 'fuzz-control-token-0123456789';
    const ctx = testContext(asyncScheduler, riskOperator, { stage: 'risk' });
    const stage = riskOperator.create(validateConfig('risk', riskOperator.spec, {}), ctx);
    const audited: RiskControlChanged[] = [];
    ctx.sides.get('control')?.subscribe((r) => audited.push(r as RiskControlChanged));
    const running: Subscription = stage({ commands: new Subject<OrderCommand>(), ticks: of(makeTick()), events: NEVER }).subscribe();
    const http = await startHttpServer({
      port: 0,
      health: () => ({ pipeline: 'p', state: 'running', stages: {} }),
      metrics: async () => '',
      controls: () => new Map([['risk', ctx.controls]]),
      controlAccess: ControlAccess.tokens([`fuzz:${token}`], 'the fuzz test'),
      logger: pino({ level: 'silent' }),
    });
    const body = fc.oneof(
      fc
        .record(
          {
            trading_state: fc.oneof(fc.constantFrom('HALTED', 'ACTIVE', 'REDUCING'), fc.jsonValue({ maxDepth: 2 })),
            reason: fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 2 })),
          },
          { requiredKeys: [] },
        )
        .map((v) => JSON.stringify(v)),
      fc
        .dictionary(
          fc.constantFrom('max_order_volume', 'rule_self_trade', 'price_band_percent', 'duplicate_window_ms', 'reason', 'x'),
          fc.oneof(fc.double(), fc.boolean(), fc.integer(), fc.string()),
        )
        .map((v) => JSON.stringify(v)),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.integer({ min: 1, max: 8000 }).map((d) => '['.repeat(d) + ']'.repeat(d)),
    );
    const headers = fc.record(
      {
        authorization: fc.oneof(
          fc.constant(`Bearer ${token}`),
          fc.constant('Bearer wrong-token-0123456789'),
          fc.string({ unit: 'grapheme-ascii', maxLength: 40 }),
        ),
        'content-type': fc.constantFrom('application/json', 'text/plain', 'application/json; charset=utf-8', ''),
        origin: fc.constantFrom(`http://127.0.0.1:${http.port}`, 'https://evil.example', 'null'),
        host: fc.constantFrom(`127.0.0.1:${http.port}`, `localhost:${http.port}`, 'evil.example'),
      },
      { requiredKeys: [] },
    );
    const path = fc.constantFrom(
      '/control/risk/state',
      '/control/risk/limits',
      '/control/risk/halt',
      '/control/x/state',
      '/control//',
      '/health',
    );
    try {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom('POST', 'GET', 'PUT'), path, headers, body, async (method, route, extra, text) => {
          const before = audited.length;
          const status = await new Promise<number>((resolve, reject) => {
            const clean = Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== '' && !/[\r\n]/.test(v)));
            const req = request({ host: '127.0.0.1', port: http.port, path: route, method, headers: clean }, (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            });
            req.on('error', reject);
            req.end(method === 'GET' ? undefined : text);
          });
          sent['control requests'] = (sent['control requests'] ?? 0) + 1;
          expect([200, 400, 401, 403, 404, 405, 413, 415]).toContain(status);
          if (status !== 200 || route === '/health') expect(audited.length).toBe(before);
          const authorized = extra.authorization === `Bearer ${token}`;
          if (!authorized && route !== '/health') expect(status).not.toBe(200);
        }),
        { seed: fuzzSeed('control requests'), numRuns: 300, plugins: [fc.interruptAfterTimeLimit(15_000)] },
      );
      expect((await fetch(`${http.url}/health`)).status).toBe(200);
    } finally {
      running.unsubscribe();
      await http.close();
    }
  }, 60_000);
});
