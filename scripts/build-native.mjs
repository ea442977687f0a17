// Builds native/ (the CTP addon and the simulated front libraries) with
// node-gyp against the Node headers installed beside this node binary, so no
// header tarball is downloaded. `configure` runs only when the build files are
// missing, older than binding.gyp or made for another list of source files;
// `make` rebuilds only what changed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const nodeDir = resolve(dirname(process.execPath), '..');
const headers = join(nodeDir, 'include', 'node', 'node_api.h');

if (!existsSync(headers)) {
  process.stderr.write(
    `build-native: the Node headers are not at ${headers}.\n` +
      `The native addon is built against the headers installed with Node (nothing is downloaded).\n` +
      `Install them (Debian: apt-get install libnode-dev, or a Node distribution that ships include/node) and run again.\n`,
  );
  process.exit(1);
}

const nodeGyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
const gyp = (...args) => {
  const result = spawnSync(process.execPath, [nodeGyp, ...args, `--nodedir=${nodeDir}`, `--directory=${nativeDir}`], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

// binding.gyp lists the sources when it is configured: a file added or removed since needs a new configure.
const sources = ['addon', 'fs', 'sim'].flatMap((dir) => readdirSync(join(nativeDir, dir)).filter((f) => f.endsWith('.cc')).map((f) => `${dir}/${f}`)).sort().join('\n');
const makefile = join(nativeDir, 'build', 'Makefile');
const sourcesStamp = join(nativeDir, 'build', 'configured-sources.txt');
const stale =
  !existsSync(makefile) ||
  statSync(makefile).mtimeMs < statSync(join(nativeDir, 'binding.gyp')).mtimeMs ||
  !existsSync(sourcesStamp) ||
  readFileSync(sourcesStamp, 'utf8') !== sources;
if (stale) {
  gyp('configure');
  writeFileSync(sourcesStamp, sources);
}
gyp('build', '--jobs=2');
