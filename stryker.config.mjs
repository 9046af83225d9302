// StrykerJS: `npm run mutate` (not in `npm test`, not in CI: too slow). Results in test/MUTATION.md.
// One module at a time on a shared machine, each with its own incremental file:
//   MUTATE_MODULE=quay npm run mutate
//   (quay | inputs | inputs-file | inputs-forward | metrics | outputs | records | http | rules | threads)
// Narrow further with `-- --mutate 'src/outputs/influxdb/line.ts'` while iterating.
/** The modules whose numbers users see. rules (src/rules) and the forward input (src/inputs/forward)
 * are covered as soon as they land. */
const MODULES = {
  quay: ['src/quay/**/*.ts'],
  // The file follower apart: its tests wait on real files and timers (seconds each), and every
  // splitter mutant would run them too. See vitest.mutate.config.ts and test/MUTATION.md.
  // The forward input apart too: its tests are TCP sessions; the rest of inputs is pure logic.
  inputs: ['src/inputs/**/*.ts', '!src/inputs/file/**', '!src/inputs/forward/**'],
  'inputs-file': ['src/inputs/file/**/*.ts'],
  'inputs-forward': ['src/inputs/forward/**/*.ts'],
  metrics: ['src/metrics/**/*.ts'],
  outputs: ['src/outputs/**/*.ts'],
  records: ['src/records/**/*.ts'],
  http: ['src/http/**/*.ts'],
  rules: ['src/rules/**/*.ts'],
  // Replay on several threads: the merge of the workers' shares decides the counts users see.
  threads: ['src/threads/**/*.ts'],
};
const only = process.env.MUTATE_MODULE;
if (only && !(only in MODULES)) throw new Error(`MUTATE_MODULE must be one of ${Object.keys(MODULES).join(', ')}`);
const globs = only ? MODULES[only] : ['src/quay/**/*.ts', 'src/inputs/**/*.ts', 'src/metrics/**/*.ts', 'src/outputs/**/*.ts', 'src/records/**/*.ts', 'src/http/**/*.ts', 'src/rules/**/*.ts', 'src/threads/**/*.ts'];
const name = only ?? 'all';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutate.config.ts' },
  mutate: [...globs, '!src/**/*.test.ts', '!src/**/types.ts'],
  coverageAnalysis: 'perTest',
  // Two cores shared by the whole team.
  concurrency: 2,
  incremental: true,
  // Local only (reports/ is not committed): ~1.7 MB per module, and it changes with every test edit.
  incrementalFile: `reports/mutation/${name}.incremental.json`,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  thresholds: { high: 90, low: 80, break: null },
  timeoutMS: 10_000,
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
