// Browser end-to-end test of the hosted form trigger: the real `switchboard` binary + Debian's Chromium.
//
//   SWITCHBOARD_BIN=/abs/path/to/bin/switchboard npm run e2e
//
// Starts the binary on a free port with a fresh data dir, creates the first admin and an API key,
// creates a form workflow through the API (authenticated with the key),
// opens /forms/{token} (with ?email= to prefill), submits it empty and checks the error summary and
// the per-field messages, fills it in (text, email, number, select, checkbox), submits, sees the
// success message, and polls the runs API until the run exists with typed values in its trigger
// (the number as a number, the checkbox as true) and has succeeded.
// Screenshots go to frontend/test-output/.

import assert from 'node:assert/strict'
import path from 'node:path'
import { expect, test } from '@playwright/test'
import { api, outDir, suite, waitForRun } from './harness.mjs'

const WORKFLOW = {
  schema: 'switchboard/v1',
  name: 'Workshop sign-up',
  trigger: {
    type: 'form',
    form: {
      title: 'Workshop sign-up',
      description: 'Tell us who you are and we will save you a seat.',
      submit_label: 'Sign me up',
      fields: [
        { key: 'name', label: 'Full name', required: true, max_length: 60 },
        { key: 'email', label: 'E-mail', type: 'email', required: true, prefill: true, help: 'We send the joining details here' },
        { key: 'seats', label: 'Seats', type: 'number', required: true, min: 1, max: 5 },
        {
          key: 'plan',
          label: 'Plan',
          type: 'select',
          required: true,
          options: [
            { value: 'free', label: 'Free' },
            { value: 'pro', label: 'Pro' },
          ],
        },
        { key: 'agree', label: 'I accept the terms', type: 'checkbox', required: true },
        { key: 'news', label: 'Send me news', type: 'checkbox' },
      ],
      success: { message: 'Thanks! Your seat is booked.' },
    },
  },
  steps: [{ id: 'msg', type: 'map', fields: { text: '{{ trigger.fields.name }} booked {{ trigger.fields.seats }} seat(s)' } }],
}

// ---- the test -----------------------------------------------------------------------------

test.describe('switchboard hosted form', () => {
  // Chromium logs every non-2xx document; the 422 answers to invalid submissions are intended.
  let page
  let server
  const s = suite(test, {
    name: 'form',
    context: { viewport: { width: 900, height: 1000 }, javaScriptEnabled: false },
    allowConsole: /status of 422/,
  })
  test.beforeAll(() => {
    ;({ page, server } = s)
  })

  let workflow
  let formPath

  test('creates a form workflow', async () => {
    const created = await api(server, 'POST', '/api/v1/workflows', WORKFLOW)
    assert.equal(created.status, 201, `POST /api/v1/workflows: ${created.status} ${created.text}`)
    workflow = created.json
    assert.ok(workflow?.id, `no id in ${created.text}`)
    assert.ok(workflow.form_url, `no form_url in ${created.text}`)
    assert.equal(workflow.webhook_url, undefined, 'a form workflow has no webhook URL')
    // Open the form on this server whatever host the URL names (it may be the configured public URL).
    formPath = new URL(workflow.form_url).pathname
    assert.match(formPath, /^\/forms\/[A-Za-z0-9_-]{32,}$/)
  })

  test('shows field errors for an empty submission, without JavaScript', async () => {
    assert.ok(formPath, 'no form was created')
    // Prefill the e-mail from the query string, then clear it to submit the form really empty.
    const res = await page.goto(`${server.base}${formPath}?email=${encodeURIComponent('ada@example.com')}`)
    assert.equal(res.status(), 200)
    await expect(page).toHaveTitle('Workshop sign-up')
    await expect(page.getByRole('heading', { name: 'Workshop sign-up', level: 1 })).toBeVisible()
    await expect(page.getByLabel('E-mail')).toHaveValue('ada@example.com')
    await page.screenshot({ path: path.join(outDir, 'form-empty.png'), fullPage: true })
    await page.getByLabel('E-mail').fill('')

    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Sign me up' }).click(),
    ])
    assert.equal(resp.status(), 422)
    const summary = page.getByRole('alert')
    await expect(summary.getByRole('heading', { name: 'There is a problem' })).toBeVisible()
    await expect(page).toHaveTitle('Error: Workshop sign-up')
    for (const text of [
      'Full name: This field is required',
      'E-mail: Enter an e-mail address',
      'Seats: Enter a number',
      'Plan: Choose one of the options',
      'I accept the terms: Tick this box to continue',
    ]) {
      await expect(summary.getByRole('link', { name: text })).toBeVisible()
    }
    // The summary takes the focus on load (autofocus), so a screen reader announces it.
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'error-summary')

    // Each input is marked invalid and described by its message.
    const email = page.getByLabel('E-mail')
    await expect(email).toHaveAttribute('aria-invalid', 'true')
    const describedBy = (await email.getAttribute('aria-describedby')).split(' ')
    assert.ok(describedBy.includes('f-email-error') && describedBy.includes('f-email-help'), describedBy.join(' '))
    await expect(page.locator('#f-email-error')).toHaveText(/Enter an e-mail address/, { useInnerText: true })
    await expect(page.locator('#f-seats-error')).toHaveText(/Enter a number/, { useInnerText: true })
    await expect(page.locator('#f-agree-error')).toHaveText(/Tick this box to continue/, { useInnerText: true })
    await expect(page.getByLabel('Send me news')).not.toHaveAttribute('aria-invalid')

    // A summary link moves to its field.
    await summary.getByRole('link', { name: /^Seats:/ }).click()
    await expect.poll(() => new URL(page.url()).hash).toBe('#f-seats')
    await page.screenshot({ path: path.join(outDir, 'form-errors.png'), fullPage: true })

    const runs = await api(server, 'GET', `/api/v1/runs?workflow=${encodeURIComponent(workflow.id)}`)
    assert.equal(runs.status, 200, runs.text)
    assert.equal(runs.json.items.length, 0, 'an invalid submission started no run')
  })

  let runId

  test('accepts the filled-in form and starts a run with typed values', async () => {
    assert.ok(formPath, 'no form was created')
    // The page is the re-rendered form; a value that fails keeps what was typed.
    await page.getByLabel('Full name').fill('Ada Lovelace')
    await page.getByLabel('E-mail').fill('ada@example')
    await page.getByLabel('Seats').fill('2')
    await page.getByLabel('Plan').selectOption('pro')
    await page.getByLabel('I accept the terms').check()
    let [resp] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Sign me up' }).click(),
    ])
    assert.equal(resp.status(), 422, 'an e-mail without a dotted domain is refused')
    await expect(page.getByRole('link', { name: /^E-mail: Enter a valid e-mail address/ })).toBeVisible()
    await expect(page.getByLabel('Full name')).toHaveValue('Ada Lovelace')
    await expect(page.getByLabel('Seats')).toHaveValue('2')
    await expect(page.getByLabel('Plan')).toHaveValue('pro')
    await expect(page.getByLabel('I accept the terms')).toBeChecked()

    await page.getByLabel('E-mail').fill('ada@example.com')
    ;[resp] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Sign me up' }).click(),
    ])
    assert.equal(resp.status(), 200)
    await expect(page.getByRole('status').filter({ hasText: 'Thanks! Your seat is booked.' })).toBeVisible()
    await page.screenshot({ path: path.join(outDir, 'form-success.png'), fullPage: true })

    await expect
      .poll(
        async () => {
          const res = await api(server, 'GET', `/api/v1/runs?workflow=${encodeURIComponent(workflow.id)}`)
          assert.equal(res.status, 200, `GET runs: ${res.status} ${res.text}`)
          return res.json.items
        },
        { message: 'the run of the submission', timeout: 30_000 },
      )
      .toHaveLength(1)
    const runs = await api(server, 'GET', `/api/v1/runs?workflow=${encodeURIComponent(workflow.id)}`)
    assert.equal(runs.json.items.length, 1, 'exactly one run')
    runId = runs.json.items[0].id
    assert.equal(runs.json.items[0].trigger_type, 'form')
    const run = await waitForRun(server, runId)
    const fields = run.trigger?.fields
    assert.deepEqual(
      fields,
      { name: 'Ada Lovelace', email: 'ada@example.com', seats: 2, plan: 'pro', agree: true, news: false },
      `trigger: ${JSON.stringify(run.trigger)}`,
    )
    assert.equal(typeof fields.seats, 'number')
    assert.equal(fields.agree, true)
    assert.ok(run.trigger.submitted_at, 'submitted_at recorded')
    assert.equal(run.state, 'succeeded', `run ended ${run.state}: ${run.error}`)
    const msg = run.steps?.find((s) => s.step_id === 'msg')
    assert.equal(msg?.output?.text, 'Ada Lovelace booked 2 seat(s)', `msg step: ${JSON.stringify(msg)}`)

    const inbox = await api(server, 'GET', `/api/v1/workflows/${encodeURIComponent(workflow.id)}/inbox`)
    assert.deepEqual(
      inbox.json.items.map((i) => i.verdict),
      ['accepted', 'rejected', 'rejected'],
      `inbox: ${inbox.text}`,
    )
    assert.equal(inbox.json.items[0].run_id, runId)
    assert.deepEqual(s.pageErrors, [], 'no errors in the browser console')
  })
})
