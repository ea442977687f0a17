import { Partitioners, type ICustomPartitioner } from 'kafkajs';

/** Keys remembered per topic before the memory starts over: far more instruments than a market has. */
const MAX_KEYS_PER_TOPIC = 100_000;

/**
 * kafkajs's `DefaultPartitioner` (the Java client's: the partition of a
 * keyed message is murmur2 of the key's bytes, made positive, modulo the
 * topic's partition count, so Java, librdkafka-based and Python clients
 * put a key in the same partition), with each key's partition remembered
 * per topic and partition count: the default hashes the key and filters
 * the partition list again for every message. Messages without a key go
 * to the default as they are (round robin over available partitions).
 *
 * @example
 * ```ts
 * import { Partitioners } from 'kafkajs';
 * const partitionMetadata = [0, 1, 2].map((partitionId) => ({ partitionId, partitionErrorCode: 0, leader: 1, replicas: [1], isr: [1], offlineReplicas: [] }));
 * const message = { key: 'SHFE.rb2501', value: Buffer.alloc(0) };
 * const cached = cachedKeyPartitioner()({ topic: 't', partitionMetadata, message });
 * console.log(cached === Partitioners.DefaultPartitioner()({ topic: 't', partitionMetadata, message }));
 * // Logs: true
 * ```
 */
export const cachedKeyPartitioner: ICustomPartitioner = () => {
  const partitioner = Partitioners.DefaultPartitioner();
  const topics = new Map<string, { partitions: number; byKey: Map<string, number> }>();
  return (args) => {
    const { key } = args.message;
    if (typeof key !== 'string' || args.message.partition !== undefined) return partitioner(args);
    let known = topics.get(args.topic);
    if (known === undefined || known.partitions !== args.partitionMetadata.length || known.byKey.size >= MAX_KEYS_PER_TOPIC) {
      known = { partitions: args.partitionMetadata.length, byKey: new Map() };
      topics.set(args.topic, known);
    }
    let partition = known.byKey.get(key);
    if (partition === undefined) {
      partition = partitioner(args);
      known.byKey.set(key, partition);
    }
    return partition;
  };
};
