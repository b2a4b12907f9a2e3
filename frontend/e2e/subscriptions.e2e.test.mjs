// Browser end-to-end test of the event-subscriptions page: the real binary + Debian's Chromium.
// Subscribes a local receiver to workflow.saved through the page, sees the secret once, sends a
// test event, sees the delivery and its attempt, resends it, rotates the secret (both signatures
// arrive during the overlap) and disables the subscription.

import assert from 'node:assert/strict'
import http from 'node:http'
import path from 'node:path'
import { expect, test } from '@playwright/test'
import { api, outDir, signIn, suite } from './harness.mjs'

test.describe('event subscriptions page', () => {
  let page
  let server
  let receiver
  const got = []
  const s = suite(test, {
    name: 'subs',
    server: { env: { SWITCHBOARD_OUTBOUND_ALLOW: '127.0.0.1', SWITCHBOARD_EVENTS_POLL: '50ms' } },
    context: { viewport: { width: 1300, height: 1000 } },
    allowConsole: /status of 401/,
  })
  test.beforeAll(async () => {
    ;({ page, server } = s)
    receiver = http.createServer((req, res) => {
      let body = ''
      req.on('data', (c) => (body += c))
      req.on('end', () => {
        got.push({ headers: req.headers, body })
        res.writeHead(200).end('thanks')
      })
    })
    await new Promise((r) => receiver.listen(0, '127.0.0.1', r))
  })
  test.afterAll(() => receiver?.close())

  test('subscribes, tests, resends, rotates and disables', async () => {
    const target = `http://127.0.0.1:${receiver.address().port}/hook`
    await test.step('sign-in', () => signIn(page, server.base))

    await test.step('subscribe', async () => {
      await page.getByRole('link', { name: 'Subscriptions' }).click()
      await expect(page.getByRole('heading', { name: 'Event subscriptions', level: 1 })).toBeVisible()
      const form = page.getByRole('form', { name: 'New subscription' })
      await form.getByLabel('Endpoint URL').fill(target)
      await form.getByLabel('workflow.saved').check()
      await form.getByLabel('run.failed').check()
      await form.getByLabel(/Custom headers/).fill('X-Team: ops')
      await form.getByRole('button', { name: 'Subscribe' }).click()
      await expect(page.getByTestId('subscription-secret')).toHaveText(/^whsec_/)
      await page.getByRole('button', { name: 'Done' }).click()
      await expect(page.getByTestId('subscription-secret'), 'the secret is shown once').toHaveCount(0)
      await page.screenshot({ path: path.join(outDir, 'subscriptions.png'), fullPage: true })
    })

    await test.step('test-event', async () => {
      await page.getByRole('button', { name: target }).click()
      const detail = page.getByRole('region', { name: 'Subscription detail' })
      await detail.getByLabel('Test event').selectOption('run.failed')
      await detail.getByRole('button', { name: 'Send test event' }).click()
      const row = detail.getByTestId('delivery-row').first()
      await expect(row.getByText('succeeded')).toBeVisible()
      assert.equal(got.length, 1)
      assert.equal(got[0].headers['x-team'], 'ops')
      assert.match(got[0].headers['webhook-signature'], /^v1,\S+$/)
      assert.equal(JSON.parse(got[0].body).type, 'run.failed')
      await row.getByRole('button', { name: 'run.failed' }).click()
      await expect(detail.getByRole('list', { name: 'Attempts' }).getByText(/Attempt 1: HTTP 200/)).toBeVisible()

      await row.getByRole('button', { name: 'Resend' }).click()
      await expect(detail.getByRole('list', { name: 'Attempts' }).getByText(/Attempt 2: HTTP 200/)).toBeVisible()
      assert.equal(got.length, 2)
      assert.equal(got[1].headers['webhook-id'], got[0].headers['webhook-id'], 'a resend keeps the event id')
    })

    await test.step('rotate', async () => {
      const detail = page.getByRole('region', { name: 'Subscription detail' })
      await detail.getByLabel('Overlap').selectOption('24h')
      await detail.getByRole('button', { name: 'Rotate secret' }).click()
      await expect(page.getByTestId('subscription-secret')).toHaveText(/^whsec_/)
      await page.getByRole('button', { name: 'Done' }).click()
      // An event from the API now carries both signatures.
      const created = await api(server, 'POST', '/api/v1/workflows', {
        schema: 'switchboard/v1', name: 'Saved', trigger: { type: 'webhook', webhook: { methods: ['POST'] } },
        steps: [{ id: 'm', type: 'map', fields: { x: '1' } }],
      })
      assert.equal(created.status, 201, created.text)
      await expect.poll(() => got.length, { message: 'the workflow.saved event', timeout: 15_000 }).toBeGreaterThanOrEqual(3)
      assert.equal(got.length, 3)
      assert.equal(JSON.parse(got[2].body).type, 'workflow.saved')
      assert.equal(got[2].headers['webhook-signature'].split(' ').length, 2, got[2].headers['webhook-signature'])
    })

    await test.step('disable', async () => {
      const detail = page.getByRole('region', { name: 'Subscription detail' })
      await detail.getByRole('button', { name: 'Disable' }).click()
      await expect(detail.getByRole('button', { name: 'Enable' })).toBeVisible()
      await expect(page.getByRole('region', { name: 'Subscriptions' }).getByText('disabled')).toBeVisible()
    })
  })
})
