// The package's install script. Inside the repository it does nothing
// (`npm run build` builds native/). Installed as a dependency it does
// nothing either when the package ships the native parts for this platform
// (prebuilds/<platform>-<arch>/, see scripts/prepack.mjs); otherwise it
// builds them from source with npm's own node-gyp (a C++ compiler and make
// are needed), quietly unless the build fails.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const inRepository = existsSync(join(root, '.git')) || existsSync(join(root, 'tsconfig.json'));
const shipped = join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'tickflow_ctp.node');
if (inRepository || existsSync(shipped)) process.exit(0);
process.stderr.write(`tickflow: no prebuilt native parts for ${process.platform}-${process.arch}; building them from source\n`);
const result = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs')], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
