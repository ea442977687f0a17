/**
 * The key layout of the `redis` sink under one prefix (default `tickflow:`):
 *
 * | key | type | holds |
 * | --- | --- | --- |
 * | `{prefix}quote:{instrument_id}` | hash | the latest quote, DIFF field names (`last_price`, `highest`, `datetime`, …) |
 * | `{prefix}ticks:{instrument_id}` | stream | tick history, one entry per tick, one field `avro` (the tick in Avro single-object encoding), trimmed to about `history_max_len` |
 * | `{prefix}schema:{fingerprint}` | string | the Avro schema (JSON) of the stream values whose fingerprint (bytes 2-9, in hex) this is |
 * | `{prefix}instruments` | set | every instrument the sink has written |
 * | `{prefix}quotes:{instrument_id}` | pub/sub channel | quote changes as JSON merge patches (when `publish` is on) |
 *
 * Keys of an instrument are built once and cached: the sink asks for them on every record.
 */
export class RedisKeys {
  readonly instruments: string;
  private readonly quoteKeys = new Map<string, string>();
  private readonly tickKeys = new Map<string, string>();
  private readonly channels = new Map<string, string>();

  constructor(readonly prefix: string) {
    this.instruments = `${prefix}instruments`;
  }

  /** The hash of the instrument's latest quote. */
  quote(instrumentId: string): string {
    return cached(this.quoteKeys, instrumentId, () => `${this.prefix}quote:${instrumentId}`);
  }

  /** The stream of the instrument's ticks. */
  ticks(instrumentId: string): string {
    return cached(this.tickKeys, instrumentId, () => `${this.prefix}ticks:${instrumentId}`);
  }

  /** The string holding the Avro schema whose fingerprint stream values carry (hex of their bytes 2 to 9). */
  schema(fingerprint: string): string {
    return `${this.prefix}schema:${fingerprint}`;
  }

  /** The pub/sub channel of the instrument's quote changes. */
  quoteChannel(instrumentId: string): string {
    return cached(this.channels, instrumentId, () => `${this.prefix}quotes:${instrumentId}`);
  }
}

function cached(map: Map<string, string>, id: string, make: () => string): string {
  let key = map.get(id);
  if (key === undefined) map.set(id, (key = make()));
  return key;
}
