// `npm run bench:compare -- A B BENCHMARK... [--rounds N]`: runs benchmarks of two builds interleaved
// (A, B, A, B …) and prints each figure's median per build and B/A, since absolute figures drift on a
// shared machine. A and B are git revisions (checked out and built under node_modules/.cache) or folders
// of built checkouts. A BENCHMARK is a file of bench/ without .ts (operator-throughput), whose function
// is the file's name in camelCase (operatorThroughput), as every benchmark is written.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compareFigures } from './compare-figures.js';
import { figuresOf, type Figure } from './figures-of.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BENCH_TIMEOUT_MS = 15 * 60_000;

function fail(message: string): never {
  process.stderr.write(`bench:compare: ${message}\n`);
  process.exit(2);
}

function run(command: string, args: readonly string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: BENCH_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) fail(`${command} ${args.join(' ')} (in ${cwd}) failed: ${result.error?.message ?? result.stderr.slice(-2000)}`);
  return result.stdout;
}

/** A built checkout of `spec`: the folder itself, or a worktree of the revision, built once. */
function builtCheckout(spec: string): string {
  if (existsSync(join(spec, 'package.json'))) {
    if (!existsSync(join(spec, 'dist', 'bench'))) fail(`${spec} is not built (no dist/bench): run npm run build there`);
    return resolve(spec);
  }
  const sha = run('git', ['rev-parse', '--verify', `${spec}^{commit}`], ROOT).trim();
  const dir = join(ROOT, 'node_modules', '.cache', 'tickflow', 'compare', sha);
  if (!existsSync(dir)) {
    mkdirSync(join(dir, '..'), { recursive: true });
    run('git', ['worktree', 'add', '--detach', dir, sha], ROOT);
    // The same lockfile: the installed packages serve; another one gets its own install.
    const sameLock = readFileSync(join(dir, 'package-lock.json'), 'utf8') === readFileSync(join(ROOT, 'package-lock.json'), 'utf8');
    if (sameLock) symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    else run('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], dir);
  }
  process.stderr.write(`bench:compare: building ${spec} (${sha.slice(0, 10)}) in ${dir}\n`);
  run(process.execPath, ['scripts/build.mjs'], dir);
  return dir;
}

const camelCase = (name: string): string => name.replace(/-(\w)/g, (_match, letter: string) => letter.toUpperCase());

function runBenchmark(dir: string, benchmark: string): Figure[] {
  const file = join(dir, 'dist', 'bench', `${benchmark}.js`);
  if (!existsSync(file)) fail(`${dir} has no benchmark ${benchmark} (${file})`);
  const script = `const m = await import(${JSON.stringify(file)}); console.log((await m.${camelCase(benchmark)}()).join('\\n'));`;
  return figuresOf(run(process.execPath, ['--input-type=module', '-e', script], dir));
}

const args = process.argv.slice(2);
const roundsAt = args.indexOf('--rounds');
const rounds = roundsAt === -1 ? 5 : Number(args[roundsAt + 1]);
const positional = roundsAt === -1 ? args : args.filter((_arg, i) => i !== roundsAt && i !== roundsAt + 1);
const [specA, specB, ...benchmarks] = positional;
if (specA === undefined || specB === undefined || benchmarks.length === 0 || !(Number.isInteger(rounds) && rounds >= 1 && rounds <= 50)) {
  fail('usage: npm run bench:compare -- A B BENCHMARK... [--rounds N (1-50, default 5)]; A, B: git revisions or built checkouts');
}
const dirA = builtCheckout(specA);
const dirB = builtCheckout(specB);
for (const benchmark of benchmarks) {
  const roundsA: Figure[][] = [];
  const roundsB: Figure[][] = [];
  for (let round = 1; round <= rounds; round++) {
    process.stderr.write(`bench:compare: ${benchmark} round ${round}/${rounds}\n`);
    roundsA.push(runBenchmark(dirA, benchmark));
    roundsB.push(runBenchmark(dirB, benchmark));
  }
  process.stdout.write(`== ${benchmark}: A ${specA}, B ${specB}, medians of ${rounds} interleaved rounds\n`);
  for (const { key, unit, a, b, ratio } of compareFigures(roundsA, roundsB)) {
    const value = (n: number): string => (Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : n.toPrecision(3)).padStart(14);
    process.stdout.write(`  ${key.padEnd(56)} ${value(a)} ${value(b)} ${unit.padEnd(10)} B/A ${a === 0 ? 'n/a' : ratio.toFixed(3)}\n`);
  }
}
