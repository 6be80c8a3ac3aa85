import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: '@link/macho', include: ['test/**/*.test.ts'] },
  resolve: { conditions: ['source'] },
});
