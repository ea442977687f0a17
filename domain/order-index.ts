import { ConfigError, InvalidStateTransitionError } from '../errors/errors.js';
import type { ClientOrderId, InstrumentId, StrategyId } from '../schemas/generated.js';

/** How an {@link OrderIndex} reads the keys of the orders it holds. */
export interface OrderIndexOptions<Order, Owner extends string> {
  /**
   * Closed orders kept (for late reports and cancels, or for clients to see);
   * beyond this many, the one closed longest ago is forgotten. An integer ≥ 0.
   */
  readonly maxClosed: number;
  /** The first key: whose client order ids these are (the strategy; a per-account book uses its account). */
  readonly ownerOf: (order: Order) => Owner;
  readonly clientOrderIdOf: (order: Order) => ClientOrderId;
  readonly instrumentOf: (order: Order) => InstrumentId;
}

const NO_ORDERS: readonly never[] = Object.freeze([]);
/** Forgotten slots at the head of the closed queue before it is compacted. */
const COMPACT_AFTER = 1024;

/**
 * Orders by owner and client order id, working ones in the order they came,
 * and the closed ones bounded: when one more closes than `maxClosed` allows,
 * the order closed longest ago is forgotten (and handed back, so a caller
 * can tell its own clients).
 *
 * Client order ids are their owner's: two strategies may use the same one,
 * and they are two orders. The keys are branded ids (StrategyId,
 * ClientOrderId, InstrumentId), so one kind of id cannot be passed for
 * another. Closing is one way: a closed order stays closed
 * until it is forgotten, and its key cannot be taken again while it is
 * remembered. The index holds the caller's own order objects and never
 * changes them; their state is the caller's.
 *
 * @example
 * ```ts
 * import { ClientOrderId, InstrumentId, StrategyId } from '../schemas/generated.js';
 * interface Order { readonly strategy: StrategyId; readonly id: ClientOrderId; readonly instrument: InstrumentId }
 * const index = new OrderIndex<Order>({ maxClosed: 1, ownerOf: (o) => o.strategy, clientOrderIdOf: (o) => o.id, instrumentOf: (o) => o.instrument });
 * const order = (id: string): Order => ({ strategy: StrategyId('ma'), id: ClientOrderId(id), instrument: InstrumentId('SHFE.rb2501') });
 * const first = order('o-1');
 * const second = order('o-2');
 * index.add(first);
 * index.add(second);
 * index.close(first);
 * console.log(index.close(second)?.id, index.get(StrategyId('ma'), ClientOrderId('o-1')), index.size);
 * // Logs: o-1 undefined 1
 * ```
 */
export class OrderIndex<Order, Owner extends string = StrategyId> {
  private readonly byOwner = new Map<Owner, Map<ClientOrderId, Order>>();
  /** Open orders, in the order they were added (a Set keeps insertion order). */
  private readonly working = new Set<Order>();
  /**
   * Closed orders, the one closed longest ago at `closedHead`: a queue, not a
   * Set, because a Set that loses its oldest entry keeps it as a hole that
   * every later look at its first entry walks past (V8's ordered hash table),
   * and so became slower with every eviction.
   */
  private readonly closed: (Order | undefined)[] = [];
  private closedHead = 0;
  private readonly maxClosed: number;
  private readonly ownerOf: (order: Order) => Owner;
  private readonly clientOrderIdOf: (order: Order) => ClientOrderId;
  private readonly instrumentOf: (order: Order) => InstrumentId;

  /** @throws {ConfigError} When `maxClosed` is not an integer ≥ 0. */
  constructor(options: OrderIndexOptions<Order, Owner>) {
    if (!Number.isInteger(options.maxClosed) || options.maxClosed < 0) {
      throw new ConfigError('OrderIndex', [`'maxClosed' must be an integer ≥ 0, got ${options.maxClosed}`]);
    }
    this.maxClosed = options.maxClosed;
    this.ownerOf = options.ownerOf;
    this.clientOrderIdOf = options.clientOrderIdOf;
    this.instrumentOf = options.instrumentOf;
  }

  /** The order of `owner` with `clientOrderId`, working or closed and still remembered. */
  get(owner: Owner, clientOrderId: ClientOrderId): Order | undefined {
    return this.byOwner.get(owner)?.get(clientOrderId);
  }

  /**
   * Adds a working order.
   *
   * @throws {InvalidStateTransitionError} When its owner already has an order with its client order id (working, or closed and remembered).
   */
  add(order: Order): void {
    const owner = this.ownerOf(order);
    const clientOrderId = this.clientOrderIdOf(order);
    let ofOwner = this.byOwner.get(owner);
    if (ofOwner === undefined) this.byOwner.set(owner, (ofOwner = new Map<ClientOrderId, Order>()));
    else if (ofOwner.has(clientOrderId))
      throw new InvalidStateTransitionError(`order ${clientOrderId} of ${owner} is already indexed; an order id is used once`);
    ofOwner.set(clientOrderId, order);
    this.working.add(order);
  }

  /** Whether `order` is held and closed. */
  isClosed(order: Order): boolean {
    return !this.working.has(order) && this.holds(order);
  }

  /**
   * Marks a working order closed; nothing when it is closed already. When
   * that makes more closed orders than `maxClosed`, the one closed longest
   * ago (this one, with a bound of 0) is forgotten.
   *
   * @returns The order forgotten, or undefined.
   * @throws {InvalidStateTransitionError} When the index does not hold `order`.
   */
  close(order: Order): Order | undefined {
    if (!this.working.delete(order)) {
      if (this.holds(order)) return undefined;
      throw new InvalidStateTransitionError(
        `order ${this.clientOrderIdOf(order)} of ${this.ownerOf(order)} is not in the index; it cannot be closed`,
      );
    }
    const closed = this.closed;
    closed.push(order);
    if (closed.length - this.closedHead <= this.maxClosed) return undefined;
    const oldest = closed[this.closedHead] as Order;
    closed[this.closedHead++] = undefined;
    // The forgotten slots go now and then, at a cost shared by the closes since.
    if (this.closedHead >= COMPACT_AFTER && this.closedHead * 2 >= closed.length) {
      closed.splice(0, this.closedHead);
      this.closedHead = 0;
    }
    const owner = this.ownerOf(oldest);
    const ofOwner = this.byOwner.get(owner);
    ofOwner?.delete(this.clientOrderIdOf(oldest));
    if (ofOwner?.size === 0) this.byOwner.delete(owner);
    return oldest;
  }

  /** The working orders, oldest first; of one instrument when given. A shared empty array when there are none. */
  workingOrders(instrumentId?: InstrumentId): readonly Order[] {
    // Most calls find none: nothing is allocated for them.
    let orders: Order[] | undefined;
    for (const order of this.working)
      if (instrumentId === undefined || this.instrumentOf(order) === instrumentId) (orders ??= []).push(order);
    return orders ?? NO_ORDERS;
  }

  /**
   * Every order held, working and closed: owner by owner, each owner's in
   * the order they were added. Owners come in the order they appeared; one
   * whose orders were all forgotten comes last when it returns.
   */
  *orders(): IterableIterator<Order> {
    for (const ofOwner of this.byOwner.values()) yield* ofOwner.values();
  }

  /** Orders held, working and closed. */
  get size(): number {
    return this.working.size + this.closedCount;
  }

  get workingCount(): number {
    return this.working.size;
  }

  get closedCount(): number {
    return this.closed.length - this.closedHead;
  }

  /** Whether `order` itself is the one held under its keys. */
  private holds(order: Order): boolean {
    return this.get(this.ownerOf(order), this.clientOrderIdOf(order)) === order;
  }
}
