import type { CancelOrder, SubmitOrder } from '../../schemas/generated.js';
import { makeTick } from './make-tick.js';
import { fromPlainIds, type PlainIds } from './plain-ids.js';

/** One minute into makeTick's session: a time at which SHFE.rb2501 trades. */
export const ORDER_TIME = makeTick().ts_event + 60_000_000;

/** A valid limit buy of one lot of SHFE.rb2501 at 3500 by strategy `strat` of account `acc`, with the given fields changed (ids as plain strings). */
export function makeSubmit(changes: Partial<PlainIds<SubmitOrder>> = {}): SubmitOrder {
  return fromPlainIds<SubmitOrder>({
    type: 'SubmitOrder',
    command_id: 'cmd-1',
    client_order_id: 'o-1',
    strategy_id: 'strat',
    account_id: 'acc',
    instrument_id: 'SHFE.rb2501',
    side: 'BUY',
    order_type: 'LIMIT',
    time_in_force: 'GFD',
    position_effect: 'OPEN',
    quantity: 1,
    price: 3500,
    venue: null,
    ts_init: ORDER_TIME,
    causation_id: null,
    ...changes,
  });
}

/** A valid cancel of order `o-1` of makeSubmit's strategy and account, with the given fields changed (ids as plain strings). */
export function makeCancel(changes: Partial<PlainIds<CancelOrder>> = {}): CancelOrder {
  return fromPlainIds<CancelOrder>({
    type: 'CancelOrder',
    command_id: 'cmd-c1',
    client_order_id: 'o-1',
    strategy_id: 'strat',
    account_id: 'acc',
    instrument_id: 'SHFE.rb2501',
    venue: null,
    ts_init: ORDER_TIME,
    causation_id: null,
    ...changes,
  });
}
