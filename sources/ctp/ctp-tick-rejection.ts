/**
 * Why the ctp source dropped a depth-market-data record instead of emitting a Tick.
 *
 * In plain words: the record arrived outside trading hours (fronts send junk
 * before the open and after the close), names an instrument tickflow has no
 * reference data for, or carries a field that cannot be read. `detail` names
 * the instrument, the field and the value, so one log line is enough to act.
 *
 * A rejection has a `reason` and a Tick has none, so `'reason' in result`
 * tells the two apart.
 *
 * @example
 * ```ts
 * import { CtpTickConverter } from './ctp-tick-converter.js';
 * const converter = new CtpTickConverter({ feedId: 'ctp-a' });
 * // A depth record from a front (here the CTP simulator's), with the fields below changed.
 * const running = setInterval(() => {}, 60_000); // the session's threads do not keep Node running
 * const api = CtpMdApi.open({
 *   libraryPath: ctpSimulator.libraryPath(),
 *   flowPath: 'ctp-flow/md1',
 *   onEvents(events) {
 *     for (const event of events) {
 *       if (event.kind === 'front-connected') api.login({ brokerId: '', userId: '', password: '' });
 *       else if (event.kind === 'login' && !event.error) api.subscribe(['cu2501']);
 *       else if (event.kind === 'depth') {
 *         api.close();
 *         clearInterval(running);
 *         const result = converter.convert({ ...event.data, UpdateMillisec: 1200 }, ctx.scheduler.now() * 1000);
 *         if ('reason' in result) console.log(result.reason, result.detail);
 *         return;
 *       }
 *     }
 *   },
 * });
 * api.registerFront('tcp://127.0.0.1:41001?rate=20&instruments=SHFE.cu2501');
 * api.init();
 * // Logs: malformed SHFE.cu2501: UpdateMillisec 1200 is not 0–999
 * ```
 */
export interface CtpTickRejection {
  /**
   * - `outside-session`: the event time is outside the instrument's trading sessions.
   * - `unknown-instrument`: the product is not in the product table, so the
   *   exchange (when ExchangeID is empty) or the sessions are unknown.
   * - `malformed`: a field cannot be read (empty InstrumentID, a bad
   *   UpdateTime or UpdateMillisec, no date the tick can fall on).
   * - `duplicate`: not newer than the instrument's latest accepted tick (an
   *   older event time, or the same one with the same Volume): what a front
   *   repeats when it takes an instrument over from another.
   */
  readonly reason: 'outside-session' | 'unknown-instrument' | 'malformed' | 'duplicate';
  /** Instrument, field and value, e.g. `SHFE.rb2501: UpdateMillisec 1200 is not 0–999`. */
  readonly detail: string;
}
