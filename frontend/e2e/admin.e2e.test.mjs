// The admin area and the Connections page end to end (issue 15): the real binary + Debian's
// Chromium, through the UI only. An admin invites an editor and a viewer (one-time links),
// creates an API key that a curl call then uses, uploads a broken connector and sees the error
// on its line, fixes it; the editor uses the new action in a workflow that runs against a local
// receiver; an OAuth2 connection's Connect button completes against a local authorization
// server; the audit log and the retention setting work; the viewer sees no edit control. Every
// screen passes axe-core (WCAG 2.1 A/AA) and is saved as a screenshot in test-output/.

import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import http from 'node:http'
import path from 'node:path'
import { expect, test } from '@playwright/test'
import { api, axeViolations, outDir, resolveBinary, signIn, suite } from './harness.mjs'

/** A local Acme CRM: records what it gets, answers like the connector file expects. */
function startAcme() {
  const got = []
  const slack = { ok: false } // a local Slack API: refuses the token until ok
  const srv = http.createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      if (req.url.startsWith('/slack/')) {
        const answer = slack.ok ? { ok: true, team: 'Acme', user: 'bot' } : { ok: false, error: 'invalid_auth' }
        res.writeHead(slack.ok ? 200 : 401, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer))
        return
      }
      got.push({ method: req.method, url: req.url, headers: req.headers, body })
      res.writeHead(201, { 'Content-Type': 'application/json' }).end(JSON.stringify({ id: 7 }))
    })
  })
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({ srv, got, slack, port: srv.address().port })))
}

/**
 * A local OAuth2 authorization server: a consent page with an Allow button that sends the
 * browser back with a code, and a token endpoint that checks the code, the client and the
 * PKCE verifier (RFC 7636, S256).
 */
function startProvider() {
  const codes = new Map()
  const tokenRequests = []
  const srv = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x')
    if (req.method === 'GET' && u.pathname === '/authorize') {
      const q = u.searchParams
      const code = `code-${codes.size + 1}`
      codes.set(code, { challenge: q.get('code_challenge'), method: q.get('code_challenge_method'), redirect: q.get('redirect_uri') })
      const back = new URL(q.get('redirect_uri'))
      back.searchParams.set('code', code)
      back.searchParams.set('state', q.get('state'))
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(
        `<!doctype html><html lang="en"><title>Consent</title><link rel="icon" href="data:,"><main><h1>Allow Switchboard?</h1>` +
          `<p>Client ${q.get('client_id')} asks for: ${q.get('scope')}</p><a href="${back.toString().replace(/&/g, '&amp;')}">Allow</a></main></html>`,
      )
      return
    }
    if (req.method === 'POST' && u.pathname === '/token') {
      let body = ''
      req.on('data', (c) => (body += c))
      req.on('end', () => {
        const form = new URLSearchParams(body)
        tokenRequests.push({ form, authorization: req.headers.authorization })
        const g = codes.get(form.get('code'))
        const verifier = form.get('code_verifier') ?? ''
        const challenge = createHash('sha256').update(verifier).digest('base64url')
        const basic = `Basic ${Buffer.from('sb-client:sb-secret').toString('base64')}`
        if (!g || g.method !== 'S256' || g.challenge !== challenge || form.get('redirect_uri') !== g.redirect || req.headers.authorization !== basic) {
          res.writeHead(400, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: 'invalid_grant' }))
          return
        }
        codes.delete(form.get('code'))
        res
          .writeHead(200, { 'Content-Type': 'application/json' })
          .end(JSON.stringify({ access_token: 'at-1', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-1' }))
      })
      return
    }
    res.writeHead(404).end()
  })
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({ srv, tokenRequests, port: srv.address().port })))
}

function connectorFile(acmePort, method, testPath = '/v2/contacts') {
  return `id: acme
name: Acme CRM
version: 1.0.0
base_url: http://127.0.0.1:${acmePort}/v2
auth:
  type: bearer
  credential: token
  fields:
    - {key: token, label: API token, type: string, required: true, secret: true}
actions:
  - id: add_contact
    name: Add a contact
    input:
      - {key: email, label: E-mail, type: string, required: true}
    method: ${method}
    path: /contacts
    body: {email: "{{ input.email }}"}
    output: {id: "{{ response.body.id }}"}
tests:
  - action: add_contact
    input: {email: ada@example.com}
    credentials: {token: t0k}
    expect:
      method: POST
      path: ${testPath}
      headers: {Authorization: Bearer t0k}
      body: {email: ada@example.com}
    response: {status: 201, body: {id: 7}}
    output: {id: 7}
`
}

test.describe('admin area and connections', () => {
  let page
  let server
  let acme
  let provider
  const links = {}
  const s = suite(test, {
    name: 'admin',
    server: { env: { SWITCHBOARD_OUTBOUND_ALLOW: '127.0.0.1' } },
    context: { viewport: { width: 1300, height: 1000 } },
    // A refused upload and the link page's checks answer 4xx on purpose.
    allowConsole: /status of (401|410|422)/,
  })
  test.beforeAll(async () => {
    ;({ page, server } = s)
    acme = await startAcme()
    provider = await startProvider()
  })
  test.afterAll(() => {
    acme?.srv.close()
    provider?.srv.close()
  })

  /** Saves a screenshot and checks axe-core's WCAG 2.1 A/AA rules on the page as it is. */
  async function screen(p, name) {
    await p.screenshot({ path: path.join(outDir, `admin-${name}.png`), fullPage: true })
    assert.deepEqual(await axeViolations(p), [], `accessibility problems on ${name}`)
  }

  test('invites an editor and a viewer with one-time links', async () => {
    await signIn(page, server.base)
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click()
    await expect(page.getByRole('heading', { name: 'Users', level: 1 })).toBeVisible()
    for (const [email, role] of [
      ['ed@example.com', 'editor'],
      ['vi@example.com', 'viewer'],
    ]) {
      await page.getByRole('button', { name: 'Invite a user' }).click()
      const dialog = page.getByRole('dialog', { name: 'Invite a user' })
      await dialog.getByLabel('E-mail').fill(email)
      await dialog.getByLabel('Role').selectOption(role)
      if (role === 'editor') await screen(page, 'invite')
      await dialog.getByRole('button', { name: 'Create invitation link' }).click()
      const shown = page.getByTestId('shown-once')
      await expect(shown).toHaveText(new RegExp(`^${server.base}/account/link#sbl_`))
      links[role] = await shown.innerText()
      await expect(page.getByRole('row', { name: new RegExp(email) }).getByText('invited')).toBeVisible()
      if (role === 'viewer') await screen(page, 'users')
      await page.getByRole('button', { name: 'Done' }).click()
    }
    // Disable and enable again; a role change goes straight to the server.
    const vi = page.getByRole('row', { name: /vi@example.com/ })
    await vi.getByRole('button', { name: 'Disable vi@example.com' }).click()
    await expect(vi.getByText('disabled', { exact: true })).toBeVisible()
    await vi.getByRole('button', { name: 'Enable vi@example.com' }).click()
    await expect(vi.getByText('invited', { exact: true })).toBeVisible()
    await vi.getByLabel('Role of vi@example.com').selectOption('editor')
    await expect.poll(async () => (await api(server, 'GET', '/api/v1/users')).json.items.find((u) => u.email === 'vi@example.com').role).toBe('editor')
    await vi.getByLabel('Role of vi@example.com').selectOption('viewer')
    await expect.poll(async () => (await api(server, 'GET', '/api/v1/users')).json.items.find((u) => u.email === 'vi@example.com').role).toBe('viewer')
  })

  test('creates an API key that a curl call then uses', async () => {
    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'API keys' }).click()
    await page.getByLabel('Name').fill('deploy script')
    await page.getByLabel('Role').selectOption('viewer')
    await page.getByRole('button', { name: 'Create key' }).click()
    const key = await page.getByTestId('shown-once').innerText()
    assert.match(key, /^sbk_/)
    await screen(page, 'keys')
    const out = execFileSync('curl', ['-sS', '-w', '\n%{http_code}', '-H', `Authorization: Bearer ${key}`, `${server.base}/api/v1/workflows`], {
      encoding: 'utf8',
    })
    const [body, code] = [out.slice(0, out.lastIndexOf('\n')), out.slice(out.lastIndexOf('\n') + 1)]
    assert.equal(code, '200', out)
    assert.ok(Array.isArray(JSON.parse(body).items), body)
    await page.getByRole('button', { name: 'Done' }).click()
    await expect(page.getByTestId('shown-once'), 'the key is shown once').toHaveCount(0)
    const row = page.getByRole('row', { name: /deploy script/ })
    await expect(row.getByText('admin@example.com')).toBeVisible()
    await page.reload()
    await expect(page.getByRole('row', { name: /deploy script/ }).getByText(/ago|just now|seconds?/)).toBeVisible()
    // Revoking asks first; the key stops working at once.
    page.once('dialog', (d) => void d.accept())
    await page.getByRole('button', { name: 'Revoke deploy script' }).click()
    await expect(page.getByRole('row', { name: /deploy script/ }).getByText('revoked')).toBeVisible()
    const after = execFileSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', `Authorization: Bearer ${key}`, `${server.base}/api/v1/workflows`], {
      encoding: 'utf8',
    })
    assert.equal(after, '401')
  })

  test('uploads a broken connector, sees the error on its line, fixes it', async () => {
    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Connectors' }).click()
    await expect(page.getByRole('heading', { name: 'Connectors', level: 1 })).toBeVisible()
    await expect(page.getByRole('row', { name: /Slack/ }).getByRole('switch'), 'built-ins are read-only').toHaveCount(0)
    await page.getByLabel('Choose a file…').setInputFiles({ name: 'acme.yaml', mimeType: 'application/yaml', buffer: Buffer.from(connectorFile(acme.port, 'FETCH', '/v2/contact')) })
    const problem = page.locator('.cm-problem').first()
    await expect(problem).toContainText('Line 15')
    await expect(problem).toContainText('method')
    await expect(page.getByTestId('upload-problems')).toContainText('Not installed')
    await expect(page.locator('.cm-problem-line')).toContainText('method: FETCH')
    await screen(page, 'connector-error')

    // Fix the method in the editor: end of its line, delete FETCH, type POST.
    await page.locator('.cm-line', { hasText: 'method: FETCH' }).click()
    await page.keyboard.press('End')
    for (let i = 0; i < 5; i++) await page.keyboard.press('Backspace')
    await page.keyboard.type('POST')
    await page.getByRole('button', { name: 'Check and install' }).click()
    // Now the file parses and its inline test runs: it expected the wrong path, on its line.
    await expect(page.locator('.cm-problem').first()).toContainText('Line 20')
    await expect(page.locator('.cm-problem').first()).toContainText('/v2/contact')
    await expect(page.getByTestId('upload-problems')).toContainText('Not installed')
    await page.locator('.cm-line', { hasText: 'path: /v2/contact' }).click()
    await page.keyboard.press('End')
    await page.keyboard.type('s')
    await page.getByRole('button', { name: 'Check and install' }).click()
    await expect(page.getByTestId('upload-result')).toContainText('Installed Acme CRM (acme 1.0.0)')
    await expect(page.getByTestId('upload-result')).toContainText('1 inline test passed')
    await expect(page.locator('.cm-problem')).toHaveCount(0)
    await expect(page.getByRole('row', { name: /Acme CRM/ }).getByRole('switch', { name: 'Acme CRM in service' })).toHaveAttribute('aria-checked', 'true')
    // Out of service and back.
    const inService = page.getByRole('row', { name: /Acme CRM/ }).getByRole('switch', { name: 'Acme CRM in service' })
    await inService.click()
    await expect(inService).toHaveAttribute('aria-checked', 'false')
    await inService.click()
    await expect(inService).toHaveAttribute('aria-checked', 'true')
    await screen(page, 'connectors')
  })

  test('uploads a WebAssembly plugin twice and makes the first upload current again', async () => {
    const wasm = path.resolve(path.dirname(resolveBinary()), 'plugins/orders.wasm')
    for (const n of [1, 2]) {
      await page.getByLabel('Choose a file…').setInputFiles(wasm)
      await expect(page.getByTestId('upload-result')).toContainText('Installed')
      await expect(page.getByRole('row', { name: new RegExp(`WebAssembly plugin.*upload ${n}`) })).toBeVisible()
    }
    const row = page.getByRole('row', { name: /WebAssembly plugin/ })
    await row.getByRole('button', { name: 'Versions' }).click()
    const versions = page.getByRole('region', { name: /^Versions of / })
    await expect(versions.getByRole('listitem')).toHaveCount(2)
    await versions.getByRole('listitem').filter({ hasText: 'Upload 1 ' }).getByRole('button', { name: 'Make current' }).click()
    await expect(versions.getByRole('listitem').filter({ hasText: 'Upload 1 ' }).getByText('current')).toBeVisible()
    await screen(page, 'plugin-versions')
  })

  test('changes the retention while the instance runs', async () => {
    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Settings' }).click()
    await page.getByLabel('Keep runs for').fill('10s')
    await page.getByRole('button', { name: 'Save retention' }).click()
    await expect(page.getByText('must be 0 or at least 1m')).toBeVisible()
    await page.getByLabel('Keep runs for').fill('168h')
    await page.getByLabel('Newest runs kept per workflow').fill('500')
    await page.getByRole('button', { name: 'Save retention' }).click()
    await expect(page.getByText(/Set here by admin@example.com/)).toBeVisible()
    const got = await api(server, 'GET', '/api/v1/settings')
    assert.equal(got.json.retention.max_age, '168h')
    assert.equal(got.json.retention.max_runs, 500)
    await screen(page, 'settings')
  })

  test('the editor uses the new action in a workflow that runs', async ({ browser }) => {
    const context = await browser.newContext({ viewport: { width: 1300, height: 1000 } })
    const ed = await context.newPage()
    try {
      await ed.goto(links.editor)
      await expect(ed.getByRole('heading', { name: 'Welcome to Switchboard' })).toBeVisible()
      await ed.getByLabel('Password', { exact: true }).fill('editor password 123')
      await ed.getByLabel('The same password again').fill('editor password 123')
      await screen(ed, 'link')
      await ed.getByRole('button', { name: 'Set password and sign in' }).click()
      await expect(ed.getByRole('heading', { name: 'Workflows' })).toBeVisible()
      await expect(ed.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }), 'no admin area for editors').toHaveCount(0)

      await ed.getByRole('button', { name: 'New workflow' }).click()
      const dialog = ed.getByRole('dialog', { name: 'New workflow' })
      await dialog.getByLabel('Workflow name').fill('Acme contacts')
      await dialog.getByRole('radio', { name: 'Webhook', exact: true }).check()
      await dialog.getByRole('button', { name: 'Create workflow' }).click()
      await ed.getByRole('button', { name: 'Add a step at the end of the workflow' }).click()
      await ed.getByRole('dialog').getByLabel('Search steps and apps').fill('acme')
      await ed.getByRole('dialog').getByRole('button', { name: /^Acme CRM: Add a contact/ }).click()
      await ed.getByRole('button', { name: 'New connection' }).click()
      const conn = ed.getByRole('form', { name: 'New Acme CRM connection' })
      await conn.getByLabel('Connection name').fill('acme-main')
      await conn.getByLabel('API token').fill('acme-secret-token')
      await conn.getByRole('button', { name: 'Save connection' }).click()
      await expect(ed.getByRole('combobox', { name: /^Connection/ })).toHaveValue('acme-main')
      const email = ed.getByRole('textbox', { name: 'E-mail (required)', exact: true })
      await email.click()
      await ed.keyboard.type('ada@example.com', { delay: 10 })
      await ed.getByRole('button', { name: 'Save', exact: true }).click()
      await expect(ed.getByTestId('save-status').filter({ hasText: 'Saved · v1' })).toBeVisible()
      await ed.getByRole('switch', { name: 'Active' }).click()
      await expect(ed.getByRole('switch', { name: 'Active' })).toHaveAttribute('aria-checked', 'true')
      await ed.getByRole('button', { name: /^Trigger Webhook/ }).click()
      const hook = (await ed.getByTestId('webhook-url').innerText()).trim()
      const res = await fetch(hook, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"hello":"acme"}' })
      assert.equal(res.status, 202, await res.text())
      await expect.poll(() => acme.got.length, { message: 'the run calls Acme' }).toBe(1)
      assert.equal(acme.got[0].method, 'POST')
      assert.equal(acme.got[0].url, '/v2/contacts')
      assert.equal(acme.got[0].headers.authorization, 'Bearer acme-secret-token')
      assert.deepEqual(JSON.parse(acme.got[0].body), { email: 'ada@example.com' })
      const workflowId = new URL(ed.url()).pathname.split('/').pop()
      await expect
        .poll(async () => (await api(server, 'GET', `/api/v1/runs?workflow=${workflowId}`)).json?.items?.[0]?.state, { message: 'the run succeeds' })
        .toBe('succeeded')
    } finally {
      await context.close()
    }
  })

  test('connections show status, use and test results; OAuth Connect completes', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Connections' }).click()
    await expect(page.getByRole('heading', { name: 'Connections', level: 1 })).toBeVisible()
    const card = page.getByRole('listitem', { name: 'acme-main' })
    await expect(card.getByText('Connected', { exact: true })).toBeVisible()
    await expect(card.getByRole('link', { name: 'Acme contacts' })).toBeVisible()
    await card.getByRole('button', { name: 'Test acme-main' }).click()
    await expect(card.getByTestId('test-result-acme-main')).toContainText('Not tested: ')
    await expect(card.getByTestId('test-result-acme-main')).toContainText('Nothing was contacted')
    assert.equal(acme.got.length, 1, 'the test contacted nothing')

    // A failed test marks the connection with the reason and when, here and on the dashboard;
    // a passing one clears it.
    const bot = await api(server, 'POST', '/api/v1/connections', {
      name: 'slack-bot',
      connector: 'slack',
      fields: { bot_token: 'xoxb-old', base_url: `http://127.0.0.1:${acme.port}/slack/api` },
    })
    assert.equal(bot.status, 201, bot.text)
    await page.reload()
    const slackCard = page.getByRole('listitem', { name: 'slack-bot' })
    await expect(slackCard.getByText('Connected', { exact: true })).toBeVisible()
    await slackCard.getByRole('button', { name: 'Test slack-bot' }).click()
    await expect(slackCard.getByTestId('test-result-slack-bot')).toContainText('invalid_auth')
    await expect(slackCard.getByText('Needs attention', { exact: true })).toBeVisible()
    await expect(slackCard.getByTestId('attention-slack-bot')).toContainText('the last connection test failed: ')
    await expect(slackCard.getByTestId('attention-slack-bot')).toContainText('invalid_auth')
    await expect(slackCard.getByTestId('attention-slack-bot')).toContainText(/test failed (just now|\d+ s ago)/)
    await screen(page, 'connection-failed-test')
    await page.goto(server.base + '/dashboard')
    const dashConn = page.getByRole('region', { name: 'Connections needing attention' }).getByRole('listitem').filter({ hasText: 'slack-bot' })
    await expect(dashConn).toContainText('the last connection test failed: ')
    await page.goto(server.base + '/connections')
    acme.slack.ok = true
    await slackCard.getByRole('button', { name: 'Test slack-bot' }).click()
    await expect(slackCard.getByTestId('test-result-slack-bot')).toContainText('accepted the credentials')
    await expect(slackCard.getByText('Connected', { exact: true })).toBeVisible()
    await expect(slackCard.getByTestId('attention-slack-bot')).toHaveCount(0)
    assert.equal((await api(server, 'DELETE', `/api/v1/connections/${bot.json.id}`)).status, 204)

    await page.getByRole('button', { name: 'New connection' }).click()
    await page.getByRole('dialog').getByRole('button', { name: /^HTTP/ }).click()
    const form = page.getByRole('dialog', { name: 'New HTTP connection' })
    await form.getByLabel('Name', { exact: true }).fill('Partner API')
    await expect(form.getByText('partner-api')).toBeVisible()
    await form.getByLabel('Authorize with OAuth2 instead').check()
    await form.getByLabel('Client ID').fill('sb-client')
    await form.getByLabel('Client secret').fill('sb-secret')
    await form.getByLabel('Authorization URL').fill(`http://127.0.0.1:${provider.port}/authorize`)
    await form.getByLabel('Token URL').fill(`http://127.0.0.1:${provider.port}/token`)
    await form.getByLabel('Scopes (space-separated)').fill('contacts.read')
    await screen(page, 'connection-form')
    await form.getByRole('button', { name: 'Save connection' }).click()
    const partner = page.getByRole('listitem', { name: 'partner-api' })
    await expect(partner.getByText('Needs attention', { exact: true })).toBeVisible()
    await expect(partner.getByText(/not connected yet/)).toBeVisible()
    await screen(page, 'connections')

    await partner.getByRole('button', { name: 'Connect partner-api' }).click()
    await expect(page.getByRole('heading', { name: 'Allow Switchboard?' })).toBeVisible()
    await page.getByRole('link', { name: 'Allow' }).click()
    await expect(page.getByText('The connection is authorized')).toBeVisible()
    await expect(page.getByRole('listitem', { name: 'partner-api' }).getByText('Connected', { exact: true })).toBeVisible()
    assert.equal(provider.tokenRequests.length, 1)
    assert.equal(provider.tokenRequests[0].form.get('grant_type'), 'authorization_code')

    // Editing keeps a secret left empty.
    await card.getByRole('button', { name: 'Edit acme-main' }).click()
    const edit = page.getByRole('dialog', { name: 'Edit acme-main' })
    await expect(edit.getByLabel(/API token/)).toHaveAttribute('placeholder', /•/)
    await edit.getByRole('button', { name: 'Save connection' }).click()
    await expect(edit).toHaveCount(0)
    const conns = await api(server, 'GET', '/api/v1/connections')
    assert.equal(conns.json.items.find((c) => c.name === 'acme-main').secret_set.token, true, 'the token is kept')

    // Deleting warns with the workflows that use it.
    await card.getByRole('button', { name: 'Delete acme-main' }).click()
    const del = page.getByRole('dialog', { name: 'Delete acme-main?' })
    await expect(del.getByTestId('delete-used-by')).toContainText('Acme contacts (on)')
    await screen(page, 'connection-delete')
    await del.getByRole('button', { name: 'Keep it' }).click()
  })

  test('the audit log filters by action and says what changed', async () => {
    await page.goto(server.base + '/admin/audit')
    await page.getByLabel('Action').fill('user.')
    await page.getByRole('button', { name: 'Apply' }).click()
    const rows = page.getByRole('table', { name: 'Audit entries' }).getByRole('row')
    await expect(rows.filter({ hasText: 'user.invite' })).toHaveCount(2)
    await expect(rows.filter({ hasText: 'connector.upload' })).toHaveCount(0)
    await expect(rows.filter({ hasText: 'user.link_used' }).first()).toBeVisible()
    await expect(rows.filter({ hasText: 'ed@example.com' }).first()).toBeVisible()
    await expect(rows.filter({ hasText: 'disabled: false → true' })).toHaveCount(1)
    await expect(rows.filter({ hasText: 'role: viewer → editor' })).toHaveCount(1)
    // The target reads as the user's e-mail, not an id.
    await expect(rows.filter({ hasText: 'role: viewer → editor' }).getByRole('cell').nth(3)).toHaveText('vi@example.com (user)')
    await screen(page, 'audit')
    await page.getByLabel('Action').fill('settings.update')
    await page.getByRole('button', { name: 'Apply' }).click()
    await expect(rows.filter({ hasText: 'settings.update' })).toHaveCount(1)
    await rows.filter({ hasText: 'settings.update' }).getByText('Request').click()
    await expect(rows.filter({ hasText: 'settings.update' })).toContainText('168h')
    await page.getByLabel('Action').fill('api_key.create')
    await page.getByRole('button', { name: 'Apply' }).click()
    await expect(rows.filter({ hasText: 'api_key.create' }).getByRole('cell').nth(3)).toHaveText('deploy script (api key)')
  })

  test('a viewer sees no edit control on any page', async ({ browser }) => {
    const context = await browser.newContext({ viewport: { width: 1300, height: 1000 } })
    const vp = await context.newPage()
    try {
      await vp.goto(links.viewer)
      await vp.getByLabel('Password', { exact: true }).fill('viewer password 123')
      await vp.getByLabel('The same password again').fill('viewer password 123')
      await vp.getByRole('button', { name: 'Set password and sign in' }).click()
      await expect(vp.getByRole('heading', { name: 'Workflows' })).toBeVisible()
      const edit = /^(New|Edit|Delete|Save|Create|Test|Replay|Cancel|Invite|Revoke|Connect|Reset|Disable|Enable|Check and install|Add)\b/
      for (const where of ['/', '/dashboard', '/runs', '/connections', '/admin/users', '/admin/keys', '/admin/connectors', '/admin/settings', '/admin/audit']) {
        await vp.goto(server.base + where)
        await expect(vp.locator('main h1').first()).toBeVisible()
        await expect(vp.getByRole('status').filter({ hasText: /^Loading/ })).toHaveCount(0)
        const buttons = await vp.locator('main').getByRole('button').allInnerTexts()
        assert.deepEqual(
          buttons.map((b) => b.trim()).filter((b) => edit.test(b)),
          [],
          `edit controls a viewer sees on ${where}`,
        )
        await expect(vp.locator('main').getByRole('switch', { disabled: false })).toHaveCount(0)
      }
      await expect(vp.getByText('The admin area is for admins')).toBeVisible()
      await screen(vp, 'viewer-admin')
      await vp.goto(server.base + '/connections')
      await expect(vp.getByRole('listitem', { name: 'acme-main' }).getByText('Connected', { exact: true })).toBeVisible()
      await screen(vp, 'viewer-connections')
    } finally {
      await context.close()
    }
  })

  test('no uncaught page errors', () => {
    assert.deepEqual(s.pageErrors, [])
  })
})
