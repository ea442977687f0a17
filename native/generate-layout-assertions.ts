// Regenerates native/include/ctp-layout-assertions.h from native/ctp-abi.json: `npm run native:layout`.
import { readFileSync, writeFileSync } from 'node:fs';
import { ctpLayoutHeader, type CtpAbiFacts } from './ctp-layout-header.js';

const facts = JSON.parse(readFileSync(new URL('ctp-abi.json', import.meta.url), 'utf8')) as CtpAbiFacts;
writeFileSync(new URL('include/ctp-layout-assertions.h', import.meta.url), ctpLayoutHeader(facts));
