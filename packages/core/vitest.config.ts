import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: '@link/core', include: ['test/**/*.test.ts'] },
  resolve: { conditions: ['source'] },
});
