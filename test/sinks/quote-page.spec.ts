import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TERMINAL_ORDER_STATES } from '../../domain/order-state-machine.js';
import { ensureChromium } from '../support/ensure-chromium.js';
import {
  ACCOUNT,
  feedStatus,
  firstQuote,
  laterQuote,
  orderAccepted,
  orderCanceled,
  orderDenied,
  orderFilled,
  orderPendingCancel,
  orderSubmitted,
  startSink,
  stopAllSinks,
  waitFor,
  type RunningSink,
} from '../support/websocket-harness.js';

const PAGE_DIR = new URL('../../sinks/websocket/live-page/', import.meta.url);
const pageFile = (name: string): string => readFileSync(new URL(name, PAGE_DIR), 'utf8');

interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** GETs `path` exactly as written (fetch would resolve `..` and percent-escapes before sending). */
function getRaw(port: number, path: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = get({ host: '127.0.0.1', port, path, timeout: 10_000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${path}: no answer in 10 s`)));
    request.on('error', reject);
  });
}

const INSTRUMENTS = ['SHFE.rb2505', 'DCE.m2505', 'SHFE.cu2505', 'CZCE.SR505', 'CFFEX.IF2503'] as const;
const PRICES = [3500, 2800, 76_540, 5900, 3950.2];

let executablePath: string;
let userDataDir: string;
let browser: BrowserContext;

/** Feeds the sink a quote for every instrument, then a change every 40 ms (bounded: the test stops it). */
function startMarket(sink: RunningSink): () => void {
  INSTRUMENTS.forEach((id, i) => sink.quotes.next(firstQuote(id, PRICES[i] as number)));
  sink.feeds.next(feedStatus('sim-a', 'UP', { detail: 'ticks flowing' }));
  sink.feeds.next(feedStatus('sim-b', 'STALE', { detail: 'no tick for 3 s', lead_count: 3 }));
  let seq = 1;
  const timer = setInterval(() => {
    seq++;
    const i = seq % INSTRUMENTS.length;
    const base = PRICES[i] as number;
    const step = base > 10_000 ? 10 : base % 1 !== 0 ? 0.2 : 1;
    const last = Math.round((base + (((seq * 7) % 23) - 11) * step) * 10) / 10;
    sink.quotes.next(
      laterQuote(INSTRUMENTS[i] as string, seq, {
        last_price: last,
        bid_price1: last - step,
        ask_price1: last,
        bid_volume1: 5 + (seq % 40),
        ask_volume1: 3 + (seq % 31),
        volume: 12_000 + seq * 3,
        open_interest: 1_002_000 + (seq % 17),
      }),
    );
  }, 40);
  return () => clearInterval(timer);
}

async function openPage(url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await page.goto(url, { timeout: 15_000 });
  return { page, errors };
}

const cell = (instrument: string, field: string): string => `td[data-instrument="${instrument}"][data-field="${field}"]`;

afterEach(stopAllSinks);

describe('quote page over HTTP', () => {
  it('serves the page, its script and its style from live-page/ with their content types', async () => {
    const sink = await startSink();
    for (const [path, file, type] of [
      ['/', 'index.html', 'text/html; charset=utf-8'],
      ['/?token=ignored', 'index.html', 'text/html; charset=utf-8'],
      ['/live-page.js', 'live-page.js', 'text/javascript; charset=utf-8'],
      ['/live-page.css', 'live-page.css', 'text/css; charset=utf-8'],
    ] as const) {
      const response = await getRaw(sink.port, path);
      expect(response.status, path).toBe(200);
      expect(response.headers['content-type'], path).toBe(type);
      expect(response.headers['x-content-type-options'], path).toBe('nosniff');
      expect(response.body, path).toBe(pageFile(file));
    }
  });

  it('lets the page run only its own script and style, nothing inline', async () => {
    const sink = await startSink();
    const policy = String((await getRaw(sink.port, '/')).headers['content-security-policy']);
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("style-src 'self'");
    expect(policy).not.toContain('unsafe-inline');
    // Everything the page names is served (the icon is a data: URL).
    const html = pageFile('index.html');
    const named = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string).filter((url) => !url.startsWith('data:'));
    expect(named.sort()).toEqual(['/live-page.css', '/live-page.js']);
    expect(pageFile('live-page.js')).toContain("from '/constants.js'");
  });

  it('serves the terminal order states as a module made from domain/', async () => {
    const sink = await startSink();
    const response = await getRaw(sink.port, '/constants.js');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/javascript; charset=utf-8');
    const module = (await import(`data:text/javascript,${encodeURIComponent(response.body)}`)) as {
      TERMINAL_ORDER_STATES: readonly string[];
    };
    expect([...module.TERMINAL_ORDER_STATES].sort()).toEqual([...TERMINAL_ORDER_STATES].sort());
    expect(module.TERMINAL_ORDER_STATES).toContain('FILLED');
    expect(module.TERMINAL_ORDER_STATES).not.toContain('ACCEPTED');
  });

  it('serves nothing else of the folder or beside it', async () => {
    const sink = await startSink();
    for (const path of [
      '/index.html',
      '/live-page/index.html',
      '/live-page/live-page.js',
      '/live-page.js/',
      '/../quote-page.ts',
      '/%2e%2e/quote-page.ts',
      '/live-page.js/../../websocket-server.ts',
      '/..%2fwebsocket-server.ts',
      '//etc/passwd',
      '/constructor',
    ]) {
      const response = await getRaw(sink.port, path);
      expect(response.status, path).toBe(404);
      expect(response.headers['content-type'], path).toBe('application/json');
    }
  });

  it('needs a token for the page when the server has tokens, not for its script, style and constants', async () => {
    const sink = await startSink({ auth_tokens: ['page-token'] });
    expect((await getRaw(sink.port, '/')).status).toBe(401);
    expect((await getRaw(sink.port, '/?token=page-token')).status).toBe(200);
    for (const path of ['/live-page.js', '/live-page.css', '/constants.js']) expect((await getRaw(sink.port, path)).status, path).toBe(200);
  });

  it('ships the page in dist/ beside the compiled server (npm run build)', async () => {
    const built = (await import(
      new URL('../../dist/sinks/websocket/quote-page.js', import.meta.url).href
    )) as typeof import('../../sinks/websocket/quote-page.js');
    const page = await built.QuotePage.load();
    for (const [path, file] of [
      ['/', 'index.html'],
      ['/live-page.js', 'live-page.js'],
      ['/live-page.css', 'live-page.css'],
    ] as const) {
      expect(page.asset(path)?.body.toString('utf8'), path).toBe(pageFile(file));
    }
  });
});

describe('quote page in a browser', () => {
  beforeAll(async () => {
    executablePath = ensureChromium();
    const { chromium } = await import('playwright-core');
    userDataDir = mkdtempSync(join(tmpdir(), 'tickflow-chromium-'));
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      timeout: 60_000,
      viewport: { width: 1280, height: 640 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 20 * 60_000);

  afterAll(async () => {
    await browser?.close();
    if (userDataDir !== undefined) rmSync(userDataDir, { recursive: true, force: true });
  });

  it('shows every instrument, updates prices live, and shows feed status', async () => {
    const sink = await startSink();
    const stopMarket = startMarket(sink);
    try {
      const { page, errors } = await openPage(`${sink.url}/`);
      for (const id of INSTRUMENTS) {
        await page.waitForSelector(cell(id, 'last_price'), { timeout: 10_000 });
      }
      expect(await page.locator('#quotes tr').count()).toBe(INSTRUMENTS.length);
      const price = page.locator(cell('SHFE.rb2505', 'last_price'));
      await expect.poll(() => price.textContent(), { timeout: 10_000 }).toMatch(/^3,\d{3}$/);
      const first = await price.textContent();
      // The number on screen changes as quotes change.
      await expect.poll(() => price.textContent(), { timeout: 10_000, interval: 50 }).not.toBe(first);
      expect(await page.locator(cell('SHFE.rb2505', 'datetime')).textContent()).toMatch(/^21:00:\d\d\.\d{3}$/);
      expect(await page.locator(cell('DCE.m2505', 'change')).textContent()).toMatch(/^[+-]?\d+|–$/);
      expect(await page.locator(cell('CFFEX.IF2503', 'bid_price1')).textContent()).toMatch(/^3,9\d\d\.\d$/);

      const feedState = page.locator('[data-feed="sim-a"][data-field="state"]');
      await expect.poll(() => feedState.textContent(), { timeout: 10_000 }).toBe('UP');
      expect(await page.locator('[data-feed="sim-b"][data-field="state"]').textContent()).toBe('STALE');
      sink.feeds.next(feedStatus('sim-a', 'DOWN', { detail: 'front disconnected' }));
      await expect.poll(() => feedState.textContent(), { timeout: 10_000 }).toBe('DOWN');
      expect(await page.locator('#status').textContent()).toBe('live');

      await page.waitForTimeout(300);
      await page.screenshot({ path: '/tmp/quote-page.png' });
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      stopMarket();
    }
  }, 60_000);

  it('shows positions, working orders and denials live from the trade state', async () => {
    const sink = await startSink();
    const stopMarket = startMarket(sink);
    try {
      const { page, errors } = await openPage(`${sink.url}/`);
      await page.waitForSelector(cell('SHFE.rb2505', 'last_price'), { timeout: 10_000 });
      expect(await page.locator('#orders tr.empty').textContent()).toBe('no working orders');
      expect(await page.locator('#positions tr.empty').textContent()).toBe('no open positions');
      const order = (id: string, field: string) => page.locator(`td[data-order="${id}"][data-field="${field}"]`);
      const position = (instrument: string, field: string) => page.locator(`td[data-position="${instrument}"][data-field="${field}"]`);
      const denial = (id: string, field: string) => page.locator(`td[data-denial="${id}"][data-field="${field}"]`);

      // A working order.
      sink.orders.next(orderSubmitted('o-1', 'SHFE.rb2505', 'BUY', 2, 3500));
      sink.orders.next(orderAccepted('o-1', 'SHFE.rb2505'));
      await expect.poll(() => order('o-1', 'status').textContent(), { timeout: 10_000 }).toBe('ACCEPTED');
      expect(await order('o-1', 'side').textContent()).toBe('BUY');
      expect(await order('o-1', 'price').textContent()).toBe('3,500');
      expect(await order('o-1', 'quantity').textContent()).toBe('2');
      expect(await order('o-1', 'filled').textContent()).toBe('0');
      expect(await page.locator('tr[data-order="o-1"]').getAttribute('data-account')).toBe(ACCOUNT);

      // Its fill: the order leaves the working list and becomes a position.
      sink.orders.next(orderFilled('o-1', 'SHFE.rb2505', 'BUY', 1, 3500, 1, 1));
      await expect.poll(() => order('o-1', 'status').textContent(), { timeout: 10_000 }).toBe('PARTIALLY_FILLED');
      expect(await order('o-1', 'filled').textContent()).toBe('1');
      sink.orders.next(orderFilled('o-1', 'SHFE.rb2505', 'BUY', 1, 3503, 2, 0));
      await expect.poll(() => position('SHFE.rb2505', 'net').textContent(), { timeout: 10_000 }).toBe('+2');
      expect(await position('SHFE.rb2505', 'volume_long').textContent()).toBe('2');
      expect(await position('SHFE.rb2505', 'open_price_long').textContent()).toBe('3,501.5');
      expect(await order('o-1', 'status').count()).toBe(0);

      // A short on another instrument, two more working orders (one on its way out), and denials, newest first.
      sink.orders.next(orderSubmitted('o-2', 'CFFEX.IF2503', 'SELL', 1, 3950.2));
      sink.orders.next(orderAccepted('o-2', 'CFFEX.IF2503'));
      sink.orders.next(orderFilled('o-2', 'CFFEX.IF2503', 'SELL', 1, 3950.2, 1, 0));
      sink.orders.next(orderSubmitted('o-3', 'DCE.m2505', 'SELL', 5, 2810));
      sink.orders.next(orderAccepted('o-3', 'DCE.m2505'));
      sink.orders.next(orderSubmitted('o-4', 'SHFE.cu2505', 'BUY', 1, 76_500, { position_effect: 'CLOSE' }));
      sink.orders.next(orderAccepted('o-4', 'SHFE.cu2505'));
      sink.orders.next(orderPendingCancel('o-4', 'SHFE.cu2505'));
      sink.orders.next(
        orderDenied('o-5', 'SHFE.rb2505', 'MAX_POSITION_EXCEEDED', 'long position would be 12 lots; the limit is 10', {
          event_id: 'risk-1',
        }),
      );
      sink.orders.next(
        orderDenied('o-6', 'CZCE.SR505', 'OUTSIDE_TRADING_SESSION', 'CZCE.SR505 is not trading at 02:31:00', { event_id: 'risk-2' }),
      );
      await expect.poll(() => denial('risk-2', 'reason_code').textContent(), { timeout: 10_000 }).toBe('OUTSIDE_TRADING_SESSION');
      expect(await denial('risk-1', 'instrument_id').textContent()).toBe('SHFE.rb2505');
      expect(await denial('risk-1', 'reason').textContent()).toBe('long position would be 12 lots; the limit is 10');
      expect(await denial('risk-1', 'datetime').textContent()).toMatch(/^21:00:00\.\d{3}$/);
      expect(await page.locator('#denials tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-denial')))).toEqual([
        'risk-2',
        'risk-1',
      ]);
      expect(await position('CFFEX.IF2503', 'net').textContent()).toBe('-1');
      expect(await position('CFFEX.IF2503', 'open_price_short').textContent()).toBe('3,950.2');
      expect(await order('o-4', 'status').textContent()).toBe('PENDING_CANCEL');
      expect(await order('o-4', 'position_effect').textContent()).toBe('CLOSE');
      expect(await page.locator('#orders tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-order')))).toEqual(['o-4', 'o-3']);
      expect(await page.locator('#working-count').textContent()).toBe('2');
      // A denied submit never shows as a working order.
      expect(await order('o-5', 'status').count()).toBe(0);

      await page.waitForTimeout(300);
      await page.screenshot({ path: '/tmp/quote-page-trading.png', fullPage: true });

      // The cancel completes: the order leaves the working list.
      sink.orders.next(orderCanceled('o-4', 'SHFE.cu2505', 0));
      await expect.poll(() => order('o-4', 'status').count(), { timeout: 10_000 }).toBe(0);
      expect(await page.locator('#working-count').textContent()).toBe('1');
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      stopMarket();
    }
  }, 60_000);

  it('passes its own ?token= on to the WebSocket when the server requires one', async () => {
    const sink = await startSink({ auth_tokens: ['page-token'] });
    sink.quotes.next(firstQuote('SHFE.rb2505', 3500));
    const { page } = await openPage(`${sink.url}/?token=page-token`);
    await expect.poll(() => page.locator(cell('SHFE.rb2505', 'last_price')).textContent(), { timeout: 10_000 }).toBe('3,500');
    await page.close();
    await waitFor(() => sink.logLines.every((l) => !l.includes('page-token')), 'no token in the log');
  }, 60_000);
});
