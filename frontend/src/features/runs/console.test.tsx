// @vitest-environment jsdom
import { cleanup, render, screen, within } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ConsoleRunDetail } from './api.ts'
import { runBulk } from './api.ts'
import { explainError } from './errors.ts'
import { childPath, JsonTree } from './JsonTree.tsx'
import { RunView } from './RunPage.tsx'
import { RunError } from './RunError.tsx'
import { apiFilters, readFilters } from './RunsPage.tsx'
import { buildTimeline, withOriginalAttempts } from './timeline.ts'
import { chartRows, type Dashboard } from '../dashboard/DashboardPage.tsx'
import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import type { ReactNode } from 'react'

const T0 = Date.parse('2026-11-02T10:00:00Z')
const iso = (ms: number) => new Date(T0 + ms).toISOString()

function failedRun(): ConsoleRunDetail {
  return {
    id: '01a2-run-original',
    workflow_id: 'wf1',
    workflow_name: 'Order alerts',
    version: 3,
    state: 'failed',
    trigger_type: 'webhook',
    error: 'step notify: retryable: HTTP 500 Internal Server Error',
    attempt: 2,
    replay_of: null,
    replays: [{ id: '01a2-run-replay1', state: 'succeeded', created_at: iso(5000) }],
    next_attempt_at: null,
    duration_ms: 1000,
    created_at: iso(0),
    started_at: iso(0),
    finished_at: iso(1000),
    trigger: { body: { id: 42, customer: { name: 'Ada' } } },
    steps: [
      { step_id: 'msg', state: 'succeeded', input: {}, output: { text: 'Order 42' }, error: '', attempts: 1, started_at: iso(0), finished_at: iso(100) },
      { step_id: 'notify', state: 'failed', input: {}, output: null, error: 'retryable: HTTP 500 Internal Server Error', attempts: 2, started_at: iso(100), finished_at: iso(1000) },
    ],
    deliveries: [1, 2].map((n) => ({
      id: `d${n}`, step_id: 'notify', attempt: n, method: 'POST', url: 'http://127.0.0.1/orders',
      request_headers: { Authorization: '[redacted]' }, request_body: '{"text":"Order 42"}', status: 500,
      response_headers: {}, response_body: '{"error":"down"}', latency_ms: 20, error: '', error_kind: 'retryable', created_at: iso(n === 1 ? 100 : 900),
    })),
  }
}

function wrap(node: ReactNode) {
  return <QueryClientProvider client={new QueryClient()}>{node}</QueryClientProvider>
}

afterEach(cleanup)

describe('run console helpers', () => {
  it('builds template paths', () => {
    expect(childPath('steps.msg', 'text')).toBe('steps.msg.text')
    expect(childPath('trigger.body.items', 0)).toBe('trigger.body.items[0]')
    expect(childPath('trigger.headers', 'content-type')).toBe('trigger.headers["content-type"]')
    expect(childPath('', 'text')).toBe('text')
  })

  it('places steps and their attempts on the time axis', () => {
    const tl = buildTimeline(failedRun(), T0 + 60_000)
    expect(tl.endMs - tl.startMs).toBe(1000)
    const [msg, notify] = tl.rows
    expect(msg.left).toBe(0)
    expect(msg.width).toBeCloseTo(10)
    expect(notify.left).toBeCloseTo(10)
    expect(notify.marks.map((m) => Math.round(m.at))).toEqual([10, 90])
    expect(notify.marks.every((m) => !m.ok)).toBe(true)
  })

  it('draws a waiting step up to its next attempt', () => {
    const run = { ...failedRun(), state: 'waiting' as const, finished_at: null, next_attempt_at: iso(2000) }
    run.steps = [{ ...run.steps[1], state: 'waiting', finished_at: null }]
    run.deliveries = run.deliveries.slice(0, 1)
    const tl = buildTimeline(run, T0 + 1000)
    expect(tl.endMs - tl.startMs).toBe(2000)
    expect(tl.rows[0].waitUntil).toBe(100)
  })

  it('explains errors in words and names SWITCHBOARD_OUTBOUND_ALLOW for private addresses', () => {
    const blocked = explainError('step ping: destination address is not allowed: 10.1.2.3')
    expect(blocked?.summary).toMatch(/private/)
    expect(blocked?.hint).toMatch(/SWITCHBOARD_OUTBOUND_ALLOW/)
    expect(explainError('step notify: retryable: HTTP 500 Internal Server Error')?.summary).toMatch(/server error/)
    expect(explainError('', 401)?.summary).toMatch(/credentials/)
    expect(explainError('something odd')).toBeNull()
  })

  it('reads filters from the address and turns time ranges into since', () => {
    const f = readFilters(new URLSearchParams('workflow=wf1&state=failed&range=1h&q=%20ada%20'))
    expect(apiFilters(f, T0)).toEqual({ workflow: 'wf1', state: 'failed', q: 'ada', since: new Date(T0 - 3600_000).toISOString() })
    expect(apiFilters(readFilters(new URLSearchParams('')), T0)).toEqual({})
  })

  it('runs a bulk action with progress, going on after a failure', async () => {
    const seen: number[] = []
    const action = vi.fn(async (id: string) => {
      if (id === 'b') throw new Error('run b is still running')
    })
    const p = await runBulk(['a', 'b', 'c', 'd', 'e'], action, (pr) => seen.push(pr.done), 2)
    expect(p.done).toBe(5)
    expect(p.failed).toEqual([{ id: 'b', error: 'run b is still running' }])
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5])
    expect(action).toHaveBeenCalledTimes(5)
  })

  it('turns dashboard buckets into chart rows with every state', () => {
    const d = { range: 'hour', buckets: [{ start: iso(0), states: { failed: 2 } }] } as unknown as Dashboard
    const [row] = chartRows(d)
    expect(row.failed).toBe(2)
    expect(row.succeeded).toBe(0)
  })
})

// jsdom rendering is slow on a loaded machine: these get more than vitest's default 5 s.
describe('run page', { timeout: 30_000 }, () => {
  it('shows the whole error in words, both attempts and the link to the replay', () => {
    render(wrap(<RunView run={failedRun()} now={T0 + 5000} />))
    const error = screen.getByTestId('run-error')
    expect(error.textContent).toContain('step notify: retryable: HTTP 500 Internal Server Error')
    expect(error.textContent).toMatch(/server error/)
    const notify = document.querySelector('[data-step-id="notify"].step-card') as HTMLElement
    expect(within(notify).getAllByText(/^Attempt \d$/).map((e) => e.textContent)).toEqual(['Attempt 1', 'Attempt 2'])
    expect(within(notify).getByLabelText('Request headers of attempt 1').textContent).toContain('[redacted]')
    const links = screen.getByTestId('run-links')
    expect(within(links).getByRole('link', { name: /^run .*replay1$/ }).getAttribute('href')).toBe('/runs/01a2-run-replay1')
    expect(screen.getByRole('img', { name: /notify: failed.*2 attempts/ })).toBeTruthy()
  })

  it('offers copy value and copy path for every field', () => {
    render(<JsonTree value={{ text: 'hi', items: [{ sku: 'A1' }] }} path="steps.msg" label="Output" />)
    expect(screen.getByRole('button', { name: 'copy path steps.msg.text' })).toBeTruthy()
    expect(screen.getByRole('button', { name: 'copy path steps.msg.items[0].sku' })).toBeTruthy()
  })
})

describe('RunError', () => {
  afterEach(cleanup)
  it('says what a known error means and keeps the whole message behind Details', () => {
    const message = 'step notify: retryable: calling https://hooks.example/orders: HTTP 500 Internal Server Error'
    const { container } = render(<RunError message={message} />)
    expect(screen.getByText(/server error/)).toBeTruthy()
    const details = container.querySelector('details.error-details')!
    expect(details.querySelector('summary')!.textContent).toBe('Details')
    expect(details.querySelector('.error-text')!.textContent).toBe(message)
  })
  it('shows an unknown error whole, as it is', () => {
    const message = 'step odd: something nobody has explained yet, with a long tail of words'
    const { container } = render(<RunError message={message} />)
    expect(container.querySelector('details')).toBeNull()
    expect(container.textContent).toBe(message)
  })
})

describe('a replay timeline', () => {
  it('puts the attempts of the original run before the replay’s own', () => {
    const original = failedRun()
    const replay: ConsoleRunDetail = {
      ...failedRun(),
      id: 'replay',
      state: 'succeeded',
      replay_of: original.id,
      started_at: iso(60_000),
      created_at: iso(60_000),
      finished_at: iso(61_000),
      deliveries: [{ ...original.deliveries[1], id: 'd-replay', attempt: 1, status: 200, error: '', created_at: iso(60_500) }],
    }
    const merged = withOriginalAttempts(replay, original)
    expect(merged.started_at).toBe(original.started_at)
    const row = buildTimeline(merged, T0 + 62_000).rows.find((r) => r.stepId === 'notify')!
    expect(row.marks.map((m) => m.ok)).toEqual([false, false, true])
    expect(row.marks[2].at).toBeGreaterThan(row.marks[1].at)
    // Nothing to add: the run as it is.
    expect(withOriginalAttempts(replay, { ...original, deliveries: [] })).toBe(replay)
  })
})
