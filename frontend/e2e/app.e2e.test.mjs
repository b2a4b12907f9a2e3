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
import path from 'node:path'
import { expect, test } from '@playwright/test'
import { ADMIN, api, axeViolations, outDir, signIn, suite, waitForRun } from './harness.mjs'

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

test.describe('switchboard UI', () => {
  // Chromium logs every non-2xx fetch; the 401 of /auth/me before signing in is intended.
  let page
  let server
  const s = suite(test, { name: 'app', allowConsole: /status of 401/ })
  test.beforeAll(async () => {
    ;({ page, server } = s)
    await s.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: s.server.base })
  })

  test('signs in through the login page and shows the empty state', async () => {
    const unauthenticated = await api({ ...server, apiKey: '' }, 'GET', '/api/v1/workflows')
    assert.equal(unauthenticated.status, 401, 'the API needs authentication')
    await page.goto(server.base + '/')
    assert.match(await page.title(), /Switchboard/)
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible()
    await page.screenshot({ path: path.join(outDir, 'login.png'), fullPage: true })
    assert.deepEqual(await axeViolations(page), [], 'accessibility problems on the login page')

    // A wrong password is refused on the page.
    await page.getByLabel('E-mail').fill(ADMIN.email)
    await page.getByLabel('Password').fill('not the password')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await expect(page.getByRole('alert').filter({ hasText: 'Wrong e-mail or password' })).toBeVisible()

    await signIn(page, server.base)
    // The header menu names the user and the role.
    await page.getByRole('button', { name: new RegExp(ADMIN.email) }).click()
    await expect(page.locator('[data-role="admin"]')).toBeVisible()
    await page.keyboard.press('Escape')
    await expect(page.getByText('No workflows yet')).toBeVisible()
    await expect(page.getByRole('button', { name: 'Create your first workflow' })).toBeVisible()
    await page.screenshot({ path: path.join(outDir, 'empty.png'), fullPage: true })
  })

  let workflow
  let runId

  test('creates the workflow and runs it through the webhook', async () => {
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

  test('lists the workflow, its run and the run detail', async () => {
    assert.ok(runId, 'previous test did not produce a run')
    await page.goto(server.base + '/')
    const link = page.getByRole('link', { name: 'Order alert', exact: true })
    await expect(link).toBeVisible()
    const row = page.locator(`tr[data-workflow-id="${workflow.id}"]`)
    await expect(row.getByRole('switch', { name: 'Active: Order alert' })).toHaveAttribute('aria-checked', 'true')
    await expect(row).toHaveText(/webhook/, { useInnerText: true })
    await expect(row.getByRole('link', { name: 'Last run: succeeded' })).toBeVisible()
    await expect(row).toHaveText(/100%/, { useInnerText: true })
    await page.screenshot({ path: path.join(outDir, 'workflows.png'), fullPage: true })

    // The name opens the editor with the trigger and both steps on the canvas.
    await link.click()
    await expect.poll(() => new URL(page.url()).pathname).toBe(`/workflows/${workflow.id}`)
    await expect(page.getByRole('button', { name: /^Step 1 Filter big\b/ })).toBeVisible()
    await expect(page.getByRole('button', { name: /^Step 2 Map data msg\b/ })).toBeVisible()
    await page.getByRole('button', { name: /^Trigger Webhook/ }).click()
    await expect(page.getByTestId('webhook-url')).toHaveText(workflow.webhook_url, { useInnerText: true })
    await page.getByRole('button', { name: 'Copy webhook URL' }).click()
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), workflow.webhook_url)
    await page.screenshot({ path: path.join(outDir, 'editor.png') })

    await page.getByRole('main').getByRole('link', { name: 'Runs', exact: true }).click()
    await expect.poll(() => new URL(page.url()).pathname).toBe(`/workflows/${workflow.id}/runs`)
    const runRow = page.locator(`tr[data-run-id="${runId}"]`)
    await expect(runRow.locator('[data-state="succeeded"]')).toBeVisible()
    await expect(page.getByRole('heading', { name: /Recent runs/ })).toHaveText(/Order alert/, { useInnerText: true })
    await page.screenshot({ path: path.join(outDir, 'runs.png'), fullPage: true })
    assert.deepEqual(await axeViolations(page), [], 'accessibility problems on the runs page')

    await runRow.getByRole('link').click()
    const msg = page.locator('[data-step-id="msg"]')
    await expect(msg.filter({ hasText: 'Order #1 from Ada' })).toBeVisible()
    await expect(msg.locator('.badge')).toHaveText('succeeded', { useInnerText: true })
    await expect(page.locator('[data-step-id="big"]')).toBeVisible()
    await page.screenshot({ path: path.join(outDir, 'run-detail.png'), fullPage: true })
    assert.deepEqual(await axeViolations(page), [], 'accessibility problems on the run detail')

    // A deep link straight to the run works (server-side SPA fallback) ...
    await page.goto(`${server.base}/workflows/${encodeURIComponent(workflow.id)}/runs/${encodeURIComponent(runId)}`)
    await expect(page.locator('[data-step-id="msg"]').filter({ hasText: 'Order #1 from Ada' })).toBeVisible()
    // ... and Back returns to the list.
    await page.getByRole('link', { name: 'Switchboard' }).click()
    await page.waitForURL(server.base + '/')
    await page.goBack()
    await expect(page.locator('[data-step-id="msg"]')).toBeVisible()

    // Signing out returns to the login page, and the session is gone.
    await page.getByRole('button', { name: new RegExp(ADMIN.email) }).click()
    await page.getByRole('button', { name: 'Sign out' }).click()
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible()
    await page.reload()
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible()

    assert.deepEqual(s.pageErrors, [], 'no errors in the browser console')
  })
})
