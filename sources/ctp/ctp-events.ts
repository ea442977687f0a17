/** The instrumentation events the ctp source emits (declared in its definition's `events`). */
export const CtpEvents = {
  FRONT_READY: 'source.ctp.ready',
  FRONT_UNAVAILABLE: 'source.ctp.unavailable',
  INSTRUMENT_MOVED: 'source.ctp.moved',
} as const;
