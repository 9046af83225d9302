/**
 * Every test must assert something: a test that runs no `expect` fails.
 * Loaded by vitest's `setupFiles` (vitest.config.ts and the mutation config).
 */
import { beforeEach, expect } from 'vitest';

beforeEach(() => {
  expect.hasAssertions();
});
