import type { CtpDepthMarketData } from '../../native/ctp-depth-market-data.js';

/** What CTP sends for a price the exchange has not set. */
export const DBL_MAX = Number.MAX_VALUE;

/**
 * A CTP depth-market-data record as a front sends it: rb2501 on SHFE in the
 * Thursday 2025-01-02 morning session at 10:00:00.500, close and settlement
 * not yet set (DBL_MAX), with the given fields changed.
 */
export function makeDepthMarketData(changes: Partial<CtpDepthMarketData> = {}): CtpDepthMarketData {
  return {
    TradingDay: '20250102',
    ExchangeID: 'SHFE',
    LastPrice: 3500,
    PreSettlementPrice: 3490,
    PreClosePrice: 3488,
    PreOpenInterest: 1_000_000,
    OpenPrice: 3495,
    HighestPrice: 3510,
    LowestPrice: 3480,
    Volume: 12_000,
    Turnover: 419_820_000,
    OpenInterest: 1_002_000,
    ClosePrice: DBL_MAX,
    SettlementPrice: DBL_MAX,
    UpperLimitPrice: 3734,
    LowerLimitPrice: 3246,
    PreDelta: 0,
    CurrDelta: DBL_MAX,
    UpdateTime: '10:00:00',
    UpdateMillisec: 500,
    BidPrice1: 3499,
    BidVolume1: 10,
    AskPrice1: 3500,
    AskVolume1: 12,
    BidPrice2: 3498,
    BidVolume2: 20,
    AskPrice2: 3501,
    AskVolume2: 22,
    BidPrice3: 3497,
    BidVolume3: 30,
    AskPrice3: 3502,
    AskVolume3: 32,
    BidPrice4: 3496,
    BidVolume4: 40,
    AskPrice4: 3503,
    AskVolume4: 42,
    BidPrice5: 3495,
    BidVolume5: 50,
    AskPrice5: 3504,
    AskVolume5: 52,
    AveragePrice: 34_985,
    ActionDay: '20250102',
    InstrumentID: 'rb2501',
    ExchangeInstID: 'rb2501',
    BandingUpperPrice: 0,
    BandingLowerPrice: 0,
    ...changes,
  };
}
