import type { Tick } from '../../schemas/generated.js';

/** How each Tick field is written: `text` as is, `number` always, `price` only when set. */
type FieldKind = 'text' | 'number' | 'price';

/** Every Tick field, in schema order; `satisfies` fails the build when the Tick schema gains or loses a field. */
const TICK_FIELDS = {
  instrument_id: 'text',
  trading_day: 'text',
  action_day: 'text',
  ts_event: 'number',
  last_price: 'price',
  pre_settlement: 'price',
  pre_close: 'price',
  pre_open_interest: 'number',
  open: 'price',
  high: 'price',
  low: 'price',
  close: 'price',
  settlement: 'price',
  upper_limit: 'price',
  lower_limit: 'price',
  average_price: 'price',
  volume: 'number',
  last_volume: 'price',
  turnover: 'number',
  open_interest: 'number',
  bid_price1: 'price',
  bid_volume1: 'number',
  ask_price1: 'price',
  ask_volume1: 'number',
  bid_price2: 'price',
  bid_volume2: 'number',
  ask_price2: 'price',
  ask_volume2: 'number',
  bid_price3: 'price',
  bid_volume3: 'number',
  ask_price3: 'price',
  ask_volume3: 'number',
  bid_price4: 'price',
  bid_volume4: 'number',
  ask_price4: 'price',
  ask_volume4: 'number',
  bid_price5: 'price',
  bid_volume5: 'number',
  ask_price5: 'price',
  ask_volume5: 'number',
  feed_id: 'text',
  ts_recv: 'number',
  sequence: 'number',
} as const satisfies Record<keyof Tick, FieldKind>;

/**
 * Appends `field, value, field, value, …` of a tick to `args`. Generated
 * once as straight-line code, one statement per field, because V8 runs that
 * several times faster than a loop over field names (DESIGN.md §5); the
 * field names are our own constants, never input. A price that is null —
 * or not a real price (NaN, infinite, CTP's DBL_MAX) — is left out.
 */
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from our own field names, as said above
const appendFields = new Function(
  'args',
  't',
  Object.entries(TICK_FIELDS)
    .map(([f, kind]) =>
      kind === 'price'
        ? `if (t.${f} !== null && Math.abs(t.${f}) < 1.7976931348623157e308) args.push('${f}', String(t.${f}));`
        : kind === 'number'
          ? `args.push('${f}', String(t.${f}));`
          : `args.push('${f}', t.${f});`,
    )
    .join('\n'),
) as (args: string[], tick: Tick) => void;

/**
 * The arguments of `XADD key MAXLEN ~ maxLen * field value …` for one tick:
 * every Tick field under its schema name, as text, null prices omitted, so
 * a reader rebuilds the Tick exactly (`ts_event` stays epoch microseconds).
 * The entry id is left to Redis (`*`): ticks of one instrument from several
 * feeds may share an event time, and Redis ids must be strictly increasing.
 *
 * @example
 * ```ts
 * import { firstValueFrom } from 'rxjs';
 * const tick = await firstValueFrom(simSource.create(validateComponentConfig(simSource, { rate: 0, count: 1 }), ctx));
 * const args = tickStreamFields('tickflow:ticks:SHFE.rb2501', '100000', tick);
 * console.log(args.slice(0, 7).join(' '));
 * // Logs: tickflow:ticks:SHFE.rb2501 MAXLEN ~ 100000 * instrument_id SHFE.rb2501
 * ```
 *
 * @param key The instrument's stream key.
 * @param maxLen The approximate length to trim the stream to, as text.
 * @param tick The tick.
 * @returns The XADD arguments after the command name.
 */
export function tickStreamFields(key: string, maxLen: string, tick: Tick): string[] {
  const args = [key, 'MAXLEN', '~', maxLen, '*'];
  appendFields(args, tick);
  return args;
}
