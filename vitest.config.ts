import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
          typecheck: { enabled: false },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          // Brings the local stack up when it is not (one command on a fresh machine).
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
          // Two cores and one broker: a few files at a time keeps timings honest.
          maxWorkers: 2,
        },
      },
    ],
  },
});
