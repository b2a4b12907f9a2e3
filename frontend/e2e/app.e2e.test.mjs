// Browser end-to-end test: the real `switchboard` binary (UI embedded) + Debian's Chromium.
//
//   SWITCHBOARD_BIN=/abs/path/to/bin/switchboard npm run e2e
//
// Starts the binary on a free port with a fresh data dir, checks the empty state, creates the
// example workflow through the API, fires its webhook, waits for the run to succeed and then
// walks the UI: workflow list -> recent runs -> run detail with the `msg` step output.
// Screenshots go to frontend/test-output/.

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { after, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const here = path.dirname(fileURLToPath(import.meta.url))
const outDir = path.resolve(here, '../test-output')
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const CHROMIUM_ARGS = [
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

const WORKFLOW = {
  schema: 'switchboard/v1',
  name: 'Order alert',
  trigger: { type: 'webhook', webhook: { methods: ['POST'] } },
  steps: [
    { id: 'big', type: 'filter', if: 'trigger.body.total > 100' },
    { id: 'msg', type: 'map', fields: { text: 'Order #{{ trigger.body.id }} from {{ trigger.body.customer.name }}' } },
  ],
}
const EVENT = { id: 1, total: 250, customer: { name: 'Ada' } }
const FINAL_STATES = new Set(['succeeded', 'failed', 'filtered', 'canceled'])

function resolveBinary() {
  const bin = process.env.SWITCHBOARD_BIN || path.resolve(here, '../../bin/switchboard')
  if (!existsSync(bin)) {
    throw new Error(`switchboard binary not found at ${bin}; build it (make build) or set SWITCHBOARD_BIN`)
  }
  return bin
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// ---- the server under test ------------------------------------------------------------

const children = new Set()
function killAll() {
  for (const child of children) {
    try {
      child.kill('SIGKILL')
    } catch {
      // already gone
    }
  }
}
process.on('exit', killAll)
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killAll()
    process.exit(130)
  })
}

async function startServer(bin) {
  const port = await freePort()
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'switchboard-e2e-data-'))
  const addr = `127.0.0.1:${port}`
  const base = `http://${addr}`
  let log = ''
  const child = spawn(bin, ['serve', '--addr', addr, '--data-dir', dataDir], {
    env: { ...process.env, SWITCHBOARD_ADDR: addr, SWITCHBOARD_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  const append = (chunk) => {
    log += chunk.toString()
    if (log.length > 200_000) log = log.slice(-100_000)
  }
  child.stdout.on('data', append)
  child.stderr.on('data', append)
  let exited = null
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal }
      children.delete(child)
      resolve()
    })
  })

  const server = {
    base,
    dataDir,
    log: () => log,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM')
        const timedOut = await Promise.race([exitPromise.then(() => false), sleep(5000).then(() => true)])
        if (timedOut) {
          child.kill('SIGKILL')
          await exitPromise
        }
      }
      rmSync(dataDir, { recursive: true, force: true })
    },
  }

  const deadline = Date.now() + 60_000
  for (;;) {
    if (exited) {
      await server.stop()
      throw new Error(`switchboard exited early (${JSON.stringify(exited)}); output:\n${log}`)
    }
    try {
      const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) })
      if (res.ok) return server
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop()
      throw new Error(`switchboard did not become healthy at ${base}/healthz within 60 s; output:\n${log}`)
    }
    await sleep(100)
  }
}

async function api(server, method, urlPath, body) {
  const res = await fetch(server.base + urlPath, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  let json = null
  try {
    json = text ? JSON.parse(text) : null
  } catch {
    // leave json null; the caller reports text
  }
  return { status: res.status, json, text }
}

// ---- the test -----------------------------------------------------------------------------

describe('switchboard UI', { timeout: 180_000 }, () => {
  let server
  let browser
  let page
  const pageErrors = []

  // Setup is a test of its own (not a before hook) so a binary that does not start shows up
  // as a failed test in the summary.
  test('starts switchboard and Chromium', async () => {
    mkdirSync(outDir, { recursive: true })
    const bin = resolveBinary()
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/ensure-chromium.sh`)
    server = await startServer(bin)
    const home = mkdtempSync(path.join(os.tmpdir(), 'switchboard-e2e-home-'))
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      env: { ...process.env, HOME: home },
    })
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base })
    page = await context.newPage()
    page.setDefaultTimeout(15_000)
    page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`))
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(`console.error: ${msg.text()}`)
    })
    browser.__home = home
  })

  after(async () => {
    try {
      await browser?.close()
    } finally {
      if (browser?.__home) rmSync(browser.__home, { recursive: true, force: true })
      await server?.stop()
    }
  })

  /** Runs a step; on failure saves a screenshot and prints the server log. */
  async function step(name, fn) {
    try {
      await fn()
    } catch (err) {
      if (page) await page.screenshot({ path: path.join(outDir, `failure-${name}.png`), fullPage: true }).catch(() => {})
      if (server) console.error(`---- switchboard output (${name}) ----\n${server.log().slice(-8000)}`)
      throw err
    }
  }

  test('shows the empty state on a fresh server', async () => {
    assert.ok(page, 'setup failed')
    await step('empty', async () => {
      await page.goto(server.base + '/')
      assert.match(await page.title(), /Switchboard/)
      await page.getByText('No workflows yet').waitFor()
      await page.getByText('switchboard workflow import examples/order-alert.json').waitFor()
      await page.screenshot({ path: path.join(outDir, 'empty.png'), fullPage: true })
    })
  })

  let workflow
  let runId

  test('creates the workflow and runs it through the webhook', async () => {
    assert.ok(server, 'setup failed')
    await step('api', async () => {
      const created = await api(server, 'POST', '/api/v1/workflows', WORKFLOW)
      assert.equal(created.status, 201, `POST /api/v1/workflows: ${created.status} ${created.text}`)
      workflow = created.json
      assert.ok(workflow?.id, `no id in ${created.text}`)
      assert.equal(workflow.name, 'Order alert')
      assert.ok(workflow.webhook_url, `no webhook_url in ${created.text}`)

      // Post to this server whatever host the URL names (it may be the configured public URL).
      const hookPath = new URL(workflow.webhook_url).pathname
      assert.match(hookPath, /^\/hooks\/[^/]+$/)
      const hook = await api(server, 'POST', hookPath, EVENT)
      assert.equal(hook.status, 202, `POST ${hookPath}: ${hook.status} ${hook.text}`)
      runId = hook.json?.run_id
      assert.ok(runId, `no run_id in ${hook.text}`)

      const deadline = Date.now() + 30_000
      let run
      for (;;) {
        const res = await api(server, 'GET', `/api/v1/runs/${encodeURIComponent(runId)}`)
        assert.equal(res.status, 200, `GET run: ${res.status} ${res.text}`)
        run = res.json
        if (FINAL_STATES.has(run.state)) break
        assert.ok(Date.now() < deadline, `run still ${run.state} after 30 s`)
        await sleep(200)
      }
      assert.equal(run.state, 'succeeded', `run ended ${run.state}: ${run.error}`)
      const msg = run.steps?.find((s) => s.step_id === 'msg')
      assert.equal(msg?.output?.text, 'Order #1 from Ada', `msg step: ${JSON.stringify(msg)}`)
    })
  })

  test('lists the workflow, its run and the run detail', async () => {
    assert.ok(runId, 'previous test did not produce a run')
    await step('ui', async () => {
      await page.goto(server.base + '/')
      const link = page.getByRole('link', { name: 'Order alert', exact: true })
      await link.waitFor()
      const row = page.locator(`tr[data-workflow-id="${workflow.id}"]`)
      assert.match(await row.innerText(), /yes/)
      assert.match(await row.innerText(), /webhook/)
      assert.ok((await row.innerText()).includes(workflow.webhook_url), 'webhook URL shown')
      await page.screenshot({ path: path.join(outDir, 'workflows.png'), fullPage: true })

      // Copy button puts the webhook URL on the clipboard.
      await row.getByRole('button', { name: /Copy webhook URL/ }).click()
      await row.getByText('Copied').waitFor()
      const clip = await page.evaluate(() => navigator.clipboard.readText())
      assert.equal(clip, workflow.webhook_url)

      await link.click()
      assert.equal(new URL(page.url()).pathname, `/workflows/${workflow.id}`)
      const runRow = page.locator(`tr[data-run-id="${runId}"]`)
      await runRow.locator('[data-state="succeeded"]').waitFor()
      assert.match(await page.getByRole('heading', { name: /Recent runs/ }).innerText(), /Order alert/)
      await page.screenshot({ path: path.join(outDir, 'runs.png'), fullPage: true })

      await runRow.getByRole('link').click()
      const msg = page.locator('[data-step-id="msg"]')
      await msg.filter({ hasText: 'Order #1 from Ada' }).waitFor()
      assert.equal(await msg.locator('.badge').innerText(), 'succeeded')
      await page.locator('[data-step-id="big"]').waitFor()
      await page.screenshot({ path: path.join(outDir, 'run-detail.png'), fullPage: true })

      // A deep link straight to the run works (server-side SPA fallback) ...
      await page.goto(`${server.base}/workflows/${encodeURIComponent(workflow.id)}/runs/${encodeURIComponent(runId)}`)
      await page.locator('[data-step-id="msg"]').filter({ hasText: 'Order #1 from Ada' }).waitFor()
      // ... and Back returns to the list.
      await page.getByRole('link', { name: 'Switchboard' }).click()
      await page.waitForURL(server.base + '/')
      await page.goBack()
      await page.locator('[data-step-id="msg"]').waitFor()

      assert.deepEqual(pageErrors, [], 'no errors in the browser console')
    })
  })
})
