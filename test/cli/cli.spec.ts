import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import avro from 'avsc';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SchemaCatalog } from '../../pipeline/schemas/schema-catalog.js';
import { Redis } from 'ioredis';
import { startRedisServer, closeRedisServers } from '../support/redis-server.js';
import { ROOT, runCli, startCli } from '../support/run-cli.js';
import { waitFor } from '../support/wait-for.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'tickflow-cli-'));

/** `run demo` on free ports, writing into `dir`; `sets` are STAGE.FIELD=VALUE, with `feeds.` meaning both simulated feeds. */
function demoArgs(dir: string, sets: readonly string[] = [], flags: readonly string[] = []): string[] {
  const expanded = sets.flatMap((s) => (s.startsWith('feeds.') ? [`feed-a.${s.slice(6)}`, `feed-b.${s.slice(6)}`] : [s]));
  return [
    'run',
    'demo',
    '--port',
    '0',
    ...flags,
    ...[
      ...expanded,
      'quotes-ws.port=0',
      `ticks-file.path=${join(dir, 'ticks.ndjson')}`,
      `dead-letter-file.path=${join(dir, 'dead.ndjson')}`,
      `audit.dir=${join(dir, 'audit')}`,
    ].flatMap((s) => ['--set', s]),
  ];
}
const tickCodec = SchemaCatalog.default().codec('Tick');

function readTicks(path: string): unknown[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);
}

afterAll(closeRedisServers);

describe('tickflow CLI', () => {
  it('--help lists the commands; no command or an unknown one exits 2', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    for (const c of ['list', 'run', 'graph', 'lint', 'halt', 'resume', 'audit', 'schemas', 'docs']) expect(help.stdout).toContain(`  ${c}`);
    expect((await runCli([])).code).toBe(2);
    const unknown = await runCli(['launch']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      "tickflow: unknown command 'launch'; commands: list, run, graph, lint, halt, resume, audit, schemas, docs\n",
    );
    const runHelp = await runCli(['run', '--help']);
    expect(runHelp.stdout).toMatch(/--set VALUE, -s\s+Set one stage config field/);
  });

  it('list shows the named pipelines and the components with their schemas', async () => {
    const { code, stdout } = await runCli(['list']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Pipelines:\n {2}demo /);
    expect(stdout).toMatch(/source\s+sim\s+-> Tick/);
    expect(stdout).toMatch(/sink\s+ndjson-file\s+any ->/);
    expect(stdout).toMatch(/rate \(number, default 20, min 0, max 100000, e\.g\. [^)]+\): Ticks per second/);
    expect(stdout).toMatch(/fronts\[\]\.priority \(integer, default 0, min 0, max 1000, e\.g\. 1\)/);
    expect(stdout).toMatch(/source\s+ctp\s+-> Tick/);
    expect(stdout).toMatch(/fronts\[\]\.front_addr \(string, required, e\.g\. "tcp:[^)]+\): Front address/);
  });

  it('graph prints every edge with its schema, in each format', async () => {
    const json = await runCli(['graph', 'demo', '--format', 'json']);
    expect(json.code).toBe(0);
    const graph = JSON.parse(json.stdout) as { edges: unknown[] };
    expect(graph.edges).toEqual(
      expect.arrayContaining([
        { from: 'feed-a', to: 'merge', schema: 'Tick', feedback: false },
        { from: 'quotes', to: 'quotes-ws', port: 'quotes', schema: 'QuoteDiff', feedback: false },
        { from: 'merge', side: 'status', to: 'quotes-ws', port: 'feeds', schema: 'FeedStatus', feedback: false },
        { from: 'router', to: 'risk', port: 'events', schema: 'OrderEvent', feedback: true },
        { from: 'paper', to: 'router', port: 'reports', schema: 'OrderEvent', feedback: true },
        { from: 'risk', side: 'control', to: 'audit', port: 'controls', schema: 'RiskControlChanged', feedback: false },
        { from: 'dead-letters', to: 'dead-letter-file', schema: 'DeadLetter', feedback: false },
      ]),
    );
    expect((await runCli(['graph', 'demo'])).stdout).toContain('merge -->|"Tick"| ticks_file');
    expect((await runCli(['graph', 'demo', '-f', 'dot'])).stdout).toContain('"merge" -> "quotes-ws" [label="status: FeedStatus → feeds"];');
  });

  it('names the flag, the bad value and the valid choices, and exits 2', async () => {
    const format = await runCli(['graph', 'demo', '--format', 'svg']);
    expect(format.code).toBe(2);
    expect(format.stderr).toContain("tickflow graph: --format must be one of mermaid, dot, json; got 'svg'");
    const flag = await runCli(['graph', 'demo', '--colour']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("unknown flag '--colour'; valid flags: --format");
    const validation = await runCli(['run', 'demo', '--validation', 'loose']);
    expect(validation.code).toBe(2);
    expect(validation.stderr).toContain("--validation must be one of strict, boundary; got 'loose'");
    const pipelineName = await runCli(['run', 'demox']);
    expect(pipelineName.code).toBe(2);
    expect(pipelineName.stderr).toContain("unknown pipeline 'demox'; named pipelines: demo");
  });

  it('rejects a bad --set value naming the stage and the field, and exits 2', async () => {
    const { code, stderr } = await runCli(['run', 'demo', '--set', 'feed-a.rate=fast', '--set', 'feed-a.colour=red']);
    expect(code).toBe(2);
    expect(stderr).toContain("--set feed-a.colour: stage 'feed-a' (sim): unknown field 'colour'");
    expect(stderr).toContain("--set feed-a.rate: stage 'feed-a' (sim): 'rate' must be a number, got \"fast\"");
  });

  it('graph and list never load the native addon (subcommands load lazily)', async () => {
    // In a child: run the commands in-process, then look for the addon among the loaded native modules.
    const script = [
      `const { runCli } = await import(${JSON.stringify(join(ROOT, 'dist/cli/run-cli.js'))});`,
      `const { createRequire } = await import('node:module');`,
      `const io = { out: () => {}, err: (t) => process.stderr.write(t) };`,
      `for (const argv of [['graph', 'demo'], ['list']]) if (await runCli(argv, io) !== 0) process.exit(3);`,
      `const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.endsWith('.node'));`,
      `process.stdout.write(JSON.stringify(loaded));`,
    ].join('\n');
    const { stdout, code } = await new Promise<{ stdout: string; code: number | null }>((resolve) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', (c) => resolve({ stdout: out, code: c }));
    });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual([]);
  });

  it('a ctp definition file: lint checks each front, run names a wrong library path and exits 1', async () => {
    const dir = tmp();
    const file = join(dir, 'ctp.yaml');
    const definition = (extra: string): string =>
      [
        'name: ctp-live',
        'stages:',
        '  - id: ctp',
        '    use: ctp',
        '    config:',
        `      library_path: ${join(dir, 'thostmduserapi_se.so')}`,
        '      fronts:',
        '        - { name: telecom, front_addr: "tcp://127.0.0.1:10211", broker_id: "9999" }',
        `        - { name: unicom, front_addr: "tcp://127.0.0.1:10213", priority: 1${extra} }`,
        '      instruments: [SHFE.rb2505, DCE.m2505]',
        `  - { id: out, use: ndjson-file, from: ctp, config: { path: ${join(dir, 'ticks.ndjson')} } }`,
      ].join('\n');
    writeFileSync(file, definition(', colour: red'));
    const bad = await runCli(['lint', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("stage 'ctp' (ctp): unknown field 'fronts[1].colour'");
    writeFileSync(file, definition(''));
    expect((await runCli(['lint', file])).code).toBe(0);
    const run = await runCli(['run', file, '--port', '0']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `${join(dir, 'thostmduserapi_se.so')}: no such file; expected a CTP market-data library of SDK 6.6.9–6.7.7 or 6.7.11`,
    );
  });

  it('lint accepts a good definition file and reports every problem of a bad one (exit 2)', async () => {
    const dir = tmp();
    const good = join(dir, 'good.yaml');
    writeFileSync(
      good,
      'name: good\nstages:\n  - { id: market, use: sim, config: { seed: 3 } }\n  - { id: out, use: ndjson-file, from: market, config: { path: out.ndjson } }\n',
    );
    const ok = await runCli(['lint', good]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(
      `${good}: ok (pipeline 'good', 2 stages)\n  not checked until it runs (needs the outside world):\n    - stage 'out' (ndjson-file): that 'path' can be written\n`,
    );

    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'name: bad\nstages:\n  - { id: market, use: sim, config: { seed: one } }\n  - { id: extra, use: pass-through, from: market }\n  - { id: out, use: ndjson-file, from: market }\n',
    );
    const failed = await runCli(['lint', bad]);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toContain("stage 'market' (sim): 'seed' must be an integer, got \"one\"");
    const dangling = join(dir, 'dangling.yaml');
    writeFileSync(
      dangling,
      'name: dangling\nstages:\n  - { id: market, use: sim }\n  - { id: extra, use: pass-through, from: market }\n  - { id: out, use: ndjson-file, from: market }\n',
    );
    const danglingResult = await runCli(['lint', dangling]);
    expect(danglingResult.code).toBe(2);
    expect(danglingResult.stderr).toContain("dangling stage 'extra'");
  });

  it('run demo with a tick count ends by itself and writes exactly that many valid ticks', async () => {
    const dir = tmp();
    const { code, stderr } = await runCli(demoArgs(dir, ['feeds.count=50', 'feeds.rate=0', 'ctp.count=3']));
    expect(stderr).toContain("pipeline 'demo' finished");
    expect(code).toBe(0);
    // Both sim feeds carry the same 50 ticks; the merge keeps one copy of each; the CTP source adds its 3.
    const ticks = readTicks(join(dir, 'ticks.ndjson')) as { feed_id: string }[];
    expect(ticks).toHaveLength(53);
    expect(ticks.filter((t) => t.feed_id === 'ctp')).toHaveLength(3);
    for (const t of ticks) expect(tickCodec.check(t)).toBeUndefined();
  });

  it('run demo keeps an audit trail that `audit verify` accepts, and writes to Redis only when asked', async () => {
    const dir = tmp();
    const { code } = await runCli(demoArgs(dir, ['feeds.count=40', 'feeds.rate=0', 'ctp.count=3']));
    expect(code).toBe(0);
    const verify = await runCli(['audit', 'verify', join(dir, 'audit')]);
    expect(verify.code).toBe(0);
    // At least the 40 ticks and the feed status changes, besides any orders.
    expect(Number(/(\d+) records/.exec(verify.stdout)?.[1])).toBeGreaterThanOrEqual(44);
    expect((await runCli(['audit'])).code).toBe(2);
    expect(JSON.parse((await runCli(['graph', 'demo', '--format', 'json'])).stdout).stages.map((s: { id: string }) => s.id)).not.toContain(
      'redis',
    );
  });

  it('the demo trades: commands, denials, order events and signals are all in the verified audit trail', async () => {
    const dir = tmp();
    const { code } = await runCli(demoArgs(dir, ['feeds.count=4000', 'feeds.rate=2000', 'ctp.count=3']), 60_000);
    expect(code).toBe(0);
    expect((await runCli(['audit', 'verify', join(dir, 'audit')])).code).toBe(0);
    const counts = new Map<string, number>();
    for (const file of readdirSync(join(dir, 'audit'))
      .filter((f) => f.endsWith('.avro'))
      .sort()) {
      await new Promise<void>((resolve, reject) =>
        avro
          .createFileDecoder(join(dir, 'audit', file))
          .on('data', (r: { record_type: string }) => void counts.set(r.record_type, (counts.get(r.record_type) ?? 0) + 1))
          .on('end', resolve)
          .on('error', reject),
      );
    }
    expect(counts.get('tickflow.Tick')).toBe(4003);
    for (const type of ['Signal', 'SubmitOrder', 'OrderSubmitted', 'OrderAccepted', 'OrderFilled'])
      expect(counts.get(`tickflow.${type}`) ?? 0, type).toBeGreaterThan(0);
  });

  it('run demo writes the latest quotes and tick history to Redis when a Redis URL is set', async () => {
    const redis = await startRedisServer();
    const dir = tmp();
    const { code } = await runCli(demoArgs(dir, ['feeds.count=40', 'feeds.rate=0', 'ctp.count=3', `redis.url=${redis.url}`]));
    expect(code).toBe(0);
    const client = new Redis(redis.url);
    try {
      const instruments = await client.smembers('tickflow:instruments');
      expect(instruments.length).toBeGreaterThan(0);
      const ticks = readTicks(join(dir, 'ticks.ndjson')) as { instrument_id: string; last_price: number | null }[];
      const last = ticks.filter((t) => t.instrument_id === instruments[0]).at(-1);
      expect(await client.hget(`tickflow:quote:${instruments[0]}`, 'last_price')).toBe(String(last?.last_price));
      expect(await client.xlen(`tickflow:ticks:${instruments[0]}`)).toBe(ticks.filter((t) => t.instrument_id === instruments[0]).length);
    } finally {
      client.disconnect();
    }
  });

  it('run demo is deterministic: the same seed gives the same bytes (the live CTP ticks aside)', async () => {
    const dir = tmp();
    const outputs: string[] = [];
    for (const name of ['a', 'b']) {
      const { code } = await runCli(demoArgs(join(dir, name), ['feeds.count=500', 'feeds.rate=0', 'feeds.seed=42', 'ctp.count=1']));
      expect(code).toBe(0);
      outputs.push(
        readFileSync(join(dir, name, 'ticks.ndjson'), 'utf8')
          .split('\n')
          .filter((line) => !line.includes('"feed_id":"ctp"'))
          .join('\n'),
      );
    }
    expect(outputs[0]?.split('\n')).toHaveLength(501);
    expect(outputs[1]).toBe(outputs[0]);
  });

  it('run takes stage config and settings from --config, and --set wins over it', async () => {
    const dir = tmp();
    const config = join(dir, 'run.yaml');
    writeFileSync(
      config,
      `validation: boundary\nport: 0\nlog_level: warn\nstages:\n  feed-a: { count: 7, rate: 0, seed: 5 }\n  feed-b: { count: 7, rate: 0, seed: 5 }\n  quotes-ws: { port: 0 }\n  ticks-file: { path: ${join(dir, 'from-config.ndjson')} }\n  dead-letter-file: { path: ${join(dir, 'dead.ndjson')} }\n`,
    );
    const { code, stderr } = await runCli([
      'run',
      'demo',
      '--config',
      config,
      '--set',
      'feed-a.count=3',
      '--set',
      'feed-b.count=3',
      '--set',
      'ctp.count=1',
    ]);
    expect(code).toBe(0);
    expect(stderr).not.toContain('"level":30');
    expect(readTicks(join(dir, 'from-config.ndjson'))).toHaveLength(4);
    writeFileSync(config, 'stages: {}\nspeed: 3\n');
    const bad = await runCli(['run', 'demo', '--config', config]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      `config file ${config}: unknown key 'speed'; known keys: validation, port, log_level, control_tokens_file, stages`,
    );
  });

  it('run demo serves /health and /metrics, and drains cleanly on SIGTERM', async () => {
    const dir = tmp();
    const out = join(dir, 'ticks.ndjson');
    const child = startCli(demoArgs(dir, ['feeds.rate=200']));
    try {
      const url = await waitFor(
        'the pipeline http url in the log',
        () => /health on (http:\/\/127\.0\.0\.1:\d+)\/health/.exec(child.output().stderr)?.[1],
      );
      let body: { status: string; state: string; stages: Record<string, { state: string; records_out: number }> } | undefined;
      for (let i = 0; i < 100; i++) {
        const res = await fetch(`${url}/health`);
        expect(res.status).toBe(200);
        body = (await res.json()) as typeof body;
        if ((body?.stages['ticks-file']?.records_out ?? 0) > 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(body?.status).toBe('ok');
      expect(body?.stages['feed-a']?.state).toBe('running');
      expect(body?.stages['ticks-file']?.records_out).toBeGreaterThan(0);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/tickflow_stage_records_out_total\{pipeline="demo",stage="feed-a",component="sim"\} \d+/);
      expect(metrics).toContain('# TYPE tickflow_stage_processing_seconds histogram');
    } finally {
      child.kill('SIGTERM');
    }
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(child.output().stderr).toContain('stopping: draining to sinks');
    expect(code).toBe(0);
    const ticks = readTicks(out);
    expect(ticks.length).toBeGreaterThan(0);
    for (const t of ticks) expect(tickCodec.check(t)).toBeUndefined();
  });

  it('halt and resume flip the kill switch of a running pipeline', async () => {
    const dir = tmp();
    const token = 'cli-test-token-0123456789';
    const child = startCli(demoArgs(dir, ['feeds.rate=100']), undefined, { TICKFLOW_CONTROL_TOKENS: `desk:${token}` });
    try {
      const url = await waitFor(
        'the pipeline http url in the log',
        () => /health on (http:\/\/127\.0\.0\.1:\d+)\/health/.exec(child.output().stderr)?.[1],
      );
      const withToken = { TICKFLOW_CONTROL_TOKEN: token };
      const halt = await runCli(['halt', '--url', url, '--reason', 'cli test'], 20_000, undefined, withToken);
      expect(halt.code).toBe(0);
      expect(halt.stdout).toContain('HALTED');
      expect(halt.stdout).toContain('by desk');
      const resume = await runCli(['resume', '--url', url, '--reason', 'cli test done'], 20_000, undefined, withToken);
      expect(resume.code).toBe(0);
      expect(resume.stdout).toContain('ACTIVE');
      const unreachable = await runCli(['halt', '--url', 'http://127.0.0.1:9', '--reason', 'nobody there']);
      expect(unreachable.code).toBe(1);
      expect(unreachable.stderr).toContain('http://127.0.0.1:9');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await new Promise<number | null>((resolve) => child.on('close', resolve))).toBe(0);
    expect(child.output().stderr).toMatch(/control risk\/state applied/);
  });

  it('run demo --duration stops by itself', async () => {
    const dir = tmp();
    const { code, stderr } = await runCli(demoArgs(dir, [], ['--duration', '1']));
    expect(code).toBe(0);
    expect(stderr).toContain('--duration 1s elapsed');
    expect(readTicks(join(dir, 'ticks.ndjson')).length).toBeGreaterThan(5);
  });
});
