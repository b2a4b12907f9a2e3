import { describe, expect, it, vi } from 'vitest'
import { ApiError, createApiClient, type FetchLike, type WorkflowDocument } from './api.ts'

function jsonResponse(status: number, body: unknown, contentType = 'application/json'): Response {
  return new Response(typeof body === 'string' ? body : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': contentType },
  })
}

function stub(...responses: Response[]) {
  const calls: Array<{ url: string; init?: RequestInit }> = []
  const fetch = vi.fn<FetchLike>(async (url, init) => {
    calls.push({ url, init })
    const res = responses.shift()
    if (!res) throw new Error(`unexpected request ${url}`)
    return res
  })
  return { fetch, calls }
}

const workflow = {
  id: 'wf1',
  name: 'Order alert',
  active: true,
  version: 3,
  trigger_type: 'webhook',
  webhook_url: 'http://127.0.0.1:8080/hooks/tok',
  created_at: '2026-11-26T10:00:00Z',
  updated_at: '2026-11-26T11:00:00Z',
}

describe('api client', () => {
  it('lists workflows', async () => {
    const { fetch, calls } = stub(jsonResponse(200, { items: [workflow], next_cursor: 'c2' }))
    const api = createApiClient({ fetch })
    const page = await api.listWorkflows()
    expect(page).toEqual({ items: [workflow], next_cursor: 'c2' })
    expect(calls[0].url).toBe('/api/v1/workflows')
    expect(calls[0].init?.method).toBe('GET')
    expect((calls[0].init?.headers as Record<string, string>).Accept).toContain('application/json')
  })

  it('passes cursor and limit, and honours baseUrl', async () => {
    const { fetch, calls } = stub(jsonResponse(200, { items: [], next_cursor: '' }))
    await createApiClient({ fetch, baseUrl: 'http://x:1/' }).listWorkflows({ cursor: 'abc', limit: 50 })
    expect(calls[0].url).toBe('http://x:1/api/v1/workflows?cursor=abc&limit=50')
  })

  it('normalises missing list fields', async () => {
    const { fetch } = stub(jsonResponse(200, { items: null }))
    expect(await createApiClient({ fetch }).listRuns({ workflow: 'wf1' })).toEqual({ items: [], next_cursor: '' })
  })

  it('lists runs of a workflow', async () => {
    const run = {
      id: 'r1',
      workflow_id: 'wf1',
      version: 1,
      state: 'succeeded',
      error: '',
      created_at: '2026-11-26T10:00:00Z',
      started_at: '2026-11-26T10:00:00Z',
      finished_at: '2026-11-26T10:00:01Z',
    }
    const { fetch, calls } = stub(jsonResponse(200, { items: [run], next_cursor: '' }))
    const page = await createApiClient({ fetch }).listRuns({ workflow: 'wf 1/2', limit: 20 })
    expect(calls[0].url).toBe('/api/v1/runs?workflow=wf+1%2F2&limit=20')
    expect(page.items[0].state).toBe('succeeded')
  })

  it('gets a run with steps and deliveries, defaulting absent arrays', async () => {
    const { fetch, calls } = stub(
      jsonResponse(200, {
        id: 'r/1',
        workflow_id: 'wf1',
        version: 1,
        state: 'running',
        error: '',
        created_at: '2026-11-26T10:00:00Z',
        started_at: null,
        finished_at: null,
        steps: [{ step_id: 'msg', state: 'succeeded', input: {}, output: { text: 'hi' }, error: '', attempts: 1 }],
      }),
    )
    const run = await createApiClient({ fetch }).getRun('r/1')
    expect(calls[0].url).toBe('/api/v1/runs/r%2F1')
    expect(run.steps[0].output).toEqual({ text: 'hi' })
    expect(run.deliveries).toEqual([])
    expect(run.trigger).toBeNull()
  })

  it('gets one workflow with its document', async () => {
    const doc = { schema: 'switchboard/v1', name: 'Order alert', trigger: { type: 'webhook' }, steps: [] }
    const { fetch, calls } = stub(jsonResponse(200, { ...workflow, document: doc }))
    const wf = await createApiClient({ fetch }).getWorkflow('wf1')
    expect(calls[0].url).toBe('/api/v1/workflows/wf1')
    expect(wf.document.schema).toBe('switchboard/v1')
  })

  it('posts a workflow document as JSON', async () => {
    const doc: WorkflowDocument = {
      schema: 'switchboard/v1',
      name: 'Order alert',
      trigger: { type: 'webhook', webhook: { methods: ['POST'] } },
      steps: [{ id: 'big', type: 'filter', if: 'trigger.body.total > 100' }],
    }
    const { fetch, calls } = stub(jsonResponse(201, workflow))
    const created = await createApiClient({ fetch }).createWorkflow(doc)
    expect(created.id).toBe('wf1')
    expect(calls[0].init?.method).toBe('POST')
    expect((calls[0].init?.headers as Record<string, string>)['Content-Type']).toBe('application/json')
    expect(JSON.parse(String(calls[0].init?.body))).toEqual(doc)
  })

  it('turns problem+json into an ApiError with field errors', async () => {
    const problem = {
      type: 'https://switchboard.dev/problems/validation',
      title: 'Invalid workflow',
      status: 422,
      detail: '1 error',
      errors: [{ path: 'steps[1].fields.text', message: 'unknown name "trigge"' }],
    }
    const { fetch } = stub(jsonResponse(422, problem, 'application/problem+json'))
    const err = await createApiClient({ fetch })
      .createWorkflow({ schema: 'switchboard/v1', name: 'x', trigger: { type: 'webhook' }, steps: [] })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    const apiErr = err as ApiError
    expect(apiErr.status).toBe(422)
    expect(apiErr.message).toBe('Invalid workflow: 1 error')
    expect(apiErr.fieldErrors).toEqual(problem.errors)
  })

  it('copes with non-JSON errors', async () => {
    const { fetch } = stub(new Response('upstream exploded', { status: 502, statusText: 'Bad Gateway' }))
    const err = (await createApiClient({ fetch }).getRun('r1').catch((e: unknown) => e)) as ApiError
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(502)
    expect(err.problem.title).toBe('Bad Gateway')
    expect(err.problem.detail).toBe('upstream exploded')
  })

  it('reports network failures as status 0', async () => {
    const fetch = vi.fn<FetchLike>(async () => {
      throw new TypeError('Failed to fetch')
    })
    const err = (await createApiClient({ fetch }).listWorkflows().catch((e: unknown) => e)) as ApiError
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(0)
    expect(err.message).toBe('Network error: Failed to fetch')
  })

  it('passes abort signals through and rethrows aborts unchanged', async () => {
    const controller = new AbortController()
    const fetch = vi.fn<FetchLike>(async (_url, init) => {
      expect(init?.signal).toBe(controller.signal)
      throw new DOMException('aborted', 'AbortError')
    })
    controller.abort()
    const err = await createApiClient({ fetch }).listWorkflows({}, controller.signal).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DOMException)
  })
})

describe('api client auth', () => {
  const me = { kind: 'user', id: 'u1', name: 'ada@example.com', role: 'admin', csrf_token: 'tok-me' }

  it('sends the CSRF cookie on unsafe methods only, with same-origin credentials', async () => {
    const { fetch, calls } = stub(jsonResponse(200, { items: [], next_cursor: '' }), jsonResponse(201, workflow))
    const api = createApiClient({ fetch, readCsrfCookie: () => 'csrf-from-cookie' })
    await api.listWorkflows()
    await api.createWorkflow({ schema: 'switchboard/v1', name: 'x', trigger: { type: 'webhook' }, steps: [] })
    const getHeaders = calls[0].init?.headers as Record<string, string>
    const postHeaders = calls[1].init?.headers as Record<string, string>
    expect(getHeaders['X-CSRF-Token']).toBeUndefined()
    expect(postHeaders['X-CSRF-Token']).toBe('csrf-from-cookie')
    expect(calls[0].init?.credentials).toBe('same-origin')
    expect(calls[1].init?.credentials).toBe('same-origin')
  })

  it('falls back to the token from login when the cookie cannot be read', async () => {
    const { fetch, calls } = stub(
      jsonResponse(200, { user: { id: 'u1', email: 'ada@example.com' }, csrf_token: 'tok-login' }),
      jsonResponse(201, workflow),
    )
    const api = createApiClient({ fetch, readCsrfCookie: () => '' })
    await api.login({ email: 'ada@example.com', password: 'correct horse' })
    expect(JSON.parse(String(calls[0].init?.body))).toEqual({ email: 'ada@example.com', password: 'correct horse' })
    await api.createWorkflow({ schema: 'switchboard/v1', name: 'x', trigger: { type: 'webhook' }, steps: [] })
    expect((calls[1].init?.headers as Record<string, string>)['X-CSRF-Token']).toBe('tok-login')
  })

  it('remembers the token from /auth/me', async () => {
    const { fetch, calls } = stub(jsonResponse(200, me), jsonResponse(201, workflow))
    const api = createApiClient({ fetch, readCsrfCookie: () => '' })
    expect((await api.me()).role).toBe('admin')
    await api.createWorkflow({ schema: 'switchboard/v1', name: 'x', trigger: { type: 'webhook' }, steps: [] })
    expect((calls[1].init?.headers as Record<string, string>)['X-CSRF-Token']).toBe('tok-me')
  })

  it('tells listeners about a 401 from ordinary calls, not from sign-in calls', async () => {
    const unauthorized = { title: 'Unauthorized', status: 401, detail: 'sign in' }
    const { fetch } = stub(
      jsonResponse(401, unauthorized, 'application/problem+json'),
      jsonResponse(401, unauthorized, 'application/problem+json'),
      jsonResponse(401, unauthorized, 'application/problem+json'),
    )
    const api = createApiClient({ fetch, readCsrfCookie: () => '' })
    const seen: number[] = []
    const off = api.onUnauthorized((err) => seen.push(err.status))
    await expect(api.me()).rejects.toBeInstanceOf(ApiError)
    await expect(api.login({ email: 'a@b.c', password: 'wrong password' })).rejects.toMatchObject({ status: 401 })
    expect(seen).toEqual([])
    await expect(api.listWorkflows()).rejects.toMatchObject({ status: 401 })
    expect(seen).toEqual([401])
    off()
  })

  it('reads one cookie out of document.cookie', async () => {
    const { cookieValue } = await import('./api.ts')
    expect(cookieValue('a=1; sb_csrf=abc%3D; b=2', 'sb_csrf')).toBe('abc=')
    expect(cookieValue('a=1', 'sb_csrf')).toBe('')
    expect(cookieValue('', 'sb_csrf')).toBe('')
  })
})
