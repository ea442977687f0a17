// A single-node Apache Kafka broker (KRaft, broker and controller in one process) and an Apicurio schema registry
// (Confluent-compatible API), as local processes on free ports of 127.0.0.1: for the tests (test/support/kafka-servers.ts)
// and for `npm run kafka:up` (scripts/kafka.mjs). Prints one line per step with its time.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureKafkaArtifacts } from './kafka-artifacts.mjs';
import { javaServer } from './java-server.mjs';

/** The Confluent-compatible API of Apicurio Registry 2.x, the base URL @kafkajs/confluent-schema-registry takes. */
export const CONFLUENT_API_PATH = '/apis/ccompat/v7';
const FORMAT_TIMEOUT_MS = 90_000;
const PORT_ATTEMPTS = 4;

/** A port that was free on 127.0.0.1 a moment ago (a server that loses it to another process is retried on others). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Seconds since `start` (a performance.now()), to one decimal. */
const secondsSince = (start) => `${((performance.now() - start) / 1000).toFixed(1)} s`;

/** The broker's settings: one node that is broker and controller, every internal topic with one replica and one partition. */
function serverProperties({ port, controllerPort, logDir }) {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${logDir}`,
    'num.partitions=1',
    'default.replication.factor=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=1',
    // A consumer group of a test joins at once instead of waiting 3 s for more members.
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n');
}

/** Runs Kafka's storage tool to format an empty log folder for a new cluster (bounded). */
function formatStorage(artifacts, propertiesFile, logFile) {
  const { java, broker } = artifacts;
  const id = randomBytes(16);
  // Its first character must not be '-' (index 62 of base64url), or the tool reads the id as a flag: the top bit cleared, it is A-Z or a-f.
  id[0] &= 0x7f;
  const clusterId = id.toString('base64url');
  // The broker's class-data archive serves the format tool too: same class path, a subset of the classes.
  const share = existsSync(broker.archive) ? [`-XX:SharedArchiveFile=${broker.archive}`] : [];
  const args = [
    '-XX:TieredStopAtLevel=1',
    '-XX:-UsePerfData',
    ...share,
    `-Dlog4j2.configurationFile=${broker.log4jConfig}`,
    '-cp',
    broker.classPath,
    'kafka.tools.StorageTool',
    'format',
    '-t',
    clusterId,
    '-c',
    propertiesFile,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(java, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (data) => (output = (output + data.toString('utf8')).slice(-10_000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), FORMAT_TIMEOUT_MS);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      writeFileSync(logFile, output);
      if (code === 0) resolve(clusterId);
      else reject(new Error(`kafka.tools.StorageTool format failed (${signal ?? code}):\n${output}`));
    });
  });
}

/** Whether the schema registry answers its Confluent-compatible API (a new one lists no subjects). */
async function registryAnswers(url) {
  try {
    const response = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(2_000) });
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * Sets the registry's global compatibility level, which a subject without a level of its own is checked against:
 * Apicurio's default is NONE, Confluent's BACKWARD. (Apicurio's registry.rules.global.compatibility property applies a
 * default rule that the Confluent API's GET /config does not report, hence the explicit PUT.)
 */
async function setGlobalCompatibility(url, level) {
  const response = await fetch(`${url}/config`, {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ compatibility: level }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`PUT ${url}/config answered ${response.status}: ${await response.text()}`);
}

const PORT_TAKEN = /Address already in use|BindException|Port already bound/;

/**
 * Starts a broker and (unless `registry: false`) a schema registry on free ports of 127.0.0.1, fetching or building
 * them first when the cache lacks them, and resolves once both serve. Every step prints one line with its time.
 *
 * The broker's data lives in a temporary folder (or `dir`) that `close()` removes. The registry keeps its schemas in
 * memory: a restart of it forgets them. Its global compatibility is set to BACKWARD, as in Confluent's registry
 * (Apicurio's own default is NONE).
 *
 * @param {{ registry?: boolean, detached?: boolean, dir?: string, log?: (line: string) => void }} [options]
 *   `detached`: the servers outlive this process (for `npm run kafka:up`; stop them by pid).
 */
export async function startKafkaServers({ registry: withRegistry = true, detached = false, dir, log = () => {} } = {}) {
  const started = performance.now();
  const artifacts = await ensureKafkaArtifacts({ log, registry: withRegistry });
  const runDir = dir ?? mkdtempSync(join(tmpdir(), 'tickflow-kafka-'));
  mkdirSync(runDir, { recursive: true });
  const logDir = join(runDir, 'kafka-logs');
  const propertiesFile = join(runDir, 'server.properties');
  const ports = { port: await freePort(), controllerPort: await freePort(), registryPort: withRegistry ? await freePort() : 0 };
  const writeProperties = () => writeFileSync(propertiesFile, serverProperties({ ...ports, logDir }));
  writeProperties();

  const broker = javaServer({
    name: 'Kafka broker',
    java: artifacts.java,
    jvmArgs: ['-Xms256m', '-Xmx512m', `-Dlog4j2.configurationFile=${artifacts.broker.log4jConfig}`],
    mainArgs: () => ['-cp', artifacts.broker.classPath, 'kafka.Kafka', propertiesFile],
    archive: artifacts.broker.archive,
    logFile: join(runDir, 'broker.log'),
    marker: runDir,
    ready: async (logSinceStart) => logSinceStart().includes('Kafka Server started'),
    portTaken: (text) => PORT_TAKEN.test(text),
    detached,
  });
  const registryUrl = () => `http://127.0.0.1:${ports.registryPort}${CONFLUENT_API_PATH}`;
  const registry = withRegistry
    ? javaServer({
        name: 'schema registry',
        java: artifacts.java,
        jvmArgs: ['-Xms64m', '-Xmx384m', '-Dquarkus.http.host=127.0.0.1'],
        mainArgs: () => [`-Dquarkus.http.port=${ports.registryPort}`, '-jar', artifacts.registry.jar],
        archive: artifacts.registry.archive,
        logFile: join(runDir, 'registry.log'),
        marker: runDir,
        ready: () => registryAnswers(registryUrl()),
        portTaken: (text) => PORT_TAKEN.test(text),
        detached,
      })
    : undefined;

  /** Starts one server, on other free ports when another process took its port between freePort() and its bind. */
  const startOnFreePorts = async (server, what, repick) => {
    const at = performance.now();
    for (let attempt = 1; ; attempt++) {
      if (await server.start()) break;
      if (attempt >= PORT_ATTEMPTS) throw new Error(`the ${what} lost its free port to another process ${PORT_ATTEMPTS} times`);
      await repick();
    }
    log(`${what} started, pid ${server.pid} (${secondsSince(at)})`);
  };

  const startBroker = async () => {
    const at = performance.now();
    await formatStorage(artifacts, propertiesFile, join(runDir, 'format.log'));
    log(`storage formatted in ${logDir} (${secondsSince(at)})`);
    await startOnFreePorts(broker, 'broker', async () => {
      ports.port = await freePort();
      ports.controllerPort = await freePort();
      writeProperties();
    });
  };
  const startRegistry = async () => {
    if (registry === undefined) return;
    await startOnFreePorts(registry, 'schema registry', async () => {
      ports.registryPort = await freePort();
    });
    await setGlobalCompatibility(registryUrl(), 'BACKWARD');
  };

  const close = async () => {
    await Promise.all([broker.stop(), registry?.stop()]);
    if (dir === undefined) rmSync(runDir, { recursive: true, force: true });
  };

  // In parallel: the registry needs nothing of the broker, and each JVM mostly waits on one core.
  const outcomes = await Promise.allSettled([startBroker(), startRegistry()]);
  const failure = outcomes.find((o) => o.status === 'rejected');
  if (failure !== undefined) {
    await close();
    throw failure.reason;
  }
  const brokers = [`127.0.0.1:${ports.port}`];
  log(`ready in ${secondsSince(started)}: brokers ${brokers.join(',')}${registry ? `, schema registry ${registryUrl()}` : ''}`);

  return {
    brokers,
    registryUrl: registry ? registryUrl() : undefined,
    dir: runDir,
    artifacts,
    broker: {
      get port() {
        return ports.port;
      },
      get pid() {
        return broker.pid;
      },
      get running() {
        return broker.running;
      },
      get partialArchive() {
        return broker.partialArchive;
      },
      /** Stops the broker by pid (SIGTERM: a controlled shutdown; SIGKILL: a crash); its data and ports stay for start(). */
      stop: (signal) => broker.stop(signal),
      /** Starts the stopped broker again on the same ports with the same data, and waits until it is ready. */
      async start() {
        if (!(await broker.start())) throw new Error(`the broker could not listen on 127.0.0.1:${ports.port} again`);
      },
    },
    registry:
      registry === undefined
        ? undefined
        : {
            get port() {
              return ports.registryPort;
            },
            get pid() {
              return registry.pid;
            },
            get running() {
              return registry.running;
            },
            get partialArchive() {
              return registry.partialArchive;
            },
            stop: (signal) => registry.stop(signal),
          },
    close,
  };
}
