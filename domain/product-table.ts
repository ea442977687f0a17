/**
 * Reference data of one futures product (the letters of an instrument code,
 * `rb` of `SHFE.rb2501`).
 *
 * The figures are representative of the product, good enough for the
 * simulated market and for session lookups; they are not the exchange's
 * current margin and limit notices.
 */
export interface ProductSpec {
  readonly exchange: 'SHFE' | 'INE' | 'DCE' | 'CZCE' | 'GFEX' | 'CFFEX';
  /** What the contract trades, in plain words. */
  readonly name: string;
  /** Minimum price movement, in price units. */
  readonly tickSize: number;
  /** Contract multiplier: quantity of the underlying per lot. */
  readonly multiplier: number;
  /** Price the simulated market starts from; a multiple of `tickSize`. */
  readonly basePrice: number;
  /** Daily price limit, percent of the previous settlement, both ways. */
  readonly limitPercent: number;
  /** Local (UTC+8) end of the night session that opens at 21:00; `null` for products without one. */
  readonly nightSessionEnd: '23:00' | '01:00' | '02:30' | null;
}

/** The products tickflow knows, by product code. Codes are case-sensitive: CZCE uses capitals. */
export const productTable: Readonly<Record<string, ProductSpec>> = {
  // SHFE, night until 23:00
  rb: { exchange: 'SHFE', name: 'rebar', tickSize: 1, multiplier: 10, basePrice: 3300, limitPercent: 7, nightSessionEnd: '23:00' },
  hc: {
    exchange: 'SHFE',
    name: 'hot-rolled coil',
    tickSize: 1,
    multiplier: 10,
    basePrice: 3450,
    limitPercent: 7,
    nightSessionEnd: '23:00',
  },
  ru: {
    exchange: 'SHFE',
    name: 'natural rubber',
    tickSize: 5,
    multiplier: 10,
    basePrice: 17500,
    limitPercent: 8,
    nightSessionEnd: '23:00',
  },
  bu: { exchange: 'SHFE', name: 'bitumen', tickSize: 1, multiplier: 10, basePrice: 3600, limitPercent: 8, nightSessionEnd: '23:00' },
  fu: { exchange: 'SHFE', name: 'fuel oil', tickSize: 1, multiplier: 10, basePrice: 3200, limitPercent: 8, nightSessionEnd: '23:00' },
  sp: {
    exchange: 'SHFE',
    name: 'bleached softwood kraft pulp',
    tickSize: 2,
    multiplier: 10,
    basePrice: 6000,
    limitPercent: 7,
    nightSessionEnd: '23:00',
  },
  // SHFE base metals, night until 01:00
  cu: { exchange: 'SHFE', name: 'copper', tickSize: 10, multiplier: 5, basePrice: 74000, limitPercent: 7, nightSessionEnd: '01:00' },
  al: { exchange: 'SHFE', name: 'aluminium', tickSize: 5, multiplier: 5, basePrice: 20000, limitPercent: 7, nightSessionEnd: '01:00' },
  zn: { exchange: 'SHFE', name: 'zinc', tickSize: 5, multiplier: 5, basePrice: 25000, limitPercent: 7, nightSessionEnd: '01:00' },
  pb: { exchange: 'SHFE', name: 'lead', tickSize: 5, multiplier: 5, basePrice: 17000, limitPercent: 7, nightSessionEnd: '01:00' },
  ni: { exchange: 'SHFE', name: 'nickel', tickSize: 10, multiplier: 1, basePrice: 125000, limitPercent: 10, nightSessionEnd: '01:00' },
  sn: { exchange: 'SHFE', name: 'tin', tickSize: 10, multiplier: 1, basePrice: 250000, limitPercent: 10, nightSessionEnd: '01:00' },
  ss: {
    exchange: 'SHFE',
    name: 'stainless steel',
    tickSize: 5,
    multiplier: 5,
    basePrice: 13500,
    limitPercent: 7,
    nightSessionEnd: '01:00',
  },
  // SHFE precious metals and INE crude oil, night until 02:30
  au: { exchange: 'SHFE', name: 'gold', tickSize: 0.02, multiplier: 1000, basePrice: 620, limitPercent: 8, nightSessionEnd: '02:30' },
  ag: { exchange: 'SHFE', name: 'silver', tickSize: 1, multiplier: 15, basePrice: 7600, limitPercent: 9, nightSessionEnd: '02:30' },
  sc: { exchange: 'INE', name: 'crude oil', tickSize: 0.1, multiplier: 1000, basePrice: 550, limitPercent: 8, nightSessionEnd: '02:30' },
  // SHFE without night session
  wr: { exchange: 'SHFE', name: 'wire rod', tickSize: 1, multiplier: 10, basePrice: 3600, limitPercent: 7, nightSessionEnd: null },
  // DCE, night until 23:00
  m: { exchange: 'DCE', name: 'soybean meal', tickSize: 1, multiplier: 10, basePrice: 2800, limitPercent: 7, nightSessionEnd: '23:00' },
  y: { exchange: 'DCE', name: 'soybean oil', tickSize: 2, multiplier: 10, basePrice: 7800, limitPercent: 7, nightSessionEnd: '23:00' },
  p: { exchange: 'DCE', name: 'palm olein', tickSize: 2, multiplier: 10, basePrice: 8500, limitPercent: 7, nightSessionEnd: '23:00' },
  i: { exchange: 'DCE', name: 'iron ore', tickSize: 0.5, multiplier: 100, basePrice: 780, limitPercent: 11, nightSessionEnd: '23:00' },
  j: {
    exchange: 'DCE',
    name: 'metallurgical coke',
    tickSize: 0.5,
    multiplier: 100,
    basePrice: 2000,
    limitPercent: 11,
    nightSessionEnd: '23:00',
  },
  jm: { exchange: 'DCE', name: 'coking coal', tickSize: 0.5, multiplier: 60, basePrice: 1300, limitPercent: 11, nightSessionEnd: '23:00' },
  c: { exchange: 'DCE', name: 'yellow corn', tickSize: 1, multiplier: 10, basePrice: 2200, limitPercent: 6, nightSessionEnd: '23:00' },
  a: { exchange: 'DCE', name: 'no. 1 soybean', tickSize: 1, multiplier: 10, basePrice: 4100, limitPercent: 7, nightSessionEnd: '23:00' },
  // DCE without night session
  jd: { exchange: 'DCE', name: 'fresh hen egg', tickSize: 1, multiplier: 10, basePrice: 3500, limitPercent: 7, nightSessionEnd: null },
  // CZCE, night until 23:00
  SR: { exchange: 'CZCE', name: 'white sugar', tickSize: 1, multiplier: 10, basePrice: 5900, limitPercent: 6, nightSessionEnd: '23:00' },
  CF: { exchange: 'CZCE', name: 'cotton', tickSize: 5, multiplier: 5, basePrice: 13800, limitPercent: 6, nightSessionEnd: '23:00' },
  TA: {
    exchange: 'CZCE',
    name: 'purified terephthalic acid',
    tickSize: 2,
    multiplier: 5,
    basePrice: 4800,
    limitPercent: 6,
    nightSessionEnd: '23:00',
  },
  MA: { exchange: 'CZCE', name: 'methanol', tickSize: 1, multiplier: 10, basePrice: 2600, limitPercent: 7, nightSessionEnd: '23:00' },
  RM: { exchange: 'CZCE', name: 'rapeseed meal', tickSize: 1, multiplier: 10, basePrice: 2500, limitPercent: 7, nightSessionEnd: '23:00' },
  FG: { exchange: 'CZCE', name: 'flat glass', tickSize: 1, multiplier: 20, basePrice: 1300, limitPercent: 7, nightSessionEnd: '23:00' },
  // CZCE without night session
  AP: { exchange: 'CZCE', name: 'fresh apple', tickSize: 1, multiplier: 10, basePrice: 7500, limitPercent: 7, nightSessionEnd: null },
  // GFEX, no night session
  si: {
    exchange: 'GFEX',
    name: 'industrial silicon',
    tickSize: 5,
    multiplier: 5,
    basePrice: 11500,
    limitPercent: 7,
    nightSessionEnd: null,
  },
  lc: {
    exchange: 'GFEX',
    name: 'lithium carbonate',
    tickSize: 20,
    multiplier: 1,
    basePrice: 80000,
    limitPercent: 9,
    nightSessionEnd: null,
  },
  // CFFEX stock index futures, no night session
  IF: {
    exchange: 'CFFEX',
    name: 'CSI 300 index',
    tickSize: 0.2,
    multiplier: 300,
    basePrice: 3900,
    limitPercent: 10,
    nightSessionEnd: null,
  },
  IH: { exchange: 'CFFEX', name: 'SSE 50 index', tickSize: 0.2, multiplier: 300, basePrice: 2700, limitPercent: 10, nightSessionEnd: null },
  IC: {
    exchange: 'CFFEX',
    name: 'CSI 500 index',
    tickSize: 0.2,
    multiplier: 200,
    basePrice: 5800,
    limitPercent: 10,
    nightSessionEnd: null,
  },
  IM: {
    exchange: 'CFFEX',
    name: 'CSI 1000 index',
    tickSize: 0.2,
    multiplier: 200,
    basePrice: 6200,
    limitPercent: 10,
    nightSessionEnd: null,
  },
};
