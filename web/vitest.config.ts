import { defineConfig } from 'vitest/config';

// Unit tests cover logic with no DOM (API client, roles, formatting, routing, aggregation),
// so they run in plain Node: no jsdom dependency.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
    reporters: ['default', './tests/summary-reporter.mjs'],
  },
});
