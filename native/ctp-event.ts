import type { NativeAddonError } from '../errors/errors.js';
import type { CtpDepthMarketData } from './ctp-depth-market-data.js';

/** The fields of CThostFtdcRspUserLoginField common to every SDK version. */
export interface CtpLogin {
  readonly TradingDay: string;
  readonly LoginTime: string;
  readonly BrokerID: string;
  readonly UserID: string;
  readonly SystemName: string;
  readonly FrontID: number;
  readonly SessionID: number;
}

/** The answer to one instrument of a subscribe or unsubscribe call; a refused id carries its error (ErrorID 16: no such instrument). */
interface InstrumentAnswer<K extends string, E> {
  readonly kind: K;
  readonly instrumentId: string;
  readonly requestId: number;
  readonly isLast: boolean;
  readonly error: E | null;
  readonly recvUs: number;
}

/**
 * The Spi callbacks as events, with a vendor error carried as `E` (the raw
 * GB18030 bytes from the addon, a NativeAddonError once decoded) and the
 * error of OnRspError as `Failure`.
 */
export type CtpEventOf<E, Failure> =
  | { readonly kind: 'front-connected'; readonly recvUs: number }
  /** `reason`: 0x1001 read failed, 0x1002 write failed, 0x2001 heartbeat timeout, 0x2002 heartbeat send failed, 0x2003 bad packet. */
  | { readonly kind: 'front-disconnected'; readonly reason: number; readonly recvUs: number }
  | { readonly kind: 'heartbeat-warning'; readonly timeLapse: number; readonly recvUs: number }
  /** `login`: the fields common to every SDK's login response, or null when the library sent none. */
  | {
      readonly kind: 'login';
      readonly requestId: number;
      readonly isLast: boolean;
      readonly error: E | null;
      readonly login: CtpLogin | null;
      readonly recvUs: number;
    }
  | { readonly kind: 'logout'; readonly requestId: number; readonly isLast: boolean; readonly error: E | null; readonly recvUs: number }
  /** OnRspError: a request failed without a specific response. */
  | { readonly kind: 'error'; readonly requestId: number; readonly isLast: boolean; readonly error: Failure; readonly recvUs: number }
  | InstrumentAnswer<'subscribed', E>
  | InstrumentAnswer<'unsubscribed', E>
  | { readonly kind: 'depth'; readonly data: CtpDepthMarketData; readonly recvUs: number };

/**
 * One CTP market-data callback, as CtpMdApi delivers it: the addon's event
 * with every vendor error turned into a NativeAddonError (`errorId` = the
 * vendor's ErrorID, message `CTP error <id>: <decoded GB18030 text>`).
 * `recvUs` is CLOCK_MONOTONIC in µs when the vendor thread entered the
 * callback, comparable with `Number(process.hrtime.bigint()) / 1000`.
 *
 * After `front-disconnected` the library reconnects by itself and reports
 * `front-connected` again; the client must then log in and subscribe again.
 */
export type CtpEvent = CtpEventOf<NativeAddonError, NativeAddonError>;
