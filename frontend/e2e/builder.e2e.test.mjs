// The builder end to end (issue 7): the real `switchboard` binary + Debian's Chromium.
//
//   SWITCHBOARD_BIN=/abs/path/to/bin/switchboard npm run e2e
//
// A marketer's path, by clicks and typing only: log in; create a webhook workflow from scratch;
// add a filter; save; listen for a test event and send it from the send-a-test-request panel; add
// a map whose value is picked from the expression autocomplete (with a live preview); add a
// Slack action, creating the Slack connection inline (bot_token, base_url pointing at a local
// Slack-compatible receiver); save; test the workflow and see results on each node; activate;
// send a real webhook and see the message arrive at the receiver. Also: undo/redo, version
// history, and the unsaved-changes guard. Screenshots of each page go to frontend/test-output/.
//
// The server runs with SWITCHBOARD_OUTBOUND_ALLOW=127.0.0.1 so actions may reach the receiver.

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { expect, test } from '@playwright/test'
import { api, axeViolations, outDir, signIn, suite, waitForRun } from './harness.mjs'

/** A Slack-compatible chat.postMessage endpoint that records what it gets. */
function startSlackReceiver() {
  const requests = []
  const srv = http.createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      let json = null
      try {
        json = JSON.parse(body)
      } catch {
        // form-encoded or empty
      }
      requests.push({ method: req.method, url: req.url, headers: req.headers, body, json })
      res.writeHead(200, { 'Content-Type': 'application/json' })
      res.end(JSON.stringify({ ok: true, channel: 'C1', ts: '1.2' }))
    })
  })
  return new Promise((resolve) => {
    srv.listen(0, '127.0.0.1', () => {
      resolve({
        port: srv.address().port,
        requests,
        close: () => new Promise((r) => srv.close(r)),
      })
    })
  })
}

/** The bounding box once it is the same twice in a row, 100 ms apart. */
async function stableBox(locator) {
  let prev = null
  let box = null
  await expect
    .poll(
      async () => {
        prev = box
        box = await locator.boundingBox()
        return !!box && !!prev && box.x === prev.x && box.y === prev.y && box.width === prev.width
      },
      { message: 'the element to stand still', intervals: [100] },
    )
    .toBe(true)
  return box
}

test.describe('switchboard builder', () => {
  test.describe.configure({ timeout: 240_000 })
  let receiver
  // Chromium logs every non-2xx fetch: the 401 before signing in and the 422s of live
  // validation while the workflow is incomplete and the 412 of the conflict are intended.
  let page
  let server
  const s = suite(test, {
    name: 'builder',
    server: { env: { SWITCHBOARD_OUTBOUND_ALLOW: '127.0.0.1' } },
    allowConsole: /status of (401|412|422)/,
  })
  test.beforeAll(async () => {
    ;({ page, server } = s)
    receiver = await startSlackReceiver()
    await s.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: s.server.base })
  })
  test.afterAll(async () => {
    await receiver?.close()
  })

  const shot = (name) => page.screenshot({ path: path.join(outDir, `builder-${name}.png`) })

  /** No serious or critical WCAG 2.1 A/AA problems (axe-core) on the page as it is. */
  async function a11y(where) {
    const problems = await axeViolations(page)
    assert.deepEqual(problems, [], `accessibility problems on ${where}`)
  }

  /** Types into a CodeMirror field found by its label. */
  async function typeInto(label, text) {
    const box = page.getByRole('textbox', { name: label, exact: true })
    await box.click()
    await page.keyboard.type(text, { delay: 15 })
  }

  /**
   * Clicks a completion option until the field took it: CodeMirror ignores clicks for about
   * 75 ms after the list opens, so a click can land too early.
   */
  async function pick(option, label, text) {
    const box = page.getByRole('textbox', { name: label, exact: true })
    await expect(async () => {
      if (await option.isVisible()) await option.click({ timeout: 1000 })
      await expect(box).toContainText(text, { timeout: 500 })
    }).toPass()
  }

  let workflowId
  let webhookUrl
  let testUrl

  test('logs in and creates a webhook workflow from scratch', async () => {
    await signIn(page, server.base)
    await expect(page.getByRole('heading', { name: 'Workflows' })).toBeVisible()
    await expect(page.getByText('No workflows yet')).toBeVisible()
    await shot('workflows-empty')
    await a11y('the empty workflows page')

    await page.getByRole('button', { name: 'New workflow' }).click()
    const dialog = page.getByRole('dialog', { name: 'New workflow' })
    await dialog.getByLabel('Workflow name').fill('Big orders to Slack')
    await dialog.getByRole('radio', { name: 'Webhook', exact: true }).check()
    await shot('new-workflow')
    await a11y('the new-workflow dialog')
    await dialog.getByRole('button', { name: 'Create workflow' }).click()
    await expect.poll(() => new URL(page.url()).pathname).toBe('/workflows/new')
    await expect(page.getByRole('button', { name: /^Trigger Webhook/ })).toBeVisible()
    await expect(page.getByLabel('Workflow name')).toHaveValue('Big orders to Slack')
  })

  test('adds a filter and saves', async () => {
    await page.getByRole('button', { name: 'Add a step at the end of the workflow' }).click()
    await page.getByRole('dialog').getByRole('button', { name: /^Filter/ }).click()
    await expect(page.getByRole('button', { name: /^Step 1 Filter filter\b/ })).toBeVisible()
    await typeInto('Continue only if (required)', 'trigger.body.total > 100')
    await page.getByRole('button', { name: 'Save', exact: true }).click()
    await page.waitForURL(/\/workflows\/[0-9a-f-]{36}$/)
    workflowId = page.url().split('/').pop()
    await expect(page.getByTestId('save-status').filter({ hasText: 'Saved · v1' })).toBeVisible()
    const saved = await api(server, 'GET', `/api/v1/workflows/${workflowId}`)
    assert.equal(saved.status, 200, saved.text)
    assert.deepEqual(saved.json.document.steps, [{ id: 'filter', type: 'filter', if: 'trigger.body.total > 100' }])
    assert.equal(saved.json.active, false, 'a new workflow starts switched off')
    webhookUrl = saved.json.webhook_url
    testUrl = saved.json.test_url
  })

  test('listens for a test event and sends one from the test-request panel', async () => {
    await page.getByRole('button', { name: /^Trigger Webhook/ }).click()
    await expect(page.getByTestId('webhook-url')).toHaveText(webhookUrl, { useInnerText: true })
    await page.getByRole('button', { name: 'Copy webhook URL' }).click()
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), webhookUrl)

    await page.getByRole('button', { name: 'Listen for test event' }).click()
    await expect(page.getByText('Listening for a request to the test URL')).toBeVisible()
    const form = page.getByRole('form', { name: 'Send a test request' })
    await form.getByLabel('Body').fill(JSON.stringify({ id: 1001, total: 250, customer: { name: 'Ada Lovelace', email: 'ADA@example.com' } }, null, 2))
    await form.getByRole('button', { name: 'Send test request' }).click()
    await expect(form.getByText(/Answer: 200/)).toBeVisible()
    await expect(page.getByTestId('sample').getByText('"Ada Lovelace"')).toBeVisible()
    await expect(page.getByText('Listening for a request to the test URL')).toHaveCount(0)
    await shot('trigger-sample')
    await a11y('the trigger panel')
    const sample = await api(server, 'GET', `/api/v1/workflows/${workflowId}/sample`)
    assert.equal(sample.json.sample.body.customer.name, 'Ada Lovelace')
    void testUrl
  })

  test('adds a map with an expression picked from the autocomplete', async () => {
    await page.getByRole('button', { name: 'Add a step at the end of the workflow' }).click()
    await page.getByRole('dialog').getByRole('button', { name: /^Map data/ }).click()
    await expect(page.getByRole('button', { name: /^Step 2 Map data map\b/ })).toBeVisible()
    await page.getByLabel('Step ID').fill('msg')
    await page.getByLabel('Step ID').press('Enter')
    await expect(page.getByRole('button', { name: /^Step 2 Map data msg\b/ })).toBeVisible()

    await page.getByRole('button', { name: 'Add field' }).click()
    // Fill the new row by its label: the panel's Step ID field may still take the focus.
    await page.getByRole('textbox', { name: 'Field name 1', exact: true }).fill('text')
    await typeInto('Value of text', 'Big order from {{ trigger.body.cu')
    // The completion list offers what the sample has under trigger.body.
    const option = page.getByRole('option', { name: /^customer/ })
    await expect(option).toBeVisible()
    await shot('autocomplete')
    await pick(option, 'Value of text', 'trigger.body.customer')
    await page.keyboard.type('.na')
    await pick(page.getByRole('option', { name: /^name/ }), 'Value of text', 'trigger.body.customer.name')
    await page.keyboard.type(' }}')
    const preview = page.locator('[data-field]').filter({ has: page.getByRole('textbox', { name: 'Value of text' }) }).getByTestId('preview')
    await expect(preview.filter({ hasText: 'Big order from Ada Lovelace' })).toBeVisible()
    // The whole step, tried alone with the sample.
    await page.getByRole('button', { name: 'Test this step' }).click()
    await expect(page.getByRole('region', { name: 'Test this step' }).getByText('"text": "Big order from Ada Lovelace"')).toBeVisible()
    await shot('map-preview')
    await a11y('the map panel')
  })

  test('adds a Slack action and creates its connection inline', async () => {
    await page.getByRole('button', { name: 'Add a step at the end of the workflow' }).click()
    await page.getByRole('dialog').getByLabel('Search steps and apps').fill('slack')
    await page.getByRole('dialog').getByRole('button', { name: /^Slack: Post a message/ }).click()
    await expect(page.getByRole('button', { name: /^Step 3 Slack: Post a message slack\b/ })).toBeVisible()

    await page.getByRole('button', { name: 'New connection' }).click()
    const conn = page.getByRole('form', { name: 'New Slack connection' })
    await conn.getByLabel('Connection name').fill('team-slack')
    await conn.getByLabel('Bot token').fill('xoxb-e2e-token')
    await conn.getByLabel('API base URL').fill(`http://127.0.0.1:${receiver.port}/api`)
    await shot('connection')
    await conn.getByRole('button', { name: 'Save connection' }).click()
    await expect(page.getByRole('combobox', { name: /^Connection/ }), 'the new connection is chosen').toHaveValue('team-slack')
    // The connection test asks the (local) Slack who the token is.
    await page.getByRole('button', { name: 'Test connection team-slack' }).click()
    await expect(page.getByRole('status').filter({ hasText: 'Slack accepted the credentials.' })).toBeVisible()
    assert.ok(receiver.requests.some((r) => r.url === '/api/auth.test'), 'auth.test was called')

    await page.getByRole('textbox', { name: 'Channel', exact: true }).click()
    await page.keyboard.type('#sales')
    await typeInto('Text (required)', '{{ steps.msg.te')
    await pick(page.getByRole('option', { name: /^text/ }), 'Text (required)', 'steps.msg.text')
    await page.keyboard.type(' }}')
    await shot('slack')
    await a11y('the Slack panel')

    await page.getByRole('button', { name: 'Save', exact: true }).click()
    await expect(page.getByTestId('save-status').filter({ hasText: 'Saved · v2' })).toBeVisible()
    const saved = await api(server, 'GET', `/api/v1/workflows/${workflowId}`)
    assert.deepEqual(saved.json.document.steps.slice(1), [
      { id: 'msg', type: 'map', fields: { text: 'Big order from {{ trigger.body.customer.name }}' } },
      {
        id: 'slack',
        type: 'action',
        action: 'slack.post_message',
        connection: 'team-slack',
        input: { channel: '#sales', text: '{{ steps.msg.text }}' },
      },
    ])
  })

  test('undo and redo, and the unsaved-changes guard', async () => {
    await page.getByRole('button', { name: /^Step 1 Filter/ }).click()
    await page.keyboard.press('Delete')
    await expect(page.getByRole('button', { name: /^Step 1 Map data msg\b/ })).toBeVisible()
    await expect(page.getByTestId('save-status').filter({ hasText: 'Unsaved changes' })).toBeVisible()
    await page.getByRole('button', { name: 'Undo' }).click()
    await expect(page.getByRole('button', { name: /^Step 1 Filter filter\b/ })).toBeVisible()
    await expect(page.getByTestId('save-status').filter({ hasText: 'Saved · v2' })).toBeVisible()
    await page.getByRole('button', { name: 'Redo' }).click()
    await expect(page.getByTestId('save-status').filter({ hasText: 'Unsaved changes' })).toBeVisible()

    // Leaving asks first; dismissing keeps the page.
    let asked = ''
    page.once('dialog', (d) => {
      asked = d.message()
      void d.dismiss()
    })
    await page.getByRole('link', { name: 'Workflows' }).first().click()
    // The router's blocker asks right after the click, not during it.
    await expect.poll(() => asked).toMatch(/unsaved changes/)
    await expect(page).toHaveURL(new RegExp(`/workflows/${workflowId}$`))

    await page.keyboard.press('Control+z')
    await expect(page.getByRole('button', { name: /^Step 1 Filter filter\b/ })).toBeVisible()
    await expect(page.getByTestId('save-status').filter({ hasText: 'Saved · v2' })).toBeVisible()
  })

  test('moves a step by dragging it onto a +', async () => {
    const target = page.getByRole('button', { name: 'Add a step before step msg' })
    // Press on the node, move a little to start the drag, then over the "+" and let go.
    // The canvas may still be gliding to fit the last change: wait until nodes stand still.
    const from = await stableBox(page.locator('[data-node="slack"]'))
    const to = await stableBox(target)
    await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2)
    await page.mouse.down()
    await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2 - 20, { steps: 5 })
    await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 10 })
    await expect(target.and(page.locator('.is-drop'))).toBeVisible()
    await page.mouse.up()
    await expect(page.getByRole('button', { name: /^Step 2 Slack: Post a message slack\b/ })).toBeVisible()
    await expect(page.getByRole('button', { name: /^Step 3 Map data msg\b/ })).toBeVisible()
    await expect(page.getByTestId('save-status').filter({ hasText: 'Unsaved changes' })).toBeVisible()
    await shot('dragged')
    await page.getByRole('button', { name: 'Undo' }).click()
    await expect(page.getByRole('button', { name: /^Step 3 Slack: Post a message slack\b/ })).toBeVisible()
    await expect(page.getByTestId('save-status').filter({ hasText: 'Saved · v2' })).toBeVisible()
  })

  test('tests the whole workflow and shows results on each node', async () => {
    const before = receiver.requests.length
    // The test asks first, naming the action that will really run.
    let asked = ''
    page.once('dialog', (d) => {
      asked = d.message()
      void d.accept()
    })
    await page.getByRole('button', { name: 'Test workflow' }).click()
    await expect.poll(() => asked).toMatch(/Slack: Post a message \(step slack\)/)
    const bar = page.getByRole('region', { name: 'Test run' })
    await expect(bar.locator('[data-state="succeeded"]')).toBeVisible({ timeout: 30_000 })
    for (const id of ['filter', 'msg', 'slack']) {
      await expect(page.locator(`[data-node="${id}"][data-run-state="succeeded"]`)).toBeVisible()
    }
    await shot('test-run')
    await a11y('the test results')
    await expect.poll(() => receiver.requests.length > before, { message: 'the test message at the receiver' }).toBeTruthy()
    const msg = receiver.requests.at(-1)
    assert.equal(msg.url, '/api/chat.postMessage')
    assert.equal(msg.headers.authorization, 'Bearer xoxb-e2e-token')
    assert.equal(msg.json?.text, 'Big order from Ada Lovelace')
    assert.equal(msg.json?.channel, '#sales')

    // The step panel shows the step's output from the test.
    await page.getByRole('button', { name: /^Step 3 Slack/ }).click()
    await expect(page.getByRole('region', { name: 'Latest run result' }).getByText('"ts": "1.2"')).toBeVisible()
  })

  test('activates, and a real webhook sends the message to the receiver', async () => {
    const active = page.getByRole('switch', { name: 'Active' })
    await expect(active).toHaveAttribute('aria-checked', 'false')
    await active.click()
    await expect(active, 'the switch turns on').toHaveAttribute('aria-checked', 'true')
    const wf = await api(server, 'GET', `/api/v1/workflows/${workflowId}`)
    assert.equal(wf.json.active, true)

    const before = receiver.requests.length
    const hookPath = new URL(webhookUrl).pathname
    const small = await api(server, 'POST', hookPath, { id: 7, total: 20, customer: { name: 'Small Sam' } })
    assert.equal(small.status, 202, small.text)
    const big = await api(server, 'POST', hookPath, { id: 8, total: 900, customer: { name: 'Grace Hopper' } })
    assert.equal(big.status, 202, big.text)
    const bigRun = await waitForRun(server, big.json.run_id)
    assert.equal(bigRun.state, 'succeeded', bigRun.error)
    const smallRun = await waitForRun(server, small.json.run_id)
    assert.equal(smallRun.state, 'filtered', 'the filter stops small orders')
    await expect.poll(() => receiver.requests.length > before, { message: 'the message at the receiver' }).toBeTruthy()
    const texts = receiver.requests.slice(before).map((r) => r.json?.text)
    assert.deepEqual(texts, ['Big order from Grace Hopper'])
  })

  test('a save that conflicts with someone else’s offers to reload', async () => {
    await page.getByLabel('Workflow name').fill('Big orders to Slack (mine)')
    // Meanwhile someone saves another version through the API.
    const cur = await api(server, 'GET', `/api/v1/workflows/${workflowId}`)
    const theirs = { ...cur.json.document, name: 'Big orders to Slack (theirs)' }
    const put = await api(server, 'PUT', `/api/v1/workflows/${workflowId}`, theirs, { 'If-Match': cur.headers.get('etag') })
    assert.equal(put.status, 200, put.text)

    await page.keyboard.press('Control+s')
    const banner = page.getByRole('alert').filter({ hasText: 'changed by someone else' })
    await expect(banner).toBeVisible()
    await shot('conflict')
    await banner.getByRole('button', { name: /Reload their version/ }).click()
    await expect(page.getByLabel('Workflow name'), 'their name').toHaveValue('Big orders to Slack (theirs)')
    await expect(page.getByTestId('save-status').filter({ hasText: 'Saved · v3' })).toBeVisible()
    await expect(banner).toHaveCount(0)
  })

  test('shows version history and the workflow list with its last run', async () => {
    await page.getByRole('button', { name: 'Versions' }).click()
    const versions = page.getByRole('complementary', { name: 'Settings' })
    await expect(versions.getByRole('heading', { name: 'Version history' })).toBeVisible()
    await expect(versions.getByRole('button', { name: 'Restore version 1' })).toBeVisible()
    await shot('versions')
    await a11y('the version history')

    await page.getByRole('link', { name: 'Workflows' }).first().click()
    await page.waitForURL(server.base + '/')
    const row = page.locator(`tr[data-workflow-id="${workflowId}"]`)
    await expect(row.getByRole('switch', { name: 'Active: Big orders to Slack' })).toBeVisible()
    await expect(row.getByRole('switch')).toHaveAttribute('aria-checked', 'true')
    await expect(row.getByRole('link', { name: /^Last run: / })).toBeVisible()
    await page.getByLabel('Search workflows').fill('nothing like this')
    await expect(page.getByText('No workflow matches')).toBeVisible()
    await page.getByLabel('Search workflows').fill('big orders')
    await expect(row).toBeVisible()
    await shot('workflows')
    await a11y('the workflows page')
    assert.deepEqual(s.pageErrors, [], 'no errors in the browser console')
  })

  test('exports a workflow and imports it as a new one', async () => {
    await page.goto(server.base + '/')
    const row = page.locator(`tr[data-workflow-id="${workflowId}"]`)
    const [download] = await Promise.all([page.waitForEvent('download'), row.getByRole('link', { name: /^Export/ }).click()])
    const file = path.join(outDir, 'exported-workflow.json')
    await download.saveAs(file)
    const exported = JSON.parse(readFileSync(file, 'utf8'))
    assert.equal(exported.schema, 'switchboard/v1')
    assert.deepEqual(exported.steps.map((s) => s.id), ['filter', 'msg', 'slack'])

    await page.locator('input[type=file]').setInputFiles(file)
    await page.waitForURL((u) => /\/workflows\/[0-9a-f-]{36}$/.test(u.pathname) && !u.pathname.endsWith(workflowId))
    await expect(page.getByRole('button', { name: /^Step 3 Slack: Post a message slack\b/ })).toBeVisible()
    const list = await api(server, 'GET', '/api/v1/workflows')
    const copies = list.json.items.filter((w) => w.name === exported.name)
    assert.equal(copies.length, 2, 'the import is a second workflow')
    // The import is switched off until someone turns it on.
    const imported = copies.find((w) => w.id !== workflowId)
    assert.equal(imported.active, false, 'an import starts inactive')
    await expect(page.getByRole('switch', { name: /Active/ }).first()).toHaveAttribute('aria-checked', 'false')
  })

  test('creates workflows from each template', async () => {
    const cases = [
      ['Webhook → Slack alert', ['alert']],
      ['Form → HubSpot contact + Slack', ['contact', 'notify']],
      ['Schedule → HTTP report', ['report']],
      ['Order webhook → paths to CRM and chat', ['order', 'route', 'crm', 'chat']],
    ]
    for (const [title, ids] of cases) {
      await page.goto(server.base + '/')
      await page.getByRole('button', { name: 'New workflow' }).click()
      const dialog = page.getByRole('dialog', { name: 'New workflow' })
      await dialog.getByRole('radio', { name: title, exact: true }).check()
      await dialog.getByRole('button', { name: 'Create workflow' }).click()
      // Saved straight away (the server accepted the template), inactive.
      await page.waitForURL(/\/workflows\/[0-9a-f-]{36}$/)
      for (const id of ids) await expect(page.locator(`[data-node="${id}"]`)).toBeVisible()
      await expect(page.getByTestId('save-status').filter({ hasText: 'Saved · v1' })).toBeVisible()
      if (title.startsWith('Schedule')) {
        await page.getByRole('button', { name: /^Trigger Schedule/ }).click()
        const words = page.getByRole('region', { name: 'Schedule in words' })
        await expect(words.getByRole('listitem').nth(4)).toBeVisible()
        await expect(words.getByRole('listitem')).toHaveCount(5)
        await expect(words.getByText('Every weekday at 09:00')).toBeVisible()
        await page.getByLabel(/^When \(cron\)/).fill('*/15 * * * *')
        await expect(page.getByTestId('cron-words').filter({ hasText: 'Every 15 minutes' })).toBeVisible()
        await shot('schedule')
        await page.getByRole('button', { name: 'Undo' }).click()
        await expect(page.getByTestId('save-status').filter({ hasText: 'Saved · v1' })).toBeVisible()
        await a11y('the schedule trigger')
      }
      if (title.startsWith('Form')) {
        await page.getByRole('button', { name: /^Trigger Form/ }).click()
        await expect(page.getByRole('link', { name: 'Open the hosted form' })).toBeVisible()
        await page.getByLabel('Label of field 3').fill('Company name')
        await expect(page.getByRole('region', { name: 'Form preview' }).getByText('Company name')).toBeVisible()
        await shot('form-trigger')
        await a11y('the form trigger')
        await page.keyboard.press('Control+z')
        await expect(page.getByTestId('save-status').filter({ hasText: 'Saved · v1' })).toBeVisible()
      }
      if (title.startsWith('Order')) {
        await expect(page.getByText('Big orders to CRM', { exact: true })).toBeVisible()
        await shot('template-paths')
      }
    }
  })

  test('viewers see the workflows and the editor without edit controls', async ({ browser }) => {
    const viewer = { email: 'viewer@example.com', password: 'look but do not touch', name: 'Vera Viewer', role: 'viewer' }
    const created = await api(server, 'POST', '/api/v1/users', viewer)
    assert.equal(created.status, 201, created.text)
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const vpage = await context.newPage()
    vpage.setDefaultTimeout(15_000)
    try {
      await signIn(vpage, server.base, viewer)
      const row = vpage.locator(`tr[data-workflow-id="${workflowId}"]`)
      await expect(row).toBeVisible()
      await expect(vpage.getByRole('button', { name: 'New workflow' })).toHaveCount(0)
      await expect(row.getByRole('switch')).toBeDisabled()
      await expect(row.getByRole('button', { name: /^Delete/ })).toHaveCount(0)
      await vpage.getByRole('button', { name: /viewer@example.com/ }).click()
      await expect(vpage.locator('[data-role="viewer"]')).toBeVisible()
      await vpage.keyboard.press('Escape')

      await row.getByRole('link', { name: /^Big orders to Slack/ }).click()
      await vpage.getByRole('button', { name: /^Step 2 Map data msg\b/ }).click()
      await expect(vpage.getByLabel('Step ID')).toBeVisible()
      await expect(vpage.getByRole('button', { name: 'Save', exact: true })).toHaveCount(0)
      await expect(vpage.getByRole('button', { name: 'Test workflow' })).toHaveCount(0)
      await expect(vpage.getByRole('button', { name: /^Add a step/ })).toHaveCount(0)
      await expect(vpage.getByRole('button', { name: 'Delete step' })).toHaveCount(0)
      assert.ok(await vpage.getByLabel('Step ID').evaluate((el) => el.readOnly))
      await expect(vpage.getByRole('textbox', { name: 'Value of text' })).toHaveAttribute('contenteditable', 'false')
      await vpage.screenshot({ path: path.join(outDir, 'builder-viewer.png') })
    } finally {
      await context.close()
    }
  })

  test('opens a workflow with 100 steps quickly', async () => {
    const steps = Array.from({ length: 100 }, (_, i) => ({ id: `s${i + 1}`, type: 'map', fields: { n: `{{ ${i + 1} }}` } }))
    const doc = { schema: 'switchboard/v1', name: 'Hundred steps', trigger: { type: 'webhook', webhook: {} }, steps }
    const created = await api(server, 'POST', '/api/v1/workflows?active=false', doc)
    assert.equal(created.status, 201, created.text)
    const t0 = Date.now()
    await page.goto(`${server.base}/workflows/${created.json.id}`)
    await expect(page.locator('[data-node="s1"]')).toBeVisible()
    const shown = Date.now() - t0
    // Keyboard: from the first step, arrow down through the canvas; the canvas follows.
    await page.getByRole('button', { name: /^Step 1 Map data s1\b/ }).focus()
    const t1 = Date.now()
    for (let i = 0; i < 99; i++) await page.keyboard.press('ArrowDown')
    await page.keyboard.press('Enter')
    await expect(page.getByLabel('Step ID'), 's100 in the panel').toHaveValue('s100')
    const walkMs = Date.now() - t1
    await expect(page.locator('[data-node="s100"]')).toBeVisible()
    await expect(page.locator('[data-node="s100"]')).toBeVisible()
    await shot('hundred-steps')
    console.log(`# 100 steps: first node shown ${shown} ms after navigation; 99 arrow keys + Enter to the last step took ${walkMs} ms`)
    assert.ok(shown < 8000, `the editor took ${shown} ms to show`)
    assert.ok(walkMs < 10_000, `walking the canvas took ${walkMs} ms`)
  })
})
