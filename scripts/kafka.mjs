// `npm run kafka:up` / `npm run kafka:down`: a local Apache Kafka broker and a Confluent-compatible schema registry for
// `tickflow run`, the same servers the tests start (scripts/kafka/start-kafka-servers.mjs). `up` starts both on free
// ports of 127.0.0.1, prints their addresses and writes them with the pids to out/kafka/state.json; `down` stops both
// by those pids and removes their data. `up` when they run already prints their addresses again. Needs only Node, Java 17 and Maven (the first run fetches and builds into
// ~/.cache/tickflow/kafka, or TICKFLOW_KAFKA_CACHE).
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ownProcessAlive, settleArchive, stopByPid } from './kafka/java-server.mjs';
import { startKafkaServers } from './kafka/start-kafka-servers.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Where `up` writes the addresses and pids that `down` reads (TICKFLOW_KAFKA_STATE moves it, as the tests do). */
const STATE_FILE = process.env.TICKFLOW_KAFKA_STATE || join(ROOT, 'out', 'kafka', 'state.json');
const say = (line) => process.stderr.write(`kafka: ${line}\n`);
/** A path as the user can type it from here: relative below the working folder, else absolute. */
const shown = (path) => (relative(process.cwd(), path).startsWith('..') ? path : relative(process.cwd(), path));
const secondsSince = (start) => `${((performance.now() - start) / 1000).toFixed(1)} s`;

function readState() {
  if (!existsSync(STATE_FILE)) return undefined;
  return JSON.parse(readFileSync(STATE_FILE, 'utf8'));
}

/** The servers of a state file that still run (checked by pid and by the run folder on their command line). */
const runningOf = (state) => state.servers.filter((s) => ownProcessAlive(s.pid, state.dir));

function printAddresses(state) {
  process.stdout.write(`brokers: ${state.brokers.join(',')}\nschema registry: ${state.registryUrl}\n`);
  say(`state in ${shown(STATE_FILE)}; npm run kafka:down stops both`);
}

/** Stops every server of a state file by pid, keeps the class-data archives they wrote, removes their data. */
async function down(state) {
  await Promise.all(
    state.servers.map(async (server) => {
      const at = performance.now();
      const wasRunning = ownProcessAlive(server.pid, state.dir);
      const clean = await stopByPid(server.pid, state.dir);
      settleArchive(server.partialArchive, server.archive, clean && wasRunning);
      say(`${server.name} ${wasRunning ? `(pid ${server.pid}) stopped` : `(pid ${server.pid}) was not running`} (${secondsSince(at)})`);
    }),
  );
  rmSync(state.dir, { recursive: true, force: true });
  rmSync(STATE_FILE, { force: true });
}

async function up() {
  const previous = readState();
  if (previous !== undefined) {
    if (runningOf(previous).length === previous.servers.length) {
      say('already running');
      printAddresses(previous);
      return;
    }
    say('a previous kafka:up is only partly running: stopping what is left of it');
    await down(previous);
  }
  const servers = await startKafkaServers({ detached: true, log: say });
  const entry = (name, s, archive) => ({ name, pid: s.pid, port: s.port, archive, partialArchive: s.partialArchive });
  const state = {
    brokers: servers.brokers,
    registryUrl: servers.registryUrl,
    dir: servers.dir,
    servers: [
      entry('broker', servers.broker, servers.artifacts.broker.archive),
      entry('schema registry', servers.registry, servers.artifacts.registry.archive),
    ],
  };
  mkdirSync(dirname(STATE_FILE), { recursive: true });
  writeFileSync(`${STATE_FILE}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${STATE_FILE}.tmp`, STATE_FILE);
  printAddresses(state);
}

const command = process.argv[2];
try {
  if (command === 'up') await up();
  else if (command === 'down') {
    const state = readState();
    if (state === undefined) say(`nothing to stop (no ${shown(STATE_FILE)})`);
    else await down(state);
  } else {
    process.stderr.write(`usage: node scripts/kafka.mjs up|down (got ${command === undefined ? 'no command' : `'${command}'`})\n`);
    process.exitCode = 2;
  }
} catch (error) {
  process.stderr.write(`kafka: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
// The detached servers hold nothing of this process; exit now rather than when idle sockets of fetch() time out.
process.exit();
