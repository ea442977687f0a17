/**
 * Every TSDoc `@example` of the sources (cli/, domain/, errors/, native/,
 * operators/, pipeline/, protocols/, sinks/, sources/, strategies/) is run,
 * so that the docs cannot drift from the code.
 *
 * An example is the first ```ts fence after an `@example` tag (up to the
 * next block tag); an `@example` without one fails. Each is written under
 * test/docs/.tmp/ (inside the package, so that 'tickflow' is the built
 * package by its own name), all are type-checked and compiled in one tsc
 * run against dist/, and each runs in its own node process, from a fresh
 * empty working directory, for at most 10 s.
 *
 * The prelude: an example is code of its own module, written for a reader
 * of that module. Without importing them it may use
 * - every export of its own module (`TradingSessions` in
 *   domain/trading-sessions.ts) and every export of the package root
 *   (`simSource`, `Tick`, …), the module's own winning on a clash;
 * - `ctx`, a standalone component context (`standaloneContext`: silent
 *   logger, its own metrics) on rxjs's asyncScheduler, `ctx.scheduler`.
 * Anything else it imports: rxjs and node as anywhere, the repository's
 * other modules by their path relative to the example's own file
 * (`'../domain/trading-sessions.js'`), which the test points at dist/.
 *
 * An example passes when it compiles without a diagnostic, ends by itself
 * with exit code 0, and prints its `// Logs:` lines: each `// Logs:` line is
 * one line of stdout, in order (other lines may come between); its text is
 * compared up to a remark set off by two or more spaces, and a text ending
 * in `…` only has to begin the line. An example with no `// Logs:` line
 * must still compile and run.
 *
 * An example that cannot run here says so on the line before its fence,
 * `<!-- tsdoc-test: exempt — REASON -->`: it is still type-checked, and
 * EXEMPT below lists it, so an exemption cannot come or go unnoticed.
 * KNOWN_FAILURES lists the examples of files others are changing now: each
 * runs as `it.fails`, so one that starts passing must leave the list.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileTypeScript } from '../support/compile-typescript.js';
import { runBounded } from '../support/run-bounded.js';
import { CLI, ROOT, type CliResult } from '../support/run-cli.js';
import { firstUnprintedLog, tsdocExamples, type TsdocExample } from '../support/tsdoc-examples.js';

const RUN_TIMEOUT_MS = 10_000;

/** Examples marked exempt, by file and symbol, with the reason of their marker. */
const EXEMPT: Record<string, string> = {
  'sinks/redis-sink.ts redisSink': 'needs a Redis server at redis://127.0.0.1:6379',
};

/**
 * Examples of files others are changing now (operators/, sinks/, and pipeline files in flight) that fail, by file and
 * symbol, with why; to fix once those land.
 */
const KNOWN_FAILURES: Record<string, string> = {};

const examples = tsdocExamples(ROOT);
const title = (e: TsdocExample) => `${e.file}:${e.line} ${e.symbol}`;
/** How EXEMPT and KNOWN_FAILURES name an example: without its line, which moves as its file is edited. */
const key = (e: TsdocExample) => `${e.file} ${e.symbol}`;
const moduleOf = (e: TsdocExample) => `example-${e.file.replace(/\.ts$/, '').replaceAll('/', '-')}-${e.line}`;
const builtModule = (file: string) => join(ROOT, 'dist', file.replace(/\.ts$/, '.js'));

/** The export names of each built module's declarations, read by the compiler (types included). */
function exportNames(declarationFiles: readonly string[]): Map<string, string[]> {
  const program = ts.createProgram([...declarationFiles], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  return new Map(
    declarationFiles.map((file) => {
      const source = program.getSourceFile(file);
      const symbol = source === undefined ? undefined : checker.getSymbolAtLocation(source);
      return [file, symbol === undefined ? [] : checker.getExportsOfModule(symbol).map((s) => s.getName())];
    }),
  );
}

/** Names the example binds itself (imports, declarations), which the prelude must not bind again. */
function boundBy(code: string): Set<string> {
  const names = new Set<string>();
  for (const m of code.matchAll(/\bimport\s+(?:type\s+)?\{([^}]*)\}/g))
    for (const n of (m[1] ?? '').split(','))
      names.add(
        n
          .trim()
          .split(/\s+as\s+/)
          .pop()
          ?.replace(/^type\s+/, '') ?? '',
      );
  for (const m of code.matchAll(/\bimport\s+(?:\*\s+as\s+)?([\w$]+)\s+from\b/g)) names.add(m[1] ?? '');
  for (const m of code.matchAll(/\b(?:const|let|var|function|class|interface|type|enum)\s+([\w$]+)/g)) names.add(m[1] ?? '');
  for (const m of code.matchAll(/\b(?:const|let|var)\s+\{([^}]*)\}/g))
    for (const n of (m[1] ?? '').split(',')) names.add(n.split(':').pop()?.trim() ?? '');
  return names;
}

/** The example as a module: the prelude's imports of the names it uses, then its code, its relative imports pointed at dist/. */
function exampleModule(e: TsdocExample, own: readonly string[], root: readonly string[]): string {
  const code = (e.code ?? '').replace(
    /(\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)'(\.{1,2}\/[^']+)'/g,
    (_, keyword: string, path: string) => `${keyword}'${join(ROOT, 'dist', dirname(e.file), path)}'`,
  );
  const bound = boundBy(code);
  const used = (name: string) => !bound.has(name) && new RegExp(`(?<![\\w$.])${name.replace(/\$/g, '\\$')}(?![\\w$])`).test(code);
  const fromOwn = own.filter(used);
  const fromRoot = root.filter((n) => used(n) && !fromOwn.includes(n));
  return [
    ...(fromOwn.length > 0 ? [`import { ${fromOwn.join(', ')} } from '${builtModule(e.file)}';`] : []),
    ...(fromRoot.length > 0 ? [`import { ${fromRoot.join(', ')} } from 'tickflow';`] : []),
    ...(used('ctx') ? [`import { ctx } from './prelude.js';`] : []),
    code,
    'export {};',
  ].join('\n');
}

describe('TSDoc examples', () => {
  /** Where the examples are written: inside the package, so that 'tickflow' resolves by its own name. */
  let codeDir = '';
  let compiled: Promise<CliResult & { timedOut: boolean }> | undefined;

  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'npm run build' (npm test does it)`);
    mkdirSync(join(ROOT, 'test/docs/.tmp'), { recursive: true });
    codeDir = mkdtempSync(join(ROOT, 'test/docs/.tmp/run-'));
    const declarations = [...new Set(examples.map((e) => e.file))].map((f) => builtModule(f).replace(/\.js$/, '.d.ts'));
    const rootDeclarations = join(ROOT, 'dist/index.d.ts');
    const exportsOf = exportNames([rootDeclarations, ...declarations]);
    const root = exportsOf.get(rootDeclarations) ?? [];
    writeFileSync(
      join(codeDir, 'prelude.ts'),
      `import { asyncScheduler } from 'rxjs';\nimport { standaloneContext } from '${join(ROOT, 'dist/pipeline/components/standalone-context.js')}';\n` +
        `/** The prelude's component context. */\nexport const ctx = standaloneContext(asyncScheduler, { stage: 'example' });\n`,
    );
    for (const e of examples)
      writeFileSync(
        join(codeDir, `${moduleOf(e)}.ts`),
        exampleModule(e, exportsOf.get(builtModule(e.file).replace(/\.js$/, '.d.ts')) ?? [], root),
      );
    // Imports of type-only names without `type`, and prelude imports an example does not use, are fine in a doc.
    compiled = compileTypeScript(codeDir, { compilerOptions: { verbatimModuleSyntax: false, noUnusedLocals: false }, timeoutMs: 60_000 });
  });

  afterAll(() => {
    if (codeDir !== '') rmSync(codeDir, { recursive: true, force: true });
  });

  it('finds the examples, and every exemption and known failure names one of them', () => {
    expect(examples.length).toBeGreaterThan(50);
    expect(Object.fromEntries(examples.filter((e) => e.exempt !== undefined).map((e) => [key(e), e.exempt]))).toEqual(EXEMPT);
    const keys = examples.map(key);
    expect(Object.keys(KNOWN_FAILURES).filter((k) => !keys.includes(k))).toEqual([]);
  });

  for (const e of examples) {
    const known = KNOWN_FAILURES[key(e)];
    const test = known === undefined ? it.concurrent : it.fails.concurrent;
    test(`${title(e)}${e.exempt === undefined ? '' : ` [exempt: ${e.exempt}]`}${known === undefined ? '' : ` [known failure: ${known}]`}`, async () => {
      expect(e.code, 'the @example has no ```ts fence').toBeDefined();
      const tsc = await (compiled as Promise<CliResult>);
      const diagnostics = tsc.stdout.split('\n').filter((l) => l.startsWith(`${moduleOf(e)}.ts(`));
      expect(diagnostics, 'tsc diagnostics').toEqual([]);
      if (e.exempt !== undefined) return;
      const cwd = mkdtempSync(join(tmpdir(), 'tickflow-tsdoc-'));
      try {
        const result = await runBounded(process.execPath, [join(codeDir, 'out', `${moduleOf(e)}.js`)], {
          cwd,
          env: { ...process.env, NO_COLOR: '1' },
          timeoutMs: RUN_TIMEOUT_MS,
        });
        const output = `stdout:\n${result.stdout.slice(-2000)}\nstderr:\n${result.stderr.slice(-2000)}`;
        expect(result.timedOut, `killed after ${RUN_TIMEOUT_MS / 1000} s: the example does not end by itself\n${output}`).toBe(false);
        expect(result.code, output).toBe(0);
        expect(firstUnprintedLog(result.stdout, e.logs), `a // Logs: line it did not print\n${output}`).toBeUndefined();
      } finally {
        rmSync(cwd, { recursive: true, force: true });
      }
    });
  }
});
