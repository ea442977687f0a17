import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, expect, afterEach } from 'vitest';
import { CtpMdApi } from '../../native/ctp-md-api.js';
import type { CtpEvent } from '../../native/ctp-event.js';
import { loadCtpAddon } from '../../native/load-ctp-addon.js';
import { ctpSimulator } from '../../native/ctp-simulator.js';
import { NativeAddonError } from '../../errors/errors.js';
import { RecordedSession, CTP_SIMULATOR_LIBRARY, flowDir, frontAddress } from '../support/ctp-session.js';
import { waitFor } from '../support/wait-for.js';

const ANYONE = { brokerId: '', userId: '', password: '' };
const nowUs = (): number => Number(process.hrtime.bigint()) / 1000;
/** The fields of CtpDepthMarketData, read from its declaration. */
const DEPTH_FIELDS = [
  ...readFileSync(new URL('../../native/ctp-depth-market-data.ts', import.meta.url), 'utf8').matchAll(/readonly (\w+): /g),
].map((m) => m[1]);

const open: RecordedSession[] = [];
function session(...args: ConstructorParameters<typeof RecordedSession>): RecordedSession {
  const s = new RecordedSession(...args);
  open.push(s);
  return s;
}
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

/** Blocks the JavaScript thread (and only it) for `ms`. */
function blockJsThread(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe('CtpMdApi', () => {
  describe('connect, login, subscribe', () => {
    it('connects, logs in, and answers a known and an unknown instrument; ticks carry the subscribed InstrumentID', async () => {
      const s = session(frontAddress({ rate: 200 }));
      await s.next('front-connected');
      expect(s.api.login(ANYONE, 7)).toBe(0);
      const login = await s.next('login');
      expect(login).toMatchObject({ requestId: 7, isLast: true, error: null, login: { TradingDay: expect.stringMatching(/^\d{8}$/) } });
      expect(s.api.tradingDay()).toBe(login.login?.TradingDay);

      expect(s.api.subscribe(['rb2501', 'xx9999'])).toBe(0);
      const known = await s.indexOf('rb2501 answered', (e) => e.kind === 'subscribed' && e.instrumentId === 'rb2501');
      const unknown = await s.indexOf('xx9999 answered', (e) => e.kind === 'subscribed' && e.instrumentId === 'xx9999');
      expect(s.events[known]).toMatchObject({ kind: 'subscribed', error: null });
      const refused = s.events[unknown] as Extract<CtpEvent, { kind: 'subscribed' }>;
      expect(refused.error).toBeInstanceOf(NativeAddonError);
      expect(refused.error?.errorId).toBe(16);
      expect(refused.error?.message).toBe('CTP error 16: CTP:找不到合约');
      expect(refused.error?.context).toEqual({ instrument: 'xx9999' });

      await waitFor('10 ticks', () => (s.depth().length >= 10 ? true : undefined));
      const ticks = s.depth();
      expect(new Set(ticks.map((t) => t.data.InstrumentID))).toEqual(new Set(['rb2501']));
      expect(s.events.findIndex((e) => e.kind === 'depth')).toBeGreaterThan(known);
      const tick = ticks[0] as (typeof ticks)[number];
      expect(Object.keys(tick)).toEqual(['kind', 'data', 'recvUs']);
      expect(Object.keys(tick.data)).toEqual(DEPTH_FIELDS);
      expect(tick.data.TradingDay).toMatch(/^\d{8}$/);
      expect(tick.data.UpdateTime).toMatch(/^\d\d:\d\d:\d\d$/);
      expect(tick.data.LastPrice).toBeGreaterThan(0);
      expect(tick.recvUs).toBeLessThanOrEqual(nowUs());
      expect(tick.recvUs).toBeGreaterThan(nowUs() - 10_000_000);
    });

    it('stops the ticks of an unsubscribed instrument after its answer', async () => {
      const s = session(frontAddress({ rate: 400 }), { autoSubscribe: ['rb2501', 'm2501'] });
      await waitFor('ticks of both', () => (s.depth('rb2501').length > 5 && s.depth('m2501').length > 5 ? true : undefined));
      expect(s.api.unsubscribe(['rb2501'])).toBe(0);
      const answer = await s.indexOf('the unsubscribe answer', (e) => e.kind === 'unsubscribed' && e.instrumentId === 'rb2501');
      expect(s.events[answer]).toMatchObject({ error: null });
      const count = s.events.length;
      await waitFor('more m2501 ticks', () => (s.depth('m2501', count).length > 20 ? true : undefined));
      expect(s.depth('rb2501', answer)).toEqual([]);
    });

    it('answers a subscription before login with ErrorID 4', async () => {
      const s = session(frontAddress());
      await s.next('front-connected');
      s.api.subscribe(['rb2501']);
      const answer = await s.next('subscribed');
      expect(answer.error?.errorId).toBe(4);
      expect(answer.error?.message).toBe('CTP error 4: CTP:用户未登录');
    });

    it('decodes the GB18030 message of a refused login', async () => {
      const s = session(frontAddress({ broker: '9999' }));
      await s.next('front-connected');
      s.api.login({ brokerId: '1234', userId: 'u', password: 'p' }, 3);
      const login = await s.next('login');
      expect(login.requestId).toBe(3);
      expect(login.error).toBeInstanceOf(NativeAddonError);
      expect(login.error?.errorId).toBe(3);
      expect(login.error?.message).toBe('CTP error 3: CTP:不合法的登录');
    });

    it('logs in on a 6.7.7 library (the 204-byte login response, the 3-argument factory)', async () => {
      const s = session(frontAddress({ rate: 200 }), { libraryPath: ctpSimulator.libraryPath('6.7.7'), autoSubscribe: ['m2501'] });
      expect(s.api.library).toMatchObject({ sdk: '6.7.7', factoryArity: 3, loginResponseSize: 204 });
      const login = await s.next('login');
      expect(login.error).toBeNull();
      expect(login.login).toMatchObject({
        TradingDay: expect.stringMatching(/^\d{8}$/),
        FrontID: expect.any(Number),
        SessionID: expect.any(Number),
      });
      await waitFor('m2501 ticks', () => (s.depth('m2501').length > 3 ? true : undefined));
    });
  });

  describe('reconnects', () => {
    it('front down: disconnected (0x1001), no reconnect until up, then connected again; ticks only after login and a new subscription', async () => {
      const s = session(frontAddress({ rate: 500 }), { autoSubscribe: ['rb2501'] });
      // Only disconnected (0x2001), the witness's front takes it back after retry_ms: by its reconnect, s's library has
      // had a retry_ms of its own to try (and be refused).
      const witness = session(frontAddress({ rate: 500 }), { autoSubscribe: ['rb2501'] });
      await waitFor('ticks on both', () => (s.depth().length > 5 && witness.depth().length > 5 ? true : undefined));

      ctpSimulator.control(CTP_SIMULATOR_LIBRARY, s.address, 'down');
      ctpSimulator.control(CTP_SIMULATOR_LIBRARY, witness.address, 'disconnect');
      const down = await s.indexOf('front-disconnected', (e) => e.kind === 'front-disconnected');
      expect(s.events[down]).toMatchObject({ reason: 0x1001 });
      const witnessDown = await witness.indexOf('the witness disconnected', (e) => e.kind === 'front-disconnected');
      await witness.indexOf('the witness reconnected', (e) => e.kind === 'front-connected', witnessDown);
      expect(s.events.slice(down).some((e) => e.kind === 'front-connected')).toBe(false);
      expect(s.depth(undefined, down)).toEqual([]);

      // Now connect again by hand: nothing arrives until we log in and subscribe again.
      const manual = new RecordedSession(s.address, {});
      open.push(manual);
      ctpSimulator.control(CTP_SIMULATOR_LIBRARY, s.address, 'up');
      await s.indexOf('front-connected again', (e) => e.kind === 'front-connected', down);
      await s.indexOf('ticks again after login and subscribe', (e) => e.kind === 'depth', down);
      const relogin = s.events.findIndex((e, i) => i > down && e.kind === 'login');
      const resubscribed = s.events.findIndex((e, i) => i > down && e.kind === 'subscribed');
      expect(relogin).toBeGreaterThan(down);
      expect(resubscribed).toBeGreaterThan(relogin);
      expect(s.events.findIndex((e, i) => i > down && e.kind === 'depth')).toBeGreaterThan(resubscribed);

      // s is on the same front: while it gets 20 more ticks, the front would have sent manual some, were it to.
      const moreTicksOnS = async (what: string): Promise<void> => {
        const from = s.events.length;
        await waitFor(what, () => (s.depth(undefined, from).length >= 20 ? true : undefined));
      };
      await manual.next('front-connected');
      await moreTicksOnS('20 ticks on s after manual connected');
      expect(manual.depth()).toEqual([]);
      manual.api.login(ANYONE);
      await manual.next('login');
      await moreTicksOnS('20 ticks on s after manual logged in');
      expect(manual.depth()).toEqual([]);
      manual.api.subscribe(['rb2501']);
      await waitFor('ticks on the manual session', () => (manual.depth('rb2501').length > 0 ? true : undefined));
    });

    it('heartbeat timeout (disconnect): 0x2001, and the library reconnects by itself after retry_ms', async () => {
      const s = session(frontAddress({ rate: 500 }), { autoSubscribe: ['rb2501'] });
      await waitFor('ticks', () => (s.depth().length > 5 ? true : undefined));
      ctpSimulator.control(CTP_SIMULATOR_LIBRARY, s.address, 'disconnect');
      const down = await s.indexOf('front-disconnected', (e) => e.kind === 'front-disconnected');
      expect(s.events[down]).toMatchObject({ reason: 0x2001 });
      await s.indexOf('front-connected again', (e) => e.kind === 'front-connected', down);
      await s.indexOf('ticks again', (e) => e.kind === 'depth', down);
    });
  });

  describe('delivery', () => {
    it('drops market data when the JavaScript thread falls behind, reports it, and goes on delivering', async () => {
      const s = session(frontAddress({ rate: 200_000 }), { queueCapacity: 256, maxBatch: 64, autoSubscribe: ['rb2501', 'm2501'] });
      await waitFor('ticks', () => (s.depth().length > 1000 ? true : undefined));
      const before = s.events.length;
      const droppedBefore = s.droppedReported;
      blockJsThread(200);
      await waitFor('a drop reported through onEvents', () => (s.droppedReported > droppedBefore ? true : undefined));
      const stats = s.api.stats();
      expect(stats.dropped).toBeGreaterThanOrEqual(s.droppedReported);
      expect(stats.highWater).toBeGreaterThanOrEqual(256);
      expect(stats.highWater).toBeLessThanOrEqual(256 + 8); // control events may pass the bound; market data may not
      expect(Math.max(...s.batchSizes)).toBeLessThanOrEqual(64);
      const after = s.events.length;
      await waitFor('delivery after the stall', () => (s.depth(undefined, after).length > 1000 ? true : undefined));
      expect(after).toBeGreaterThan(before);
      expect(s.api.stats().callFailures).toBe(0);
    });

    it('never drops control events: every subscription is answered even while the queue overflows', async () => {
      const ids = Array.from({ length: 40 }, (_, i) => `zz${i}`);
      const s = session(frontAddress({ rate: 200_000 }), { queueCapacity: 16, maxBatch: 8, autoSubscribe: ['rb2501'] });
      await waitFor('ticks', () => (s.depth().length > 100 ? true : undefined));
      s.api.subscribe(ids);
      blockJsThread(100);
      await waitFor('every answer', () =>
        s.events.filter((e) => e.kind === 'subscribed' && e.instrumentId.startsWith('zz')).length === ids.length ? true : undefined,
      );
      expect(s.api.stats().dropped).toBeGreaterThan(0);
    });

    it('unbatched (maxBatch 1): one event per onEvents call', async () => {
      const s = session(frontAddress({ rate: 2000 }), { maxBatch: 1, autoSubscribe: ['rb2501'] });
      await waitFor('200 ticks', () => (s.depth().length >= 200 ? true : undefined));
      expect(new Set(s.batchSizes)).toEqual(new Set([1]));
      const stats = s.api.stats();
      expect(stats.batches).toBe(stats.delivered);
    });

    it('batched: several events per call, never more than maxBatch', async () => {
      const s = session(frontAddress({ rate: 100_000 }), { maxBatch: 100, autoSubscribe: ['rb2501'] });
      await waitFor('20000 ticks', () => (s.depth().length >= 20_000 ? true : undefined));
      expect(Math.max(...s.batchSizes)).toBeLessThanOrEqual(100);
      expect(Math.max(...s.batchSizes)).toBeGreaterThan(1);
      const stats = s.api.stats();
      expect(stats.delivered).toBe(s.events.length);
      expect(stats.batches).toBe(s.batchSizes.length);
    });

    it('hands what onEvents throws to onError and keeps delivering', async () => {
      const errors: unknown[] = [];
      let calls = 0;
      const s = session(frontAddress({ rate: 1000 }), {
        autoSubscribe: ['rb2501'],
        onError: (error) => errors.push(error),
        onBatch: () => {
          if (++calls % 3 === 0) throw new Error(`handler failed at call ${calls}`);
        },
      });
      await waitFor('three errors', () => (errors.length >= 3 ? true : undefined));
      const seen = s.depth().length;
      await waitFor('more ticks', () => (s.depth().length > seen + 10 ? true : undefined));
      expect(errors[0]).toEqual(new Error('handler failed at call 3'));
      expect(s.api.stats().callbackError).toBeUndefined();
    });

    it('without onError, keeps what onEvents threw for the next stats() (once) and keeps delivering', async () => {
      let thrown = false;
      const s = session(frontAddress({ rate: 1000 }), {
        autoSubscribe: ['rb2501'],
        onBatch: (events) => {
          if (!thrown && events.some((e) => e.kind === 'depth')) {
            thrown = true;
            throw new RangeError('handler failed');
          }
        },
      });
      await waitFor('the throw', () => (thrown ? true : undefined));
      const seen = s.depth().length;
      await waitFor('more ticks', () => (s.depth().length > seen + 10 ? true : undefined));
      expect(s.api.stats().callbackError).toEqual(new RangeError('handler failed'));
      expect(s.api.stats().callbackError).toBeUndefined();
    });
  });

  describe('close', () => {
    it('no onEvents call after close() returns, closing at varied moments of a callback storm (50 times)', async () => {
      // A session of its own: a new batch there means the JavaScript thread ran the addon's deliveries after the close.
      const witness = session(frontAddress({ rate: 20_000 }), { maxBatch: 1, autoSubscribe: ['rb2501'] });
      await waitFor('the witness ticking', () => (witness.depth().length > 0 ? true : undefined));
      let closedInsideOnEvents = 0;
      for (let i = 0; i < 50; i++) {
        const insideAfter = i % 3 === 0 ? 1 + (i % 7) * 50 : undefined; // some close from inside onEvents
        const s = new RecordedSession(frontAddress({ rate: 500_000, instruments: 'SHFE.rb2501,DCE.m2501,SHFE.cu2501' }), {
          maxBatch: i % 2 === 0 ? 1024 : 1,
          autoSubscribe: ['rb2501', 'm2501', 'cu2501'],
          onBatch: (_, self) => {
            if (insideAfter !== undefined && self.events.length >= insideAfter && self.callsAfterClose === 0) {
              self.close();
              closedInsideOnEvents++;
            }
          },
        });
        if (insideAfter === undefined) {
          // Closed from outside after 1 to 901 events of the storm.
          const ticks = 1 + (i % 10) * 100;
          await s.until('the storm', () => s.events.length >= ticks);
          s.close();
        } else {
          await s.until('the close inside onEvents', () => s.events.length >= insideAfter);
        }
        const batches = witness.batchSizes.length;
        await witness.until('two witness batches after the close', () => witness.batchSizes.length >= batches + 2);
        expect(s.callsAfterClose).toBe(0);
        s.close(); // idempotent
      }
      expect(closedInsideOnEvents).toBeGreaterThan(0);
    });

    it('methods after close throw CTP_CLOSED; close is idempotent', async () => {
      const s = new RecordedSession(frontAddress());
      await s.next('front-connected');
      s.api.close();
      s.api.close();
      for (const call of [
        () => s.api.registerFront(frontAddress()),
        () => s.api.init(),
        () => s.api.login(ANYONE),
        () => s.api.logout({ brokerId: '', userId: '' }),
        () => s.api.subscribe(['rb2501']),
        () => s.api.unsubscribe(['rb2501']),
        () => s.api.tradingDay(),
        () => s.api.stats(),
      ]) {
        expect(call).toThrow(NativeAddonError);
        expect(call).toThrow('the CTP market-data session is closed');
        try {
          call();
        } catch (error) {
          expect((error as NativeAddonError).context).toEqual({ path: CTP_SIMULATOR_LIBRARY, code: 'CTP_CLOSED' });
        }
      }
    });

    it('the raw binding throws an Error with code CTP_CLOSED', () => {
      const addon = loadCtpAddon();
      const dir = flowDir();
      mkdirSync(dir);
      const raw = new addon.MdSession({
        libraryPath: CTP_SIMULATOR_LIBRARY,
        flowPath: `${dir}/`,
        queueCapacity: 8,
        maxBatch: 8,
        onEvents: () => {},
      });
      raw.close();
      expect(() => raw.subscribe(['rb2501'])).toThrow(
        expect.objectContaining({ code: 'CTP_CLOSED', message: 'the CTP market-data session is closed' }),
      );
    });
  });

  describe('arguments', () => {
    it('rejects over-long login fields with a RangeError naming the field and its limit', () => {
      const s = session(frontAddress());
      expect(() => s.api.login({ brokerId: 'x'.repeat(11), userId: '', password: '' })).toThrow(
        new RangeError('brokerId is 11 bytes; BrokerID holds at most 10 bytes without NUL'),
      );
      expect(() => s.api.login({ brokerId: '', userId: 'x'.repeat(16), password: '' })).toThrow(
        /^userId is 16 bytes; UserID holds at most 15 bytes/,
      );
      expect(() => s.api.login({ brokerId: '', userId: '', password: '密'.repeat(14) })).toThrow(
        /^password is 42 bytes; Password holds at most 40 bytes/,
      );
      expect(() => s.api.login({ brokerId: 'a\0b', userId: '', password: '' })).toThrow(RangeError);
      expect(s.api.login({ brokerId: 'x'.repeat(10), userId: 'y'.repeat(15), password: 'z'.repeat(40) })).toEqual(expect.any(Number)); // at the limits: sent
    });

    it('rejects instrument ids over 80 bytes and ids that are not strings', () => {
      const s = session(frontAddress());
      expect(() => s.api.subscribe(['rb2501', 'x'.repeat(81)])).toThrow(
        new RangeError('subscribe: ids[1] is 81 bytes; an instrument id holds at most 80 bytes without NUL'),
      );
      expect(() => s.api.unsubscribe(['x'.repeat(81)])).toThrow(RangeError);
      expect(() => s.api.subscribe([42 as unknown as string])).toThrow(TypeError);
      expect(s.api.subscribe([])).toBe(0);
    });

    it('refuses a second init()', () => {
      const s = session(frontAddress());
      expect(() => s.api.init()).toThrow(
        expect.objectContaining({ name: 'NativeAddonError', context: expect.objectContaining({ code: 'CTP_ALREADY_INITIALIZED' }) }),
      );
    });
  });

  describe('open', () => {
    it('creates a missing flow directory, and the vendor files land inside it', async () => {
      const dir = join(flowDir(), 'nested', 'deeper');
      const s = session(frontAddress(), { flowPath: dir });
      expect(existsSync(dir)).toBe(true);
      await s.next('front-connected');
    });

    it('fails on a wrong library before creating anything', () => {
      const dir = flowDir();
      expect(() => CtpMdApi.open({ libraryPath: ctpSimulator.libraryPath('unknown-version'), flowPath: dir, onEvents: () => {} })).toThrow(
        /expected a CTP market-data library/,
      );
      expect(existsSync(dir)).toBe(false);
    });

    it('the raw binding refuses a flow path that is not a directory (CTP_CREATE_FAILED)', () => {
      const file = join(flowDir() + '-file');
      writeFileSync(file, '');
      const addon = loadCtpAddon();
      expect(
        () =>
          new addon.MdSession({ libraryPath: CTP_SIMULATOR_LIBRARY, flowPath: file, queueCapacity: 8, maxBatch: 8, onEvents: () => {} }),
      ).toThrow(
        expect.objectContaining({
          code: 'CTP_CREATE_FAILED',
          message: expect.stringContaining(`the flow path ${file} is not an existing directory`),
        }),
      );
    });

    it('the raw binding checks its options', () => {
      const addon = loadCtpAddon();
      const options = { libraryPath: CTP_SIMULATOR_LIBRARY, flowPath: '/tmp/', queueCapacity: 8, maxBatch: 8, onEvents: () => {} };
      expect(() => new addon.MdSession({ ...options, queueCapacity: 0 })).toThrow(RangeError);
      expect(() => new addon.MdSession({ ...options, maxBatch: 1.5 })).toThrow(RangeError);
      expect(() => new addon.MdSession({ ...options, onEvents: 'no' as unknown as () => void })).toThrow(TypeError);
      expect(() => new addon.MdSession({ ...options, libraryPath: '/nonexistent.so' })).toThrow(
        expect.objectContaining({ code: 'CTP_LIBRARY_NOT_FOUND' }),
      );
    });
  });

  describe('ctpSimulator.control', () => {
    it('throws a NativeAddonError naming the front and the command it refused', () => {
      const address = frontAddress();
      session(address);
      expect(() => ctpSimulator.control(CTP_SIMULATOR_LIBRARY, address, 'explode')).toThrow(NativeAddonError);
      expect(() => ctpSimulator.control(CTP_SIMULATOR_LIBRARY, address, 'explode')).toThrow(
        `the CTP simulator's front ${address} refused the command "explode" (result -2)`,
      );
    });

    it('refuses a library that is not a CTP library', () => {
      expect(() => ctpSimulator.control('/usr/lib/x86_64-linux-gnu/libc.so.6', 'tcp://127.0.0.1:1', 'down')).toThrow(
        expect.objectContaining({ name: 'NativeAddonError', context: expect.objectContaining({ code: 'CTP_NOT_A_CTP_LIBRARY' }) }),
      );
    });
  });
});
