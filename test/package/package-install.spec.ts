import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/run-cli.js';

const run = promisify(execFile);
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * tickflow as a user gets it: packed with `npm pack`, installed into an
 * empty project from the tarball (its dependencies from the package
 * registry, nothing else from the network), then `npx tickflow` there. The
 * native parts come inside the package (prebuilds/<platform>-<arch>/), so
 * the install needs no compiler and no node-gyp.
 */
describe('the packed package', () => {
  it('installs into an empty project, where npx tickflow list and run demo --duration 5 work', async () => {
    const packs = mkdtempSync(join(tmpdir(), 'tickflow-pack-'));
    await run(NPM, ['pack', '--pack-destination', packs, '--silent'], { cwd: ROOT, timeout: 180_000, maxBuffer: 64 * 1024 * 1024 });
    const tarball = readdirSync(packs).find((f) => f.endsWith('.tgz'));
    expect(tarball).toBeDefined();

    const project = mkdtempSync(join(tmpdir(), 'tickflow-user-'));
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'a-user-project', version: '1.0.0', private: true, type: 'module' }),
    );
    await run(NPM, ['install', join(packs, tarball as string), '--no-audit', '--no-fund', '--loglevel', 'error'], {
      cwd: project,
      timeout: 240_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(
      existsSync(join(project, 'node_modules', 'tickflow', 'prebuilds', `${process.platform}-${process.arch}`, 'tickflow_ctp.node')),
    ).toBe(true);
    // What the package must not drag along: the build tools and the sources of the tests.
    expect(existsSync(join(project, 'node_modules', 'node-gyp'))).toBe(false);
    expect(existsSync(join(project, 'node_modules', 'tickflow', 'test'))).toBe(false);

    const list = await run('npx', ['tickflow', 'list'], { cwd: project, timeout: 60_000 });
    expect(list.stdout).toContain('demo');
    expect(list.stdout).toMatch(/operator\s+bars/);

    const demo = await run('npx', ['tickflow', 'run', 'demo', '--duration', '5', '--port', '0', '--set', 'quotes-ws.port=0'], {
      cwd: project,
      timeout: 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(demo.stderr).toContain("pipeline 'demo' finished");
    expect(demo.stderr).not.toContain('not built');
    for (const file of ['demo-ticks.ndjson', 'audit']) expect(existsSync(join(project, 'out', file)), file).toBe(true);
    const verify = await run('npx', ['tickflow', 'audit', 'verify', 'out/audit'], { cwd: project, timeout: 60_000 });
    expect(verify.stdout).toMatch(/records/);
  }, 480_000);
});
