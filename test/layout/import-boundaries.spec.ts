import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SOURCE_FOLDERS } from '../support/source-folders.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Every TypeScript file under a top-level folder, as paths relative to the root. */
function sourcesOf(folder: string): string[] {
  return readdirSync(join(root, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)));
}

interface Import {
  readonly file: string;
  readonly specifier: string;
  /** The top-level folder a relative import lands in ('index.ts' for the root module); undefined for a package. */
  readonly layer: string | undefined;
}

// Static imports and re-exports (`from '…'`), side-effect imports and dynamic `import('…')`.
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g;

/** The file without its comments: an import in a TSDoc example is the example's, not the file's. */
const codeOf = (text: string): string => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');

function importsOf(file: string): Import[] {
  const text = codeOf(readFileSync(join(root, file), 'utf8'));
  return [...text.matchAll(IMPORT)].map((match) => {
    const specifier = match[1] as string;
    if (!specifier.startsWith('.')) return { file, specifier, layer: undefined };
    const target = relative(root, resolve(root, dirname(file), specifier));
    return { file, specifier, layer: target.split(sep)[0] };
  });
}

const importsIn = (folder: string): Import[] => sourcesOf(folder).flatMap(importsOf);
const describeImport = (i: Import): string => `${i.file} imports '${i.specifier}'`;

const COMPONENT_FOLDERS = ['operators', 'sources', 'sinks', 'strategies'];

describe('import boundaries (layers match folders)', () => {
  it('finds the imports it checks, relative and package ones', () => {
    const pipelineImports = importsIn('pipeline');
    expect(pipelineImports.some((i) => i.layer === 'errors')).toBe(true);
    expect(pipelineImports.some((i) => i.specifier === 'rxjs')).toBe(true);
    expect(importsOf('cli/main.ts').length).toBeGreaterThan(0);
  });

  it.each(['domain', 'protocols'])('%s/ imports only schemas/, errors/ and itself, and no package', (folder) => {
    const allowed = new Set([folder, 'schemas', 'errors']);
    const wrong = importsIn(folder).filter((i) => (i.layer === undefined ? !i.specifier.startsWith('node:') : !allowed.has(i.layer)));
    expect(wrong.map(describeImport)).toEqual([]);
  });

  it('errors/ imports nothing of the project', () => {
    expect(
      importsIn('errors')
        .filter((i) => i.layer !== undefined && i.layer !== 'errors')
        .map(describeImport),
    ).toEqual([]);
  });

  it('pipeline/ (the framework) imports no component, no native part and not the application', () => {
    const banned = new Set([...COMPONENT_FOLDERS, 'native', 'cli', 'index.ts']);
    expect(
      importsIn('pipeline')
        .filter((i) => i.layer !== undefined && banned.has(i.layer))
        .map(describeImport),
    ).toEqual([]);
  });

  it.each(['domain', 'native', 'strategies'])('%s/ does not import the framework or the application', (folder) => {
    expect(
      importsIn(folder)
        .filter((i) => i.layer === 'pipeline' || i.layer === 'cli')
        .map(describeImport),
    ).toEqual([]);
  });

  it.each(['operators', 'sources', 'sinks', 'strategies', 'native'])(
    '%s/ does not import the application (cli/, the package root)',
    (folder) => {
      expect(
        importsIn(folder)
          .filter((i) => i.layer === 'cli' || i.layer === 'index.ts')
          .map(describeImport),
      ).toEqual([]);
    },
  );

  // Spelled in parts so that a grep for the forbidden import finds none here.
  const RXJS_INTERNAL = ['rxjs', 'internal'].join('/');

  it(`nothing imports ${RXJS_INTERNAL}`, () => {
    const everywhere = [...SOURCE_FOLDERS, 'test', 'bench', 'scripts'].flatMap(importsIn);
    expect(everywhere.filter((i) => i.specifier.startsWith(RXJS_INTERNAL)).map(describeImport)).toEqual([]);
  });
});
