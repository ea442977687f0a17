import { metric } from '../pipeline/runtime/metric-declaration.js';
import { join } from 'node:path';
import { Observable } from 'rxjs';
import { CtpMdApi } from '../native/ctp-md-api.js';
import { inspectCtpLibrary } from '../native/inspect-ctp-library.js';
import { defineComponent } from '../pipeline/components/define-component.js';
import { field } from '../pipeline/config/field.js';
import type { FeedStatus, Tick } from '../schemas/generated.js';
import { CtpFrontPool } from './ctp/ctp-front-pool.js';
import { CtpEvents } from './ctp/ctp-events.js';
import { distributionStrategies } from './ctp/distribution-strategy.js';

/** `tcp://host:port`, optionally followed by parameters (the CTP simulator reads its market's settings there). */
const FRONT_ADDRESS = /^(tcp|ssl|udp):\/\/[^:/?]+:\d{1,5}(\?.*)?$/;

/** Each front's name; an unnamed one is `front-N`. */
const frontNamesOf = (fronts: readonly { readonly name: string }[]): string[] =>
  fronts.map((f, i) => (f.name === '' ? `front-${i + 1}` : f.name));

/**
 * The `ctp` source: market data straight from SFIT's CTP market-data
 * library (the vendor's `thostmduserapi_se.so`, or the CTP simulator),
 * loaded at run time through the native addon, from
 * several fronts at once. Each front has its own API instance; each
 * instrument is subscribed on one front, chosen by `strategy`. When a front
 * disconnects or goes silent for `stale_after_ms`, its instruments move to
 * a healthy front; after every reconnect the front logs in again and gets
 * its instruments back by `migrate_back`. Ticks are normalized per the CTP
 * pitfalls (DBL_MAX to null, night-session dates from the calendar, padded
 * milliseconds, the exchange from reference data, per-tick volume) and
 * ticks outside trading sessions are dropped and counted.
 *
 * Its side output `status` reports each front (`feed_id/front`) UP, STALE
 * or DOWN.
 *
 * ```
 * script:   -------------x-----------y-----------   x: front-1 dies; y: it accepts connections again
 *   fronts front-1 (preferred) and front-2, one instrument ticking every 4 ms   (1 ms a frame)
 * ticks:    --------1---1---2---2---2---2---1---1   by the front they came from: 2 from its first tick after x,
 *                                                   1 again from its first after its login (migrate_back)
 * status:   (dD)--(uU)---d---------------u-------   lower case front-1, upper case front-2: DOWN, UP
 * ```
 */
export const ctpSource = defineComponent({
  name: 'ctp',
  kind: 'source',
  out: 'Tick',
  sideOutputs: { status: 'FeedStatus' },
  boundary: true,
  description:
    'Ticks from CTP fronts through the native market-data library, spread over several fronts with failover; per-front status as a side output.',
  spec: {
    library_path: field.string({
      description: 'Path of the CTP market-data library (thostmduserapi_se.so) or the CTP simulator; loaded at run time',
      example: '/opt/ctp/6.7.11/thostmduserapi_se.so',
      env: 'TICKFLOW_CTP_LIBRARY',
    }),
    fronts: field.records(
      {
        name: field.string({
          description: 'Front name in logs and in the status feed id; empty: front-1, front-2, …',
          default: '',
          example: 'telecom-1',
        }),
        front_addr: field.string({ description: 'Front address, tcp://host:port', example: 'tcp://180.168.146.187:10211' }),
        broker_id: field.string({
          description: 'Broker id for login (many market-data fronts accept it empty)',
          default: '',
          example: '9999',
        }),
        user_id: field.string({
          description: 'User id for login (often empty for market data); empty reads the variable named by user_env',
          default: '',
          example: '000001',
        }),
        user_env: field.string({
          description: 'Name of the environment variable holding the user id when user_id is empty',
          default: 'TICKFLOW_CTP_USER',
          example: 'CTP_USER_TELECOM',
        }),
        password_env: field.string({
          description: "Name of the environment variable holding this front's password; unset means an empty password",
          default: 'TICKFLOW_CTP_PASSWORD',
          example: 'CTP_PASSWORD_TELECOM',
        }),
        max_subscriptions: field.integer({
          description: 'Most instruments subscribed on this front',
          default: 1000,
          min: 1,
          max: 100_000,
          example: 500,
        }),
        priority: field.integer({
          description: 'Lower is preferred: a front is used only for what better fronts cannot take',
          default: 0,
          min: 0,
          max: 1000,
          example: 1,
        }),
        flow_dir: field.string({
          description: "Directory for the library's flow files, unique per front; empty: out/ctp-flow/<stage>/<name>",
          default: '',
          example: '/var/lib/tickflow/flow/telecom-1',
        }),
      },
      { description: 'The fronts to connect to, all at once', example: [{ front_addr: 'tcp://180.168.146.187:10211', broker_id: '9999' }] },
    ),
    instruments: field.stringList({ description: 'Instruments to subscribe, exchange-prefixed', example: ['SHFE.rb2501', 'DCE.m2501'] }),
    strategy: field.choice(distributionStrategies, {
      description:
        'How instruments are spread over fronts: in turn, to the least loaded, by quality (tick age, errors, load), or by a stable hash',
      default: 'least_subscriptions',
      example: 'hash',
    }),
    migrate_back: field.choice(['on_recovery', 'never'], {
      description: 'When a front comes back: place instruments afresh (those that fled it return), or leave them where they are',
      default: 'on_recovery',
      example: 'never',
    }),
    stale_after_ms: field.integer({
      description: 'A front holding subscriptions and silent this long is STALE; its instruments move',
      default: 3000,
      min: 10,
      max: 86_400_000,
      example: 1000,
    }),
    stale_hold_ms: field.integer({
      description: 'A front that went stale gets no instruments for this long unless its data comes back',
      default: 30_000,
      min: 0,
      max: 86_400_000,
      example: 10_000,
    }),
    feed_id: field.string({ description: 'Feed id written into every tick; empty uses the stage id', default: '', example: 'ctp-a' }),
    queue_capacity: field.integer({
      description: 'Ticks the addon holds for JavaScript per front; beyond it ticks are dropped and counted',
      default: 65_536,
      min: 16,
      max: 1_048_576,
      example: 16_384,
    }),
    count: field.integer({
      description: 'Ticks after which the source completes, for bounded runs; 0 never completes',
      default: 0,
      min: 0,
      max: Number.MAX_SAFE_INTEGER,
      example: 1000,
    }),
    max_batch: field.integer({
      description: 'Most callbacks delivered to JavaScript in one call (1: one call per callback)',
      default: 1024,
      min: 1,
      max: 1_048_576,
      example: 256,
    }),
  },
  validate: [
    {
      rule: "'fronts' names at least one front",
      problems: (config) => (config.fronts.length === 0 ? [`'fronts' must name at least one front`] : []),
    },
    {
      rule: "'instruments' names at least one instrument",
      problems: (config) => (config.instruments.length === 0 ? [`'instruments' must name at least one instrument`] : []),
    },
    {
      rule: "every 'fronts[i].front_addr' looks like tcp://host:port (or ssl://, udp://)",
      problems: (config) =>
        config.fronts.flatMap((f, i) =>
          FRONT_ADDRESS.test(f.front_addr)
            ? []
            : [`'fronts[${i}].front_addr' must look like tcp://host:port, got ${JSON.stringify(f.front_addr)}`],
        ),
    },
    {
      rule: 'front names are unique (an empty name is front-N)',
      problems: (config) => {
        const names = frontNamesOf(config.fronts);
        return names.flatMap((name, i) =>
          names.indexOf(name) === i ? [] : [`'fronts[${i}].name' ${JSON.stringify(name)} is used by another front`],
        );
      },
    },
  ],
  checkedAtStart: [
    "that 'library_path' is a CTP market-data library of a supported version (loaded at start)",
    'that the fronts answer and accept the login',
  ],
  metrics: {
    front_up: metric.gauge('Whether a CTP front is logged in and delivering (1) or not (0).', { labels: ['front'] }),
    front_instruments: metric.gauge('Instruments whose ticks the ctp source takes from this front.', { labels: ['front'] }),
    instrument_moves_total: metric.counter('Times an instrument began taking its ticks from another front.'),
    queue_dropped_total: metric.counter("Ticks a front's addon queue dropped because JavaScript fell behind.", { labels: ['front'] }),
  },
  drops: {
    overlap: "A tick of an instrument from a front that is not the instrument's current one",
    'queue-overflow': "Ticks the addon's bounded queue dropped because JavaScript fell behind",
    unrequested: 'A tick of an instrument the source did not subscribe',
    'outside-session': 'A tick outside the trading sessions of its exchange',
    'unknown-instrument': 'A tick of a product the product table does not know (no exchange or sessions for it)',
    malformed: 'A tick with a field that cannot be read (empty InstrumentID, a bad UpdateTime or UpdateMillisec, no date it can fall on)',
    duplicate: "A tick not newer than the instrument's latest accepted one (what a front repeats when it takes an instrument over)",
  },
  events: {
    [CtpEvents.FRONT_READY]: 'A CTP front logged in (again), or its data came back after staleness',
    [CtpEvents.FRONT_UNAVAILABLE]: 'A CTP front disconnected, is logging in, or went stale',
    [CtpEvents.INSTRUMENT_MOVED]: 'An instrument now takes its ticks from another front (its first tick there)',
  },
  create(config, ctx) {
    // A wrong path, a library that is not CTP or an unknown version fails here, before anything runs.
    const library = inspectCtpLibrary(config.library_path);
    ctx.logger.info(
      { library: library.path, version: library.version, sdk: library.sdk },
      `ctp: ${library.path} is CTP ${library.version}`,
    );

    const feedId = config.feed_id === '' ? ctx.stage : config.feed_id;
    const statusOut = ctx.sideOutput<FeedStatus>('status');
    const names = frontNamesOf(config.fronts);
    const fronts = config.fronts.map((f, i) => ({
      name: names[i] as string,
      address: f.front_addr,
      brokerId: f.broker_id,
      userId: f.user_id === '' ? (ctx.env[f.user_env] ?? '') : f.user_id,
      // Read when the stage is built, never at import time and never logged.
      password: ctx.env[f.password_env] ?? '',
      maxSubscriptions: f.max_subscriptions,
      priority: f.priority,
      flowPath: f.flow_dir === '' ? join('out', 'ctp-flow', ctx.stage, names[i] as string) : f.flow_dir,
      libraryPath: library.path,
      queueCapacity: config.queue_capacity,
      maxBatch: config.max_batch,
      staleAfterMs: config.stale_after_ms,
      staleHoldMs: config.stale_hold_ms,
    }));

    const limit = config.count > 0 ? config.count : Infinity;

    return new Observable<Tick>((subscriber) => {
      let emitted = 0;
      const pool = new CtpFrontPool(
        { feedId, instruments: config.instruments, strategy: config.strategy, migrateBack: config.migrate_back, fronts },
        ctx.scheduler,
        ctx.logger,
        ctx.metrics,
        ctx.instrumentation,
        {
          tick: (tick) => {
            if (emitted >= limit) return;
            emitted++; // counted before `next`, which may re-enter through a synchronous unsubscribe
            subscriber.next(tick);
            if (emitted >= limit) subscriber.complete();
          },
          status: (status) => statusOut.next(status),
        },
        (options) => CtpMdApi.open(options),
      );
      try {
        pool.start(config.stale_after_ms);
      } catch (error) {
        pool.close();
        subscriber.error(error);
      }
      return () => pool.close();
    });
  },
});
