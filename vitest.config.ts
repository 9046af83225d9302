import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'deploy/**/*.test.ts'],
    // A test that runs no expect() fails (expect.hasAssertions() before each test).
    setupFiles: ['test/setup/has-assertions.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Real servers and child processes: two cores, so keep files from starving each other.
    maxWorkers: 2,
  },
});
