import { pino, type DestinationStream, type Logger } from 'pino';

export interface LoggerOptions {
  readonly level?: string;
  /** Human-readable lines; default: when stderr is a terminal. */
  readonly pretty?: boolean;
  /** Where JSON lines go; default stderr. */
  readonly destination?: DestinationStream;
}

/** Paths of log fields that are never written in clear. */
const REDACT = [
  'password',
  '*.password',
  '*.*.password',
  'token',
  '*.token',
  '*.*.token',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
];

/**
 * Errors as pino serializes them (type, stack with its causes, own fields),
 * but with their own message: tickflow's messages already quote their cause,
 * and pino's default appends every cause's message again.
 */
const serializers = {
  err: (error: unknown): unknown => (error instanceof Error ? { ...pino.stdSerializers.err(error), message: error.message } : error),
};

/** The process logger: JSON lines on stderr, pretty on a terminal, secrets redacted. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const pretty = options.pretty ?? process.stderr.isTTY === true;
  const redact = { paths: REDACT, censor: '[redacted]' };
  const base = { level, redact, serializers };
  if (pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { destination: 2, colorize: true } } });
  }
  return pino(base, options.destination ?? pino.destination({ dest: 2, sync: true }));
}
