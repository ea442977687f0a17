/** kafkajs errors that say the broker could not be reached, or did not answer in time: trying again later can help. */
const UNREACHABLE = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSLockTimeout',
]);
/** How deep a chain of causes is followed. */
const MAX_CAUSES = 8;

/**
 * Whether kafkajs gave up on something the broker's absence explains, so
 * that the sink may try it again later: an error whose chain of causes
 * (kafkajs wraps what its retries ended with) holds a connection error, a
 * request time-out or missing metadata, and no protocol error the broker
 * answered as final (a record too large, an unauthorized topic: those
 * would be refused again).
 *
 * @example
 * ```ts
 * // What kafkajs rejects with once its retries to connect ran out: its name, and the error it ended with as the cause.
 * const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), { name: 'KafkaJSConnectionError' });
 * const gaveUp = Object.assign(new Error(refused.message, { cause: refused }), { name: 'KafkaJSNumberOfRetriesExceeded' });
 * const tooLarge = Object.assign(new Error('The request included a message larger than the max message size the server will accept'), {
 *   name: 'KafkaJSProtocolError',
 *   retriable: false,
 * });
 * console.log(isTransientKafkaError(gaveUp), isTransientKafkaError(tooLarge), isTransientKafkaError(new TypeError('x')));
 * // Logs: true false false
 * ```
 */
export function isTransientKafkaError(error: unknown): boolean {
  let transient = false;
  let current: unknown = error;
  for (let depth = 0; depth < MAX_CAUSES && current instanceof Error; depth++) {
    const { name } = current;
    if (name === 'KafkaJSProtocolError' || name === 'KafkaJSCreateTopicError') {
      if ((current as { retriable?: unknown }).retriable !== true) return false;
      transient = true;
    }
    if (UNREACHABLE.has(name)) transient = true;
    const next: unknown = (current as { cause?: unknown }).cause ?? (current as { originalError?: unknown }).originalError;
    if (next === current) break;
    current = next;
  }
  return transient;
}
