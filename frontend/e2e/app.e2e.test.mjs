// Browser end-to-end test: the real `switchboard` binary (UI embedded) + Debian's Chromium.
//
//   SWITCHBOARD_BIN=/abs/path/to/bin/switchboard npm run e2e
//
// Starts the binary on a free port with a fresh data dir, creates the first admin (and an API
// key) through the API, signs in through the login page, checks the empty state and the user
// menu, creates the example workflow through the API, fires its webhook, waits for the run to
// succeed and then walks the UI: workflow list -> recent runs -> run detail with the `msg` step
// output; finally signs out. Screenshots go to frontend/test-output/.

import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { after, describe, test } from 'node:test'
import { ADMIN, api, axeViolations, createAdmin, launchChromium, outDir, resolveBinary, signIn, startServer, waitForRun } from './harness.mjs'

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

// ---- the test -----------------------------------------------------------------------------

describe('switchboard UI', { timeout: 180_000 }, () => {
  let server
  let chromium
  let page
  const pageErrors = []

  // Setup is a test of its own (not a before hook) so a binary that does not start shows up
  // as a failed test in the summary.
  test('starts switchboard and Chromium', async () => {
    mkdirSync(outDir, { recursive: true })
    const bin = resolveBinary()
    server = await startServer(bin)
    await createAdmin(server)
    chromium = await launchChromium()
    const context = await chromium.browser.newContext({ viewport: { width: 1280, height: 900 } })
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base })
    page = await context.newPage()
    page.setDefaultTimeout(15_000)
    page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`))
    page.on('console', (msg) => {
      // Chromium logs every non-2xx fetch; the 401 of /auth/me before signing in is intended.
      if (msg.type() === 'error' && !/status of 401/.test(msg.text())) pageErrors.push(`console.error: ${msg.text()}`)
    })
  })

  after(async () => {
    try {
      await chromium?.close()
    } finally {
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

  test('signs in through the login page and shows the empty state', async () => {
    assert.ok(page, 'setup failed')
    await step('empty', async () => {
      const unauthenticated = await api({ ...server, apiKey: '' }, 'GET', '/api/v1/workflows')
      assert.equal(unauthenticated.status, 401, 'the API needs authentication')
      await page.goto(server.base + '/')
      assert.match(await page.title(), /Switchboard/)
      await page.getByRole('heading', { name: 'Sign in' }).waitFor()
      await page.screenshot({ path: path.join(outDir, 'login.png'), fullPage: true })
      assert.deepEqual(await axeViolations(page), [], 'accessibility problems on the login page')

      // A wrong password is refused on the page.
      await page.getByLabel('E-mail').fill(ADMIN.email)
      await page.getByLabel('Password').fill('not the password')
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.getByRole('alert').filter({ hasText: 'Wrong e-mail or password' }).waitFor()

      await signIn(page, server.base)
      // The header menu names the user and the role.
      await page.getByRole('button', { name: new RegExp(ADMIN.email) }).click()
      await page.locator('[data-role="admin"]').waitFor()
      await page.keyboard.press('Escape')
      await page.getByText('No workflows yet').waitFor()
      await page.getByRole('button', { name: 'Create your first workflow' }).waitFor()
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

      const run = await waitForRun(server, runId)
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
      assert.equal(await row.getByRole('switch', { name: 'Active: Order alert' }).getAttribute('aria-checked'), 'true')
      assert.match(await row.innerText(), /webhook/)
      await row.getByRole('link', { name: 'Last run: succeeded' }).waitFor()
      assert.match(await row.innerText(), /100%/)
      await page.screenshot({ path: path.join(outDir, 'workflows.png'), fullPage: true })

      // The name opens the editor with the trigger and both steps on the canvas.
      await link.click()
      assert.equal(new URL(page.url()).pathname, `/workflows/${workflow.id}`)
      await page.getByRole('button', { name: /^Step 1 Filter big\b/ }).waitFor()
      await page.getByRole('button', { name: /^Step 2 Map data msg\b/ }).waitFor()
      await page.getByRole('button', { name: /^Trigger Webhook/ }).click()
      assert.equal(await page.getByTestId('webhook-url').innerText(), workflow.webhook_url)
      await page.getByRole('button', { name: 'Copy webhook URL' }).click()
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), workflow.webhook_url)
      await page.screenshot({ path: path.join(outDir, 'editor.png') })

      await page.getByRole('link', { name: 'Runs', exact: true }).click()
      assert.equal(new URL(page.url()).pathname, `/workflows/${workflow.id}/runs`)
      const runRow = page.locator(`tr[data-run-id="${runId}"]`)
      await runRow.locator('[data-state="succeeded"]').waitFor()
      assert.match(await page.getByRole('heading', { name: /Recent runs/ }).innerText(), /Order alert/)
      await page.screenshot({ path: path.join(outDir, 'runs.png'), fullPage: true })
      assert.deepEqual(await axeViolations(page), [], 'accessibility problems on the runs page')

      await runRow.getByRole('link').click()
      const msg = page.locator('[data-step-id="msg"]')
      await msg.filter({ hasText: 'Order #1 from Ada' }).waitFor()
      assert.equal(await msg.locator('.badge').innerText(), 'succeeded')
      await page.locator('[data-step-id="big"]').waitFor()
      await page.screenshot({ path: path.join(outDir, 'run-detail.png'), fullPage: true })
      assert.deepEqual(await axeViolations(page), [], 'accessibility problems on the run detail')

      // A deep link straight to the run works (server-side SPA fallback) ...
      await page.goto(`${server.base}/workflows/${encodeURIComponent(workflow.id)}/runs/${encodeURIComponent(runId)}`)
      await page.locator('[data-step-id="msg"]').filter({ hasText: 'Order #1 from Ada' }).waitFor()
      // ... and Back returns to the list.
      await page.getByRole('link', { name: 'Switchboard' }).click()
      await page.waitForURL(server.base + '/')
      await page.goBack()
      await page.locator('[data-step-id="msg"]').waitFor()

      // Signing out returns to the login page, and the session is gone.
      await page.getByRole('button', { name: new RegExp(ADMIN.email) }).click()
      await page.getByRole('button', { name: 'Sign out' }).click()
      await page.getByRole('heading', { name: 'Sign in' }).waitFor()
      await page.reload()
      await page.getByRole('heading', { name: 'Sign in' }).waitFor()

      assert.deepEqual(pageErrors, [], 'no errors in the browser console')
    })
  })
})
