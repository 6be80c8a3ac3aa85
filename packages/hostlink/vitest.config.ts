import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: '@link/hostlink', include: ['test/**/*.test.ts'] },
  resolve: { conditions: ['source'] },
});
