import { defineConfig } from '@playwright/test';

/**
 * Debian's Chromium (apt-get install chromium), headless. Each test file starts its own server
 * processes on free ports (e2e/server.ts), so there is no webServer block and tests do not share state.
 */
export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  timeout: 90_000,
  expect: { timeout: 15_000 },
  // Two cores: one browser at a time keeps frame timing and the servers' clocks honest.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  reporter: process.env.CI ? [['list']] : [['list']],
  outputDir: '../test-results',
  use: {
    headless: true,
    viewport: { width: 1280, height: 720 },
    acceptDownloads: true,
    launchOptions: { executablePath: '/usr/bin/chromium' },
    trace: 'off',
  },
});
