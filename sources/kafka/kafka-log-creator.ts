import type { Logger } from 'pino';
import { logLevel, type logCreator } from 'kafkajs';

/**
 * kafkajs's logger routed to the stage's pino logger: its errors and
 * warnings as such, its info (joins, rebalances, connects) at debug and its
 * debug at trace, so a run's log holds what matters and `LOG_LEVEL=debug`
 * shows the client's life. kafkajs's own timestamp is left out (pino stamps
 * each line); its fields (broker, group, topic, retry counts) are kept. The
 * source's config has no credentials, so none can be logged.
 *
 * @param logger The stage's logger.
 * @returns A `logCreator` for `new Kafka({ logCreator, logLevel: kafkaLogLevel(logger) })`.
 */
export function kafkaLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, ...fields } = log;
      const bound = { kafka: namespace, ...fields };
      if (level === logLevel.ERROR) logger.error(bound, `kafkajs: ${message}`);
      else if (level === logLevel.WARN) logger.warn(bound, `kafkajs: ${message}`);
      else if (level === logLevel.INFO) logger.debug(bound, `kafkajs: ${message}`);
      else logger.trace(bound, `kafkajs: ${message}`);
    };
}
