import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: '@link/pe', include: ['test/**/*.test.ts'] },
  resolve: { conditions: ['source'] },
});
