// Shared pieces of the browser end-to-end tests: start the real `switchboard` binary on a free
// port with a fresh data dir, create the first admin and an API key, talk to the API, launch
// Debian's Chromium. (Not a test file itself: node --test only picks up *.test.mjs.)

import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const here = path.dirname(fileURLToPath(import.meta.url))
export const outDir = path.resolve(here, '../test-output')
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
export const CHROMIUM_ARGS = [
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
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

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

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

/** Polls a run until it reaches a final state. */
export async function waitForRun(server, runId, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const res = await api(server, 'GET', `/api/v1/runs/${encodeURIComponent(runId)}`)
    if (res.status !== 200) throw new Error(`GET run: ${res.status} ${res.text}`)
    if (FINAL_STATES.has(res.json.state)) return res.json
    if (Date.now() > deadline) throw new Error(`run still ${res.json.state} after ${timeoutMs} ms`)
    await sleep(200)
  }
}

/** Launches headless Debian Chromium with a throw-away HOME; close() removes it. */
export async function launchChromium() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/ensure-chromium.sh`)
  const home = mkdtempSync(path.join(os.tmpdir(), 'switchboard-e2e-home-'))
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    env: { ...process.env, HOME: home },
  })
  return {
    browser,
    async close() {
      try {
        await browser.close()
      } finally {
        rmSync(home, { recursive: true, force: true })
      }
    },
  }
}

/** Signs in through the app's login page (typing e-mail and password, pressing the button). */
export async function signIn(page, base, admin = ADMIN) {
  await page.goto(base + '/')
  await page.getByRole('heading', { name: 'Sign in' }).waitFor()
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
