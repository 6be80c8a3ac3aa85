import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: '@link/elf', include: ['test/**/*.test.ts'] },
  resolve: { conditions: ['source'] },
});
