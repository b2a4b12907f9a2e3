// Browser end-to-end tests (e2e/*.e2e.test.mjs) on @playwright/test, driving Debian's Chromium
// (no browser download works here): `npm run e2e` with SWITCHBOARD_BIN set (make test-e2e-ui).
// A failed test keeps its trace (npx playwright show-trace test-output/results/…/trace.zip),
// a screenshot and the server's output; a passing one keeps nothing.
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineConfig } from '@playwright/test'

const here = path.dirname(fileURLToPath(import.meta.url))
// Chromium writes into HOME: give it a folder of its own under test-output.
const home = path.join(here, 'test-output', 'chromium-home')
mkdirSync(home, { recursive: true })

export default defineConfig({
  testDir: 'e2e',
  testMatch: '*.e2e.test.mjs',
  outputDir: 'test-output/results',
  // Each file starts its own server; one file at a time keeps the shared machine calm.
  workers: 1,
  fullyParallel: false,
  timeout: 120_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  forbidOnly: !!process.env.CI,
  use: {
    browserName: 'chromium',
    headless: true,
    actionTimeout: 15_000,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      env: { ...process.env, HOME: home },
    },
    // The trace keeps every action with its call log, console and network; DOM snapshots and
    // the screencast made the 100-step canvas walk three to ten times slower, so they are off
    // (the failure screenshot below shows the page).
    trace: { mode: 'retain-on-failure', snapshots: false, screenshots: false, sources: true },
    screenshot: 'only-on-failure',
  },
})
