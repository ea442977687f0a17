import { dedupMergeComponent } from '../../operators/dedup-merge-component.js';
import { quoteDiffComponent } from '../../operators/quote-diff-component.js';
import { auditSink } from '../../sinks/audit-sink.js';
import { ndjsonFileSink } from '../../sinks/ndjson-file-sink.js';
import { redisSink } from '../../sinks/redis-sink.js';
import { websocketSink } from '../../sinks/websocket-sink.js';
import { simSource } from '../../sources/sim-source.js';
import { pipeline } from '../graph/pipeline.js';

/**
 * The embedded default, needing no server: two redundant feeds of one
 * simulated market, merged without duplicates, served to DIFF clients and
 * the live quote page on port 7777, written to NDJSON and to a hash-chained
 * audit trail, with records that fail validation kept beside them. With a
 * Redis URL (`TICKFLOW_REDIS_URL`, or `--set redis.url=…`) it also keeps the
 * latest quotes and the tick history in Redis.
 */
export const demoPipeline = pipeline(
  'demo',
  'Two redundant feeds of a simulated futures market, dedup-merged, served over WebSocket (DIFF protocol, live page on http://127.0.0.1:7777/), written to out/demo-ticks.ndjson and the audit trail out/audit/; to Redis when TICKFLOW_REDIS_URL or redis.url is set.',
  (g) => {
    const feedA = g.source('feed-a', simSource, { feed_id: 'sim-a' });
    const feedB = g.source('feed-b', simSource, { feed_id: 'sim-b', latency_us: 5000 });
    const merged = g.operator('merge', dedupMergeComponent, { feeds: ['sim-a', 'sim-b'] }, [feedA, feedB]);
    const quotes = g.operator('quotes', quoteDiffComponent, {}, merged);
    g.sink('quotes-ws', websocketSink, { port: 7777 }, { quotes, feeds: merged.side('status') });
    g.sink('ticks-file', ndjsonFileSink, { path: 'out/demo-ticks.ndjson' }, merged);
    g.sink('audit', auditSink, { dir: 'out/audit' }, { ticks: merged, feeds: merged.side('status') });
    if (g.isConfigured('redis') || g.env['TICKFLOW_REDIS_URL'] !== undefined) g.sink('redis', redisSink, {}, { quotes, ticks: merged });
    g.sink('dead-letter-file', ndjsonFileSink, { path: 'out/dead-letters.ndjson' }, g.deadLetters());
  },
);
