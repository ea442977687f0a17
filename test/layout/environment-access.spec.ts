import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SOURCE_FOLDERS } from '../support/source-folders.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

// Below the application, the environment comes in as the build's (`ctx.env`, BuildOptions.env), so that a
// test or an embedding program decides what a pipeline sees, and nothing reads it at import time.
const BELOW_THE_APPLICATION = SOURCE_FOLDERS.filter((folder) => folder !== 'cli');

describe('environment access', () => {
  it('no file below cli/ reads process.env', () => {
    const readers = BELOW_THE_APPLICATION.flatMap((folder) =>
      readdirSync(join(root, folder), { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
        .map((entry) => join(entry.parentPath, entry.name))
        .filter((file) => /\bprocess\.env\b/.test(readFileSync(file, 'utf8').replace(/^\s*(\*|\/\/).*$/gm, '')))
        .map((file) => relative(root, file)),
    );
    expect(readers).toEqual([]);
  });
});
