import { barsComponent } from '../operators/bars-component.js';
import { dedupMergeComponent } from '../operators/dedup-merge-component.js';
import { passThroughComponent } from '../operators/pass-through-component.js';
import { orderRouterComponent } from '../operators/order-router-component.js';
import { paperVenueComponent } from '../operators/router/paper-venue-component.js';
import { quoteDiffComponent } from '../operators/quote-diff-component.js';
import { riskComponent } from '../operators/risk-component.js';
import { strategyComponent } from '../operators/strategy-component.js';
import { auditSink } from '../sinks/audit-sink.js';
import { ndjsonFileSink } from '../sinks/ndjson-file-sink.js';
import { redisSink } from '../sinks/redis-sink.js';
import { websocketSink } from '../sinks/websocket-sink.js';
import { ctpSource } from '../sources/ctp-source.js';
import { fileSource } from '../sources/file-source.js';
import { simSource } from '../sources/sim-source.js';
import { wsFeedSource } from '../sources/ws-feed-source.js';
import { ComponentRegistry } from '../pipeline/components/component-registry.js';

/** A new registry holding every component tickflow ships. */
export function builtinComponents(): ComponentRegistry {
  return new ComponentRegistry([simSource, ctpSource, wsFeedSource, fileSource, passThroughComponent, quoteDiffComponent, dedupMergeComponent, barsComponent, strategyComponent, riskComponent, orderRouterComponent, paperVenueComponent, ndjsonFileSink, websocketSink, redisSink, auditSink]);
}
