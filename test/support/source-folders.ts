/** The top-level folders that hold tickflow's own sources (not tests, benchmarks or scripts), cli/ being the application. */
export const SOURCE_FOLDERS: readonly string[] = [
  'cli',
  'domain',
  'errors',
  'native',
  'operators',
  'pipeline',
  'protocols',
  'schemas',
  'sinks',
  'sources',
  'strategies',
];
