import { barsOperator } from '../../operators/bars-operator.js';
import { dedupMergeOperator } from '../../operators/dedup-merge-operator.js';
import { orderRouterOperator } from '../../operators/order-router-operator.js';
import { paperVenueOperator } from '../../operators/router/paper-venue-operator.js';
import { quoteDiffOperator } from '../../operators/quote-diff-operator.js';
import { riskOperator } from '../../operators/risk-operator.js';
import { strategyOperator } from '../../operators/strategy-operator.js';
import { auditSink } from '../../sinks/audit-sink.js';
import { kafkaSink } from '../../sinks/kafka-sink.js';
import { ndjsonFileSink } from '../../sinks/ndjson-file-sink.js';
import { redisSink } from '../../sinks/redis-sink.js';
import { websocketSink } from '../../sinks/websocket-sink.js';
import { ctpSimulator } from '../../native/ctp-simulator.js';
import { ctpSource } from '../../sources/ctp-source.js';
import { simSource } from '../../sources/sim-source.js';
import { pipeline } from '../../pipeline/graph/pipeline.js';

/**
 * The embedded default, needing no server: two redundant feeds of one
 * simulated market, merged without duplicates, and a CTP source reading
 * three more instruments from two fronts of the CTP simulator
 * through the native addon; merged into quotes and 5-second
 * bars; two strategies (a moving-average crossover on bars, a mean
 * reversion on ticks) trade through pre-trade risk and the order router
 * against a paper venue that fills on the live quotes; order events flow
 * back to the strategies and to risk. Quotes, feed status, orders,
 * positions and denials are served over WebSocket with the live page on
 * port 7777; ticks go to NDJSON; every tick, command, denial, order event,
 * signal and risk change to the hash-chained audit trail. With a Redis URL
 * (`TICKFLOW_REDIS_URL`, or `--set redis.url=…`) it also keeps the latest
 * quotes and the tick history in Redis. With a Kafka broker
 * (`TICKFLOW_KAFKA_BROKERS`, or `--set kafka.brokers=…`) it also records
 * every tick to the topic `tickflow.tick`, and the order events to
 * `tickflow.orderevent` (with `TICKFLOW_KAFKA_BROKERS`, or
 * `--set kafka-orders.brokers=…`); Avro in the Confluent wire format when a
 * schema registry is set (`TICKFLOW_SCHEMA_REGISTRY_URL`, or per stage
 * `--set kafka.schema_registry_url=…`), single-object encoding otherwise.
 */
/** Instruments the demo reads over CTP; the sim feeds carry others, so the two markets never mix in one instrument. */
const CTP_INSTRUMENTS = ['SHFE.au2502', 'SHFE.ag2502', 'DCE.i2505'];

export const demoPipeline = pipeline(
  'demo',
  'A simulated futures market (two redundant feeds, dedup-merged, and CTP over two fronts of the CTP simulator through the native addon) traded by two strategies through risk, order routing and a paper venue; live page on http://127.0.0.1:7777/, audit trail in out/audit/, ticks in out/demo-ticks.ndjson; Redis when TICKFLOW_REDIS_URL or redis.url is set; Kafka (ticks, order events) when TICKFLOW_KAFKA_BROKERS or kafka.brokers is set.',
  (g) => {
    const feedA = g.source('feed-a', simSource, { feed_id: 'sim-a' });
    const feedB = g.source('feed-b', simSource, { feed_id: 'sim-b', latency_us: 5000 });
    // Two fronts of one market of the CTP simulator (same seed), instruments spread by hash; the library path can be
    // pointed at the vendor's thostmduserapi_se.so (with real front addresses) by --set or TICKFLOW_CTP_LIBRARY.
    const ctpFront = (port: number): string =>
      `tcp://127.0.0.1:${port}?seed=3&rate=6&start=20250102T210000&instruments=${CTP_INSTRUMENTS.join(',')}`;
    const ctp = g.source('ctp', ctpSource, {
      library_path: g.env['TICKFLOW_CTP_LIBRARY'] ?? ctpSimulator.libraryPath(),
      fronts: [
        { name: 'simulator-front-1', front_addr: ctpFront(41_201) },
        { name: 'simulator-front-2', front_addr: ctpFront(41_202) },
      ],
      instruments: CTP_INSTRUMENTS,
      strategy: 'hash',
      feed_id: 'ctp',
    });
    const merged = g.operator('merge', dedupMergeOperator, { feeds: ['sim-a', 'sim-b', 'ctp'] }, [feedA, feedB, ctp]);
    const quotes = g.operator('quotes', quoteDiffOperator, {}, merged);
    const bars = g.operator('bars', barsOperator, { period_s: 5 }, merged);

    // Order events come back from the router (downstream of the strategies and risk), denials from risk.
    const orderEvents = g.feedback('OrderEvent');
    const denials = g.feedback('OrderEvent');
    const venueReports = g.feedback('OrderEvent');
    const maCross = g.operator(
      'ma-cross',
      strategyOperator,
      { strategy: 'ma-cross', strategy_id: 'ma-cross-1', instruments: ['SHFE.rb2501', 'SHFE.cu2501'], fast_period: 5, slow_period: 20 },
      { bars, events: [orderEvents, denials] },
    );
    const meanReversion = g.operator(
      'mean-reversion',
      strategyOperator,
      {
        strategy: 'mean-reversion',
        strategy_id: 'mean-reversion-1',
        instruments: ['DCE.m2501', 'INE.sc2501'],
        window: 50,
        entry_z: 2,
        exit_z: 0.5,
      },
      { ticks: merged, events: [orderEvents, denials] },
    );
    const approved = g.operator('risk', riskOperator, {}, { commands: [maCross, meanReversion], ticks: merged, events: orderEvents });
    const routed = g.operator('router', orderRouterOperator, {}, { commands: approved, reports: venueReports });
    const fills = g.operator('paper', paperVenueOperator, { latency_ms: 20 }, { commands: routed.side('routed'), ticks: merged });
    venueReports.connect(fills);
    orderEvents.connect(routed);
    denials.connect(approved.side('denials'));

    const feedStatus = [merged.side('status'), ctp.side('status')];
    g.sink('quotes-ws', websocketSink, { port: 7777 }, { quotes, feeds: feedStatus, orders: [routed, approved.side('denials')] });
    g.sink('ticks-file', ndjsonFileSink, { path: 'out/demo-ticks.ndjson' }, merged);
    g.sink(
      'audit',
      auditSink,
      { dir: 'out/audit' },
      {
        ticks: merged,
        feeds: feedStatus,
        commands: [maCross, meanReversion],
        events: [routed, approved.side('denials')],
        signals: [maCross.side('signals'), meanReversion.side('signals')],
        controls: approved.side('control'),
      },
    );
    if (g.isConfigured('redis') || g.env['TICKFLOW_REDIS_URL'] !== undefined) g.sink('redis', redisSink, {}, { quotes, ticks: merged });
    // Two stages, as a kafka sink reads one schema: ticks, and the order events (the router's and risk's denials) in one topic.
    const kafkaBrokers = g.env['TICKFLOW_KAFKA_BROKERS'] !== undefined;
    if (g.isConfigured('kafka') || kafkaBrokers) g.sink('kafka', kafkaSink, {}, merged);
    if (g.isConfigured('kafka-orders') || kafkaBrokers) g.sink('kafka-orders', kafkaSink, {}, [routed, approved.side('denials')]);
    g.sink('dead-letter-file', ndjsonFileSink, { path: 'out/dead-letters.ndjson' }, g.deadLetters());
  },
);
