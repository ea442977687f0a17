import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { TERMINAL_ORDER_STATES } from '../../domain/order-state-machine.js';
import { TickflowError } from '../../errors/errors.js';

/** One response of the live page: the body and the headers to send with it. */
export interface QuotePageAsset {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** Where the page's files are: beside this module, in the sources and in dist/ alike (scripts/build.mjs copies them). */
const PAGE_DIR = new URL('./live-page/', import.meta.url);

/** The page's URL paths and the files behind them. Only these are served: a request's path never reaches the file system. */
const FILES: ReadonlyArray<readonly [path: string, file: string, contentType: string]> = [
  ['/', 'index.html', 'text/html; charset=utf-8'],
  ['/live-page.js', 'live-page.js', 'text/javascript; charset=utf-8'],
  ['/live-page.css', 'live-page.css', 'text/css; charset=utf-8'],
];

/** The module the page imports its shared constants from, made from domain/ so that there is one definition. */
const CONSTANTS_PATH = '/constants.js';

const COMMON_HEADERS = {
  // Page, script and constants change together with the server, so none is kept.
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

/** The page loads its own script and style and opens its own WebSocket; nothing else, and nothing inline. */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'";

function constantsModule(): string {
  const states = JSON.stringify([...TERMINAL_ORDER_STATES].sort());
  return `// Made by the WebSocket sink from domain/order-state-machine.ts.\nexport const TERMINAL_ORDER_STATES = Object.freeze(${states});\n`;
}

/**
 * The live quote and trading page the WebSocket sink serves at `/`: `index.html` with its script and style from
 * `sinks/websocket/live-page/`, and `/constants.js`, the domain's terminal order states as a module the script imports.
 *
 * The files are read once, when the server starts, so a missing file fails the start rather than a request.
 */
export class QuotePage {
  private constructor(private readonly assets: ReadonlyMap<string, QuotePageAsset>) {}

  /** Reads the page's files; rejects naming the folder when one is missing (a dist/ built without them). */
  static async load(): Promise<QuotePage> {
    const assets = new Map<string, QuotePageAsset>();
    for (const [urlPath, file, contentType] of FILES) {
      let body: Buffer;
      try {
        body = await readFile(new URL(file, PAGE_DIR));
      } catch (error) {
        const path = fileURLToPath(new URL(file, PAGE_DIR));
        throw new TickflowError(`websocket sink: the live page's ${path} cannot be read (npm run build copies it into dist/)`, {
          cause: error,
          context: { path },
        });
      }
      const headers = {
        'content-type': contentType,
        ...COMMON_HEADERS,
        ...(urlPath === '/' ? { 'content-security-policy': CONTENT_SECURITY_POLICY } : {}),
      };
      assets.set(urlPath, { headers, body });
    }
    assets.set(CONSTANTS_PATH, {
      headers: { 'content-type': 'text/javascript; charset=utf-8', ...COMMON_HEADERS },
      body: Buffer.from(constantsModule()),
    });
    return new QuotePage(assets);
  }

  /** The response for a request's path (without its query), or undefined when the path is not the page's. */
  asset(path: string): QuotePageAsset | undefined {
    return this.assets.get(path);
  }
}
