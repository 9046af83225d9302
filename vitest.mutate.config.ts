/**
 * The tests StrykerJS runs against mutants (`npm run mutate`): the ones that import src/ in-process.
 * Tests through the built CLI (dist/cli.js in a child process) cannot see a mutant (Stryker switches
 * mutants inside the test worker), so they are left out here: they only cost time. See test/MUTATION.md.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // A module other than inputs-file leaves out the file follower's slow tests (their code is not mutated);
    // MUTATE_NO_SERVERS=1 leaves out the tests that start influxd or prometheus (a run in minutes, not hours).
    exclude: [
      ...(process.env.MUTATE_MODULE && process.env.MUTATE_MODULE !== 'inputs-file' ? ['src/inputs/file/**'] : []),
      ...(process.env.MUTATE_NO_SERVERS === '1' ? ['test/outputs/**', 'test/deploy/**'] : []),
    ],
    // MUTATE_TESTS=<glob>,<glob>: only these test files (a quick narrow run; its score is a lower bound,
    // since the tests left out could only kill more). Say which in test/MUTATION.md beside the score.
    include: process.env.MUTATE_TESTS
      ? process.env.MUTATE_TESTS.split(',')
      : ['src/**/*.test.ts', 'test/replay-inprocess.test.ts', 'test/outputs/**/*.test.ts', 'test/deploy/grafana-influxdb.test.ts', 'test/deploy/prometheus.test.ts'],
    setupFiles: ['test/setup/has-assertions.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    maxWorkers: 1,
  },
});
