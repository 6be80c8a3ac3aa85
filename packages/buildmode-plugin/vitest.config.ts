import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: '@link/buildmode-plugin', include: ['test/**/*.test.ts'] },
  resolve: { conditions: ['source'] },
});
