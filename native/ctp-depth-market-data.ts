/**
 * One `CThostFtdcDepthMarketDataField` as the addon hands it to JavaScript:
 * the vendor's field names, copied on the vendor's thread. Char arrays are
 * read up to their first NUL (they are ASCII in market data); numbers are as
 * sent, so an unset price is still DBL_MAX here and the reserved fields are
 * left out. Turning this into a `Tick` (DBL_MAX to null, the calendar date of
 * night sessions, the exchange prefix) is the ctp source's job.
 */
export interface CtpDepthMarketData {
  readonly TradingDay: string;
  readonly ExchangeID: string;
  readonly LastPrice: number;
  readonly PreSettlementPrice: number;
  readonly PreClosePrice: number;
  readonly PreOpenInterest: number;
  readonly OpenPrice: number;
  readonly HighestPrice: number;
  readonly LowestPrice: number;
  readonly Volume: number;
  readonly Turnover: number;
  readonly OpenInterest: number;
  readonly ClosePrice: number;
  readonly SettlementPrice: number;
  readonly UpperLimitPrice: number;
  readonly LowerLimitPrice: number;
  readonly PreDelta: number;
  readonly CurrDelta: number;
  readonly UpdateTime: string;
  readonly UpdateMillisec: number;
  readonly BidPrice1: number;
  readonly BidVolume1: number;
  readonly AskPrice1: number;
  readonly AskVolume1: number;
  readonly BidPrice2: number;
  readonly BidVolume2: number;
  readonly AskPrice2: number;
  readonly AskVolume2: number;
  readonly BidPrice3: number;
  readonly BidVolume3: number;
  readonly AskPrice3: number;
  readonly AskVolume3: number;
  readonly BidPrice4: number;
  readonly BidVolume4: number;
  readonly AskPrice4: number;
  readonly AskVolume4: number;
  readonly BidPrice5: number;
  readonly BidVolume5: number;
  readonly AskPrice5: number;
  readonly AskVolume5: number;
  readonly AveragePrice: number;
  readonly ActionDay: string;
  readonly InstrumentID: string;
  readonly ExchangeInstID: string;
  readonly BandingUpperPrice: number;
  readonly BandingLowerPrice: number;
}
