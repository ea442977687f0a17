import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { runBounded } from './run-bounded.js';
import type { CliResult } from './run-cli.js';
import { ROOT } from './run-cli.js';

/**
 * Type-checks and compiles every .ts file of `dir` (written inside the
 * package, so that `'tickflow'` resolves to the built package by its own
 * name) in one tsc run with the repository's compiler options, plus
 * `compilerOptions`; the JavaScript goes to `dir`/out. tsc emits even when
 * it reports errors, so one broken file does not stop the others running.
 */
export function compileTypeScript(
  dir: string,
  options: { compilerOptions?: Record<string, unknown>; timeoutMs: number },
): Promise<CliResult & { timedOut: boolean }> {
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: relative(dir, join(ROOT, 'tsconfig.json')),
      compilerOptions: {
        rootDir: '.',
        outDir: 'out',
        noEmit: false,
        declaration: false,
        sourceMap: false,
        incremental: false,
        ...options.compilerOptions,
      },
      include: ['*.ts'],
    }),
  );
  return runBounded(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], {
    cwd: dir,
    env: process.env,
    timeoutMs: options.timeoutMs,
  });
}
