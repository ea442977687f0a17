import type { PipelineHealth } from '../../pipeline/runtime/run-pipeline.js';
import type { WebsocketServerOptions } from './websocket-server.js';

/**
 * What a fan-out process needs to serve clients as the sink would: the
 * sink's limits (`maxConnections` and `maxConnectionsPerAddress` this
 * process's share of them), its tokens, where it listens, its log level.
 */
export type FanoutServerSettings = Pick<
  WebsocketServerOptions,
  | 'host'
  | 'port'
  | 'maxFrameBytes'
  | 'maxSubscriptions'
  | 'maxMessagesPerSecond'
  | 'maxBytesPerSecond'
  | 'maxReplyBytes'
  | 'maxConnections'
  | 'maxConnectionsPerAddress'
  | 'maxBufferedBytes'
> & {
  /** `http://host:port`, where the sink listens. */
  readonly url: string;
  readonly authTokens: readonly string[];
  readonly logLevel: string;
};

/**
 * The messages between the WebSocket sink and its fan-out processes (Node
 * IPC, JSON serialization; a `connection` message carries the socket).
 * `toFanout`: from the sink; `fromFanout`: from a fan-out process.
 */
export interface FanoutMessages {
  toFanout:
    | { readonly type: 'start'; readonly settings: FanoutServerSettings }
    /** A batch of records, `WebsocketInput[]` as JSON text: serialized once for every process. */
    | { readonly type: 'records'; readonly json: string }
    | { readonly type: 'connection' }
    | { readonly type: 'answer'; readonly id: number; readonly health?: PipelineHealth; readonly metrics?: string; readonly error?: string }
    | { readonly type: 'close'; readonly code: number; readonly reason: string };
  fromFanout:
    | { readonly type: 'ready' }
    /** The last `records` batch is applied: the next may come. */
    | { readonly type: 'applied' }
    | { readonly type: 'log'; readonly line: string }
    | {
        readonly type: 'counts';
        /** Clients connected minus disconnected since the last counts. */
        readonly clients: number;
        readonly messagesSent: number;
        /** Client errors by code since the last counts. */
        readonly clientErrors: Readonly<Record<string, number>>;
      }
    | { readonly type: 'ask'; readonly id: number; readonly what: 'health' | 'metrics' }
    | { readonly type: 'closed' };
}
