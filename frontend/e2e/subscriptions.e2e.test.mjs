// Browser end-to-end test of the event-subscriptions page: the real binary + Debian's Chromium.
// Subscribes a local receiver to workflow.saved through the page, sees the secret once, sends a
// test event, sees the delivery and its attempt, resends it, rotates the secret (both signatures
// arrive during the overlap) and disables the subscription.

import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { after, describe, test } from 'node:test'
import { api, createAdmin, launchChromium, outDir, resolveBinary, signIn, startServer } from './harness.mjs'

describe('event subscriptions page', { timeout: 180_000 }, () => {
  let server
  let chromium
  let page
  let receiver
  const got = []

  after(async () => {
    try {
      await chromium?.close()
    } finally {
      await server?.stop()
      receiver?.close()
    }
  })

  async function step(name, fn) {
    try {
      await fn()
    } catch (err) {
      if (page) await page.screenshot({ path: path.join(outDir, `failure-subscriptions-${name}.png`), fullPage: true }).catch(() => {})
      if (server) console.error(`---- switchboard output (${name}) ----\n${server.log().slice(-8000)}`)
      throw err
    }
  }

  test('subscribes, tests, resends, rotates and disables', async () => {
    mkdirSync(outDir, { recursive: true })
    receiver = http.createServer((req, res) => {
      let body = ''
      req.on('data', (c) => (body += c))
      req.on('end', () => {
        got.push({ headers: req.headers, body })
        res.writeHead(200).end('thanks')
      })
    })
    await new Promise((r) => receiver.listen(0, '127.0.0.1', r))
    const target = `http://127.0.0.1:${receiver.address().port}/hook`
    server = await startServer(resolveBinary(), {
      prefix: 'switchboard-e2e-subs-data-',
      env: { SWITCHBOARD_OUTBOUND_ALLOW: '127.0.0.1', SWITCHBOARD_EVENTS_POLL: '50ms' },
    })
    await createAdmin(server)
    chromium = await launchChromium()
    page = await (await chromium.browser.newContext({ viewport: { width: 1300, height: 1000 } })).newPage()
    page.setDefaultTimeout(15_000)
    await step('sign-in', () => signIn(page, server.base))

    await step('subscribe', async () => {
      await page.getByRole('link', { name: 'Subscriptions' }).click()
      await page.getByRole('heading', { name: 'Event subscriptions', level: 1 }).waitFor()
      const form = page.getByRole('form', { name: 'New subscription' })
      await form.getByLabel('Endpoint URL').fill(target)
      await form.getByLabel('workflow.saved').check()
      await form.getByLabel('run.failed').check()
      await form.getByLabel(/Custom headers/).fill('X-Team: ops')
      await form.getByRole('button', { name: 'Subscribe' }).click()
      const secret = await page.getByTestId('subscription-secret').textContent()
      assert.match(secret, /^whsec_/)
      await page.getByRole('button', { name: 'Done' }).click()
      assert.equal(await page.getByTestId('subscription-secret').count(), 0, 'the secret is shown once')
      await page.screenshot({ path: path.join(outDir, 'subscriptions.png'), fullPage: true })
    })

    await step('test-event', async () => {
      await page.getByRole('button', { name: target }).click()
      const detail = page.getByRole('region', { name: 'Subscription detail' })
      await detail.getByLabel('Test event').selectOption('run.failed')
      await detail.getByRole('button', { name: 'Send test event' }).click()
      const row = detail.getByTestId('delivery-row').first()
      await row.getByText('succeeded').waitFor()
      assert.equal(got.length, 1)
      assert.equal(got[0].headers['x-team'], 'ops')
      assert.match(got[0].headers['webhook-signature'], /^v1,\S+$/)
      assert.equal(JSON.parse(got[0].body).type, 'run.failed')
      await row.getByRole('button', { name: 'run.failed' }).click()
      await detail.getByRole('list', { name: 'Attempts' }).getByText(/Attempt 1: HTTP 200/).waitFor()

      await row.getByRole('button', { name: 'Resend' }).click()
      await detail.getByRole('list', { name: 'Attempts' }).getByText(/Attempt 2: HTTP 200/).waitFor()
      assert.equal(got.length, 2)
      assert.equal(got[1].headers['webhook-id'], got[0].headers['webhook-id'], 'a resend keeps the event id')
    })

    await step('rotate', async () => {
      const detail = page.getByRole('region', { name: 'Subscription detail' })
      await detail.getByLabel('Overlap').selectOption('24h')
      await detail.getByRole('button', { name: 'Rotate secret' }).click()
      assert.match(await page.getByTestId('subscription-secret').textContent(), /^whsec_/)
      await page.getByRole('button', { name: 'Done' }).click()
      // An event from the API now carries both signatures.
      const created = await api(server, 'POST', '/api/v1/workflows', {
        schema: 'switchboard/v1', name: 'Saved', trigger: { type: 'webhook', webhook: { methods: ['POST'] } },
        steps: [{ id: 'm', type: 'map', fields: { x: '1' } }],
      })
      assert.equal(created.status, 201, created.text)
      const deadline = Date.now() + 15_000
      while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      assert.equal(got.length, 3)
      assert.equal(JSON.parse(got[2].body).type, 'workflow.saved')
      assert.equal(got[2].headers['webhook-signature'].split(' ').length, 2, got[2].headers['webhook-signature'])
    })

    await step('disable', async () => {
      const detail = page.getByRole('region', { name: 'Subscription detail' })
      await detail.getByRole('button', { name: 'Disable' }).click()
      await detail.getByRole('button', { name: 'Enable' }).waitFor()
      await page.getByRole('region', { name: 'Subscriptions' }).getByText('disabled').waitFor()
    })
  })
})
