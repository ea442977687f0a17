import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_MESSAGE_DEPTH } from '../../sinks/websocket/client-connection.js';
import {
  TestClient,
  firstQuote,
  laterQuote,
  peek,
  startSink,
  stopAllSinks,
  waitFor,
  type RunningSink,
} from '../support/websocket-harness.js';

afterEach(stopAllSinks);

/** The raw HTTP answer to a hand-written request on a fresh TCP connection (or '' when the server closes without one). */
function rawRequest(port: number, request: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms to ${JSON.stringify(request.slice(0, 60))}`));
    }, timeoutMs);
    socket.on('data', (d) => (answer += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.write(request);
  });
}

const upgrade = (target: string, extra = ''): string =>
  `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;

/** A client that subscribed to `SHFE.rb2501` over DIFF and took its snapshot: it should keep getting updates whatever others send. */
async function goodClient(sink: RunningSink, headers?: Record<string, string>): Promise<TestClient> {
  const client = await TestClient.connect(sink.wsUrl, { headers });
  client.send({ aid: 'subscribe_quote', ins_list: 'SHFE.rb2501' });
  await peek(client);
  return client;
}

/** Proves the server still serves: a new tick reaches the good client. */
async function stillServes(sink: RunningSink, client: TestClient, price: number): Promise<void> {
  sink.quotes.next(laterQuote('SHFE.rb2501', price, { last_price: price }));
  const update = await peek(client);
  expect(update['data'][0].quotes['SHFE.rb2501'].last_price).toBe(price);
}

const nested = (depth: number, leaf = '1'): string => '['.repeat(depth) + leaf + ']'.repeat(depth);

describe('websocket sink hardening', () => {
  it('answers an upgrade whose target is no URL with an error, with tokens configured, and keeps serving', async () => {
    const sink = await startSink({ auth_tokens: ['s3cret-client-token'] });
    sink.quotes.next(firstQuote('SHFE.rb2501', 3500));
    const client = await goodClient(sink, { authorization: 'Bearer s3cret-client-token' });
    for (const target of ['//', '//[', 'http://[::1', '/?token=%', '/%%', '*']) {
      const answer = await rawRequest(sink.port, upgrade(target));
      expect(answer, target).toMatch(/^HTTP\/1\.1 (400|401) /);
    }
    // An upgrade cut off mid-headers, and a reset mid-handshake.
    expect(await rawRequest(sink.port, 'GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n')).toMatch(/^HTTP\/1\.1 (400|401)/);
    await stillServes(sink, client, 3501);
  });

  it('refuses messages nested deeper than a request can be, in any field and at top level, over both protocols, without parsing them', async () => {
    const sink = await startSink();
    sink.quotes.next(firstQuote('SHFE.rb2501', 3500));
    const client = await goodClient(sink);
    const attacker = await TestClient.connect(sink.wsUrl);
    const deep = nested(5000);
    const messages = [
      deep,
      `{"aid":${deep}}`,
      `{"aid":"subscribe_quote","ins_list":${deep}}`,
      `{"action":${deep}}`,
      `{"action":"subscribe","instruments":${deep}}`,
      `{"action":"search_instruments","pattern":${deep}}`,
      `{"aid":"peek_message","x":${nested(MAX_MESSAGE_DEPTH + 1)}}`,
    ];
    for (const m of messages) attacker.send(m);
    await waitFor(() => attacker.messages.length >= messages.length, 'an error reply to every nested message');
    const errors = attacker.messages;
    expect(errors.map((m) => m['error']?.code)).toEqual(messages.map(() => 'TOO_DEEP'));
    expect(JSON.stringify(errors).length).toBeLessThan(messages.length * 300);
    // Exactly at the bound is read: a flat request with a list inside nests 2 levels.
    attacker.send(`{"action":"subscribe","instruments":["SHFE.rb2501"],"pad":${nested(MAX_MESSAGE_DEPTH - 1)}}`);
    expect((await attacker.next((m) => m['action'] === 'subscribed'))['instruments']).toEqual(['SHFE.rb2501']);
    await stillServes(sink, client, 3502);
  });

  it('caps connections per remote address and per server, refusing more with 503 before the handshake', async () => {
    const sink = await startSink({ max_connections_per_address: 3, max_connections: 5 });
    const first = await Promise.all([1, 2, 3].map(() => TestClient.connect(sink.wsUrl)));
    await expect(TestClient.connect(sink.wsUrl)).rejects.toMatchObject({ statusCode: 503 });
    // A closed connection gives its place back.
    first[0]?.close();
    await first[0]?.closed;
    await waitFor(() => sink.logLines.some((l) => l.includes('websocket client disconnected')), 'the close to be seen');
    const again = await TestClient.connect(sink.wsUrl);
    expect(again.socket.readyState).toBe(1);
    const answer = await rawRequest(sink.port, upgrade('/'));
    expect(answer).toMatch(/^HTTP\/1\.1 503 /);
    expect(answer).toContain('max_connections_per_address');
  });

  it('refuses messages past the byte rate, and closes a client that keeps flooding with 1008', async () => {
    const sink = await startSink({ max_bytes_per_second: 4096, max_messages_per_second: 1000, max_frame_bytes: 65_536 });
    sink.quotes.next(firstQuote('SHFE.rb2501', 3500));
    const client = await goodClient(sink);
    const flooder = await TestClient.connect(sink.wsUrl);
    const big = JSON.stringify({ action: 'list_instruments', pad: 'x'.repeat(3000) });
    flooder.send(big);
    flooder.send(big);
    const refusal = await flooder.next((m) => m['action'] === 'error', 'a byte-rate refusal');
    expect(refusal['error']).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringContaining('4096 bytes per second') });
    for (let i = 0; i < 10; i++) flooder.send(big);
    expect(await flooder.closed).toEqual({ code: 1008, reason: 'byte rate exceeded' });
    await stillServes(sink, client, 3503);
  });

  it('replaces a reply over max_reply_bytes with REPLY_TOO_LARGE', async () => {
    const sink = await startSink({ max_reply_bytes: 1024 });
    for (let i = 0; i < 200; i++) sink.quotes.next(firstQuote(`SHFE.rb25${String(i).padStart(3, '0')}`, 3500 + i));
    const client = await TestClient.connect(sink.wsUrl);
    client.send({ action: 'list_instruments' });
    const reply = await client.next((m) => m['action'] === 'error');
    expect(reply['error']).toMatchObject({
      code: 'REPLY_TOO_LARGE',
      message: expect.stringContaining('more than the 1024 a reply may have'),
    });
    client.send({ action: 'search_instruments', pattern: 'rb2500*' });
    expect((await client.next((m) => m['action'] === 'instruments'))['count']).toBe(10);
  });

  it('asks for a client token for the page and /metrics when tokens are set; /health stays open', async () => {
    const sink = await startSink({ auth_tokens: ['s3cret-client-token'] });
    expect((await fetch(`${sink.url}/`)).status).toBe(401);
    expect((await fetch(`${sink.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${sink.url}/health`)).status).toBe(200);
    expect((await fetch(`${sink.url}/?token=s3cret-client-token`)).status).toBe(200);
    expect((await fetch(`${sink.url}/metrics`, { headers: { authorization: 'Bearer s3cret-client-token' } })).status).toBe(200);
  });

  it('tells a control request on its port which port serves the controls', async () => {
    const sink = await startSink();
    const response = await fetch(`${sink.url}/control/risk/state`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: string }).error).toContain(
      "controls are served on the pipeline's HTTP port (tickflow run --port, default 9464)",
    );
  });

  it('keeps /health and a normal client served while 200 clients that never read send large requests (from another process)', async () => {
    const sink = await startSink();
    sink.quotes.next(firstQuote('SHFE.rb2501', 3500));
    const client = await goodClient(sink);
    // The flood lasts until the checks below are done (stdin closes), so no verdict
    // depends on how fast this machine is; a server the flood starves never answers.
    const flooders = spawn(
      process.execPath,
      [fileURLToPath(new URL('fixtures/silent-flooders.mjs', import.meta.url)), sink.wsUrl, '200', '90'],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    let report = '';
    flooders.stdout.on('data', (d: Buffer) => (report += d.toString()));
    const exited = new Promise<void>((resolve) => flooders.on('exit', () => resolve()));
    await waitFor(() => report.includes('flooding'), 'the flooders to connect and flood', 60_000);

    // While they flood: /health answers every time, and every tick reaches the normal client.
    // Each check on a fresh connection: a kept-alive one may be closed by the server's idle timeout as it is reused.
    for (let check = 0; check < 5; check++) {
      expect(await rawRequest(sink.port, 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n', 60_000)).toMatch(
        /^HTTP\/1\.1 200 /,
      );
      await stillServes(sink, client, 3601 + check);
    }
    flooders.stdin.end();
    await exited;
    const counts = JSON.parse(report.slice(report.indexOf('{'))) as { opened: number; refused: number; sent: number };
    expect(counts.opened).toBe(200);
    expect(counts.sent).toBeGreaterThan(200);
  }, 120_000);
});
