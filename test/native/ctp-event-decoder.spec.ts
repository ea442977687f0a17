import { describe, it, expect } from 'vitest';
import { NativeAddonError } from '../../errors/errors.js';
import { CtpEventDecoder } from '../../native/ctp-event-decoder.js';
import type { CtpEvent } from '../../native/ctp-event.js';
import { loadCtpAddon } from '../../native/load-ctp-addon.js';

// Batches written here as the addon lays its events out (its own eventLayout and layout), decoded as it would deliver them.
const addon = loadCtpAddon();
const events = addon.eventLayout();
const structs = addon.layout().structs;
const depthField = (name: string) => {
  const field = structs.CThostFtdcDepthMarketDataField?.fields[name];
  if (field === undefined) throw new Error(`no depth field ${name}`);
  return { offset: events.fields.depth + field.offset, size: field.size };
};

/** A batch of `count` zeroed events of `kind`. */
function batch(count: number, kind: CtpEvent['kind']): { buffer: ArrayBuffer; bytes: Uint8Array; view: DataView } {
  const buffer = new ArrayBuffer(count * events.sizeof);
  const bytes = new Uint8Array(buffer);
  for (let i = 0; i < count; i++) bytes[i * events.sizeof + events.fields.kind] = events.kinds[kind];
  return { buffer, bytes, view: new DataView(buffer) };
}
function writeText(bytes: Uint8Array, at: number, text: readonly number[] | string): void {
  bytes.set(typeof text === 'string' ? [...text].map((c) => c.charCodeAt(0)) : text, at);
}
const depthData = (event: CtpEvent | undefined) => {
  if (event?.kind !== 'depth') throw new Error(`not a depth event: ${event?.kind}`);
  return event.data;
};

describe('CtpEventDecoder', () => {
  it('reads doubles, ints and recvUs where the layout puts them', () => {
    const { buffer, bytes, view } = batch(2, 'depth');
    view.setFloat64(depthField('LastPrice').offset, 3302.5, true);
    view.setInt32(depthField('Volume').offset, 123456, true);
    view.setFloat64(events.sizeof + depthField('AskPrice5').offset, 1.7976931348623157e308, true);
    view.setInt32(events.sizeof + depthField('UpdateMillisec').offset, 5, true);
    view.setFloat64(events.fields.recvUs, 42.25, true);
    writeText(bytes, depthField('InstrumentID').offset, 'rb2501');
    const [first, second] = new CtpEventDecoder(events, addon.layout()).decode(buffer, 2);
    expect(first).toMatchObject({ kind: 'depth', recvUs: 42.25, data: { LastPrice: 3302.5, Volume: 123456, InstrumentID: 'rb2501' } });
    expect(depthData(second)).toMatchObject({ AskPrice5: 1.7976931348623157e308, UpdateMillisec: 5, InstrumentID: '' });
  });

  it('never hands back a cached string for other bytes: ids that differ in one byte, a full field without NUL, Latin-1', () => {
    const ids = ['rb2501', 'rb2502', 'rb2501', 'cu2501', 'rb250', 'rb25011'];
    const { buffer, bytes } = batch(ids.length + 2, 'depth');
    ids.forEach((id, i) => writeText(bytes, i * events.sizeof + depthField('InstrumentID').offset, id));
    const day = depthField('TradingDay');
    writeText(bytes, ids.length * events.sizeof + day.offset, '123456789'.slice(0, day.size));
    writeText(bytes, (ids.length + 1) * events.sizeof + depthField('ExchangeID').offset, [0x53, 0xe9]);
    const decoder = new CtpEventDecoder(events, addon.layout());
    // Twice: the second pass reads every string from the cache.
    for (let pass = 0; pass < 2; pass++) {
      const decoded = decoder.decode(buffer, ids.length + 2).map(depthData);
      expect(decoded.slice(0, ids.length).map((d) => d.InstrumentID)).toEqual(ids);
      expect(decoded[ids.length]?.TradingDay).toBe('123456789'.slice(0, day.size));
      expect(decoded[ids.length + 1]?.ExchangeID).toBe('S\u00e9');
    }
  });

  it('decodes only the first count events, and a new buffer as well as the last one', () => {
    const decoder = new CtpEventDecoder(events, addon.layout());
    const a = batch(3, 'front-connected');
    expect(decoder.decode(a.buffer, 2)).toEqual([
      { kind: 'front-connected', recvUs: 0 },
      { kind: 'front-connected', recvUs: 0 },
    ]);
    const b = batch(1, 'front-disconnected');
    b.view.setInt32(events.fields.value, 0x1001, true);
    expect(decoder.decode(b.buffer, 1)).toEqual([{ kind: 'front-disconnected', reason: 0x1001, recvUs: 0 }]);
    expect(decoder.decode(a.buffer, 0)).toEqual([]);
  });

  it('turns an RspInfo with a non-zero ErrorID into a NativeAddonError naming the instrument, and ErrorID 0 into no error', () => {
    const info = structs.CThostFtdcRspInfoField?.fields;
    const instrument = structs.CThostFtdcSpecificInstrumentField?.fields.InstrumentID;
    if (info?.ErrorID === undefined || info.ErrorMsg === undefined || instrument === undefined) throw new Error('no RspInfo layout');
    const { buffer, bytes, view } = batch(2, 'subscribed');
    for (let i = 0; i < 2; i++) {
      const at = i * events.sizeof;
      bytes[at + events.fields.hasInfo] = 1;
      bytes[at + events.fields.hasBody] = 1;
      bytes[at + events.fields.isLast] = 1;
      view.setInt32(at + events.fields.value, 7, true);
      writeText(bytes, at + events.fields.replyBody + instrument.offset, 'zz1');
    }
    view.setInt32(events.fields.replyInfo + info.ErrorID.offset, 16, true);
    writeText(bytes, events.fields.replyInfo + info.ErrorMsg.offset, [0xce, 0xde]); // GB18030 for 无
    const [refused, answered] = new CtpEventDecoder(events, addon.layout()).decode(buffer, 2);
    expect(refused).toMatchObject({ kind: 'subscribed', instrumentId: 'zz1', requestId: 7, isLast: true });
    const error = refused?.kind === 'subscribed' ? refused.error : undefined;
    expect(error).toBeInstanceOf(NativeAddonError);
    expect(error).toMatchObject({ message: 'CTP error 16: 无', errorId: 16, context: { instrument: 'zz1' } });
    expect(answered).toMatchObject({ kind: 'subscribed', instrumentId: 'zz1', error: null });
  });

  it('gives OnRspError without RspInfo an error of its own', () => {
    const { buffer, view } = batch(1, 'error');
    view.setInt32(events.fields.value, 3, true);
    const [event] = new CtpEventDecoder(events, addon.layout()).decode(buffer, 1);
    expect(event).toMatchObject({
      kind: 'error',
      requestId: 3,
      error: { errorId: 0, message: 'CTP error 0: OnRspError without an error for request 3' },
    });
  });

  it('throws a NativeAddonError for a kind it does not know', () => {
    const { buffer, bytes } = batch(1, 'depth');
    bytes[events.fields.kind] = 200;
    expect(() => new CtpEventDecoder(events, addon.layout()).decode(buffer, 1)).toThrow(
      new NativeAddonError('the CTP addon delivered an event of unknown kind 200'),
    );
  });
});
