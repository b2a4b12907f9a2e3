import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import type { Run, RunDetail } from './api.ts'
import { RunDetailView, RunTable } from './views.tsx'

const now = Date.parse('2026-11-26T12:00:00Z')

const run: Run = {
  id: '01a21a24-778d-758c-b3d6-e01a49159769',
  workflow_id: 'wf1',
  version: 3,
  state: 'failed',
  trigger_type: 'webhook',
  error: 'step post: HTTP 500',
  attempt: 1,
  replay_of: null,
  duration_ms: 1250,
  created_at: '2026-11-26T11:59:00Z',
  started_at: '2026-11-26T11:59:00Z',
  finished_at: '2026-11-26T11:59:01.25Z',
}

describe('views', () => {
  it('renders runs with state badge, duration and error', () => {
    const queued: Run = { ...run, id: 'q1', state: 'queued', error: '', started_at: null, finished_at: null }
    const html = renderToStaticMarkup(<RunTable runs={[run, queued]} workflowId="wf1" selectedRunId={null} now={now} />)
    expect(html).toContain('href="/workflows/wf1/runs/01a21a24-778d-758c-b3d6-e01a49159769"')
    expect(html).toContain('>49159769<')
    expect(html).toContain('data-state="failed"')
    expect(html).toContain('badge--danger')
    expect(html).toContain('1.25 s')
    expect(html).toContain('step post: HTTP 500')
    expect(html).toContain('data-state="queued"')
    expect(html).toContain('not started')
  })

  it('renders run detail with steps and deliveries', () => {
    const detail: RunDetail = {
      ...run,
      replays: [],
      next_attempt_at: null,
      state: 'succeeded',
      error: '',
      trigger: { body: { id: 1, total: 250 }, headers: {}, query: {}, method: 'POST', received_at: run.created_at },
      steps: [
        {
          step_id: 'msg',
          state: 'succeeded',
          input: { trigger: { body: { id: 1 } } },
          output: { text: 'Order #1 from Ada' },
          error: '',
          attempts: 1,
          started_at: run.started_at!,
          finished_at: run.finished_at,
        },
        {
          step_id: 'post',
          state: 'failed',
          input: {},
          output: null,
          error: 'HTTP 500',
          attempts: 3,
          started_at: run.created_at,
          finished_at: null,
        },
      ],
      deliveries: [
        {
          id: 'd1',
          step_id: 'post',
          attempt: 1,
          request_headers: {},
          request_body: '',
          response_headers: {},
          method: 'POST',
          url: 'https://example.test/hook',
          status: 500,
          latency_ms: 42,
          response_body: '{"error":"boom"}',
          error: '',
          error_kind: 'retryable',
          created_at: run.created_at,
        },
        {
          id: 'd2',
          step_id: 'post',
          attempt: 2,
          request_headers: {},
          request_body: '',
          response_headers: null,
          method: 'POST',
          url: 'https://example.test/hook',
          status: 0,
          latency_ms: 1,
          response_body: '',
          error: 'dial tcp: no such host',
          error_kind: 'retryable',
          created_at: run.created_at,
        },
      ],
    }
    const html = renderToStaticMarkup(<RunDetailView run={detail} now={now} />)
    expect(html).toContain('data-step-id="msg"')
    expect(html).toContain('&quot;text&quot;: &quot;Order #1 from Ada&quot;')
    expect(html).toContain('3 attempts')
    expect(html).toContain('HTTP 500')
    expect(html).toContain('https://example.test/hook')
    expect(html).toContain('>500<')
    expect(html).toContain('42 ms')
    expect(html).toContain('&quot;error&quot;: &quot;boom&quot;')
    expect(html).toContain('no response')
    expect(html).toContain('dial tcp: no such host')
    expect(html).toContain('data-testid="delivery-kind"')
    expect(html).toContain(' retryable<')
    expect(html).toContain('Trigger input')
  })

  it('renders a run without steps yet', () => {
    const html = renderToStaticMarkup(
      <RunDetailView run={{ ...run, replays: [], next_attempt_at: null, state: 'queued', error: '', trigger: null, steps: [], deliveries: [] }} now={now} />,
    )
    expect(html).toContain('No steps recorded yet.')
    expect(html).toContain('No outbound HTTP calls.')
  })
})
