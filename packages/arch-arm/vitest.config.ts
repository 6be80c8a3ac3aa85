import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: '@link/arch-arm', include: ['test/**/*.test.ts'] },
  resolve: { conditions: ['source'] },
});
