import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: '@link/cgo', include: ['test/**/*.test.ts'] },
  resolve: { conditions: ['source'] },
});
