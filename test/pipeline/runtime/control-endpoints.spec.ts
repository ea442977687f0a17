import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { NEVER, Subject, asyncScheduler, of, type Subscription } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { haltCommand } from '../../../cli/commands/halt-command.js';
import type { CliIo } from '../../../cli/cli-command.js';
import { loadControlAccess } from '../../../cli/load-control-access.js';
import { validateConfig } from '../../../pipeline/config/validate-config.js';
import { ConfigError } from '../../../errors/errors.js';
import { ControlAccess, OPEN_PRINCIPAL } from '../../../pipeline/runtime/control-access.js';
import { MAX_CONTROL_BODY_BYTES, startHttpServer, type HttpEndpoint } from '../../../pipeline/runtime/start-http-server.js';
import { riskOperator } from '../../../operators/risk-operator.js';
import type { OrderCommand, RiskControlChanged } from '../../../schemas/generated.js';
import { makeTick } from '../../support/make-tick.js';
import { testContext } from '../../support/test-context.js';

const TOKEN = 'desk-token-0123456789abcdef';

interface Answer {
  readonly status: number;
  readonly body: string;
}

/** A raw POST through node:http, so Host, Origin and Content-Type are exactly what the test says. */
function post(port: number, path: string, body: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const endpoints: HttpEndpoint[] = [];
const subscriptions: Subscription[] = [];
afterEach(async () => {
  for (const s of subscriptions.splice(0)) s.unsubscribe();
  await Promise.all(endpoints.splice(0).map((e) => e.close()));
});

/** A running risk stage (max_order_volume 100 in its definition) behind the pipeline's HTTP server with `access`. */
async function riskBehind(access: ControlAccess, port = 0) {
  const ctx = testContext(asyncScheduler, riskOperator, { stage: 'risk' });
  const stage = riskOperator.create(validateConfig('risk', riskOperator.spec, { max_order_volume: 100 }), ctx);
  const audited: RiskControlChanged[] = [];
  ctx.sides.get('control')?.subscribe((r) => audited.push(r as RiskControlChanged));
  subscriptions.push(stage({ commands: new Subject<OrderCommand>(), ticks: of(makeTick()), events: NEVER }).subscribe());
  const registry = new Registry();
  const http = await startHttpServer({
    port,
    health: () => ({ pipeline: 'p', state: 'running', stages: {} }),
    metrics: () => registry.metrics(),
    controls: () => new Map([['risk', ctx.controls]]),
    controlAccess: access,
    registry: () => registry,
    logger: pino({ level: 'silent' }),
  });
  endpoints.push(http);
  return { http, audited, registry };
}

const halt = JSON.stringify({ trading_state: 'HALTED', reason: 'by the head of trading' });

describe('control endpoints', () => {
  it('are off when no control token is configured: every request is refused and nothing changes', async () => {
    const { http, audited } = await riskBehind(ControlAccess.off());
    const answer = await post(http.port, '/control/risk/state', halt);
    expect(answer.status).toBe(403);
    expect(answer.body).toContain('the control endpoints are off: no control token is configured');
    expect(audited).toEqual([]);
    expect((await fetch(`${http.url}/health`)).status).toBe(200);
  });

  it('need a control token, and audit the authenticated principal, never what the caller wrote', async () => {
    const { http, audited, registry } = await riskBehind(
      ControlAccess.tokens([`desk:${TOKEN}`, 'risk-officer:another-token-0123456789'], 'the test'),
    );
    expect((await post(http.port, '/control/risk/state', halt, { authorization: '' })).status).toBe(401);
    expect((await post(http.port, '/control/risk/state', halt, { authorization: 'Bearer not-the-token-0123456789' })).status).toBe(401);
    expect((await post(http.port, '/control/risk/state', halt, { authorization: `Basic ${TOKEN}` })).status).toBe(401);
    expect(audited).toEqual([]);
    const ok = await post(
      http.port,
      '/control/risk/state',
      JSON.stringify({ trading_state: 'HALTED', reason: 'x'.repeat(5000), principal: 'ceo' }),
    );
    expect(ok.status).toBe(400);
    expect(ok.body).toContain("unknown field 'principal'");
    const applied = await post(http.port, '/control/risk/state', halt);
    expect(applied.status).toBe(200);
    expect(audited).toHaveLength(1);
    expect(audited[0]).toMatchObject({ trading_state: 'HALTED', principal: 'desk', reason: 'by the head of trading' });
    const long = await post(http.port, '/control/risk/state', JSON.stringify({ trading_state: 'ACTIVE', reason: 'y'.repeat(5000) }), {
      authorization: 'Bearer another-token-0123456789',
    });
    expect(long.status).toBe(200);
    expect(audited[1]?.principal).toBe('risk-officer');
    expect(audited[1]?.reason).toHaveLength(200);
    const metrics = await registry.metrics();
    expect(metrics).toContain('tickflow_control_requests_total{outcome="unauthenticated"} 3');
    expect(metrics).toContain('tickflow_control_requests_total{outcome="applied"} 2');
  });

  it('refuse cross-site requests (a foreign Origin, a text/plain form post) and a foreign Host (DNS rebinding), even with a token', async () => {
    const { http, audited } = await riskBehind(ControlAccess.tokens([`desk:${TOKEN}`], 'the test'));
    const attacks: [Record<string, string>, number, string][] = [
      [{ origin: 'https://evil.example' }, 403, 'another origin'],
      [{ 'sec-fetch-site': 'cross-site' }, 403, 'another origin'],
      [{ 'content-type': 'text/plain' }, 415, 'Content-Type: application/json'],
      [{ 'content-type': 'application/x-www-form-urlencoded' }, 415, 'Content-Type: application/json'],
      [{ host: `evil.example:${http.port}` }, 403, 'is not this server'],
      [{ host: 'localhost:1' }, 403, 'is not this server'],
    ];
    for (const [headers, status, text] of attacks) {
      const answer = await post(http.port, '/control/risk/state', halt, headers);
      expect(answer.status, JSON.stringify(headers)).toBe(status);
      expect(answer.body).toContain(text);
    }
    expect(audited).toEqual([]);
    // The server's own origin (a page it serves), and localhost, are fine.
    expect(
      (await post(http.port, '/control/risk/state', halt, { origin: `http://127.0.0.1:${http.port}`, host: `localhost:${http.port}` }))
        .status,
    ).toBe(200);
  });

  it('refuse a body over the limit with 413 and a deeply nested one with 400', async () => {
    const { http, audited } = await riskBehind(ControlAccess.tokens([`desk:${TOKEN}`], 'the test'));
    const big = await post(
      http.port,
      '/control/risk/state',
      JSON.stringify({ trading_state: 'HALTED', reason: 'x'.repeat(MAX_CONTROL_BODY_BYTES) }),
    );
    expect(big.status).toBe(413);
    const deep = await post(http.port, '/control/risk/limits', `{"reason":${'['.repeat(7000)}${']'.repeat(7000)}}`);
    expect(deep.status).toBe(400);
    expect(deep.body).toContain('nested deeper than 4 levels');
    expect((await post(http.port, '/control/risk/limits', '{"max_order_volume":')).status).toBe(400);
    expect(audited).toEqual([]);
    expect((await fetch(`${http.url}/health`)).status).toBe(200);
  });

  it('let a run-time change tighten limits and loosen them back, but never past the definition or a hard maximum', async () => {
    const { http, audited } = await riskBehind(ControlAccess.tokens([`desk:${TOKEN}`], 'the test'));
    const limits = (body: object) => post(http.port, '/control/risk/limits', JSON.stringify(body));
    const beyond = await limits({ max_order_volume: 1e9 });
    expect(beyond.status).toBe(400);
    expect(beyond.body).toContain("'max_order_volume' must be at most 10000");
    const pastDefinition = await limits({ max_order_volume: 500 });
    expect(pastDefinition.status).toBe(400);
    expect(pastDefinition.body).toContain("'max_order_volume' may be at most the definition's 100 at run time");
    const ruleOff = await limits({ rule_max_position: false, rule_self_trade: false });
    expect(ruleOff.status).toBe(400);
    expect(ruleOff.body).toContain("'rule_max_position' is on in the pipeline's definition and cannot be switched off at run time");
    expect(ruleOff.body).toContain("'rule_self_trade' is on");
    expect((await limits({ duplicate_window_ms: 1 })).status).toBe(400);
    expect((await limits({ price_band_percent: 0 })).status).toBe(400);
    expect(audited).toEqual([]);
    expect((await limits({ max_order_volume: 5 })).status).toBe(200);
    expect((await limits({ max_order_volume: 100 })).status).toBe(200);
    expect(audited.map((c) => (JSON.parse(c.limits_json) as { max_order_volume: number }).max_order_volume)).toEqual([5, 100]);
  });

  it('open on request, with every change audited as anonymous@loopback', async () => {
    const { http, audited } = await riskBehind(ControlAccess.open());
    expect((await post(http.port, '/control/risk/state', halt, { authorization: '' })).status).toBe(200);
    expect(audited[0]?.principal).toBe(OPEN_PRINCIPAL);
  });

  it('are reached by tickflow halt on a port that fetch refuses (6669)', async () => {
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer().once('error', () => resolve(false));
      probe.listen(6669, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    expect(free, 'port 6669 must be free for this test').toBe(true);
    const { audited } = await riskBehind(ControlAccess.tokens([`desk:${TOKEN}`], 'the test'), 6669);
    let out = '';
    let err = '';
    const io: CliIo = { out: (t) => void (out += t), err: (t) => void (err += t), env: { TICKFLOW_CONTROL_TOKEN: TOKEN } };
    expect(await haltCommand.run({ values: { url: 'http://127.0.0.1:6669', stage: 'risk' }, positionals: [] }, io)).toBe(0);
    expect(err).toBe('');
    expect(out).toContain('ACTIVE -> HALTED');
    expect(audited[0]?.principal).toBe('desk');
  });

  it('tickflow halt without a token says how to give one', async () => {
    const { http } = await riskBehind(ControlAccess.tokens([`desk:${TOKEN}`], 'the test'));
    let err = '';
    const io: CliIo = { out: () => undefined, err: (t) => void (err += t), env: {} };
    expect(await haltCommand.run({ values: { url: http.url, stage: 'risk' }, positionals: [] }, io)).toBe(1);
    expect(err).toContain('HTTP 401: a control token is required');
    expect(err).toContain('set TICKFLOW_CONTROL_TOKEN or pass --token-file');
  });
});

describe('ControlAccess.tokens', () => {
  it('refuses short tokens, bad principals and repeated principals, naming entries but never tokens', () => {
    let error: ConfigError | undefined;
    try {
      ControlAccess.tokens(
        ['desk:short', 'bad principal:0123456789abcdefgh', `desk:${TOKEN}`, '# a comment', ''],
        'TICKFLOW_CONTROL_TOKENS',
      );
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.problems).toEqual([
      'entry 1: a control token needs at least 16 characters and no spaces',
      'entry 2: the principal must be 1 to 64 letters, digits or . _ @ -',
      "entry 3: principal 'desk' is named twice",
    ]);
    expect(error?.message).not.toContain('short');
    expect(() => ControlAccess.tokens(['', '# none'], 'file t')).toThrow('control tokens from file t: no control token in it');
    expect(ControlAccess.tokens([TOKEN], 'env').principals).toEqual(['control']);
  });
});

describe('loadControlAccess', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tickflow-control-'));
  const file = (name: string, text: string, mode = 0o600): string => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode });
    chmodSync(path, mode);
    return path;
  };

  it('reads tokens from a file first, then TICKFLOW_CONTROL_TOKENS_FILE, then TICKFLOW_CONTROL_TOKENS; none: off', () => {
    const warnings: string[] = [];
    const warn = (m: string): void => void warnings.push(m);
    const fromFile = loadControlAccess(
      { tokensFile: file('tokens', `# desk\ndesk:${TOKEN}\n`) },
      { TICKFLOW_CONTROL_TOKENS: `env:${TOKEN}` },
      warn,
    );
    expect(fromFile.principals).toEqual(['desk']);
    expect(loadControlAccess({}, { TICKFLOW_CONTROL_TOKENS_FILE: file('tokens2', `ops:${TOKEN}`) }, warn).principals).toEqual(['ops']);
    expect(loadControlAccess({}, { TICKFLOW_CONTROL_TOKENS: `a:${TOKEN},b:${TOKEN}x` }, warn).principals).toEqual(['a', 'b']);
    expect(loadControlAccess({}, {}, warn).mode).toBe('off');
    expect(loadControlAccess({ open: true }, {}, warn).mode).toBe('open');
    expect(warnings).toEqual([]);
  });

  it('warns about a token file others can read, refuses a huge one or a device, and refuses --control-open beside tokens', () => {
    const warnings: string[] = [];
    loadControlAccess({ tokensFile: file('open-file', `desk:${TOKEN}`, 0o644) }, {}, (m) => void warnings.push(m));
    expect(warnings[0]).toMatch(/can be read by others than its owner \(mode 644\); chmod 600 it/);
    expect(() => loadControlAccess({ tokensFile: file('huge', 'x'.repeat(70_000)) }, {}, () => undefined)).toThrow(
      /is larger than 65536 bytes/,
    );
    expect(() => loadControlAccess({ tokensFile: '/dev/zero' }, {}, () => undefined)).toThrow(/is not a regular file/);
    expect(() => loadControlAccess({ tokensFile: join(dir, 'missing') }, {}, () => undefined)).toThrow(/cannot be read: ENOENT/);
    expect(() => loadControlAccess({ open: true }, { TICKFLOW_CONTROL_TOKENS: `a:${TOKEN}` }, () => undefined)).toThrow(ConfigError);
  });
});
