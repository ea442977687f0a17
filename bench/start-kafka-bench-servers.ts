/** A broker and registry a Kafka benchmark runs against: the shape of scripts/kafka/start-kafka-servers.mjs (plain JavaScript, so that `npm run kafka:up` needs no build). */
export interface KafkaBenchServers {
  readonly brokers: string[];
  readonly registryUrl: string;
  close(): Promise<void>;
}

/**
 * Starts a real broker and schema registry on free ports of 127.0.0.1, as
 * `npm run kafka:up` does (fetched and built once per machine), printing
 * its steps on stderr. The benchmark closes them.
 */
export async function startKafkaBenchServers(): Promise<KafkaBenchServers> {
  const url = new URL('../../scripts/kafka/start-kafka-servers.mjs', import.meta.url).href;
  const module = (await import(url)) as {
    startKafkaServers: (options: { registry: boolean; log: (line: string) => void }) => Promise<KafkaBenchServers>;
  };
  return module.startKafkaServers({ registry: true, log: (line) => process.stderr.write(`kafka: ${line}\n`) });
}
