// Regenerates schemas/generated.ts from schemas/*.avsc: `npm run schemas`.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateSchemaModule } from '../pipeline/schemas/generate-schema-module.js';

const dir = fileURLToPath(new URL('.', import.meta.url));
writeFileSync(new URL('generated.ts', import.meta.url), generateSchemaModule(dir));
