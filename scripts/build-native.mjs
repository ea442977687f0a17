// Builds native/ with node-gyp against the Node headers installed beside
// this node binary, so no header tarball is downloaded:
//
//   node scripts/build-native.mjs                  the addons and the CTP simulator the demo uses
//   node scripts/build-native.mjs --test-libraries also the library variants only the tests load
//
// Nothing runs when every output is newer than every source (a warm start
// costs a few file stats). `configure` runs only when the build files are
// missing, older than binding.gyp or made for another list of sources; make
// rebuilds only what changed. The compiler's output is shown only when the
// build fails.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const releaseDir = join(nativeDir, 'build', 'Release');
const nodeDir = resolve(dirname(process.execPath), '..');
const headers = join(nodeDir, 'include', 'node', 'node_api.h');
const SOURCE_DIRS = ['addon', 'fs', 'ctp-simulator', 'include'];

/** What `npm start` needs, and what only the tests load (the CTP simulator as other SDK versions build it). */
const APP_TARGETS = {
  tickflow_ctp: 'tickflow_ctp.node',
  tickflow_fs: 'tickflow_fs.node',
  thostmduserapi_ctp_simulator: 'thostmduserapi_ctp_simulator.so',
};
const TEST_TARGETS = {
  thostmduserapi_ctp_simulator_6_7_7: 'thostmduserapi_ctp_simulator_6_7_7.so',
  thostmduserapi_ctp_simulator_unknown_version: 'thostmduserapi_ctp_simulator_unknown_version.so',
};
const withTests = process.argv.includes('--test-libraries');
const targets = { ...APP_TARGETS, ...(withTests ? TEST_TARGETS : {}) };
/** Written after a build of these targets succeeded: newer than every source means nothing to do. */
const builtStamp = join(nativeDir, 'build', withTests ? 'built-with-tests.stamp' : 'built.stamp');

const sourceFiles = [
  join(nativeDir, 'binding.gyp'),
  ...SOURCE_DIRS.flatMap((dir) => readdirSync(join(nativeDir, dir)).map((f) => join(nativeDir, dir, f))),
];
const newestSource = Math.max(...sourceFiles.map((f) => statSync(f).mtimeMs));
const outputs = Object.values(targets).map((f) => join(releaseDir, f));
if (existsSync(builtStamp) && statSync(builtStamp).mtimeMs >= newestSource && outputs.every((f) => existsSync(f))) process.exit(0);

if (!existsSync(headers)) {
  process.stderr.write(
    `build-native: the Node headers are not at ${headers}.\n` +
      `The native addon is built against the headers installed with Node (nothing is downloaded).\n` +
      `Install them (Debian: apt-get install libnode-dev, or a Node distribution that ships include/node) and run again.\n`,
  );
  process.exit(1);
}

/** node-gyp: npm's own when npm runs this (an install script of the package), else the project's. */
const nodeGyp = process.env.npm_config_node_gyp ?? createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');

/** Runs a build step quietly; on failure prints what it said and exits with its status. */
function step(what, command, args, cwd = root) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status === 0) return;
  process.stderr.write(
    `build-native: ${what} failed (exit ${result.status ?? result.signal}):\n${result.stdout ?? ''}${result.stderr ?? ''}${result.error?.message ?? ''}\n`,
  );
  process.exit(result.status ?? 1);
}

// binding.gyp lists the sources when it is configured: a file added or removed since needs a new configure.
const ccSources = ['addon', 'fs', 'ctp-simulator']
  .flatMap((dir) =>
    readdirSync(join(nativeDir, dir))
      .filter((f) => f.endsWith('.cc'))
      .map((f) => `${dir}/${f}`),
  )
  .sort()
  .join('\n');
const makefile = join(nativeDir, 'build', 'Makefile');
const sourcesStamp = join(nativeDir, 'build', 'configured-sources.txt');
const stale =
  !existsSync(makefile) ||
  statSync(makefile).mtimeMs < statSync(join(nativeDir, 'binding.gyp')).mtimeMs ||
  !existsSync(sourcesStamp) ||
  readFileSync(sourcesStamp, 'utf8') !== ccSources;
const started = performance.now();
if (stale) {
  step('node-gyp configure', process.execPath, [nodeGyp, 'configure', `--nodedir=${nodeDir}`, `--directory=${nativeDir}`]);
  writeFileSync(sourcesStamp, ccSources);
}
// make with the targets named builds those only; gyp's Makefile needs nothing else from node-gyp.
step('make', 'make', ['-C', join(nativeDir, 'build'), 'BUILDTYPE=Release', '-j2', ...Object.keys(targets)]);
writeFileSync(builtStamp, `${Object.keys(targets).join('\n')}\n`);
process.stderr.write(`build-native: built ${Object.keys(targets).join(', ')} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
