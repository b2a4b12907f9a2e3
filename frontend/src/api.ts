// Typed client for the Switchboard HTTP API (/api/v1, JSON with snake_case fields).
// Errors come back as application/problem+json (RFC 9457) and are thrown as ApiError.

export const RUN_STATES = [
  'queued',
  'running',
  'waiting',
  'succeeded',
  'failed',
  'filtered',
  'canceled',
] as const

export type RunState = (typeof RUN_STATES)[number]

/** Step-run states; `running` may be reported while a step is in flight. */
export type StepState = 'succeeded' | 'failed' | 'skipped' | 'filtered' | 'waiting' | 'running'

/** RFC 3339 timestamp as sent by the server. */
export type Timestamp = string

export interface Workflow {
  id: string
  name: string
  active: boolean
  version: number
  trigger_type: string
  /** Only set for webhook triggers. */
  webhook_url?: string
  created_at: Timestamp
  updated_at: Timestamp
}

/** The `switchboard/v1` workflow document (only the parts the UI reads are typed). */
export interface WorkflowDocument {
  schema: string
  name: string
  trigger: { type: string; [key: string]: unknown }
  steps: Array<{ id: string; type: string; [key: string]: unknown }>
  [key: string]: unknown
}

export interface WorkflowDetail extends Workflow {
  document: WorkflowDocument
}

export interface Page<T> {
  items: T[]
  next_cursor: string
}

export interface Run {
  id: string
  workflow_id: string
  version: number
  state: RunState
  error: string
  created_at: Timestamp
  started_at: Timestamp | null
  finished_at: Timestamp | null
}

export interface TriggerInput {
  body: unknown
  headers?: Record<string, unknown>
  query?: Record<string, unknown>
  method?: string
  received_at?: Timestamp
  [key: string]: unknown
}

export interface StepRun {
  step_id: string
  state: StepState
  input: unknown
  output: unknown
  error: string
  attempts: number
  started_at: Timestamp | null
  finished_at: Timestamp | null
}

export interface Delivery {
  step_id: string
  attempt: number
  method: string
  url: string
  /** HTTP status; 0 when no response was received (see `error`). */
  status: number
  latency_ms: number
  response_body: string
  error: string
  created_at: Timestamp
}

export interface RunDetail extends Run {
  trigger: TriggerInput | null
  steps: StepRun[]
  deliveries: Delivery[]
}

export interface FieldError {
  path: string
  message: string
}

export interface Problem {
  type?: string
  title: string
  status: number
  detail?: string
  errors?: FieldError[]
}

export interface WebhookAccepted {
  run_id: string
}

/** A failed API call: an HTTP error with its problem document, or a network failure (status 0). */
export class ApiError extends Error {
  readonly status: number
  readonly problem: Problem

  constructor(problem: Problem) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title)
    this.name = 'ApiError'
    this.status = problem.status
    this.problem = problem
  }

  get fieldErrors(): FieldError[] {
    return this.problem.errors ?? []
  }
}

export interface ListWorkflowsParams {
  cursor?: string
  limit?: number
}

export interface ListRunsParams {
  workflow?: string
  limit?: number
  cursor?: string
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>

export type Role = 'admin' | 'editor' | 'viewer'

export interface User {
  id: string
  email: string
  name: string
  role: Role
  disabled: boolean
  created_at: Timestamp
}

/** GET /api/v1/auth/me: who the requests act as (a signed-in user or an API key). */
export interface Me {
  kind: 'user' | 'api_key' | string
  id: string
  name: string
  role: Role
  user?: User
  csrf_token?: string
}

export interface SignedIn {
  user: User
  csrf_token: string
}

export interface Credentials {
  email: string
  password: string
  name?: string
}

export interface ApiClientOptions {
  /** Origin (and optional prefix) of the server; '' means same origin. */
  baseUrl?: string
  fetch?: FetchLike
  /** Reads the CSRF cookie; defaults to document.cookie (sb_csrf). */
  readCsrfCookie?: () => string
}

/** Name of the cookie the server sets for double-submit CSRF protection. */
export const CSRF_COOKIE = 'sb_csrf'
export const CSRF_HEADER = 'X-CSRF-Token'

/** The value of one cookie in a `document.cookie` string ('' when absent). */
export function cookieValue(cookies: string, name: string): string {
  for (const part of cookies.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    if (part.slice(0, eq).trim() === name) {
      const v = part.slice(eq + 1).trim()
      try {
        return decodeURIComponent(v)
      } catch {
        return v
      }
    }
  }
  return ''
}

function documentCsrfCookie(): string {
  return typeof document === 'undefined' ? '' : cookieValue(document.cookie, CSRF_COOKIE)
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** Requests whose 401 means "wrong credentials" or "not signed in yet", not "session ended". */
const AUTH_PATHS = ['/api/v1/auth/login', '/api/v1/auth/setup', '/api/v1/auth/status', '/api/v1/auth/me']

export interface ApiClient {
  authStatus(signal?: AbortSignal): Promise<{ needs_setup: boolean }>
  me(signal?: AbortSignal): Promise<Me>
  login(credentials: Credentials): Promise<SignedIn>
  setup(credentials: Credentials): Promise<SignedIn>
  logout(): Promise<void>
  /** Called with every 401 outside the sign-in calls (the session ended); returns an unsubscribe. */
  onUnauthorized(listener: (err: ApiError) => void): () => void
  listWorkflows(params?: ListWorkflowsParams, signal?: AbortSignal): Promise<Page<Workflow>>
  getWorkflow(id: string, signal?: AbortSignal): Promise<WorkflowDetail>
  createWorkflow(doc: WorkflowDocument, signal?: AbortSignal): Promise<Workflow>
  listRuns(params?: ListRunsParams, signal?: AbortSignal): Promise<Page<Run>>
  getRun(id: string, signal?: AbortSignal): Promise<RunDetail>
}

function query(params: Record<string, string | number | undefined>): string {
  const qs = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') qs.set(key, String(value))
  }
  const s = qs.toString()
  return s ? `?${s}` : ''
}

function seg(id: string): string {
  return encodeURIComponent(id)
}

async function problemFrom(res: Response): Promise<Problem> {
  const fallback: Problem = { title: res.statusText || `HTTP ${res.status}`, status: res.status }
  let text = ''
  try {
    text = await res.text()
  } catch {
    return fallback
  }
  if (!text) return fallback
  try {
    const body = JSON.parse(text) as Partial<Problem> & { error?: string; message?: string }
    if (body && typeof body === 'object') {
      return {
        type: body.type,
        title: body.title || body.error || body.message || fallback.title,
        status: typeof body.status === 'number' ? body.status : res.status,
        detail: body.detail,
        errors: Array.isArray(body.errors) ? body.errors : undefined,
      }
    }
  } catch {
    // Not JSON: use the start of the text as detail.
  }
  return { ...fallback, detail: text.slice(0, 300) }
}

function page<T>(raw: Partial<Page<T>> | null): Page<T> {
  return { items: raw?.items ?? [], next_cursor: raw?.next_cursor ?? '' }
}

function runDetail(raw: RunDetail): RunDetail {
  return { ...raw, trigger: raw.trigger ?? null, steps: raw.steps ?? [], deliveries: raw.deliveries ?? [] }
}

export function createApiClient(options: ApiClientOptions = {}): ApiClient {
  const base = (options.baseUrl ?? '').replace(/\/+$/, '')
  // Call through a wrapper so window.fetch is never invoked unbound ("Illegal invocation").
  const doFetch: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
  const readCookie = options.readCsrfCookie ?? documentCsrfCookie
  // The token from the last login/setup/me answer, for when the cookie cannot be read.
  let csrfToken = ''
  const unauthorizedListeners = new Set<(err: ApiError) => void>()

  async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json, application/problem+json' }
    const init: RequestInit = { method, headers, signal, credentials: 'same-origin' }
    if (!SAFE_METHODS.has(method)) {
      const token = readCookie() || csrfToken
      if (token) headers[CSRF_HEADER] = token
    }
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json'
      init.body = JSON.stringify(body)
    }
    let res: Response
    try {
      res = await doFetch(base + path, init)
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') throw err
      throw new ApiError({
        title: 'Network error',
        status: 0,
        detail: err instanceof Error ? err.message : String(err),
      })
    }
    if (!res.ok) {
      const err = new ApiError(await problemFrom(res))
      if (res.status === 401 && !AUTH_PATHS.some((p) => path.startsWith(p))) {
        for (const listener of unauthorizedListeners) listener(err)
      }
      throw err
    }
    if (res.status === 204) return undefined as T
    const text = await res.text()
    if (!text) return undefined as T
    try {
      return JSON.parse(text) as T
    } catch {
      throw new ApiError({ title: 'Invalid response', status: res.status, detail: 'The server did not send JSON.' })
    }
  }

  function remember<T extends { csrf_token?: string }>(value: T): T {
    if (value?.csrf_token) csrfToken = value.csrf_token
    return value
  }

  return {
    authStatus(signal) {
      return request<{ needs_setup: boolean }>('GET', '/api/v1/auth/status', undefined, signal)
    },
    async me(signal) {
      return remember(await request<Me>('GET', '/api/v1/auth/me', undefined, signal))
    },
    async login(credentials) {
      return remember(await request<SignedIn>('POST', '/api/v1/auth/login', credentials))
    },
    async setup(credentials) {
      return remember(await request<SignedIn>('POST', '/api/v1/auth/setup', credentials))
    },
    async logout() {
      await request<void>('POST', '/api/v1/auth/logout', {})
      csrfToken = ''
    },
    onUnauthorized(listener) {
      unauthorizedListeners.add(listener)
      return () => unauthorizedListeners.delete(listener)
    },
    async listWorkflows(params = {}, signal) {
      const raw = await request<Page<Workflow>>(
        'GET',
        `/api/v1/workflows${query({ cursor: params.cursor, limit: params.limit })}`,
        undefined,
        signal,
      )
      return page(raw)
    },
    getWorkflow(id, signal) {
      return request<WorkflowDetail>('GET', `/api/v1/workflows/${seg(id)}`, undefined, signal)
    },
    createWorkflow(doc, signal) {
      return request<Workflow>('POST', '/api/v1/workflows', doc, signal)
    },
    async listRuns(params = {}, signal) {
      const raw = await request<Page<Run>>(
        'GET',
        `/api/v1/runs${query({ workflow: params.workflow, limit: params.limit, cursor: params.cursor })}`,
        undefined,
        signal,
      )
      return page(raw)
    },
    async getRun(id, signal) {
      return runDetail(await request<RunDetail>('GET', `/api/v1/runs/${seg(id)}`, undefined, signal))
    },
  }
}

/** The client the app uses: same origin as the page. */
export const api: ApiClient = createApiClient()
