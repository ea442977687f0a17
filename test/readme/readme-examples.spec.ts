/**
 * Every fenced code block of README.md, run the way a reader would run it,
 * so that the README cannot drift from the code again.
 *
 * The reader works in one directory (a fresh temporary one) with `tickflow`
 * on the PATH (the built CLI, as `npm install tickflow` provides it):
 *
 * - ```ts and ```js blocks are written under test/readme/.tmp/ (inside the
 *   package, so that `import … from 'tickflow'` resolves to the built package
 *   by its own name, as in a project that installed it), type-checked and
 *   compiled with tsc against the repository's tsconfig, and run from the
 *   reader's directory. They must end by themselves, print nothing on
 *   stderr and print exactly their `// Logs:` lines. A block that imports
 *   `ws` is a client of a running server: it runs against a demo the test
 *   starts on free ports (the block takes the URL as its first argument),
 *   must print updates, and is stopped as Ctrl-C would stop it.
 * - ```yaml blocks that define a pipeline are linted as they are, then run
 *   for 2 s with a run config that gives every server stage a free port,
 *   points `ws-feed` upstreams at the test's demo and `ctp` at the CTP
 *   simulator (a vendor library and a broker's fronts are not here); every
 *   sink must receive records. A run config block (`# run.yaml — tickflow
 *   run demo --config run.yaml`) runs the demo with it for 2 s.
 * - ```sh blocks run in bash as they are, stopped at the first failing
 *   command; what a block leaves running in the background is sent SIGTERM
 *   at its end (Ctrl-C's drain) and must exit 0.
 * - ```text blocks (diagrams, trees) are not code.
 *
 * A block may be exempted only by a marker on the line before it,
 * `<!-- readme-test: apart — REASON -->` (the block is tested another way, in its own case) or `<!-- readme-test: lint-only —
 * REASON -->`; any other block the test cannot classify fails it. The sh
 * blocks and the run config use the demo's default ports (7777, 9464) as a
 * reader would, so they run one after another, after checking the ports
 * are free; a lock file in the temporary directory serializes them across
 * suites running at once on one machine (two clones under test, say).
 * Everything else uses free ports.
 */
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { tryLockExclusive } from '../../native/file-lock.js';
import { ctpSimulator } from '../../native/ctp-simulator.js';
import { compileTypeScript } from '../support/compile-typescript.js';
import { expectedLogs, type FencedBlock } from '../support/fenced-blocks.js';
import { killGroup, runBounded } from '../support/run-bounded.js';
import { CLI, ROOT, runCli, startCli, stopCli, type CliChild, type CliResult } from '../support/run-cli.js';
import { waitFor } from '../support/wait-for.js';
import { parseMarker, readmeBlocks, type BlockMarker } from './readme-blocks.js';

type Plan =
  | {
      readonly kind: 'typescript' | 'javascript' | 'client' | 'definition' | 'run-config' | 'shell';
      readonly block: FencedBlock;
      readonly marker?: BlockMarker;
    }
  | { readonly kind: 'text'; readonly block: FencedBlock };

/** The demo's default ports, which the sh blocks and the run config use as they are. */
const DEMO_PORTS = [7777, 9464];
/** Held while a suite uses DEMO_PORTS; flock(2), so a suite that dies releases it. */
const DEMO_PORTS_LOCK = join(tmpdir(), 'tickflow-readme-demo-ports.lock');
const DEMO_PORTS_LOCK_WAIT_MS = 10 * 60_000;
const RUN_SECONDS = '2';

/** Classifies every block of the README; throws naming the line of one the test does not know how to run. */
function plan(blocks: readonly FencedBlock[]): Plan[] {
  return blocks.map((block): Plan => {
    const marker = parseMarker(block);
    const withMarker = marker === undefined ? {} : { marker };
    switch (block.lang) {
      case 'text':
        if (marker !== undefined) throw new Error(`README.md:${block.line}: a text block is not run; its marker means nothing`);
        return { kind: 'text', block };
      case 'ts':
        return { kind: 'typescript', block, ...withMarker };
      case 'js':
        return { kind: /from 'ws'/.test(block.code) ? 'client' : 'javascript', block, ...withMarker };
      case 'sh':
        return { kind: 'shell', block, ...withMarker };
      case 'yaml': {
        const doc = parseYaml(block.code) as Record<string, unknown> | null;
        if (doc !== null && typeof doc['name'] === 'string' && Array.isArray(doc['stages']))
          return { kind: 'definition', block, ...withMarker };
        if (doc !== null && typeof doc['stages'] === 'object' && !Array.isArray(doc['stages']))
          return { kind: 'run-config', block, ...withMarker };
        throw new Error(
          `README.md:${block.line}: a yaml block that is neither a pipeline definition (name, stages: [...]) nor a run config (stages: {...})`,
        );
      }
      default:
        throw new Error(
          `README.md:${block.line}: a block of language '${block.lang}'; the test runs ts, js, yaml and sh, and passes over text (mark the block or give it one of these)`,
        );
    }
  });
}

/** The file a block names in its first line (`# rebar.yaml`, `// diff-client.mjs: …`), else one named after its line. */
function fileNameOf(block: FencedBlock, extension: string): string {
  const named = /^(?:#|\/\/)\s*([\w.-]+\.\w+)\b/.exec(block.code)?.[1];
  return named ?? `readme-${block.line}.${extension}`;
}

let shimDir = '';
/** The environment of a reader: the built CLI on the PATH as `tickflow`, none of the tester's TICKFLOW_* settings. */
function readerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', PATH: `${shimDir}:${process.env['PATH'] ?? ''}`, ...extra };
  for (const key of Object.keys(env)) if (key.startsWith('TICKFLOW_') && !(key in extra)) delete env[key];
  return env;
}

/** Fails, naming the port, when one of the demo's default ports is taken (a demo of the tester's own, say). */
async function expectPortsFree(ports: readonly number[]): Promise<void> {
  for (const port of ports) {
    const problem = await new Promise<string | undefined>((resolve) => {
      const server = createServer();
      server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(undefined)));
    });
    if (problem !== undefined)
      throw new Error(
        `127.0.0.1:${port} is not free (${problem}): the README's sh blocks run the demo on its default ports; stop what holds it`,
      );
  }
}

/** Opens DEMO_PORTS_LOCK and waits, bounded, until this suite holds it; returns the descriptor to close. */
async function lockDemoPorts(): Promise<number> {
  const fd = openSync(DEMO_PORTS_LOCK, 'a');
  for (const deadline = performance.now() + DEMO_PORTS_LOCK_WAIT_MS; !tryLockExclusive(fd); await new Promise((r) => setTimeout(r, 200))) {
    if (performance.now() > deadline) {
      closeSync(fd);
      throw new Error(`another test run held ${DEMO_PORTS_LOCK} (the demo's default ports) for ${DEMO_PORTS_LOCK_WAIT_MS / 60_000} min`);
    }
  }
  return fd;
}

/** The per-stage counts of a run, from its last log line (`pipeline '…' finished`). */
function finishedStages(stderr: string): Record<string, { kind: string; records_in: number; records_out: number }> {
  const line = stderr
    .split('\n')
    .reverse()
    .find((l) => l.includes('"stages":{') && l.includes('finished'));
  if (line === undefined) throw new Error(`the run did not log that it finished:\n${stderr.slice(-2000)}`);
  return (JSON.parse(line) as { stages: Record<string, { kind: string; records_in: number; records_out: number }> }).stages;
}

/** What a shell block's commands must print, beside exiting 0. */
const SHELL_EXPECTATIONS: readonly { command: RegExp; output: RegExp }[] = [
  { command: /^tickflow list\b/m, output: /Pipelines:\n {2}demo / },
  { command: /^tickflow graph demo --format dot\b/m, output: /"merge" -> "ticks-file" \[label="Tick"\];/ },
  { command: /^tickflow lint rebar\.yaml\b/m, output: /rebar\.yaml: ok \(pipeline 'rebar', 3 stages\)/ },
  { command: /^tickflow audit verify out\/audit\b/m, output: /records/ },
  {
    command: /^tickflow halt --reason "exchange incident"/m,
    output: /risk: ACTIVE -> HALTED \(risk-control-\d+\) by desk; reason: exchange incident/,
  },
  { command: /^tickflow resume --reason "all clear"/m, output: /risk: HALTED -> ACTIVE \(risk-control-\d+\) by desk; reason: all clear/ },
  { command: /control\/risk\/limits .*\n.*"max_order_volume": 5/m, output: /"max_order_volume":5,.*"principal":"desk"/ },
];

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const plans = plan(readmeBlocks(readme));
const ofKind = (kind: Plan['kind']) => plans.filter((p) => p.kind === kind);
const title = (p: Plan) =>
  `README.md:${p.block.line} (${p.block.lang})${'marker' in p && p.marker !== undefined ? ` [${p.marker.mode}: ${p.marker.reason}]` : ''}`;

describe('README.md code blocks', () => {
  /** The reader's directory: outputs (out/), the YAML files the README names. */
  let workdir = '';
  /** Where TypeScript and JavaScript blocks are written: inside the package, so that 'tickflow' resolves by its own name. */
  let codeDir = '';
  /** A demo on free ports, the server of client blocks and the upstream of ws-feed stages. */
  let upstream: CliChild | undefined;
  let upstreamWs = '';

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'npm run build' (npm test does it)`);
    workdir = mkdtempSync(join(tmpdir(), 'tickflow-readme-'));
    shimDir = join(workdir, '.bin');
    mkdirSync(shimDir);
    writeFileSync(join(shimDir, 'tickflow'), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`);
    chmodSync(join(shimDir, 'tickflow'), 0o755);
    mkdirSync(join(ROOT, 'test/readme/.tmp'), { recursive: true });
    codeDir = mkdtempSync(join(ROOT, 'test/readme/.tmp/run-'));
    // The YAML files the README names (rebar.yaml, run.yaml) are in the reader's directory before any sh block mentions them.
    for (const p of [...ofKind('definition'), ...ofKind('run-config')])
      writeFileSync(join(workdir, fileNameOf(p.block, 'yaml')), p.block.code);

    const upstreamDir = join(workdir, 'upstream');
    mkdirSync(upstreamDir);
    upstream = startCli(
      ['run', 'demo', '--port', '0', '--set', 'quotes-ws.port=0', '--set', `audit.dir=${join(upstreamDir, 'audit')}`],
      upstreamDir,
      readerEnv(),
    );
    const child = upstream;
    upstreamWs = await waitFor(
      'the upstream demo serving quotes',
      () => /serving quotes on (ws:\/\/127\.0\.0\.1:\d+\/)/.exec(child.output().stderr)?.[1],
      15_000,
    );
  });

  afterAll(async () => {
    if (upstream !== undefined) expect(await stopCli(upstream)).toBe(0);
    if (codeDir !== '') rmSync(codeDir, { recursive: true, force: true });
    if (workdir !== '') rmSync(workdir, { recursive: true, force: true });
  });

  it('knows every block: each is run, or passed over as text, or marked with a reason', () => {
    // plan() threw while this file loaded if one was not; this names what the README holds, so a lost block shows.
    const counts = Object.fromEntries(
      ['typescript', 'javascript', 'client', 'definition', 'run-config', 'shell', 'text'].map((k) => [k, ofKind(k as Plan['kind']).length]),
    );
    expect(plans.length).toBe(readmeBlocks(readme).length);
    for (const kind of ['typescript', 'client', 'definition', 'run-config', 'shell', 'text']) expect(counts[kind], kind).toBeGreaterThan(0);
    // Only the Quick start's npm commands are marked: npm start serves until Ctrl-C, npm test is the suite this runs in (tested apart below).
    expect(plans.filter((p) => 'marker' in p && p.marker !== undefined).map((p) => [p.kind, 'marker' in p && p.marker?.mode])).toEqual([
      ['shell', 'apart'],
    ]);
  });

  describe('TypeScript and JavaScript', () => {
    const code = plans.filter((p) => p.kind === 'typescript' || p.kind === 'javascript' || p.kind === 'client');
    const fileOf = (p: Plan) => (p.kind === 'typescript' ? `readme-${p.block.line}.ts` : fileNameOf(p.block, 'mjs'));
    let compiled: Promise<CliResult & { timedOut: boolean }> | undefined;
    /** Type-checks and compiles every TypeScript block once, with the repository's compiler options. */
    const compile = () =>
      (compiled ??= (async () => {
        for (const p of code) writeFileSync(join(codeDir, fileOf(p)), p.block.code);
        return compileTypeScript(codeDir, { timeoutMs: 30_000 });
      })());

    it('the TypeScript blocks type-check against the built package', async () => {
      const tsc = await compile();
      expect(tsc.stdout.replaceAll(`${codeDir}/`, ''), 'tsc diagnostics').toBe('');
      expect(tsc.code).toBe(0);
    });

    for (const p of code.filter((c) => c.kind !== 'client')) {
      it(`${title(p)} ends by itself and prints its // Logs: lines`, async () => {
        expect((await compile()).code, 'the blocks compile').toBe(0);
        const file = p.kind === 'typescript' ? join(codeDir, 'out', fileOf(p).replace(/\.ts$/, '.js')) : join(codeDir, fileOf(p));
        const result = await runBounded(process.execPath, [file], { cwd: workdir, env: readerEnv(), timeoutMs: 15_000 });
        expect(result.timedOut, 'killed after 15 s: the block does not end by itself').toBe(false);
        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
        expect(result.stdout.split('\n').filter((l) => l !== '')).toEqual(expectedLogs(p.block.code));
      });
    }

    for (const p of ofKind('client')) {
      it(`${title(p)} connects to a running demo and prints its updates`, async () => {
        const file = join(codeDir, fileOf(p));
        writeFileSync(file, p.block.code);
        const child = spawn(process.execPath, [file, upstreamWs], {
          cwd: workdir,
          env: readerEnv(),
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
        try {
          // Three updates of SHFE.rb2501 (the demo ticks it about three times a second): time and last price.
          const updates = () => stdout.split('\n').filter((l) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \d+(\.\d+)?$/.test(l)).length;
          await waitFor(
            'three quote updates from the client, or an error',
            () => (updates() >= 3 || stderr !== '' ? true : undefined),
            15_000,
          );
          expect(stderr).toBe('');
        } finally {
          child.kill('SIGINT');
          const killer = setTimeout(() => killGroup(child), 5_000);
          await closed;
          clearTimeout(killer);
        }
      });
    }
  });

  describe.concurrent('YAML', () => {
    /** Overrides for stages that need outside things or fixed ports: a run config file next to the definition. */
    function runConfigFor(definition: { stages: { id: string; use: string; config?: Record<string, unknown> }[] }): string {
      const stages: Record<string, Record<string, unknown>> = {};
      for (const [i, stage] of definition.stages.entries()) {
        if (stage.use === 'websocket') stages[stage.id] = { port: 0 };
        if (stage.use === 'ws-feed') stages[stage.id] = { url: upstreamWs };
        if (stage.use === 'ctp') {
          const instruments = (stage.config?.['instruments'] as string[]).join(',');
          const fronts = stage.config?.['fronts'] as { name: string; broker_id?: string; priority?: number }[];
          stages[stage.id] = {
            library_path: ctpSimulator.libraryPath(),
            // In-process fronts of the CTP simulator, one market per stage; the front names and priorities are the README's.
            fronts: fronts.map((f, n) => ({
              ...f,
              front_addr: `tcp://127.0.0.1:${42_100 + 10 * i + n}?seed=5&rate=50&start=20250102T210000&instruments=${instruments}`,
            })),
          };
        }
      }
      return JSON.stringify({ port: 0, stages });
    }

    const definitions = ofKind('definition');
    for (const p of definitions) {
      it(`${title(p)} passes lint${'marker' in p && p.marker?.mode === 'lint-only' ? '' : `, and runs for ${RUN_SECONDS} s with records in every sink`}`, async () => {
        const file = fileNameOf(p.block, 'yaml');
        const lint = await runCli(['lint', file], 20_000, workdir, readerEnv());
        expect(lint.stderr).toBe('');
        expect(lint.stdout).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ok \\(pipeline '`));
        expect(lint.code).toBe(0);
        if ('marker' in p && p.marker?.mode === 'lint-only') return;

        const definition = parseYaml(p.block.code) as {
          name: string;
          stages: { id: string; use: string; from?: unknown; config?: Record<string, unknown> }[];
        };
        // A replay reads what the demo recorded, as the reader's demo did before: record it first when it is not there yet.
        for (const s of definition.stages.filter((st) => st.use === 'file')) {
          const path = String(s.config?.['path']);
          if (!existsSync(join(workdir, path))) {
            const demo = await runCli(
              ['run', 'demo', '--port', '0', '--set', 'quotes-ws.port=0', '--duration', '1'],
              20_000,
              workdir,
              readerEnv(),
            );
            expect(demo.code, demo.stderr.slice(-1000)).toBe(0);
            expect(existsSync(join(workdir, path)), `${path}, which the demo should have written`).toBe(true);
          }
        }
        const overrides = join(workdir, `${file}.test-run.yaml`);
        writeFileSync(overrides, runConfigFor(definition));
        const result = await runCli(['run', file, '--config', overrides, '--duration', RUN_SECONDS], 20_000, workdir, readerEnv());
        expect(result.code, result.stderr.slice(-2000)).toBe(0);
        const stages = finishedStages(result.stderr);
        for (const s of definition.stages) {
          const counts = stages[s.id];
          expect(counts, s.id).toBeDefined();
          if (counts?.kind === 'source') expect(counts.records_out, `${s.id} records out`).toBeGreaterThan(0);
          // A sink of the dead letters gets records only when something is rejected; any other sink must get the stream it reads.
          if (counts?.kind === 'sink' && s.from !== 'dead-letters') expect(counts.records_in, `${s.id} records in`).toBeGreaterThan(0);
        }
      }, 60_000);
    }
  });

  describe('run on the demo default ports, one after another', () => {
    let lock: number | undefined;
    beforeAll(async () => {
      lock = await lockDemoPorts();
    }, DEMO_PORTS_LOCK_WAIT_MS + 10_000);
    afterAll(() => {
      if (lock !== undefined) closeSync(lock);
    });

    for (const p of ofKind('run-config')) {
      it(`${title(p)} configures a ${RUN_SECONDS} s run of the demo`, async () => {
        const file = fileNameOf(p.block, 'yaml');
        const config = parseYaml(p.block.code) as { control_tokens_file?: string; stages: Record<string, Record<string, unknown>> };
        // The block names a file of control tokens, as the reader keeps one (mode 600, PRINCIPAL:TOKEN a line); the test writes
        // one in the reader's directory, never elsewhere: an absolute path must exist as it is.
        if (
          config.control_tokens_file !== undefined &&
          !isAbsolute(config.control_tokens_file) &&
          !existsSync(join(workdir, config.control_tokens_file))
        ) {
          writeFileSync(join(workdir, config.control_tokens_file), 'desk:readme-test-token-0123456789\n', { mode: 0o600 });
        }
        await expectPortsFree(DEMO_PORTS);
        const result = await runCli(['run', 'demo', '--config', file, '--duration', RUN_SECONDS], 20_000, workdir, readerEnv());
        expect(result.code, result.stderr.slice(-2000)).toBe(0);
        const stages = finishedStages(result.stderr);
        for (const [id, fields] of Object.entries(config.stages)) {
          expect(stages[id], `stage '${id}' of the run config is a stage of the demo`).toBeDefined();
          if (typeof fields['path'] === 'string')
            expect(readFileSync(join(workdir, fields['path']), 'utf8').length, `${id} wrote ${fields['path']}`).toBeGreaterThan(0);
        }
        // Each sim feed logs the config it started with.
        for (const [id, fields] of Object.entries(config.stages).filter(([, f]) => 'rate' in f)) {
          const started = result.stderr.split('\n').find((l) => l.includes(`"stage":"${id}"`) && l.includes('sim market started'));
          expect(started && JSON.parse(started), id).toMatchObject(fields);
        }
      });
    }

    for (const p of ofKind('shell')) {
      const marker = 'marker' in p ? p.marker : undefined;
      if (marker !== undefined) {
        // The Quick start, which cannot run as written inside the suite (npm test is this suite; npm start serves until
        // Ctrl-C): npm start is run for real until the demo's first tick is written, then Ctrl-C; npm test is checked
        // to be the command CI runs.
        it(`${title(p)}: npm start serves the demo and drains on Ctrl-C; npm test is what CI runs`, async () => {
          expect(p.block.code).toMatch(/^npm start\b/m);
          expect(p.block.code).toMatch(/^npm test\b/m);
          expect(readFileSync(join(ROOT, '.ci/run'), 'utf8')).toMatch(/^npm test$/m);
          await expectPortsFree(DEMO_PORTS);
          // Its own process group, so the Ctrl-C below reaches npm and the demo as a terminal's would.
          const npm = spawn('npm', ['start'], {
            cwd: ROOT,
            detached: true,
            stdio: ['ignore', 'ignore', 'pipe'],
            env: { ...process.env, NO_COLOR: '1' },
          });
          let stderr = '';
          npm.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
          const drained = new Promise<void>((resolve) => npm.stderr.on('close', () => resolve()));
          try {
            let written = 0;
            for (const deadline = performance.now() + 60_000; written === 0; await new Promise((r) => setTimeout(r, 200))) {
              if (performance.now() > deadline) throw new Error(`npm start wrote no tick within 60 s:\n${stderr.slice(-2000)}`);
              const health = (await fetch('http://127.0.0.1:9464/health').then(
                (r) => r.json(),
                () => undefined,
              )) as { stages?: Record<string, { records_in: number }> } | undefined;
              written = health?.stages?.['ticks-file']?.records_in ?? 0;
            }
          } finally {
            process.kill(-(npm.pid as number), 'SIGINT');
          }
          await drained;
          expect(stderr).toContain("pipeline 'demo' stopping: draining to sinks");
          expect(stderr).toContain("pipeline 'demo' finished");
        }, 90_000);
        continue;
      }
      it(`${title(p)} runs in bash and every command succeeds`, async () => {
        await expectPortsFree(DEMO_PORTS);
        const script = [
          'set -e',
          // Whatever happens, nothing the block started in the background outlives it.
          "trap 'kill -TERM $(jobs -p) 2>/dev/null || true' EXIT",
          p.block.code,
          // What the block left running (tickflow run demo &) is stopped as Ctrl-C would, and must drain and exit 0.
          'for job in $(jobs -p); do kill -TERM "$job"; wait "$job"; done',
        ].join('\n');
        const result = await runBounded('bash', ['-c', script], { cwd: workdir, env: readerEnv(), timeoutMs: 30_000 });
        expect(result.timedOut, `killed after 30 s; stderr:\n${result.stderr.slice(-2000)}`).toBe(false);
        expect(result.code, `stderr:\n${result.stderr.slice(-2000)}`).toBe(0);
        for (const { command, output } of SHELL_EXPECTATIONS) if (command.test(p.block.code)) expect(result.stdout).toMatch(output);
      }, 45_000);
    }
  });
});
