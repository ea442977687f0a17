import { ndjsonFileSink } from '../../sinks/ndjson-file-sink.js';
import { simSource } from '../../sources/sim-source.js';
import { pipeline } from '../graph/pipeline.js';

/**
 * The embedded default: a simulated market written to NDJSON, with records
 * that fail validation kept beside it. Needs no server.
 */
export const demoPipeline = pipeline('demo', 'Simulated futures market (six instruments, day and night sessions) to out/demo-ticks.ndjson; no servers needed.', (g) => {
  const ticks = g.source('market', simSource, {});
  g.sink('ticks-file', ndjsonFileSink, { path: 'out/demo-ticks.ndjson' }, ticks);
  g.sink('dead-letter-file', ndjsonFileSink, { path: 'out/dead-letters.ndjson' }, g.deadLetters());
});
