import { defineConfig } from 'vitest/config';

// One config for the whole workspace. Tests import other packages by name, so they run against the
// built dist/ (npm test builds first), exactly as a user of the packages would.
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
