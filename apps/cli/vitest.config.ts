import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: '@link/cli', include: ['test/**/*.test.ts'] },
  resolve: { conditions: ['source'] },
});
