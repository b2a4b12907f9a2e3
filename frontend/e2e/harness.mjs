// Shared pieces of the browser end-to-end tests: start the real `switchboard` binary on a free
// port with a fresh data dir, create the first admin and an API key, talk to the API, and
// `suite()`: one server and one page shared by the serial tests of a file, with a trace, a
// screenshot and the server's output kept for a test that fails. Chromium itself is configured
// in playwright.config.mjs. (Not a test file itself: Playwright picks up *.e2e.test.mjs.)

import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from '@playwright/test'

const here = path.dirname(fileURLToPath(import.meta.url))
export const outDir = path.resolve(here, '../test-output')
export const FINAL_STATES = new Set(['succeeded', 'failed', 'filtered', 'canceled'])

/** The first admin every test creates (passwords need at least 10 characters). */
export const ADMIN = { email: 'admin@example.com', password: 'correct horse battery', name: 'Ada Admin' }

export function resolveBinary() {
  const bin = process.env.SWITCHBOARD_BIN || path.resolve(here, '../../bin/switchboard')
  if (!existsSync(bin)) {
    throw new Error(`switchboard binary not found at ${bin}; build it (make build) or set SWITCHBOARD_BIN`)
  }
  return bin
}

export function freePort() {
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

const timeout = (ms) => new Promise((r) => setTimeout(r, ms))

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

/** Starts `switchboard serve` and waits for /healthz. `env` adds environment variables. */
export async function startServer(bin, { env = {}, prefix = 'switchboard-e2e-data-' } = {}) {
  const port = await freePort()
  const dataDir = mkdtempSync(path.join(os.tmpdir(), prefix))
  const addr = `127.0.0.1:${port}`
  const base = `http://${addr}`
  let log = ''
  const child = spawn(bin, ['serve', '--addr', addr, '--data-dir', dataDir], {
    env: { ...process.env, SWITCHBOARD_ADDR: addr, SWITCHBOARD_DATA_DIR: dataDir, ...env },
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
    /** Set by createAdmin; api() sends it as a bearer token. */
    apiKey: '',
    log: () => log,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM')
        const timedOut = await Promise.race([exitPromise.then(() => false), timeout(5000).then(() => true)])
        if (timedOut) {
          child.kill('SIGKILL')
          await exitPromise
        }
      }
      rmSync(dataDir, { recursive: true, force: true })
    },
  }

  let early = null
  await expect
    .poll(
      async () => {
        if (exited) {
          early ??= new Error(`switchboard exited early (${JSON.stringify(exited)}); output:\n${log}`)
          return true
        }
        try {
          return (await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) })).ok
        } catch {
          return false // not listening yet
        }
      },
      { message: `switchboard did not become healthy at ${base}/healthz`, timeout: 60_000 },
    )
    .toBe(true)
    .catch(async (err) => {
      await server.stop()
      throw new Error(`${err.message}; output:\n${log}`)
    })
  if (early) {
    await server.stop()
    throw early
  }
  return server
}

/** One API call; with server.apiKey set it is authenticated. Never throws on HTTP errors. */
export async function api(server, method, urlPath, body, headers = {}) {
  const h = { ...headers }
  if (body !== undefined) h['Content-Type'] = 'application/json'
  if (server.apiKey && urlPath.startsWith('/api/')) h.Authorization = `Bearer ${server.apiKey}`
  const res = await fetch(server.base + urlPath, {
    method,
    headers: h,
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  let json = null
  try {
    json = text ? JSON.parse(text) : null
  } catch {
    // leave json null; the caller reports text
  }
  return { status: res.status, json, text, headers: res.headers }
}

/**
 * Creates the first admin through POST /api/v1/auth/setup, then an admin API key with that
 * session (cookie + X-CSRF-Token), and keeps the key on server.apiKey for later calls.
 */
export async function createAdmin(server, admin = ADMIN) {
  const status = await api(server, 'GET', '/api/v1/auth/status')
  if (status.status !== 200 || status.json?.needs_setup !== true) {
    throw new Error(`GET /api/v1/auth/status: ${status.status} ${status.text}`)
  }
  const setup = await api(server, 'POST', '/api/v1/auth/setup', admin)
  if (setup.status !== 201) throw new Error(`POST /api/v1/auth/setup: ${setup.status} ${setup.text}`)
  const cookies = setup.headers.getSetCookie().map((c) => c.split(';')[0])
  const session = cookies.find((c) => c.startsWith('sb_session='))
  if (!session) throw new Error(`setup set no sb_session cookie: ${cookies.join(', ')}`)
  const key = await api(server, 'POST', '/api/v1/api-keys', { name: 'e2e', role: 'admin' }, {
    Cookie: cookies.join('; '),
    'X-CSRF-Token': setup.json.csrf_token,
  })
  if (key.status !== 201 || !key.json?.key) throw new Error(`POST /api/v1/api-keys: ${key.status} ${key.text}`)
  server.apiKey = key.json.key
  return { ...admin, apiKey: key.json.key }
}

/** Waits until the run reaches a final state and returns it. */
export async function waitForRun(server, runId, timeoutMs = 30_000) {
  let run
  await expect
    .poll(
      async () => {
        const res = await api(server, 'GET', `/api/v1/runs/${encodeURIComponent(runId)}`)
        if (res.status !== 200) throw new Error(`GET run: ${res.status} ${res.text}`)
        run = res.json
        return FINAL_STATES.has(run.state)
      },
      { message: `run ${runId} to finish`, timeout: timeoutMs },
    )
    .toBe(true)
  return run
}

/**
 * One server and one browser page shared by the serial tests of a file (they build on each
 * other). Returns an object whose fields are set before the first test: server, context, page,
 * pageErrors (uncaught errors and console errors not matching `allowConsole`). A failing test
 * keeps its trace, a screenshot and the server's output in its results folder; the tests after
 * it in the file are skipped.
 */
export function suite(test, { name, server: serverOptions = {}, context: contextOptions = {}, allowConsole = null } = {}) {
  const s = { server: null, context: null, page: null, pageErrors: [] }
  test.describe.configure({ mode: 'serial' })
  test.beforeAll(async ({ browser }) => {
    mkdirSync(outDir, { recursive: true })
    s.server = await startServer(resolveBinary(), { prefix: `switchboard-e2e-${name}-`, ...serverOptions })
    await createAdmin(s.server)
    s.context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...contextOptions })
    s.page = await s.context.newPage()
    s.page.on('pageerror', (err) => s.pageErrors.push(`pageerror: ${err.message}`))
    s.page.on('console', (msg) => {
      if (msg.type() === 'error' && !(allowConsole && allowConsole.test(msg.text()))) s.pageErrors.push(`console.error: ${msg.text()}`)
    })
  })
  // The trace and the screenshot of a failed test come from playwright.config.mjs (they cover
  // this shared context too); the server's output is ours.
  test.afterEach(async ({}, info) => {
    if (info.status === info.expectedStatus) return
    await info.attach('switchboard output', { body: s.server?.log().slice(-8000) ?? '', contentType: 'text/plain' })
    console.error(`---- switchboard output (${info.title}) ----\n${s.server?.log().slice(-8000)}`)
  })
  test.afterAll(async () => {
    try {
      await s.context?.close()
    } finally {
      await s.server?.stop()
    }
  })
  return s
}

/** Signs in through the app's login page (typing e-mail and password, pressing the button). */
export async function signIn(page, base, admin = ADMIN) {
  await page.goto(base + '/')
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible()
  await page.getByLabel('E-mail').fill(admin.email)
  await page.getByLabel('Password').fill(admin.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

const axeSource = path.resolve(here, '../node_modules/axe-core/axe.min.js')

/**
 * Runs axe-core (WCAG 2.x A/AA rules) on the page and returns the serious and critical
 * violations as readable lines ("rule: target …").
 */
export async function axeViolations(page, { include, exclude = [] } = {}) {
  // The app's Content-Security-Policy refuses inline scripts (addScriptTag); evaluate runs
  // through DevTools, outside the page's policy, so the app is tested under its real CSP.
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.evaluate(readFileSync(axeSource, 'utf8'))
  const result = await page.evaluate(
    async ({ include, exclude }) => {
      const context = include ? { include: [include], exclude: exclude.map((e) => [e]) } : { exclude: exclude.map((e) => [e]) }
      const r = await window.axe.run(context, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }))
    },
    { include, exclude },
  )
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.help}): ${v.targets.join(' | ')}`)
}
