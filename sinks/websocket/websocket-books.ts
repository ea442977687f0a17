import type { FeedStatus, OrderEvent, QuoteDiff } from '../../schemas/generated.js';
import { QuoteBook } from '../../protocols/diff/quote-book.js';
import { FeedBoard } from './feed-board.js';
import { TradeBook } from './trade-book.js';
import type { WebsocketServer } from './websocket-server.js';

/** A record of one of the WebSocket sink's ports, with its port. */
export type WebsocketInput = ['quotes', QuoteDiff] | ['feeds', FeedStatus] | ['orders', OrderEvent];

/**
 * What the WebSocket sink's clients are served from: the latest quotes, the
 * feeds' status and the trade state, each record applied once and its
 * change passed to the server's clients. The sink holds one; with fan-out
 * processes, each of them holds its own, fed the same records.
 */
export class WebsocketBooks {
  readonly quotes = new QuoteBook();
  readonly feeds = new FeedBoard();
  readonly trade = new TradeBook();

  /**
   * Applies a record and passes what it changed to `server`'s clients (none
   * while the server is starting). Returns why an order event was ignored
   * (not a valid transition of its order), else undefined.
   */
  apply(server: WebsocketServer | undefined, ...[port, record]: WebsocketInput): string | undefined {
    switch (port) {
      case 'quotes': {
        const change = this.quotes.apply(record);
        if (change !== undefined) server?.quoteChanged(change);
        return undefined;
      }
      case 'feeds': {
        const change = this.feeds.apply(record);
        if (change !== undefined) server?.feedChanged(change);
        return undefined;
      }
      case 'orders': {
        const update = this.trade.apply(record);
        if (update.ignored !== undefined) return update.ignored;
        server?.tradeChanged(update.changes);
        server?.orderEvent(record);
        return undefined;
      }
    }
  }
}
