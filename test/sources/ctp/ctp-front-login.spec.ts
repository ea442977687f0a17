import { describe, expect, it } from 'vitest';
import { runScriptedPool } from './run-scripted-pool.js';
import type { ScriptedPoolConfig, ScriptedPoolRun } from './start-scripted-pool.js';

// Logins on scripted fronts, on virtual time: a front connects at 10 ms and answers each request 5 ms later; a refused
// login is tried again after the backoff (500 ms, doubling, at most 30 s, ± 20 % jitter; none with random 0.5).

const statusLog = (run: ScriptedPoolRun): [number, string, string, string][] =>
  run.statuses.map((s) => [s.ts_event / 1000, s.feed_id, s.state, s.detail]);
const REFUSED = 'login failed (CTP error 3: CTP:不合法的登录)';
const ONE = { instruments: ['SHFE.rb2501'], fronts: [{ name: 'a' }] } satisfies ScriptedPoolConfig;

describe('CtpFront logins on scripted fronts (virtual time)', () => {
  it('tries a refused login again after 500 ms, doubling up to 30 s, and reports each refusal in the status', () => {
    const run = runScriptedPool(ONE, 95_000, (r, at) => {
      at(0, () => r.api('a').refuseLogins());
      at(80_000, () => r.api('a').acceptLogins());
    });
    // Each attempt is answered 5 ms after it is sent; the next one follows the answer by the backoff.
    expect(run.api('a').timesOf('login')).toEqual([10, 515, 1520, 3525, 7530, 15_535, 31_540, 61_545, 91_550]);
    expect(statusLog(run)).toEqual([
      [0, 'ctp/a', 'DOWN', 'connecting to tcp://127.0.0.1:41001'],
      [15, 'ctp/a', 'DOWN', `${REFUSED}; again in 500 ms`],
      [520, 'ctp/a', 'DOWN', `${REFUSED}; again in 1000 ms`],
      [1525, 'ctp/a', 'DOWN', `${REFUSED}; again in 2000 ms`],
      [3530, 'ctp/a', 'DOWN', `${REFUSED}; again in 4000 ms`],
      [7535, 'ctp/a', 'DOWN', `${REFUSED}; again in 8000 ms`],
      [15_540, 'ctp/a', 'DOWN', `${REFUSED}; again in 16000 ms`],
      [31_545, 'ctp/a', 'DOWN', `${REFUSED}; again in 30000 ms`],
      [61_550, 'ctp/a', 'DOWN', `${REFUSED}; again in 30000 ms`],
      [91_555, 'ctp/a', 'UP', 'logged in, trading day 20250102'],
    ]);
    // Each attempt asks with a request id of its own.
    expect(
      run
        .api('a')
        .calls.filter((c) => c.method === 'login')
        .map((c) => c.args[1]),
    ).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(run.ticks[0]?.ts_recv).toBe(91_630_000);
    expect(run.events.filter((e) => e.type === 'source.ctp.ready').map((e) => e.at)).toEqual([91_555]);
  });

  it('varies each delay by at most 20 %, by the jitter it is given', () => {
    const lowest = runScriptedPool({ ...ONE, random: () => 0 }, 5000, (r, at) => at(0, () => r.api('a').refuseLogins()));
    const highest = runScriptedPool({ ...ONE, random: () => 1 }, 5000, (r, at) => at(0, () => r.api('a').refuseLogins()));
    // 400, 800, 1600 ms apart (0.8 ×), and 600, 1200, 2400 ms (1.2 ×), each after the 5 ms answer.
    expect(lowest.api('a').timesOf('login')).toEqual([10, 415, 1220, 2825]);
    expect(highest.api('a').timesOf('login')).toEqual([10, 615, 1820, 4225]);
  });

  it('backs off the same way when the login request cannot even be sent', () => {
    const run = runScriptedPool(ONE, 3000, (r, at) => {
      at(0, () => r.api('a').loginReturns(-2));
      at(1000, () => r.api('a').acceptLogins());
    });
    // No answer to wait for: 10, then 500 and 1000 ms later.
    expect(run.api('a').timesOf('login')).toEqual([10, 510, 1510]);
    expect(statusLog(run)).toEqual([
      [0, 'ctp/a', 'DOWN', 'connecting to tcp://127.0.0.1:41001'],
      [10, 'ctp/a', 'DOWN', 'login failed (ReqUserLogin returned -2); again in 500 ms'],
      [510, 'ctp/a', 'DOWN', 'login failed (ReqUserLogin returned -2); again in 1000 ms'],
      [1515, 'ctp/a', 'UP', 'logged in, trading day 20250102'],
    ]);
  });

  it('starts the backoff afresh after a reconnect, and drops the retry the disconnect overtook', () => {
    const run = runScriptedPool(ONE, 3000, (r, at) => {
      at(0, () => r.api('a').refuseLogins());
      at(2000, () => r.api('a').disconnect());
    });
    // The retry due at 3525 never happens: the connection it was for is gone. Reconnected at 2100: 500 ms again.
    expect(run.api('a').timesOf('login')).toEqual([10, 515, 1520, 2100, 2605]);
    // Already DOWN, the front reports no new status for the disconnect; the event says it.
    expect(statusLog(run).slice(3)).toEqual([
      [1525, 'ctp/a', 'DOWN', `${REFUSED}; again in 2000 ms`],
      [2105, 'ctp/a', 'DOWN', `${REFUSED}; again in 500 ms`],
      [2610, 'ctp/a', 'DOWN', `${REFUSED}; again in 1000 ms`],
    ]);
    expect(run.events.filter((e) => e.at >= 2000).map((e) => [e.at, e.type, e.payload['state'], e.payload['detail']])).toEqual([
      [2000, 'source.ctp.unavailable', 'connecting', 'disconnected (reason 0x2001); the library reconnects'],
      [2100, 'source.ctp.unavailable', 'logging-in', 'connected to tcp://127.0.0.1:41001'],
    ]);
  });

  it('serves everything from the other front while one is refused, and spreads again once it logs in', () => {
    const run = runScriptedPool(
      { instruments: ['SHFE.rb2501', 'SHFE.cu2501', 'DCE.m2501', 'CZCE.SR501'], fronts: [{ name: 'a' }, { name: 'b' }] },
      3000,
      (r, at) => {
        at(0, () => r.api('b').refuseLogins());
        at(1000, () => r.api('b').acceptLogins());
      },
    );
    // b's attempts: 10, 515, 1520 (accepted, 1525). Its first login is a placement from scratch: hash gives it SR501,
    // subscribed at 1525 and answered at 1530, just after that instant's tick: b's first tick of it is at 1630.
    expect(run.api('b').timesOf('login')).toEqual([10, 515, 1520]);
    const moves = run.events
      .filter((e) => e.type === 'source.ctp.moved')
      .map((e) => [e.at, e.payload['instrument'], e.payload['from'], e.payload['to']]);
    expect(moves).toEqual([
      [30, 'rb2501', null, 'a'],
      [30, 'cu2501', null, 'a'],
      [30, 'm2501', null, 'a'],
      [30, 'SR501', null, 'a'],
      [1630, 'SR501', 'a', 'b'],
    ]);
  });
});
