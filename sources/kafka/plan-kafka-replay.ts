import type { Admin } from 'kafkajs';

/** One partition of a replay: the first offset replayed, and the offset it ends before (the high watermark when the replay started). */
export interface PartitionRange {
  readonly topic: string;
  readonly partition: number;
  readonly start: number;
  readonly end: number;
}

/**
 * The partitions of a replay and where each starts and ends: from the
 * earliest offset still held (the log start), or from the first message
 * whose Kafka timestamp is at or after `fromTimeMs` (the broker's
 * offsets-for-times: a partition with none starts at its end), to the high
 * watermark each partition had when asked, so a replay of a topic still
 * written to ends. Keyed `topic:partition`.
 *
 * @param admin A connected admin client.
 * @param topics The topics replayed; one that does not exist is an error from the broker.
 * @param fromTimeMs Milliseconds since the epoch, or undefined for the earliest offsets.
 */
export async function planKafkaReplay(
  admin: Admin,
  topics: readonly string[],
  fromTimeMs: number | undefined,
): Promise<Map<string, PartitionRange>> {
  const ranges = new Map<string, PartitionRange>();
  for (const topic of topics) {
    const offsets = await admin.fetchTopicOffsets(topic);
    const starts =
      fromTimeMs === undefined
        ? undefined
        : new Map((await admin.fetchTopicOffsetsByTimestamp(topic, fromTimeMs)).map((o) => [o.partition, Number(o.offset)]));
    for (const { partition, low, high } of offsets) {
      const end = Number(high);
      // offsets-for-times answers -1 when no message is that late: nothing to replay there.
      const fromTime = starts?.get(partition);
      const start = fromTime === undefined ? Number(low) : fromTime < 0 ? end : Math.max(fromTime, Number(low));
      ranges.set(`${topic}:${partition}`, { topic, partition, start, end });
    }
  }
  return ranges;
}
