import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: '@link/arch-amd64', include: ['test/**/*.test.ts'] },
  resolve: { conditions: ['source'] },
});
