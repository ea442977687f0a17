import { logLevel, type logCreator } from 'kafkajs';
import type { Logger } from 'pino';

/** What kafkajs needs to log through a pino logger: its level and its log creator. */
export interface KafkajsLogging {
  readonly logLevel: logLevel;
  readonly logCreator: logCreator;
}

/**
 * Routes kafkajs's own log lines to the stage's pino logger, for the
 * `kafka-sink` and the `kafka` source alike. kafkajs logs at error level
 * every failed attempt it then retries (a broker restarting, a leader
 * moving): the stage retries them, so they are warnings here, and the
 * stage's own error says when retrying gave up.
 * Debug lines (one per request) are asked for only when the logger is at
 * debug level, as building them costs.
 *
 * @example
 * ```ts
 * import { pino } from 'pino';
 * const logging = kafkajsLogging(pino({ level: 'info' }));
 * console.log(logging.logLevel);
 * // Logs: 2
 * ```
 *
 * @param logger The stage's logger; kafkajs's lines carry `kafkajs: <namespace>`.
 */
export function kafkajsLogging(logger: Logger): KafkajsLogging {
  const level = logger.isLevelEnabled('debug') ? logLevel.DEBUG : logLevel.WARN;
  return {
    logLevel: level,
    logCreator: () => (entry) => {
      const { message, timestamp: _timestamp, logger: _name, ...fields } = entry.log as Record<string, unknown>;
      const line = { kafkajs: entry.namespace, ...fields };
      if (entry.level === logLevel.ERROR || entry.level === logLevel.WARN) logger.warn(line, String(message));
      else if (entry.level === logLevel.INFO) logger.info(line, String(message));
      else logger.debug(line, String(message));
    },
  };
}
