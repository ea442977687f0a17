import { dedupMergeComponent } from '../../operators/dedup-merge-component.js';
import { quoteDiffComponent } from '../../operators/quote-diff-component.js';
import { ndjsonFileSink } from '../../sinks/ndjson-file-sink.js';
import { websocketSink } from '../../sinks/websocket-sink.js';
import { simSource } from '../../sources/sim-source.js';
import { pipeline } from '../graph/pipeline.js';

/**
 * The embedded default, needing no server: two redundant feeds of one
 * simulated market, merged without duplicates, served to DIFF clients and
 * the live quote page on port 7777, and written to NDJSON, with records
 * that fail validation kept beside them.
 */
export const demoPipeline = pipeline(
  'demo',
  'Two redundant feeds of a simulated futures market, dedup-merged, served over WebSocket (DIFF protocol, live page on http://127.0.0.1:7777/) and written to out/demo-ticks.ndjson.',
  (g) => {
    const feedA = g.source('feed-a', simSource, { feed_id: 'sim-a' });
    const feedB = g.source('feed-b', simSource, { feed_id: 'sim-b', latency_us: 5000 });
    const merged = g.operator('merge', dedupMergeComponent, { feeds: ['sim-a', 'sim-b'] }, [feedA, feedB]);
    const quotes = g.operator('quotes', quoteDiffComponent, {}, merged);
    g.sink('quotes-ws', websocketSink, { port: 7777 }, { quotes, feeds: merged.side('status') });
    g.sink('ticks-file', ndjsonFileSink, { path: 'out/demo-ticks.ndjson' }, merged);
    g.sink('dead-letter-file', ndjsonFileSink, { path: 'out/dead-letters.ndjson' }, g.deadLetters());
  },
);
