// `npm run build`: the native parts (scripts/build-native.mjs), then the
// TypeScript into dist/ — tsc only when a source is newer than its last
// build, so a warm `npm start` spends well under a second here. tsc itself
// is incremental (dist/.tsbuildinfo) when something did change.
// Files the code reads beside itself at run time (the live page) are
// copied into dist/ on every build.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const run = (args) => {
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

run([join(root, 'scripts', 'build-native.mjs'), ...process.argv.slice(2)]);

/** What tsconfig.build.json compiles, and the configs that shape it. */
const INPUT_DIRS = [
  'native',
  'cli',
  'errors',
  'pipeline',
  'operators',
  'sources',
  'sinks',
  'domain',
  'protocols',
  'strategies',
  'schemas',
  'bench',
];
const INPUT_FILES = ['index.ts', 'tsconfig.json', 'tsconfig.build.json', 'package.json'];

function newestIn(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'build' || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestIn(path));
    else if (/\.(ts|json|avsc)$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Files the compiled code reads beside itself, copied into dist/ as they are (tsc compiles only .ts). */
const ASSET_DIRS = ['sinks/websocket/live-page'];

/**
 * Makes `to` hold exactly the files of `from`. A changed file is written beside its place and renamed over it, and an unchanged one
 * is left alone, so a server starting while another build runs never reads a missing or half-written file.
 */
function syncAssets(from, to) {
  mkdirSync(to, { recursive: true });
  const wanted = new Set(readdirSync(from));
  for (const name of wanted) {
    const source = readFileSync(join(from, name));
    const target = join(to, name);
    if (existsSync(target) && readFileSync(target).equals(source)) continue;
    const partial = `${target}.${process.pid}.partial`;
    writeFileSync(partial, source);
    renameSync(partial, target);
  }
  for (const name of readdirSync(to)) if (!wanted.has(name) && !name.endsWith('.partial')) rmSync(join(to, name), { force: true });
}

for (const dir of ASSET_DIRS) syncAssets(join(root, dir), join(root, 'dist', dir));

/** Written after tsc succeeded (tsc leaves its .tsbuildinfo untouched when nothing changed). */
const stamp = join(root, 'dist', '.built.stamp');
const newestSource = Math.max(
  ...INPUT_FILES.map((f) => statSync(join(root, f)).mtimeMs),
  ...INPUT_DIRS.map((d) => newestIn(join(root, d))),
);
if (existsSync(stamp) && existsSync(join(root, 'dist', 'cli', 'main.js')) && statSync(stamp).mtimeMs >= newestSource) process.exit(0);
const started = new Date();
run([createRequire(import.meta.url).resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')]);
// Dated to when tsc started, so a source saved while it ran is newer and builds next time.
writeFileSync(stamp, `${started.toISOString()}\n`);
utimesSync(stamp, started, started);
