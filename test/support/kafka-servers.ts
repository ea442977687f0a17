/** A server process of {@link KafkaServers}, stopped and checked by pid. */
export interface KafkaServerProcess {
  /** The port it listens on (the broker's client port); the same after a restart. */
  readonly port: number;
  /** Its pid while it runs. */
  readonly pid: number | undefined;
  /** Whether the process runs (by pid, and its command line is still this run's). */
  readonly running: boolean;
  /** Stops it by pid: SIGTERM (a clean shutdown, SIGKILL after 30 s) or SIGKILL (a crash). */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

/** The broker, which a test can stop and start again (same ports, same data) to see a client recover. */
export interface KafkaBrokerProcess extends KafkaServerProcess {
  /** Starts the stopped broker again on the same ports with the same data, and resolves once it is ready. */
  start(): Promise<void>;
}

/** A real single-node Apache Kafka broker (KRaft) and, unless left out, a real Confluent-compatible schema registry. */
export interface KafkaServers {
  /** The bootstrap address, `['127.0.0.1:PORT']`, for `new Kafka({ brokers })`. */
  readonly brokers: string[];
  /** The registry's Confluent-compatible API, `http://127.0.0.1:PORT/apis/ccompat/v7`, for `new SchemaRegistry({ host })`. */
  readonly registryUrl: string | undefined;
  /** The temporary folder of the broker's data and both logs (broker.log, registry.log); removed by close(). */
  readonly dir: string;
  readonly broker: KafkaBrokerProcess;
  readonly registry: KafkaServerProcess | undefined;
  /** Stops both by pid and removes their folder. */
  close(): Promise<void>;
}

/** {@link KafkaServers} with the schema registry. */
export interface KafkaServersWithRegistry extends KafkaServers {
  readonly registryUrl: string;
  readonly registry: KafkaServerProcess;
}

/** The shape of scripts/kafka/start-kafka-servers.mjs, which is plain JavaScript so that `npm run kafka:up` needs no build. */
interface StartKafkaServersModule {
  startKafkaServers(options: { registry: boolean; log: (line: string) => void }): Promise<KafkaServers>;
}

/** Servers started through this module and not yet closed. */
const started = new Set<KafkaServers>();

/**
 * Generous enough for a fresh machine, where the first start fetches Kafka's jars and builds the registry with Maven
 * (60–150 s under load); cached, both are ready in 5–25 s. Pass it to `beforeAll`.
 */
export const KAFKA_SETUP_TIMEOUT_MS = 20 * 60_000;

/**
 * Starts a real Apache Kafka broker and a real schema registry (Apicurio Registry, Confluent-compatible API) as local
 * processes on free ports of 127.0.0.1, for one test file: the implementation is the one `npm run kafka:up` runs
 * (scripts/kafka/start-kafka-servers.mjs), which fetches and builds them once per machine into ~/.cache/tickflow/kafka
 * and prints one line per step with its time. `{ registry: false }` starts the broker alone. Stop every server with
 * {@link closeKafkaServers} in `afterAll`, which runs on failure too.
 *
 * @example
 * ```ts
 * let kafka: KafkaServersWithRegistry;
 * beforeAll(async () => {
 *   kafka = await startKafkaServers();
 * }, KAFKA_SETUP_TIMEOUT_MS);
 * afterAll(closeKafkaServers);
 * // new Kafka({ brokers: kafka.brokers }); new SchemaRegistry({ host: kafka.registryUrl })
 * ```
 */
export async function startKafkaServers(options?: { readonly registry?: true }): Promise<KafkaServersWithRegistry>;
export async function startKafkaServers(options: { readonly registry: false }): Promise<KafkaServers>;
export async function startKafkaServers(options: { readonly registry?: boolean } = {}): Promise<KafkaServers> {
  // A computed specifier: the module is JavaScript with no declaration file; its shape is declared above.
  const url = new URL('../../scripts/kafka/start-kafka-servers.mjs', import.meta.url).href;
  const { startKafkaServers: start } = (await import(url)) as StartKafkaServersModule;
  const servers = await start({ registry: options.registry ?? true, log: (line) => process.stderr.write(`kafka: ${line}\n`) });
  started.add(servers);
  return servers;
}

/** Closes every broker and registry this test file started; for afterAll. */
export async function closeKafkaServers(): Promise<void> {
  const servers = [...started];
  started.clear();
  await Promise.all(servers.map((s) => s.close()));
}
