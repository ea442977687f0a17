import { NativeAddonError } from '../errors/errors.js';
import type { RawCtpEventLayout, RawCtpLayout } from './ctp-addon-binding.js';
import type { CtpEvent } from './ctp-event.js';

/** Slots of the string cache: a power of two, far more than the distinct ids, days and times of a session's ticks in one second. */
const STRING_CACHE_SLOTS = 4096;
const gb18030 = new TextDecoder('gb18030');

/** The one decoder of a depth struct: `(f64, i32, u8, at, recvUs, text) => depth event`, generated from the layout. */
type DepthDecoder = (f64: Float64Array, i32: Int32Array, u8: Uint8Array, at: number, recvUs: number, text: TextReader) => CtpEvent;
type TextReader = (u8: Uint8Array, at: number, size: number) => string;

/**
 * Straight-line code reading every field of CThostFtdcDepthMarketDataField but the reserved ones, in declaration order,
 * into one object literal (one hidden class for every tick): a double is an index into the Float64Array, an int into the
 * Int32Array, a char array a read of the string cache. Generated because a loop over field names would be a keyed store
 * per field into a growing object (DESIGN.md §5); the names and offsets are the addon's own, never input.
 */
function compileDepthDecoder(depth: RawCtpLayout['structs'][string], depthOffset: number): DepthDecoder {
  const properties: string[] = [];
  for (const [name, { offset, size }] of Object.entries(depth.fields)) {
    if (name.startsWith('reserve')) continue;
    if (!/^[A-Za-z]\w*$/.test(name))
      throw new NativeAddonError(`the CTP addon reports an unexpected depth field name ${JSON.stringify(name)}`);
    const at = depthOffset + offset;
    // Doubles and ints of the struct are aligned (the addon asserts the event's start is 8-aligned).
    if (size === 8 && at % 8 === 0) properties.push(`${name}: f64[w + ${at / 8}]`);
    else if (size === 4 && at % 4 === 0) properties.push(`${name}: i32[v + ${at / 4}]`);
    else if (size !== 4 && size !== 8) properties.push(`${name}: text(u8, at + ${at}, ${size})`);
    else throw new NativeAddonError(`the CTP addon reports the depth field ${name} unaligned at ${at}`);
  }
  const source = `const w = at >> 3, v = at >> 2;\nreturn { kind: 'depth', data: { ${properties.join(', ')} }, recvUs };`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from the addon's layout, as said above
  return new Function('f64', 'i32', 'u8', 'at', 'recvUs', 'text', source) as DepthDecoder;
}

/**
 * Turns a batch the addon delivered (its queued events copied as they are, `sizeof` bytes each, into one ArrayBuffer)
 * into CtpEvents, reading the ArrayBuffer at the offsets the addon reports, and interning the strings.
 *
 * One per session: the addon reuses its buffer from batch to batch, so the typed views over it are made once, and the
 * strings of a session's ticks (instrument ids, days, the second of the update) repeat: each is read from a small
 * direct-mapped cache, checked byte by byte, instead of a new string per field per tick.
 *
 * @example
 * ```ts
 * import { loadCtpAddon } from './load-ctp-addon.js';
 *
 * const addon = loadCtpAddon();
 * const layout = addon.eventLayout();
 * const decoder = new CtpEventDecoder(layout, addon.layout());
 * // One event as the addon lays it out: a front-connected has nothing but its kind and recvUs.
 * const buffer = new ArrayBuffer(layout.sizeof);
 * new Uint8Array(buffer)[layout.fields.kind] = layout.kinds['front-connected'];
 * console.log(decoder.decode(buffer, 1)[0]?.kind);
 * // Logs: front-connected
 * ```
 */
export class CtpEventDecoder {
  readonly #size: number;
  readonly #fields: RawCtpEventLayout['fields'];
  readonly #kindNames: readonly (CtpEvent['kind'] | undefined)[];
  readonly #info: { readonly errorId: number; readonly message: number; readonly messageSize: number };
  readonly #login: Readonly<
    Record<'TradingDay' | 'LoginTime' | 'BrokerID' | 'UserID' | 'SystemName' | 'FrontID' | 'SessionID', { offset: number; size: number }>
  >;
  readonly #instrument: { readonly offset: number; readonly size: number };
  readonly #decodeDepth: DepthDecoder;
  readonly #depthKind: number;
  readonly #strings: (string | undefined)[] = new Array<string | undefined>(STRING_CACHE_SLOTS).fill(undefined);
  readonly #text: TextReader = (u8, at, size) => this.#readText(u8, at, size);
  #buffer: ArrayBuffer | undefined;
  #f64 = new Float64Array(0);
  #i32 = new Int32Array(0);
  #u8 = new Uint8Array(0);

  /**
   * @param events the addon's `eventLayout()`
   * @param structs the addon's `layout()`: where the fields of the depth, RspInfo, login and instrument structs lie
   * @throws NativeAddonError when a layout is not what the decoder can read (a misaligned number, a missing struct)
   */
  constructor(events: RawCtpEventLayout, structs: RawCtpLayout) {
    if (events.sizeof % 8 !== 0) throw new NativeAddonError(`the CTP addon reports events of ${events.sizeof} bytes, not a multiple of 8`);
    this.#size = events.sizeof;
    this.#fields = events.fields;
    const names: (CtpEvent['kind'] | undefined)[] = [];
    for (const [name, value] of Object.entries(events.kinds) as [CtpEvent['kind'], number][]) names[value] = name;
    this.#kindNames = names;
    this.#depthKind = events.kinds.depth;
    const struct = (name: string): RawCtpLayout['structs'][string] => {
      const found = structs.structs[name];
      if (found === undefined) throw new NativeAddonError(`the CTP addon reports no layout of ${name}`);
      return found;
    };
    const field = (s: RawCtpLayout['structs'][string], name: string, base: number): { offset: number; size: number } => {
      const found = s.fields[name];
      if (found === undefined) throw new NativeAddonError(`the CTP addon reports no field ${name}`);
      return { offset: base + found.offset, size: found.size };
    };
    const info = struct('CThostFtdcRspInfoField');
    const errorId = field(info, 'ErrorID', events.fields.replyInfo);
    const message = field(info, 'ErrorMsg', events.fields.replyInfo);
    this.#info = { errorId: errorId.offset, message: message.offset, messageSize: message.size };
    const login = struct('CThostFtdcRspUserLoginField');
    const body = events.fields.replyBody;
    this.#login = {
      TradingDay: field(login, 'TradingDay', body),
      LoginTime: field(login, 'LoginTime', body),
      BrokerID: field(login, 'BrokerID', body),
      UserID: field(login, 'UserID', body),
      SystemName: field(login, 'SystemName', body),
      FrontID: field(login, 'FrontID', body),
      SessionID: field(login, 'SessionID', body),
    };
    this.#instrument = field(struct('CThostFtdcSpecificInstrumentField'), 'InstrumentID', body);
    this.#decodeDepth = compileDepthDecoder(struct('CThostFtdcDepthMarketDataField'), events.fields.depth);
  }

  /**
   * The first `count` events of `buffer`, in order.
   * @param buffer the addon's delivery buffer (read now; the addon writes the next batch over it)
   * @param count how many events it holds
   * @returns fresh event objects, safe to keep
   * @throws NativeAddonError for an event kind the decoder does not know
   */
  decode(buffer: ArrayBuffer, count: number): CtpEvent[] {
    if (buffer !== this.#buffer) {
      this.#buffer = buffer;
      this.#f64 = new Float64Array(buffer, 0, Math.floor(buffer.byteLength / 8));
      this.#i32 = new Int32Array(buffer, 0, Math.floor(buffer.byteLength / 4));
      this.#u8 = new Uint8Array(buffer);
    }
    const f64 = this.#f64;
    const i32 = this.#i32;
    const u8 = this.#u8;
    const fields = this.#fields;
    const events = new Array<CtpEvent>(count);
    for (let i = 0; i < count; i++) {
      const at = i * this.#size;
      const kind = u8[at + fields.kind] as number;
      const recvUs = f64[(at + fields.recvUs) / 8] as number;
      events[i] =
        kind === this.#depthKind ? this.#decodeDepth(f64, i32, u8, at, recvUs, this.#text) : this.#decodeControl(kind, at, recvUs);
    }
    return events;
  }

  /** A control event: connection, heartbeat, or the answer to a request. */
  #decodeControl(kind: number, at: number, recvUs: number): CtpEvent {
    const u8 = this.#u8;
    const i32 = this.#i32;
    const fields = this.#fields;
    const value = i32[(at + fields.value) / 4] as number;
    const name = this.#kindNames[kind];
    switch (name) {
      case 'front-connected':
        return { kind: name, recvUs };
      case 'front-disconnected':
        return { kind: name, reason: value, recvUs };
      case 'heartbeat-warning':
        return { kind: name, timeLapse: value, recvUs };
      case undefined:
      case 'depth':
        throw new NativeAddonError(`the CTP addon delivered an event of unknown kind ${kind}`);
      default:
        break;
    }
    const requestId = value;
    const isLast = u8[at + fields.isLast] !== 0;
    const hasBody = u8[at + fields.hasBody] !== 0;
    switch (name) {
      case 'login': {
        const l = this.#login;
        const login = hasBody
          ? {
              TradingDay: this.#readText(u8, at + l.TradingDay.offset, l.TradingDay.size),
              LoginTime: this.#readText(u8, at + l.LoginTime.offset, l.LoginTime.size),
              BrokerID: this.#readText(u8, at + l.BrokerID.offset, l.BrokerID.size),
              UserID: this.#readText(u8, at + l.UserID.offset, l.UserID.size),
              SystemName: this.#readText(u8, at + l.SystemName.offset, l.SystemName.size),
              FrontID: i32[(at + l.FrontID.offset) / 4] as number,
              SessionID: i32[(at + l.SessionID.offset) / 4] as number,
            }
          : null;
        return { kind: name, requestId, isLast, error: this.#error(at), login, recvUs };
      }
      case 'logout':
        return { kind: name, requestId, isLast, error: this.#error(at), recvUs };
      case 'error':
        return {
          kind: name,
          requestId,
          isLast,
          // OnRspError reports a failure even when the vendor left its RspInfo empty.
          error:
            this.#error(at) ?? new NativeAddonError(`CTP error 0: OnRspError without an error for request ${requestId}`, { errorId: 0 }),
          recvUs,
        };
      case 'subscribed':
      case 'unsubscribed': {
        const instrumentId = hasBody ? this.#readText(u8, at + this.#instrument.offset, this.#instrument.size) : '';
        return { kind: name, instrumentId, requestId, isLast, error: this.#error(at, instrumentId), recvUs };
      }
    }
  }

  /** The vendor's RspInfo as a NativeAddonError (its GB18030 message decoded), or null when it sent none or ErrorID 0. */
  #error(at: number, instrument?: string): NativeAddonError | null {
    if (this.#u8[at + this.#fields.hasInfo] === 0) return null;
    const errorId = this.#i32[(at + this.#info.errorId) / 4] as number;
    if (errorId === 0) return null;
    const start = at + this.#info.message;
    const bytes = this.#u8.subarray(start, start + this.#info.messageSize);
    const end = bytes.indexOf(0);
    const text = gb18030.decode(end < 0 ? bytes : bytes.subarray(0, end));
    return new NativeAddonError(`CTP error ${errorId}: ${text}`, { errorId, context: instrument === undefined ? {} : { instrument } });
  }

  /**
   * The char array at `at` read up to its first NUL within `size`, as Latin-1 (every byte kept; market-data fields are
   * ASCII), from the cache when the slot its bytes hash to holds the same text.
   */
  #readText(u8: Uint8Array, at: number, size: number): string {
    let hash = 0;
    let length = 0;
    for (; length < size; length++) {
      const byte = u8[at + length] as number;
      if (byte === 0) break;
      hash = (Math.imul(hash, 31) + byte) | 0;
    }
    const slot = (hash ^ (hash >>> 12) ^ length) & (STRING_CACHE_SLOTS - 1);
    const cached = this.#strings[slot];
    if (cached !== undefined && cached.length === length) {
      let same = true;
      for (let i = 0; i < length; i++) {
        if (cached.charCodeAt(i) !== u8[at + i]) {
          same = false;
          break;
        }
      }
      if (same) return cached;
    }
    const text = String.fromCharCode.apply(null, u8.subarray(at, at + length) as unknown as number[]);
    this.#strings[slot] = text;
    return text;
  }
}
