import { barsOperator } from '../operators/bars-operator.js';
import { dedupMergeOperator } from '../operators/dedup-merge-operator.js';
import { passThroughOperator } from '../operators/pass-through-operator.js';
import { orderRouterOperator } from '../operators/order-router-operator.js';
import { paperVenueOperator } from '../operators/router/paper-venue-operator.js';
import { quoteDiffOperator } from '../operators/quote-diff-operator.js';
import { riskOperator } from '../operators/risk-operator.js';
import { strategyOperator } from '../operators/strategy-operator.js';
import { auditSink } from '../sinks/audit-sink.js';
import { kafkaSink } from '../sinks/kafka-sink.js';
import { ndjsonFileSink } from '../sinks/ndjson-file-sink.js';
import { redisSink } from '../sinks/redis-sink.js';
import { websocketSink } from '../sinks/websocket-sink.js';
import { ctpSource } from '../sources/ctp-source.js';
import { fileSource } from '../sources/file-source.js';
import { kafkaSource } from '../sources/kafka-source.js';
import { simSource } from '../sources/sim-source.js';
import { wsFeedSource } from '../sources/ws-feed-source.js';
import { ComponentRegistry } from '../pipeline/components/component-registry.js';

/** A new registry holding every component tickflow ships. */
export function builtinComponents(): ComponentRegistry {
  return new ComponentRegistry([
    simSource,
    ctpSource,
    wsFeedSource,
    fileSource,
    kafkaSource,
    passThroughOperator,
    quoteDiffOperator,
    dedupMergeOperator,
    barsOperator,
    strategyOperator,
    riskOperator,
    orderRouterOperator,
    paperVenueOperator,
    ndjsonFileSink,
    websocketSink,
    redisSink,
    auditSink,
    kafkaSink,
  ]);
}
