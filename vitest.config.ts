import { defineConfig } from 'vitest/config';

// One vitest run over every package: cheaper on 2 cores than one vitest per package.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'tools/*'],
    globalSetup: ['./vitest.global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
  },
});
