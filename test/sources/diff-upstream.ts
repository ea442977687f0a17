import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { DiffQuoteFields, type QuoteField } from '../../protocols/diff/diff-quote-fields.js';
import type { Tick } from '../../schemas/generated.js';
import { makeTick } from '../support/make-tick.js';
import { waitFor } from '../support/wait-for.js';

/**
 * A DIFF upstream that sends whatever a test tells it to, frame by frame:
 * a real WebSocket server on 127.0.0.1 and a free port, standing in for a
 * broken or hostile gateway. It records what its clients send (subscribe,
 * peek) and never answers them by itself.
 */
export interface DiffUpstream {
  readonly url: string;
  /** Text frames its clients sent, in order. */
  readonly received: string[];
  /** Waits until a client has subscribed (its first `subscribe_quote` arrived). */
  subscribed(): Promise<void>;
  /** Sends one text frame to every connected client. */
  send(text: string): void;
  /** Sends `{"aid":"rtn_data","data":patches}`. */
  rtnData(patches: readonly unknown[]): void;
  /** Closes every client and the server. */
  close(): Promise<void>;
}

export async function startDiffUpstream(): Promise<DiffUpstream> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const clients = new Set<WebSocket>();
  const received: string[] = [];
  server.on('connection', (socket) => {
    clients.add(socket);
    socket.on('message', (raw) => received.push((raw as Buffer).toString()));
    socket.on('close', () => clients.delete(socket));
    socket.on('error', () => undefined);
  });
  const { port } = server.address() as AddressInfo;
  const send = (text: string): void => {
    for (const socket of clients) socket.send(text);
  };
  return {
    url: `ws://127.0.0.1:${port}/`,
    received,
    subscribed: () =>
      waitFor('a client to subscribe', () => (received.some((m) => m.includes('subscribe_quote')) ? true : undefined), 10_000).then(
        () => undefined,
      ),
    send,
    rtnData: (patches) => send(JSON.stringify({ aid: 'rtn_data', data: patches })),
    close: async () => {
      for (const socket of clients) socket.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The DIFF quote of a tick, as a tickflow upstream sends an instrument's first quote: DIFF keys, unset prices absent. */
export function diffQuoteOf(tick: Tick): Record<string, number | string> {
  const quote: Record<string, number | string> = { instrument_id: tick.instrument_id };
  for (const [field, key] of Object.entries(DiffQuoteFields.keyOf) as [QuoteField, string][]) {
    const value = tick[field];
    if (value === null) continue;
    quote[key] = field === 'ts_event' ? DiffQuoteFields.formatDatetime(value as number) : value;
  }
  return quote;
}

/** A good, complete quote of `instrumentId` whose last price is `lastPrice`, `n` half-seconds after the usual test time. */
export function goodQuote(instrumentId: string, lastPrice: number, n = 0): Record<string, number | string> {
  const tick = makeTick({ instrument_id: instrumentId, last_price: lastPrice, ts_event: makeTick().ts_event + n * 500_000 });
  return diffQuoteOf(tick);
}

/** `{"a":{"a":…1…}}` nested `depth` levels, as text (built without recursion). */
export function deepObjectText(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** `[[[…]]]` nested `depth` levels, as text. */
export function deepArrayText(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}
