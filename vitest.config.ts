import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.spec.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // CLI tests spawn the built CLI; forks keep each file's servers and signals apart.
    pool: 'forks',
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
