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
  /** Webhook only: requests here are kept as sample data and start no run. */
  test_url?: string
  /** Only set for form triggers. */
  form_url?: string
  created_at: Timestamp
  updated_at: Timestamp
}

/** The `switchboard/v1` workflow document (only the parts the UI reads are typed). */
export interface WorkflowDocument {
  schema: string
  name: string
  trigger: TriggerDoc
  steps: StepDoc[]
  [key: string]: unknown
}

export interface TriggerDoc {
  type: string
  webhook?: Record<string, unknown>
  schedule?: { cron: string; timezone?: string; misfire?: string }
  form?: Record<string, unknown>
  [key: string]: unknown
}

export interface RetryDoc {
  max_attempts: number
  backoff?: string
  initial?: string
  max?: string
}

export interface PathDoc {
  name: string
  if?: string
  steps: StepDoc[]
}

/** One node of the step tree; which fields apply depends on `type`. */
export interface StepDoc {
  id: string
  type: string
  name?: string
  if?: string
  fields?: Record<string, unknown>
  mode?: string
  paths?: PathDoc[]
  items?: string
  concurrency?: number
  steps?: StepDoc[]
  for?: string
  until?: string
  action?: string
  connection?: string
  input?: Record<string, unknown>
  retry?: RetryDoc
  timeout?: string
  on_error?: string
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
  trigger_type?: string
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
  /** Set for steps inside a for_each: which item. */
  item_key?: string
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
  state?: string
  /** RFC 3339: runs created at or after. */
  since?: string
}

export interface FieldSpec {
  key: string
  label: string
  type: 'string' | 'text' | 'number' | 'boolean' | 'select' | 'object' | 'list' | 'any' | string
  required?: boolean
  help?: string
  default?: unknown
  options?: Array<{ value: string; label: string }>
  secret?: boolean
}

export interface ActionSpec {
  id: string
  name: string
  description?: string
  input: FieldSpec[]
  sample_output?: unknown
}

export interface ConnectorSpec {
  id: string
  name: string
  description?: string
  icon?: string
  version?: string
  auth: { kind: string; fields?: FieldSpec[]; optional?: boolean }
  actions: ActionSpec[]
}

export interface Connection {
  id: string
  name: string
  connector: string
  fields: Record<string, unknown>
  secret_set?: Record<string, boolean>
  created_at: Timestamp
  updated_at: Timestamp
}

export interface NewConnection {
  name: string
  connector: string
  fields: Record<string, unknown>
}

export interface Sample {
  sample: TriggerInput | null
  captured_at: Timestamp | null
}

export interface VersionInfo {
  version: number
  created_at: Timestamp
  document?: WorkflowDocument
}

export type EvaluateRequest = ({ template: string } | { expression: string }) & { data?: Record<string, unknown> }

export interface Evaluated {
  value: unknown
  type: string
}

/** A cron spec in words (from the server's one describer) and its next five fire times. */
export interface ScheduleWords {
  cron: string
  timezone: string
  description: string
  next: Timestamp[]
}

export interface ScheduleInfo extends ScheduleWords {
  misfire: string
  active: boolean
}

export interface InboxItem {
  id: string
  received_at: Timestamp
  method: string
  path: string
  headers: Record<string, unknown>
  query: Record<string, unknown>
  body: string
  body_size: number
  source_ip: string
  verdict: string
  reason: string
  run_id: string | null
}

export interface Editable {
  workflow: WorkflowDetail
  /** The ETag to send as If-Match when saving. */
  etag: string
}

export interface TestPayload {
  body?: unknown
  headers?: Record<string, string>
  query?: Record<string, string>
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
  createWorkflow(doc: WorkflowDocument, options?: { active?: boolean }): Promise<WorkflowDetail>
  listRuns(params?: ListRunsParams, signal?: AbortSignal): Promise<Page<Run>>
  getRun(id: string, signal?: AbortSignal): Promise<RunDetail>

  /** A workflow with the ETag to save it with. */
  getEditable(id: string, signal?: AbortSignal): Promise<Editable>
  /** Saves a new version; 412 when someone else saved since `etag`. */
  updateWorkflow(id: string, doc: WorkflowDocument, etag: string): Promise<Editable>
  validateWorkflow(doc: WorkflowDocument, signal?: AbortSignal): Promise<{ valid: boolean }>
  setActive(id: string, active: boolean): Promise<Workflow>
  deleteWorkflow(id: string): Promise<void>
  duplicateWorkflow(id: string): Promise<Workflow>
  importWorkflow(doc: unknown): Promise<Workflow>
  exportUrl(id: string): string
  listVersions(id: string, signal?: AbortSignal): Promise<VersionInfo[]>
  getVersion(id: string, version: number, signal?: AbortSignal): Promise<VersionInfo>
  restoreVersion(id: string, version: number): Promise<Editable>
  testWorkflow(id: string, payload?: TestPayload): Promise<Run>
  getSample(id: string, signal?: AbortSignal): Promise<Sample>
  listInbox(id: string, signal?: AbortSignal): Promise<Page<InboxItem>>
  scheduleInfo(id: string, signal?: AbortSignal): Promise<ScheduleInfo>
  describeSchedule(cron: string, timezone: string | undefined, signal?: AbortSignal): Promise<ScheduleWords>
  listConnectors(signal?: AbortSignal): Promise<ConnectorSpec[]>
  listConnections(signal?: AbortSignal): Promise<Connection[]>
  createConnection(conn: NewConnection): Promise<Connection>
  /** Checks a connection's credentials with the service (501 when the connector cannot). */
  testConnection(id: string): Promise<{ ok: boolean; error?: string }>
  evaluate(req: EvaluateRequest, signal?: AbortSignal): Promise<Evaluated>
  /** Run one action step alone with sample data (POST /api/v1/steps/test). */
  testStep(step: StepDoc, data: Record<string, unknown>): Promise<StepTestAnswer>
}

export interface StepTestAnswer {
  ok: boolean
  output?: unknown
  error?: { kind: string; message: string }
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

function versionEtag(version: number): string {
  return `"v${version}"`
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
    return (await send<T>(method, path, body, signal)).data
  }

  async function send<T>(
    method: string,
    path: string,
    body?: unknown,
    signal?: AbortSignal,
    extraHeaders: Record<string, string> = {},
  ): Promise<{ data: T; headers: Headers | null }> {
    const headers: Record<string, string> = { Accept: 'application/json, application/problem+json', ...extraHeaders }
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
    const resHeaders = res.headers ?? null
    if (res.status === 204) return { data: undefined as T, headers: resHeaders }
    const text = await res.text()
    if (!text) return { data: undefined as T, headers: resHeaders }
    try {
      return { data: JSON.parse(text) as T, headers: resHeaders }
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
    createWorkflow(doc, options = {}) {
      const q = options.active === false ? '?active=false' : ''
      return request<WorkflowDetail>('POST', `/api/v1/workflows${q}`, doc)
    },
    async listRuns(params = {}, signal) {
      const raw = await request<Page<Run>>(
        'GET',
        `/api/v1/runs${query({
          workflow: params.workflow,
          limit: params.limit,
          cursor: params.cursor,
          state: params.state,
          since: params.since,
        })}`,
        undefined,
        signal,
      )
      return page(raw)
    },
    async getRun(id, signal) {
      return runDetail(await request<RunDetail>('GET', `/api/v1/runs/${seg(id)}`, undefined, signal))
    },
    async getEditable(id, signal) {
      const { data, headers } = await send<WorkflowDetail>('GET', `/api/v1/workflows/${seg(id)}`, undefined, signal)
      return { workflow: data, etag: headers?.get('ETag') || versionEtag(data.version) }
    },
    async updateWorkflow(id, doc, etag) {
      const { data, headers } = await send<WorkflowDetail>('PUT', `/api/v1/workflows/${seg(id)}`, doc, undefined, {
        'If-Match': etag,
      })
      return { workflow: data, etag: headers?.get('ETag') || versionEtag(data.version) }
    },
    validateWorkflow(doc, signal) {
      return request<{ valid: boolean }>('POST', '/api/v1/workflows/validate', doc, signal)
    },
    setActive(id, active) {
      return request<Workflow>('POST', `/api/v1/workflows/${seg(id)}/${active ? 'activate' : 'deactivate'}`, {})
    },
    async deleteWorkflow(id) {
      await request<void>('DELETE', `/api/v1/workflows/${seg(id)}`)
    },
    duplicateWorkflow(id) {
      return request<Workflow>('POST', `/api/v1/workflows/${seg(id)}/duplicate`, {})
    },
    importWorkflow(doc) {
      return request<Workflow>('POST', '/api/v1/workflows/import', doc)
    },
    exportUrl(id) {
      return `${base}/api/v1/workflows/${seg(id)}/export`
    },
    async listVersions(id, signal) {
      const raw = await request<Page<VersionInfo>>('GET', `/api/v1/workflows/${seg(id)}/versions`, undefined, signal)
      return raw?.items ?? []
    },
    getVersion(id, version, signal) {
      return request<VersionInfo>('GET', `/api/v1/workflows/${seg(id)}/versions/${version}`, undefined, signal)
    },
    async restoreVersion(id, version) {
      const { data, headers } = await send<WorkflowDetail>(
        'POST',
        `/api/v1/workflows/${seg(id)}/versions/${version}/restore`,
        {},
      )
      return { workflow: data, etag: headers?.get('ETag') || versionEtag(data.version) }
    },
    testWorkflow(id, payload) {
      return request<Run>('POST', `/api/v1/workflows/${seg(id)}/test`, payload ?? {})
    },
    async getSample(id, signal) {
      const raw = await request<Sample>('GET', `/api/v1/workflows/${seg(id)}/sample`, undefined, signal)
      return { sample: raw?.sample ?? null, captured_at: raw?.captured_at ?? null }
    },
    async listInbox(id, signal) {
      return page(await request<Page<InboxItem>>('GET', `/api/v1/workflows/${seg(id)}/inbox`, undefined, signal))
    },
    scheduleInfo(id, signal) {
      return request<ScheduleInfo>('GET', `/api/v1/workflows/${seg(id)}/schedule`, undefined, signal)
    },
    describeSchedule(cron, timezone, signal) {
      const q = new URLSearchParams({ cron })
      if (timezone) q.set('timezone', timezone)
      return request<ScheduleWords>('GET', `/api/v1/schedules/describe?${q}`, undefined, signal)
    },
    async listConnectors(signal) {
      const raw = await request<{ items: ConnectorSpec[] }>('GET', '/api/v1/connectors', undefined, signal)
      return raw?.items ?? []
    },
    async listConnections(signal) {
      const raw = await request<Page<Connection>>('GET', '/api/v1/connections', undefined, signal)
      return raw?.items ?? []
    },
    createConnection(conn) {
      return request<Connection>('POST', '/api/v1/connections', conn)
    },
    testConnection(id) {
      return request<{ ok: boolean; error?: string }>('POST', `/api/v1/connections/${seg(id)}/test`, {})
    },
    evaluate(req, signal) {
      return request<Evaluated>('POST', '/api/v1/expressions/evaluate', req, signal)
    },
    testStep(step, data) {
      return request<StepTestAnswer>('POST', '/api/v1/steps/test', { step, data })
    },
  }
}

/** The client the app uses: same origin as the page. */
export const api: ApiClient = createApiClient()
