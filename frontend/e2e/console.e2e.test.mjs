// Browser end-to-end test of the operations console: the real binary + Debian's Chromium.
//
// A local receiver answers 500 → the run fails after two attempts → the dashboard shows it
// and links to the failed runs → the global runs list finds it (filters, text search) → the
// run page shows both delivery attempts with the receiver's response, the error in words and
// copyable JSON paths → the receiver is fixed → "Replay from the failed step" → the replay
// succeeds and links back to its original. Then 50 failed runs are replayed in bulk with a
// progress bar to the end, and waiting runs are selected and canceled together. axe-core on
// every console screen; screenshots in frontend/test-output/console-*.png.

import assert from 'node:assert/strict'
import http from 'node:http'
import path from 'node:path'
import { expect, test } from '@playwright/test'
import { api, axeViolations, outDir, signIn, suite, waitForRun } from './harness.mjs'

/** A receiver whose answer the test switches between 500 and 200. */
function startReceiver() {
  const state = { status: 500, hits: 0 }
  const srv = http.createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      state.hits++
      res.writeHead(state.status, { 'Content-Type': 'application/json' })
      res.end(JSON.stringify(state.status === 200 ? { ok: true } : { error: 'receiver down for maintenance' }))
    })
  })
  return new Promise((resolve) => {
    srv.listen(0, '127.0.0.1', () => resolve({ state, port: srv.address().port, close: () => new Promise((r) => srv.close(r)) }))
  })
}

function notifyWorkflow(name, port, retry) {
  return {
    schema: 'switchboard/v1',
    name,
    trigger: { type: 'webhook', webhook: { methods: ['POST'] } },
    steps: [
      { id: 'msg', type: 'map', fields: { text: 'Order {{ trigger.body.id }} from {{ trigger.body.customer.name }}' } },
      {
        id: 'notify',
        type: 'action',
        action: 'http.request',
        input: { method: 'POST', url: `http://127.0.0.1:${port}/orders`, json: { text: '{{ steps.msg.text }}' } },
        retry,
      },
    ],
  }
}

test.describe('operations console', () => {
  let server
  let page
  let receiver
  const s = suite(test, {
    name: 'console',
    server: { env: { SWITCHBOARD_OUTBOUND_ALLOW: '127.0.0.1' } },
    allowConsole: /status of 401/,
  })
  test.beforeAll(async () => {
    ;({ server, page } = s)
    receiver = await startReceiver()
    await s.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base })
  })
  test.afterAll(async () => {
    await receiver?.close()
  })

  async function checkA11y(what) {
    assert.deepEqual(await axeViolations(page), [], `accessibility problems on ${what}`)
  }

  let orders
  let failedRunId

  test('a receiver answering 500 fails the run after two attempts', async () => {
    await test.step('fail', async () => {
      const created = await api(server, 'POST', '/api/v1/workflows',
        notifyWorkflow('Order alerts', receiver.port, { max_attempts: 2, backoff: 'fixed', initial: '200ms' }))
      assert.equal(created.status, 201, created.text)
      orders = created.json
      const hook = await api(server, 'POST', new URL(orders.webhook_url).pathname, { id: 42, customer: { name: 'Ada Lovelace' } })
      assert.equal(hook.status, 202, hook.text)
      failedRunId = hook.json.run_id
      const run = await waitForRun(server, failedRunId)
      assert.equal(run.state, 'failed', JSON.stringify(run))
      assert.equal(run.deliveries.length, 2, 'two delivery attempts')
    })
  })

  test('the dashboard shows the failure and leads to the failed runs', async () => {
    assert.ok(failedRunId, 'no failed run')
    await test.step('dashboard', async () => {
      await signIn(page, server.base)
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }).click()
      await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor()
      await page.getByTestId('dash-total').filter({ hasText: '1 failed' }).waitFor()
      assert.equal(await page.getByTestId('dash-success').innerText(), '0%')
      await page.locator('.recharts-bar-rectangle').first().waitFor()
      await page.screenshot({ path: path.join(outDir, 'console-dashboard.png'), fullPage: true })
      await checkA11y('the dashboard')
      await page.getByRole('button', { name: 'Last week' }).click()
      await page.getByRole('button', { name: 'Last week', pressed: true }).waitFor()

      const failing = page.getByRole('region', { name: 'Failing most' })
      await failing.getByRole('link', { name: 'Order alerts' }).click()
      await page.waitForURL((u) => u.pathname === '/runs' && u.searchParams.get('state') === 'failed')
      await page.locator(`tr[data-run-id="${failedRunId}"]`).waitFor()
    })
  })

  test('the global runs list filters and searches the trigger input', async () => {
    assert.ok(failedRunId, 'no failed run')
    await test.step('runs', async () => {
      await page.goto(server.base + '/runs')
      const row = page.locator(`tr[data-run-id="${failedRunId}"]`)
      await row.waitFor()
      // The error in words first, then the whole message on demand, not cut.
      await expect(row.locator('.error-words')).toHaveText(/server error/)
      await row.locator('.error-details summary').click()
      const err = await row.locator('.error-text').innerText()
      assert.ok(err.length > 20 && /500/.test(err), `error cell: ${err}`)
      const clipped = await row.locator('.error-text').evaluate((el) => el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1)
      assert.equal(clipped, false, 'the error is not cut off')
      assert.match(await row.innerText(), /Order alerts/)
      await page.screenshot({ path: path.join(outDir, 'console-runs.png'), fullPage: true })
      await checkA11y('the runs list')

      const search = page.getByLabel('Search the trigger input')
      await search.fill('nobody-at-all')
      await page.getByText('No runs match').waitFor()
      assert.match(page.url(), /q=nobody-at-all/)
      await search.fill('lovelace')
      await row.waitFor()
      await page.getByLabel('State', { exact: true }).selectOption('succeeded')
      await page.getByText('No runs match').waitFor()
      await page.getByLabel('State', { exact: true }).selectOption('failed')
      await page.getByLabel('Trigger', { exact: true }).selectOption('webhook')
      await row.waitFor()
      await row.getByRole('link', { name: /^Run / }).click()
      await page.waitForURL(`**/runs/${failedRunId}`)
    })
  })

  test('the run page shows both attempts, the response and the error in words; replay from the failed step succeeds', async () => {
    assert.ok(failedRunId, 'no failed run')
    await test.step('run', async () => {
      const article = page.locator(`article[data-run-id="${failedRunId}"]`)
      await article.waitFor()
      await page.getByTestId('run-error').filter({ hasText: 'server error' }).waitFor()
      // Timeline: the action step with both attempts on it.
      await page.locator('.timeline__row[data-step-id="notify"][data-attempts="2"]').waitFor()
      const notify = page.locator('details.step-card[data-step-id="notify"]')
      const attempts = notify.locator('li.delivery')
      assert.equal(await attempts.count(), 2)
      assert.equal(await attempts.nth(0).getAttribute('data-status'), '500')
      // The retry rules' verdict on each failed attempt (a 500 may pass if tried again).
      await expect(attempts.nth(0).getByTestId('delivery-kind')).toHaveText('retryable')
      await attempts.nth(1).getByText('Request and response').click()
      await attempts.nth(1).getByLabel('Response body of attempt 2').filter({ hasText: 'receiver down for maintenance' }).waitFor()
      await attempts.nth(1).getByLabel('Request body of attempt 2').filter({ hasText: 'Order 42 from Ada Lovelace' }).waitFor()

      // Copy a path from the msg step's output, ready for a template.
      const msg = page.locator('details.step-card[data-step-id="msg"]')
      await msg.locator('li[data-path="steps.msg.text"]').hover()
      await msg.getByRole('button', { name: 'copy path steps.msg.text' }).click()
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'steps.msg.text')
      await msg.getByRole('button', { name: 'copy value of steps.msg.text' }).click()
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'Order 42 from Ada Lovelace')
      await page.screenshot({ path: path.join(outDir, 'console-run-failed.png'), fullPage: true })
      await checkA11y('the run page')

      // Fix the receiver, replay from the failed step.
      receiver.state.status = 200
      const form = page.getByRole('form', { name: 'Replay this run' })
      await form.getByLabel('From').selectOption('failed')
      await form.getByRole('button', { name: 'Replay' }).click()
      await page.waitForURL((u) => u.pathname.startsWith('/runs/') && !u.pathname.endsWith(failedRunId))
      const replayId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop())
      await page.locator(`article[data-run-id="${replayId}"][data-state="succeeded"]`).waitFor({ timeout: 30_000 })
      const links = page.getByTestId('run-links')
      await links.getByText('Replay of').waitFor()
      const replay = await waitForRun(server, replayId)
      assert.equal(replay.deliveries.length, 1, 'the replay called the receiver once')
      assert.equal(replay.deliveries[0].status, 200)
      assert.ok(!replay.steps.some((s) => s.step_id === 'msg' && s.state !== 'succeeded'))
      // The replay's timeline shows every attempt of the step: the two that failed, then this one.
      const row = page.locator('.timeline__row[data-step-id="notify"]')
      await expect(row).toHaveAttribute('data-attempts', '3')
      await expect(row.locator('.timeline__mark.is-bad')).toHaveCount(2)
      await expect(row.locator('.timeline__mark.is-ok')).toHaveCount(1)
      await page.screenshot({ path: path.join(outDir, 'console-run-replayed.png'), fullPage: true })
      await checkA11y('the replayed run')

      // ... and back: the original lists its replay.
      await links.getByRole('link', { name: /^run / }).click()
      await page.waitForURL(`**/runs/${failedRunId}`)
      await page.getByTestId('run-links').locator('[data-state="succeeded"]').waitFor()
    })
  })

  test('50 failed runs are replayed in bulk with a progress bar to the end', async () => {
    await test.step('bulk', async () => {
      receiver.state.status = 500
      const created = await api(server, 'POST', '/api/v1/workflows', notifyWorkflow('Bulk orders', receiver.port, { max_attempts: 1 }))
      assert.equal(created.status, 201, created.text)
      const bulk = created.json
      const hookPath = new URL(bulk.webhook_url).pathname
      const ids = []
      for (let i = 0; i < 50; i++) {
        const r = await api(server, 'POST', hookPath, { id: i, customer: { name: `Customer ${i}` } })
        assert.equal(r.status, 202, r.text)
        ids.push(r.json.run_id)
      }
      for (const id of ids) assert.equal((await waitForRun(server, id, 60_000)).state, 'failed')
      receiver.state.status = 200

      await page.goto(`${server.base}/runs?workflow=${bulk.id}`)
      await page.locator('tr[data-run-id]').first().waitFor()
      await page.getByRole('button', { name: 'Replay every failed run matching this filter…' }).click()
      const dialog = page.getByRole('dialog', { name: 'Replay every failed run matching this filter' })
      await dialog.getByTestId('bulk-count').filter({ hasText: '50 failed runs match' }).waitFor()
      await page.screenshot({ path: path.join(outDir, 'console-bulk-count.png') })
      await checkA11y('the bulk replay dialog')
      await dialog.getByRole('button', { name: 'Replay 50 runs' }).click()
      await dialog.getByTestId('bulk-result').filter({ hasText: '50 of 50 replayed.' }).waitFor({ timeout: 60_000 })
      const bar = dialog.locator('progress')
      assert.equal(await bar.getAttribute('value'), '50')
      assert.equal(await bar.getAttribute('max'), '50')
      await page.screenshot({ path: path.join(outDir, 'console-bulk-done.png') })
      await dialog.getByRole('button', { name: 'Done' }).click()

      // Every replay succeeds (checked through the API, bounded).
      await expect
        .poll(async () => (await api(server, 'GET', `/api/v1/runs/count?workflow=${bulk.id}&state=succeeded`)).json?.count, {
          message: 'all 50 replays succeed',
          timeout: 60_000,
        })
        .toBe(50)
      await page.getByLabel('State', { exact: true }).selectOption('succeeded')
      await page.locator('tr[data-state="succeeded"]').first().waitFor()
    })
  })

  test('waiting runs are selected and canceled together', async () => {
    await test.step('cancel', async () => {
      const created = await api(server, 'POST', '/api/v1/workflows', {
        schema: 'switchboard/v1',
        name: 'Slow follow-up',
        trigger: { type: 'webhook', webhook: { methods: ['POST'] } },
        steps: [{ id: 'later', type: 'delay', for: '1h' }],
      })
      assert.equal(created.status, 201, created.text)
      const hookPath = new URL(created.json.webhook_url).pathname
      for (let i = 0; i < 2; i++) assert.equal((await api(server, 'POST', hookPath, { i })).status, 202)

      await page.goto(`${server.base}/runs?workflow=${created.json.id}&state=waiting`)
      await page.locator('tr[data-state="waiting"]').nth(1).waitFor({ timeout: 30_000 })
      await page.getByRole('checkbox', { name: 'Select all shown runs' }).check()
      await page.getByRole('group', { name: 'Bulk actions' }).getByRole('button', { name: 'Cancel', exact: true }).click()
      const dialog = page.getByRole('dialog', { name: 'Cancel runs' })
      await dialog.getByRole('button', { name: 'Cancel 2 runs' }).click()
      await dialog.getByTestId('bulk-result').filter({ hasText: '2 of 2 canceled.' }).waitFor()
      await dialog.getByRole('button', { name: 'Done' }).click()
      await page.getByLabel('State', { exact: true }).selectOption('canceled')
      await page.locator('tr[data-state="canceled"]').nth(1).waitFor()
    })
  })

  test('a request with a bad signature is in the inbox with its reason and can be copied as curl', async () => {
    await test.step('inbox', async () => {
      const created = await api(server, 'POST', '/api/v1/workflows', {
        schema: 'switchboard/v1',
        name: 'Signed orders',
        trigger: { type: 'webhook', webhook: { methods: ['POST'], verify: { scheme: 'hmac', secrets: ['s3cret-signing-key'], header: 'X-Signature', prefix: 'sha256=' } } },
        steps: [{ id: 'msg', type: 'map', fields: { text: 'hi' } }],
      })
      assert.equal(created.status, 201, created.text)
      const wf = created.json
      const bad = await api(server, 'POST', new URL(wf.webhook_url).pathname, { order: 7 }, { 'X-Signature': 'sha256=00ff' })
      assert.ok(bad.status >= 400, `bad signature answered ${bad.status}`)

      await page.goto(`${server.base}/workflows/${wf.id}`)
      await page.getByRole('main').getByRole('link', { name: 'Inbox', exact: true }).click()
      await page.waitForURL(`**/workflows/${wf.id}/inbox`)
      const item = page.locator('li.inbox-item[data-verdict="rejected"]')
      await item.waitFor()
      const reason = await item.locator('.inbox-item__reason').innerText()
      assert.match(reason, /signature/i, `reason: ${reason}`)
      await item.getByRole('button', { name: 'Show request' }).click()
      await item.getByLabel('Raw body').filter({ hasText: '"order": 7' }).waitFor()
      await item.getByRole('button', { name: 'Copy as curl' }).click()
      const curl = await page.evaluate(() => navigator.clipboard.readText())
      assert.ok(curl.startsWith(`curl -X POST '${wf.webhook_url}'`), curl)
      assert.match(curl, /--data-binary '\{"order":7\}'/)
      await page.screenshot({ path: path.join(outDir, 'console-inbox.png'), fullPage: true })
      await checkA11y('the webhook inbox')

      // Use it as sample data, then send it through the workflow again (it asks first).
      await item.getByRole('button', { name: 'Use as sample data' }).click()
      await expect(item.getByRole('status')).toHaveText(/Kept as the sample data/)
      const sample = await api(server, 'GET', `/api/v1/workflows/${wf.id}/sample`)
      assert.equal(sample.json.sample.body.order, 7)
      let asked = ''
      page.once('dialog', (d) => {
        asked = d.message()
        void d.accept()
      })
      await item.getByRole('button', { name: 'Send it again through the workflow' }).click()
      await expect.poll(() => asked).toMatch(/actions run for real/)
      await page.waitForURL((u) => u.pathname.startsWith('/runs/'))
      const resentId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop())
      await expect(page.locator(`article[data-run-id="${resentId}"][data-state="succeeded"]`)).toBeVisible({ timeout: 30_000 })
      const resent = await waitForRun(server, resentId)
      assert.equal(resent.trigger.body.order, 7)
      assert.deepEqual(s.pageErrors, [], 'no errors in the browser console')
    })
  })

  test('a template step without its connection is flagged, and turning it on is refused naming the step', async () => {
    await page.goto(server.base + '/')
    await page.getByRole('button', { name: 'New workflow' }).click()
    const dialog = page.getByRole('dialog', { name: 'New workflow' })
    await dialog.getByRole('radio', { name: 'Webhook → Slack alert', exact: true }).check()
    await dialog.getByRole('button', { name: 'Create workflow' }).click()
    await page.waitForURL(/\/workflows\/[0-9a-f-]{36}$/)
    // Saved as a draft, but the step is flagged on the canvas and in its panel.
    await expect(page.getByTestId('save-status').filter({ hasText: 'Saved · v1' })).toBeVisible()
    const node = page.locator('[data-node="alert"]')
    await expect(node).toHaveClass(/has-error/)
    await node.getByRole('button').first().click()
    await expect(page.getByText(/step alert \(slack\.post_message\) needs a Slack connection/).first()).toBeVisible()
    await page.getByRole('switch', { name: 'Active' }).click()
    await expect(page.getByTestId('save-status')).toHaveText(/Not turned on: step alert \(slack\.post_message\) needs a Slack connection/)
    await expect(page.getByRole('switch', { name: 'Active' })).toHaveAttribute('aria-checked', 'false')
    await page.screenshot({ path: path.join(outDir, 'console-missing-connection.png'), fullPage: true })
    await checkA11y('the editor with a flagged step')
    // Saving another change keeps the flag: the step still has no connection.
    await page.getByRole('complementary', { name: 'Settings' }).getByLabel('Title on the canvas').fill('Alert the team')
    await page.getByRole('button', { name: 'Save', exact: true }).click()
    await expect(page.getByTestId('save-status').filter({ hasText: 'Saved · v2' })).toBeVisible()
    await expect(node).toHaveClass(/has-error/)

    // A connection made right there, named in words; the key is derived. Then it turns on.
    const panel = page.getByRole('complementary', { name: 'Settings' })
    await panel.getByRole('button', { name: 'New connection' }).click()
    await panel.getByLabel('Connection name').fill('Team Slack')
    await expect(panel.getByTestId('connection-key')).toHaveText('team-slack')
    await panel.getByLabel('Bot token').fill('xoxb-not-a-real-token')
    await panel.getByRole('button', { name: 'Save connection' }).click()
    await expect(node).toHaveText(/via team-slack/)
    await expect(node).not.toHaveClass(/has-error/)
    page.once('dialog', (d) => void d.accept()) // "Save your changes first?"
    await page.getByRole('switch', { name: 'Active' }).click()
    await expect(page.getByRole('switch', { name: 'Active' })).toHaveAttribute('aria-checked', 'true')
  })

  test('the version history shows what changed in a version', async () => {
    const doc = notifyWorkflow('Order alerts', receiver.port, { max_attempts: 2, backoff: 'fixed', initial: '200ms' })
    doc.steps[0].fields.text = 'New order {{ trigger.body.id }}'
    const put = await api(server, 'PUT', `/api/v1/workflows/${orders.id}`, doc, { 'If-Match': '"v1"' })
    assert.equal(put.status, 200, put.text)
    await page.goto(`${server.base}/workflows/${orders.id}`)
    await page.getByRole('button', { name: 'Versions' }).click()
    await page.getByRole('button', { name: 'Changes in version 2' }).click()
    const changes = page.getByRole('list', { name: 'Changes from version 1 to 2' })
    const item = changes.locator('li[data-path="steps[0].fields.text"]')
    await expect(item.getByLabel('before')).toHaveText('Order {{ trigger.body.id }} from {{ trigger.body.customer.name }}')
    await expect(item.getByLabel('after')).toHaveText('New order {{ trigger.body.id }}')
    await page.screenshot({ path: path.join(outDir, 'console-version-diff.png'), fullPage: true })
    await checkA11y('the version diff')
  })

  test('the trigger panel sets secrets for rotation, an IP allowlist, dedupe, event types, a synchronous answer and a rate limit', async () => {
    const created = await api(server, 'POST', '/api/v1/workflows', {
      schema: 'switchboard/v1',
      name: 'Trigger settings',
      trigger: { type: 'webhook' },
      steps: [{ id: 'reply', type: 'map', fields: { ok: 'yes' } }],
    })
    assert.equal(created.status, 201, created.text)
    const wf = created.json
    await page.goto(`${server.base}/workflows/${wf.id}`)
    await page.getByRole('button', { name: /^Trigger Webhook/ }).click()
    const panel = page.getByRole('complementary', { name: 'Settings' })

    await panel.getByText('Verification', { exact: true }).click()
    await panel.getByLabel('Check who sent the request').selectOption('hmac')
    await panel.getByLabel('Signing secret 1', { exact: true }).fill('old-secret-0123456789')
    await panel.getByRole('button', { name: 'Add a signing secret' }).click()
    await panel.getByLabel('Signing secret 2', { exact: true }).fill('new-secret-0123456789')
    await panel.getByLabel('Header', { exact: true }).fill('X-Signature')

    await panel.getByText('Allowed IP addresses').click()
    await panel.getByLabel('Only accept requests from').fill('127.0.0.1, 10.0.0.0/8')
    await panel.getByLabel('Only accept requests from').blur()

    await panel.getByText('Duplicate deliveries').click()
    await panel.getByLabel('Event id header').fill('X-Event-Id')
    await panel.getByLabel('Remember ids for').fill('24h')

    await panel.getByText('Event types', { exact: true }).click()
    await panel.getByLabel('Accepted event types').fill('order.created\norder.paid')
    await panel.getByLabel('Accepted event types').blur()
    await panel.getByLabel('Event type header').fill('X-Event')

    await panel.getByText('Answer and rate limit').click()
    await panel.getByLabel('Answer the sender').selectOption('sync')
    await expect(panel.getByLabel('Answer with the output of')).toHaveValue('reply')
    await panel.getByLabel('Wait at most').fill('5s')
    await panel.getByLabel('Requests per minute').fill('30')
    await page.screenshot({ path: path.join(outDir, 'console-trigger-settings.png'), fullPage: true })
    await checkA11y('the trigger settings')

    await page.getByRole('button', { name: 'Save', exact: true }).click()
    await expect(page.getByTestId('save-status').filter({ hasText: 'Saved · v2' })).toBeVisible()
    const saved = await api(server, 'GET', `/api/v1/workflows/${wf.id}/versions/2`)
    const wh = saved.json.document.trigger.webhook
    assert.equal(wh.verify.scheme, 'hmac')
    assert.equal(wh.verify.secrets.length, 2, JSON.stringify(wh.verify))
    assert.equal(wh.verify.header, 'X-Signature')
    assert.deepEqual(wh.verify.allow_ips, ['127.0.0.1', '10.0.0.0/8'])
    assert.deepEqual(wh.dedupe, { header: 'X-Event-Id', window: '24h' })
    assert.deepEqual(wh.events, { accept: ['order.created', 'order.paid'], header: 'X-Event' })
    assert.equal(wh.respond, 'sync')
    assert.deepEqual(wh.response, { step: 'reply', timeout: '5s' })
    assert.equal(wh.rate_limit, 30)
  })

  test('new runs appear in the runs list and on the dashboard without a reload', async () => {
    await page.goto(`${server.base}/runs?workflow=${orders.id}`)
    await expect(page.locator(`tr[data-run-id="${failedRunId}"]`)).toBeVisible()
    receiver.state.status = 200
    const hook = await api(server, 'POST', new URL(orders.webhook_url).pathname, { id: 99, customer: { name: 'Live Update' } })
    assert.equal(hook.status, 202, hook.text)
    // No reload, no click: the list asks again by itself.
    await expect(page.locator(`tr[data-run-id="${hook.json.run_id}"]`)).toBeVisible({ timeout: 20_000 })

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }).click()
    const total = page.getByTestId('dash-total')
    await expect(total).toBeVisible()
    const before = await total.innerText()
    const again = await api(server, 'POST', new URL(orders.webhook_url).pathname, { id: 100, customer: { name: 'Live Again' } })
    assert.equal(again.status, 202, again.text)
    await expect(total).not.toHaveText(before, { timeout: 20_000 })
  })

  test('a new webhook workflow shows its URL before the first save, and keeps it', async () => {
    await page.goto(server.base + '/')
    await page.getByRole('button', { name: 'New workflow' }).click()
    const dialog = page.getByRole('dialog', { name: 'New workflow' })
    await dialog.getByLabel('Workflow name').fill('URL first')
    await dialog.getByRole('radio', { name: 'Webhook', exact: true }).check()
    await dialog.getByRole('button', { name: 'Create workflow' }).click()
    await expect.poll(() => new URL(page.url()).pathname).toBe('/workflows/new')
    await page.getByRole('button', { name: /^Trigger Webhook/ }).click()
    const shown = page.getByTestId('webhook-url')
    await expect(shown).toHaveText(new RegExp(`^${server.base}/hooks/[A-Za-z0-9_-]{32}$`))
    const before = (await shown.innerText()).trim()
    await page.screenshot({ path: path.join(outDir, 'console-draft-webhook-url.png') })
    await checkA11y('the draft trigger panel')

    await page.getByRole('button', { name: 'Add a step at the end of the workflow' }).click()
    await page.getByRole('dialog').getByRole('button', { name: /^Map data/ }).click()
    await page.getByRole('button', { name: 'Add field' }).click()
    // Fill the new row by its label: the panel's Step ID field may still take the focus.
    await page.getByRole('textbox', { name: 'Field name 1', exact: true }).fill('ok')
    await page.getByRole('textbox', { name: 'Value of ok' }).click()
    await page.keyboard.type('yes')
    await page.getByRole('button', { name: 'Save', exact: true }).click()
    await page.waitForURL(/\/workflows\/[0-9a-f-]{36}$/, { timeout: 15_000 })
    const id = new URL(page.url()).pathname.split('/').pop()
    const saved = await api(server, 'GET', `/api/v1/workflows/${id}`)
    assert.equal(saved.json.webhook_url, before, 'the URL shown before saving is the saved one')
    await page.getByRole('button', { name: /^Trigger Webhook/ }).click()
    await expect(page.getByTestId('webhook-url')).toHaveText(before)
  })

  test('a viewer sees the console without any control that changes something', async ({ browser }) => {
    assert.ok(failedRunId, 'no failed run')
    await test.step('viewer', async () => {
      const viewer = { email: 'viewer@example.com', password: 'viewer password 123', name: 'Vera Viewer', role: 'viewer' }
      const made = await api(server, 'POST', '/api/v1/users', viewer)
      assert.equal(made.status, 201, made.text)
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
      const vpage = await context.newPage()
      vpage.setDefaultTimeout(15_000)
      try {
        await signIn(vpage, server.base, viewer)
        await vpage.getByRole('button', { name: new RegExp(viewer.email) }).waitFor()
        await vpage.goto(`${server.base}/runs?workflow=${orders.id}`)
        await vpage.locator(`tr[data-run-id="${failedRunId}"]`).waitFor()
        assert.equal(await vpage.getByRole('checkbox').count(), 0, 'no selection boxes')
        assert.equal(await vpage.getByRole('button', { name: /Replay|Cancel/ }).count(), 0, 'no bulk actions')
        await vpage.goto(`${server.base}/runs/${failedRunId}`)
        await vpage.locator(`article[data-run-id="${failedRunId}"]`).waitFor()
        assert.equal(await vpage.getByRole('button', { name: /Replay|Cancel/ }).count(), 0, 'no replay or cancel')
        await vpage.goto(`${server.base}/dashboard`)
        await vpage.getByTestId('dashboard').waitFor()
        assert.equal(await vpage.getByRole('button', { name: /Replay|Cancel|Delete|Save/ }).count(), 0)
      } finally {
        await context.close()
      }
    })
  })
})
