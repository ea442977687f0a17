// Sessions on the CTP simulator for the native tests: every test gets
// fronts of its own (the library keeps fronts for the life of the process),
// its own flow directory, and a record of everything delivered.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CtpMdApi, type CtpMdApiOptions } from '../../native/ctp-md-api.js';
import type { CtpEvent } from '../../native/ctp-event.js';
import { ctpSimulator } from '../../native/ctp-simulator.js';
import { waitFor } from './wait-for.js';

export const CTP_SIMULATOR_LIBRARY = ctpSimulator.libraryPath();
const flowRoot = mkdtempSync(join(tmpdir(), 'tickflow-ctp-native-'));
let nextFlow = 0;
// Far from the ports other spec files use, though fronts are per process anyway.
let nextPort = 47_000;

/** A fresh flow directory under the OS temp dir. */
export function flowDir(): string {
  return join(flowRoot, `session-${nextFlow++}`);
}

/** The address of a front no other test uses: `tcp://127.0.0.1:PORT?…` with the simulator's parameters. */
export function frontAddress(params: Readonly<Record<string, string | number>> = {}): string {
  const all = { seed: 1, rate: 20, instruments: 'SHFE.rb2501,DCE.m2501', start: '20250102T210000', retry_ms: 100, ...params };
  return `tcp://127.0.0.1:${nextPort++}?${Object.entries(all)
    .map(([k, v]) => `${k}=${v}`)
    .join('&')}`;
}

type Depth = Extract<CtpEvent, { kind: 'depth' }>;

/** A CtpMdApi on one front, recording every onEvents call. */
export class RecordedSession {
  readonly api: CtpMdApi;
  readonly events: CtpEvent[] = [];
  readonly batchSizes: number[] = [];
  droppedReported = 0;
  /** onEvents calls that arrived after close() returned: must stay 0. */
  callsAfterClose = 0;
  #closed = false;
  /** Conditions someone awaits (`until`), checked after every onEvents call. */
  #waiters: { readonly condition: () => boolean; readonly done: () => void }[] = [];

  constructor(
    readonly address: string,
    options: Partial<Omit<CtpMdApiOptions, 'onEvents'>> & {
      /** Log in on every front-connected and subscribe these ids after every login. */
      readonly autoSubscribe?: readonly string[];
      readonly onBatch?: (events: readonly CtpEvent[], session: RecordedSession) => void;
    } = {},
  ) {
    const { autoSubscribe, onBatch, ...rest } = options;
    this.api = CtpMdApi.open({
      libraryPath: CTP_SIMULATOR_LIBRARY,
      flowPath: flowDir(),
      ...rest,
      onEvents: (events, dropped) => {
        if (this.#closed) this.callsAfterClose++;
        this.batchSizes.push(events.length);
        this.droppedReported += dropped;
        for (const event of events) {
          this.events.push(event);
          if (autoSubscribe === undefined) continue;
          if (event.kind === 'front-connected') this.api.login({ brokerId: '', userId: '', password: '' });
          if (event.kind === 'login' && event.error === null) this.api.subscribe(autoSubscribe);
        }
        this.#waiters = this.#waiters.filter((w) => (w.condition() ? (w.done(), false) : true));
        onBatch?.(events, this);
      },
    });
    this.api.registerFront(address);
    this.api.init();
  }

  close(): void {
    this.api.close();
    this.#closed = true;
  }

  /**
   * Resolves as soon as `condition` holds: checked now and after every onEvents call of this session (no polling
   * interval, so loops of many short waits stay fast); rejects after `timeoutMs`.
   */
  until(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = { condition, done: () => (clearTimeout(timer), resolve()) };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  /** Depth events (of `instrumentId` when given) from index `from` of `events`. */
  depth(instrumentId?: string, from = 0): Depth[] {
    return this.events
      .slice(from)
      .filter((e): e is Depth => e.kind === 'depth' && (instrumentId === undefined || e.data.InstrumentID === instrumentId));
  }

  /** The index in `events` of the first event at or after `from` matching `match`, waiting up to `timeoutMs` (default: waitFor's). */
  async indexOf(what: string, match: (event: CtpEvent) => boolean, from = 0, timeoutMs?: number): Promise<number> {
    return waitFor(
      what,
      () => {
        const index = this.events.findIndex((e, i) => i >= from && match(e));
        return index < 0 ? undefined : index;
      },
      timeoutMs,
    );
  }

  /** The first event of `kind` at or after `from`. */
  async next<K extends CtpEvent['kind']>(kind: K, from = 0, timeoutMs?: number): Promise<Extract<CtpEvent, { kind: K }>> {
    const index = await this.indexOf(kind, (e) => e.kind === kind, from, timeoutMs);
    return this.events[index] as Extract<CtpEvent, { kind: K }>;
  }
}
