import type { SchedulerLike } from 'rxjs';
import type { CtpDepthMarketData } from '../../../native/ctp-depth-market-data.js';
import type { CtpMdApiOptions } from '../../../native/ctp-md-api.js';
import type { CtpFrontApi } from '../../../sources/ctp/ctp-front-api.js';
import { makeDepthMarketData } from '../../support/make-depth-market-data.js';
import { ScriptedMdApi, type ScriptedTiming } from './scripted-md-api.js';

/** What a `ScriptedMarket` trades and when. */
export interface ScriptedMarketOptions {
  /** Exchange-prefixed (`SHFE.rb2501`); the records carry the bare id and the exchange. */
  readonly instruments: readonly string[];
  /** Exchange local time at virtual time 0, in a day session (the records' TradingDay is its date): `2025-01-02T10:00:00`. */
  readonly localStart: string;
  /** Every instrument ticks at `firstTickAt + k × tickEveryMs` (virtual ms) while the market is open. */
  readonly tickEveryMs: number;
  readonly firstTickAt: number;
  readonly timing: ScriptedTiming;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/**
 * One exchange seen through several fronts: at each tick instant every
 * instrument has one new record (the same for every front, as redundant
 * fronts of one market send), and each front's `ScriptedMdApi` delivers
 * those it has subscribed. `open` is the API factory a CtpFrontPool takes;
 * `front(address)` is the API a front opened, for the test to script.
 * `pause`/`resume`: the exchange itself is silent (a market break), so
 * every front is.
 */
export class ScriptedMarket {
  /** In the order the fronts opened them. */
  readonly apis: ScriptedMdApi[] = [];
  private readonly exchangeOf = new Map<string, string>();
  private readonly volume = new Map<string, number>();
  private readonly localStartMs: number;
  private paused = false;
  private ticking = false;

  constructor(
    private readonly scheduler: SchedulerLike,
    private readonly options: ScriptedMarketOptions,
  ) {
    for (const instrument of options.instruments) {
      const dot = instrument.indexOf('.');
      this.exchangeOf.set(instrument.slice(dot + 1), instrument.slice(0, dot));
    }
    // Local wall-clock time kept as if it were UTC, only to format UpdateTime.
    this.localStartMs = Date.parse(`${options.localStart}Z`);
  }

  /** The API factory: one scripted API per front, ticking from the first one opened. */
  readonly open = (apiOptions: CtpMdApiOptions): CtpFrontApi => {
    const api = new ScriptedMdApi(this.scheduler, apiOptions, (id) => this.exchangeOf.has(id), this.options.timing);
    this.apis.push(api);
    if (!this.ticking) {
      this.ticking = true;
      const first = Math.max(0, this.options.firstTickAt - this.scheduler.now());
      this.scheduler.schedule(() => this.tick(), first);
    }
    return api;
  };

  /** The API of the front registered at `address` (the latest, if it was opened again). */
  front(address: string): ScriptedMdApi {
    const api = this.apis.findLast((a) => a.address === address);
    if (api === undefined) throw new Error(`no scripted front at ${address}`);
    return api;
  }

  /** Market time (exchange local `HH:MM:SS.mmm`) at virtual time `at`. */
  localTimeAt(at: number): string {
    const t = new Date(this.localStartMs + at);
    return `${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}.${pad(t.getUTCMilliseconds(), 3)}`;
  }

  /** Epoch microseconds of the records made at virtual time `at` (exchange time is UTC+8). */
  eventTimeAt(at: number): number {
    return (this.localStartMs + at - 8 * 3_600_000) * 1000;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  private tick(): void {
    if (!this.apis.some((api) => api.isOpen)) {
      this.ticking = false;
      return; // every front closed: the run can end
    }
    if (!this.paused) {
      const records = [...this.exchangeOf.keys()].map((id) => this.record(id));
      for (const api of this.apis) api.deliverTicks(records);
    }
    this.scheduler.schedule(() => this.tick(), this.options.tickEveryMs);
  }

  private record(id: string): CtpDepthMarketData {
    const volume = (this.volume.get(id) ?? 0) + 1;
    this.volume.set(id, volume);
    const t = new Date(this.localStartMs + this.scheduler.now());
    const day = `${t.getUTCFullYear()}${pad(t.getUTCMonth() + 1)}${pad(t.getUTCDate())}`;
    return makeDepthMarketData({
      InstrumentID: id,
      ExchangeInstID: id,
      ExchangeID: this.exchangeOf.get(id) as string,
      TradingDay: day,
      ActionDay: day,
      UpdateTime: `${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}`,
      UpdateMillisec: t.getUTCMilliseconds(),
      Volume: volume,
      LastPrice: 3500 + (volume % 10),
    });
  }
}
