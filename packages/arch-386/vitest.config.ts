import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: '@link/arch-386', include: ['test/**/*.test.ts'] },
  resolve: { conditions: ['source'] },
});
