// `npm run bench`: runs every benchmark and prints its figures. Nothing is asserted.
import { cpus } from 'node:os';
import { auditThroughput } from './audit-throughput.js';
import { barsThroughput } from './bars-throughput.js';
import { ctpCallbacks } from './ctp-callbacks.js';
import { fileReplayThroughput } from './file-replay-throughput.js';
import { operatorThroughput } from './operator-throughput.js';
import { paperVenueThroughput } from './paper-venue-throughput.js';
import { pipelineThroughput } from './pipeline-throughput.js';
import { redisThroughput } from './redis-throughput.js';
import { riskThroughput } from './risk-throughput.js';
import { strategyThroughput } from './strategy-throughput.js';
import { websocketFanout } from './websocket-fanout.js';

const benchmarks: readonly (readonly [string, () => Promise<string[]>])[] = [
  ['pipeline throughput', pipelineThroughput],
  ['operator throughput', operatorThroughput],
  ['bars', barsThroughput],
  ['strategy', strategyThroughput],
  ['risk', riskThroughput],
  ['paper venue', paperVenueThroughput],
  ['websocket fan-out', websocketFanout],
  ['redis sink', redisThroughput],
  ['audit sink', auditThroughput],
  ['file replay', fileReplayThroughput],
  ['ctp callbacks', ctpCallbacks],
];

process.stdout.write(`tickflow benchmarks — node ${process.version}, ${cpus()[0]?.model ?? 'unknown cpu'}, ${cpus().length} cores\n\n`);
for (const [name, run] of benchmarks) {
  process.stdout.write(`== ${name}\n${(await run()).join('\n')}\n\n`);
}
