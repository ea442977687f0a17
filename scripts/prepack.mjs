// `npm pack` / `npm publish`: builds everything, then puts the native parts
// the demo needs into prebuilds/<platform>-<arch>/, so an install on this
// platform needs no compiler (the addons are N-API: any Node since 16 loads
// them). Other platforms build from source at install (scripts/install-native.mjs).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const built = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);
const target = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
rmSync(join(root, 'prebuilds'), { recursive: true, force: true });
mkdirSync(target, { recursive: true });
for (const file of ['tickflow_ctp.node', 'tickflow_fs.node', 'thostmduserapi_ctp_simulator.so'])
  copyFileSync(join(root, 'native', 'build', 'Release', file), join(target, file));
process.stderr.write(`prepack: native parts for ${process.platform}-${process.arch} in prebuilds/\n`);
