import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { exitOf, runCli, startCli, stopCli as stop } from '../support/run-cli.js';
import { waitFor } from '../support/wait-for.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'tickflow-hardening-'));
const HTTP_URL = /health on (http:\/\/127\.0\.0\.1:\d+)\/health/;
const WS_URL = /serving quotes on (ws:\/\/127\.0\.0\.1:\d+\/)/;

/** `run demo` writing into `dir`: ticks, dead letters, audit; WebSocket on `wsPort` (0: a free one). */
function demo(dir: string, audit: string, wsPort = 0, extra: readonly string[] = []): string[] {
  return [
    'run',
    'demo',
    '--port',
    '0',
    ...extra,
    ...[
      `quotes-ws.port=${wsPort}`,
      'feeds.rate=100',
      `ticks-file.path=${join(dir, 'ticks.ndjson')}`,
      `dead-letter-file.path=${join(dir, 'dead.ndjson')}`,
      `audit.dir=${audit}`,
    ]
      .flatMap((s) => (s.startsWith('feeds.') ? [`feed-a.${s.slice(6)}`, `feed-b.${s.slice(6)}`] : [s]))
      .flatMap((s) => ['--set', s]),
  ];
}

describe('tickflow run, attacked from outside', () => {
  it('a second run on the same audit directory, or on a taken port, is refused before any stage writes; the first trail still verifies', async () => {
    const dir = tmp();
    const audit = join(dir, 'audit');
    const first = startCli(demo(dir, audit));
    try {
      const wsUrl = await waitFor('the first run to serve', () => WS_URL.exec(first.output().stderr)?.[1], 20_000);
      const wsPort = Number(new URL(wsUrl).port);
      await waitFor('ticks in the first run', () =>
        (statSync(join(dir, 'ticks.ndjson'), { throwIfNoEntry: false })?.size ?? 0) > 0 ? true : undefined,
      );

      // Same audit directory: refused, naming it and the holder.
      const otherDir = tmp();
      const sameAudit = await runCli(demo(otherDir, audit), 30_000);
      expect(sameAudit.code).toBe(1);
      expect(sameAudit.stderr).toContain(`audit directory ${audit} is in use by another writer (pid ${first.pid})`);
      expect(statSync(join(otherDir, 'ticks.ndjson'), { throwIfNoEntry: false })).toBeUndefined();

      // Same ticks file and audit directory, failing first on the WebSocket port: it must not truncate the first run's file or touch its trail.
      const before = readFileSync(join(dir, 'ticks.ndjson'));
      const samePort = await runCli(demo(dir, audit, wsPort), 30_000);
      expect(samePort.code).toBe(1);
      expect(samePort.stderr).toMatch(/is in use/);
      const after = readFileSync(join(dir, 'ticks.ndjson'));
      expect(after.subarray(0, before.length).equals(before)).toBe(true);
      expect(after.subarray(0, 16).includes(0)).toBe(false);
    } finally {
      expect(await stop(first)).toBe(0);
    }
    const verify = await runCli(['audit', 'verify', audit]);
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
  }, 90_000);

  it('a writer killed with SIGKILL leaves no stale lock: the next run takes the directory', async () => {
    const dir = tmp();
    const audit = join(dir, 'audit');
    const first = startCli(demo(dir, audit));
    await waitFor('the first run to serve', () => WS_URL.exec(first.output().stderr)?.[1], 20_000);
    first.kill('SIGKILL');
    await exitOf(first);
    const next = await runCli([...demo(dir, audit), '--duration', '1'], 30_000);
    expect(next.stderr).not.toContain('in use by another writer');
    expect(next.code).toBe(0);
    expect((await runCli(['audit', 'verify', audit])).code).toBe(0);
  }, 60_000);

  it('a sink that fails as it starts ends the run with exit 1 at once, the sources too', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'a-file'), 'not a directory');
    const file = join(dir, 'p.yaml');
    writeFileSync(
      file,
      `name: broken\nstages:\n  - { id: market, use: sim, config: { instruments: [SHFE.rb2501], seed: 1, rate: 50 } }\n  - { id: out, use: ndjson-file, from: market, config: { path: ${join(dir, 'a-file', 'x.ndjson')} } }\n`,
    );
    const started = Date.now();
    const { code, stderr } = await runCli(['run', file, '--port', '0'], 20_000);
    expect(code).toBe(1);
    expect(stderr).toContain("stage 'out' failed");
    // Without the fix the sim source kept the process alive until the 20 s kill.
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 30_000);

  it('survives a hostile WebSocket client (bad upgrade targets, deep JSON in every field) with tokens on, and keeps serving', async () => {
    const dir = tmp();
    const child = startCli(demo(dir, join(dir, 'audit')), undefined, { TICKFLOW_WS_TOKENS: 'client-token-0123456789' });
    try {
      const wsUrl = await waitFor('the run to serve', () => WS_URL.exec(child.output().stderr)?.[1], 20_000);
      const httpUrl = await waitFor('the http port', () => HTTP_URL.exec(child.output().stderr)?.[1]);
      const port = Number(new URL(wsUrl).port);
      for (const target of ['//', '//[', 'http://[::1']) {
        await new Promise<void>((resolve) => {
          const socket = connect(port, '127.0.0.1', () =>
            socket.write(
              `GET ${target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
            ),
          );
          socket.on('data', () => socket.end());
          socket.on('error', () => resolve());
          socket.on('close', () => resolve());
        });
      }
      const ws = new WebSocket(`${wsUrl}?token=client-token-0123456789`);
      const replies: string[] = [];
      ws.on('message', (d) => replies.push((d as Buffer).toString()));
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      const deep = '['.repeat(20_000) + ']'.repeat(20_000);
      for (const m of [
        deep,
        `{"aid":${deep}}`,
        `{"action":"subscribe","instruments":${deep}}`,
        `{"aid":"subscribe_quote","ins_list":${deep}}`,
      ])
        ws.send(m);
      ws.send(JSON.stringify({ aid: 'subscribe_quote', ins_list: 'SHFE.rb2501' }));
      ws.send(JSON.stringify({ aid: 'peek_message' }));
      await waitFor(
        'quotes after the attack',
        () => (replies.some((r) => r.includes('"rtn_data"') && r.includes('SHFE.rb2501')) ? true : undefined),
        15_000,
      );
      expect(replies.filter((r) => r.includes('TOO_DEEP'))).toHaveLength(4);
      ws.close();
      expect((await fetch(`${httpUrl}/health`)).status).toBe(200);
    } finally {
      expect(await stop(child)).toBe(0);
    }
  }, 60_000);
});
