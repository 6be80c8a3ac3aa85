import { defineProject } from 'vitest/config';
export default defineProject({ test: { name: '@link/bench', include: ['test/**/*.test.ts'] } });
