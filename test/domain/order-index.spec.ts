import { describe, expect, it } from 'vitest';
import { OrderIndex } from '../../domain/order-index.js';
import { ConfigError, InvalidStateTransitionError } from '../../errors/errors.js';
import { ClientOrderId, InstrumentId, StrategyId } from '../../schemas/generated.js';

interface TestOrder {
  readonly strategy: StrategyId;
  readonly id: ClientOrderId;
  readonly instrument: InstrumentId;
}

const order = (strategy: string, id: string, instrument = 'SHFE.rb2501'): TestOrder => ({
  strategy: StrategyId(strategy),
  id: ClientOrderId(id),
  instrument: InstrumentId(instrument),
});
/** The index's lookup with plain strings, branded here: the test's trust boundary. */
const find = (index: OrderIndex<TestOrder>, strategy: string, id: string) => index.get(StrategyId(strategy), ClientOrderId(id));
const indexOf = (maxClosed: number) =>
  new OrderIndex<TestOrder>({ maxClosed, ownerOf: (o) => o.strategy, clientOrderIdOf: (o) => o.id, instrumentOf: (o) => o.instrument });
const sizes = (index: OrderIndex<TestOrder>) => ({ size: index.size, working: index.workingCount, closed: index.closedCount });

describe('OrderIndex', () => {
  it('finds an order by owner and client order id, working and after it closed', () => {
    const index = indexOf(10);
    const a = order('ma', 'o-1');
    expect(find(index, 'ma', 'o-1')).toBeUndefined();
    index.add(a);
    expect(find(index, 'ma', 'o-1')).toBe(a);
    expect(index.isClosed(a)).toBe(false);
    expect(index.close(a)).toBeUndefined();
    expect(find(index, 'ma', 'o-1')).toBe(a);
    expect(index.isClosed(a)).toBe(true);
    expect(sizes(index)).toEqual({ size: 1, working: 0, closed: 1 });
  });

  it('keeps the same client order id of two strategies apart', () => {
    const index = indexOf(10);
    const ofMa = order('ma', 'o-1');
    const ofMr = order('mr', 'o-1');
    index.add(ofMa);
    index.add(ofMr);
    expect(find(index, 'ma', 'o-1')).toBe(ofMa);
    expect(find(index, 'mr', 'o-1')).toBe(ofMr);
    index.close(ofMa);
    expect(index.workingOrders()).toEqual([ofMr]);
    expect(find(index, 'mr', 'o-1')).toBe(ofMr);
  });

  it('refuses a second order under a key it holds, working or closed, and leaves the first as it was', () => {
    const index = indexOf(10);
    const first = order('ma', 'o-1');
    index.add(first);
    expect(() => index.add(order('ma', 'o-1', 'DCE.m2501'))).toThrow(InvalidStateTransitionError);
    index.close(first);
    // A closed order cannot come back as working under its id.
    expect(() => index.add(order('ma', 'o-1'))).toThrow(/order o-1 of ma is already indexed/);
    expect(find(index, 'ma', 'o-1')).toBe(first);
    expect(index.isClosed(first)).toBe(true);
    expect(index.workingOrders()).toEqual([]);
    expect(sizes(index)).toEqual({ size: 1, working: 0, closed: 1 });
  });

  it('closing a closed order again changes nothing and evicts nothing', () => {
    const index = indexOf(1);
    const a = order('ma', 'o-1');
    const b = order('ma', 'o-2');
    index.add(a);
    index.add(b);
    index.close(a);
    expect(index.close(a)).toBeUndefined();
    expect(find(index, 'ma', 'o-1')).toBe(a);
    expect(sizes(index)).toEqual({ size: 2, working: 1, closed: 1 });
  });

  it('refuses to close an order it does not hold', () => {
    const index = indexOf(1);
    expect(() => index.close(order('ma', 'o-9'))).toThrow(/order o-9 of ma is not in the index/);
    expect(sizes(index)).toEqual({ size: 0, working: 0, closed: 0 });
  });

  it('forgets the order closed longest ago beyond the bound, by closing order, not by adding order, and hands it back', () => {
    const index = indexOf(2);
    const [a, b, c, d] = ['o-1', 'o-2', 'o-3', 'o-4'].map((id) => order('ma', id)) as [TestOrder, TestOrder, TestOrder, TestOrder];
    for (const o of [a, b, c, d]) index.add(o);
    expect(index.close(c)).toBeUndefined();
    expect(index.close(a)).toBeUndefined();
    expect(index.close(d)).toBe(c);
    expect(find(index, 'ma', 'o-3')).toBeUndefined();
    expect(index.close(b)).toBe(a);
    expect(find(index, 'ma', 'o-1')).toBeUndefined();
    expect([find(index, 'ma', 'o-2'), find(index, 'ma', 'o-4')]).toEqual([b, d]);
    expect(sizes(index)).toEqual({ size: 2, working: 0, closed: 2 });
    // A forgotten order's id is free again.
    const again = order('ma', 'o-1');
    index.add(again);
    expect(find(index, 'ma', 'o-1')).toBe(again);
  });

  it('keeps forgetting in closing order through many thousand evictions', () => {
    const index = indexOf(3);
    const orders = Array.from({ length: 5000 }, (_, i) => order('ma', `o-${i}`));
    const forgotten: (TestOrder | undefined)[] = [];
    for (const o of orders) {
      index.add(o);
      forgotten.push(index.close(o));
    }
    expect(forgotten.slice(0, 3)).toEqual([undefined, undefined, undefined]);
    expect(forgotten.slice(3)).toEqual(orders.slice(0, -3));
    expect([...index.orders()]).toEqual(orders.slice(-3));
    for (const o of orders.slice(-3)) expect(index.isClosed(o)).toBe(true);
    expect(index.isClosed(orders[0] as TestOrder)).toBe(false);
    expect(sizes(index)).toEqual({ size: 3, working: 0, closed: 3 });
  });

  it('never forgets a working order, however many there are', () => {
    const index = indexOf(1);
    const orders = Array.from({ length: 50 }, (_, i) => order('ma', `o-${i}`));
    for (const o of orders) index.add(o);
    for (const o of orders.slice(0, 10)) index.close(o);
    expect(sizes(index)).toEqual({ size: 41, working: 40, closed: 1 });
    expect(index.workingOrders()).toEqual(orders.slice(10));
    for (const o of orders.slice(10)) expect(index.get(StrategyId('ma'), o.id)).toBe(o);
  });

  it('with a bound of 0 forgets an order as it closes', () => {
    const index = indexOf(0);
    const a = order('ma', 'o-1');
    index.add(a);
    expect(index.close(a)).toBe(a);
    expect(find(index, 'ma', 'o-1')).toBeUndefined();
    expect(sizes(index)).toEqual({ size: 0, working: 0, closed: 0 });
  });

  it('lists working orders in the order they were added, of one instrument when asked', () => {
    const index = indexOf(10);
    const rb1 = order('ma', 'o-1', 'SHFE.rb2501');
    const m = order('mr', 'o-1', 'DCE.m2501');
    const rb2 = order('ma', 'o-2', 'SHFE.rb2501');
    const rb3 = order('mr', 'o-3', 'SHFE.rb2501');
    for (const o of [rb1, m, rb2, rb3]) index.add(o);
    index.close(rb2);
    expect(index.workingOrders()).toEqual([rb1, m, rb3]);
    expect(index.workingOrders(InstrumentId('SHFE.rb2501'))).toEqual([rb1, rb3]);
    expect(index.workingOrders(InstrumentId('DCE.m2501'))).toEqual([m]);
    expect(index.workingOrders(InstrumentId('CZCE.SR501'))).toEqual([]);
    // The empty answer is one shared frozen array: asking on every tick allocates nothing.
    expect(index.workingOrders(InstrumentId('CZCE.SR501'))).toBe(index.workingOrders(InstrumentId('INE.sc2501')));
    expect(Object.isFrozen(index.workingOrders(InstrumentId('CZCE.SR501')))).toBe(true);
  });

  it('lists every order it holds, owner by owner, each owner in adding order, closed ones included', () => {
    const index = indexOf(1);
    const a = order('ma', 'o-1');
    const b = order('mr', 'o-1');
    const c = order('ma', 'o-2');
    const d = order('ma', 'o-3');
    for (const o of [a, b, c, d]) index.add(o);
    index.close(a);
    expect([...index.orders()]).toEqual([a, c, d, b]);
    index.close(c);
    expect([...index.orders()]).toEqual([c, d, b]);
  });

  it('drops an owner with nothing left, and lists it after the others when it comes back', () => {
    const index = indexOf(0);
    const a = order('ma', 'o-1');
    const b = order('mr', 'o-1');
    index.add(a);
    index.add(b);
    index.close(a);
    const c = order('ma', 'o-2');
    index.add(c);
    expect([...index.orders()]).toEqual([b, c]);
  });

  it('takes only its own kind of id for each key (the type check fails otherwise)', () => {
    const index = indexOf(10);
    const a = order('ma', 'o-1');
    index.add(a);
    expect(index.get(a.strategy, a.id)).toBe(a);
    // @ts-expect-error a strategy id is no client order id
    expect(index.get(a.strategy, a.strategy)).toBeUndefined();
    // @ts-expect-error a client order id is no strategy id
    expect(index.get(a.id, a.id)).toBeUndefined();
    // @ts-expect-error a plain string is no client order id: it is branded where it enters
    expect(index.get(a.strategy, 'o-1')).toBe(a);
    // @ts-expect-error a strategy id is no instrument id
    expect(index.workingOrders(a.strategy)).toEqual([]);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses a bound of %s', (maxClosed) => {
    expect(() => indexOf(maxClosed)).toThrow(ConfigError);
    expect(() => indexOf(maxClosed)).toThrow(/'maxClosed' must be an integer ≥ 0/);
  });
});
