// Typed client for the Switchboard HTTP API (/api/v1, JSON with snake_case fields).
// Errors come back as application/problem+json (RFC 9457) and are thrown as ApiError.

import type { components, paths } from './api/schema.d.ts'

// The wire types are generated from the server's OpenAPI document (src/api/schema.d.ts, by
// `npm run gen:api`); this file only names them and adds what the client itself makes.
export type Schemas = components['schemas']

export const RUN_STATES = [
  'queued',
  'running',
  'waiting',
  'succeeded',
  'failed',
  'filtered',
  'canceled',
] as const satisfies readonly Schemas['Run']['state'][]

export type RunState = Schemas['Run']['state']

/** Step-run states; `running` is what the UI shows while a step is in flight. */
export type StepState = Schemas['StepRun']['state'] | 'running'

/** RFC 3339 timestamp as sent by the server. */
export type Timestamp = string

export type Workflow = Schemas['Workflow']
/** The `switchboard/v1` workflow document. */
export type WorkflowDocument = Schemas['WorkflowDocument']
export type TriggerDoc = Schemas['WorkflowTrigger']
export type RetryDoc = Schemas['WorkflowRetry']
export type PathDoc = Schemas['WorkflowPath']
/** One node of the step tree; which fields apply depends on `type`. */
export type StepDoc = Schemas['WorkflowStep']
/** One workflow as the single-workflow routes answer it: always with its document. */
export type WorkflowDetail = Schemas['WorkflowDetail']

/** A page of a list, with an absent list read as empty. */
export type Page<T> = Omit<Schemas['WorkflowPage'], 'items'> & { items: T[] }

export type Run = Schemas['Run']
export type TriggerInput = NonNullable<Schemas['TriggerInput']>
export type StepRun = Schemas['StepRun']
export type Delivery = Schemas['Delivery']
/** A run with its records; absent lists read as empty. */
export type RunDetail = Omit<Schemas['RunDetail'], 'steps' | 'deliveries' | 'trigger'> & {
  trigger: TriggerInput | null
  steps: StepRun[]
  deliveries: Delivery[]
}
export type FieldError = Schemas['FieldError']
/** A problem document; the client makes ones without `type` for network failures. */
export type Problem = Omit<Schemas['Problem'], 'type'> & { type?: string }

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

type Query<P extends keyof paths> = paths[P] extends { get: { parameters: { query?: infer Q } } } ? Q : never

export type ListWorkflowsParams = NonNullable<Query<'/api/v1/workflows'>>
export type ListRunsParams = NonNullable<Query<'/api/v1/runs'>>

export type FieldSpec = Schemas['FieldSpec']
export type ActionSpec = Schemas['ActionSpec']
export type ConnectorSpec = Schemas['ConnectorSpec']
export type Connection = Schemas['Connection']
export type NewConnection = Schemas['ConnectionInput']
export type Sample = Schemas['Sample']
export type VersionInfo = Schemas['Version']
export type EvaluateRequest = Schemas['EvaluateRequest']
export type Evaluated = Schemas['Evaluated']
export type ScheduleInfo = Schemas['ScheduleInfo']
export type ScheduleDescription = Schemas['ScheduleDescription']
export type InboxItem = Schemas['InboxItem']
export type TestPayload = Schemas['TestPayload']
export type StepTestAnswer = Schemas['StepTestResult']

export interface Editable {
  workflow: WorkflowDetail
  /** The ETag to send as If-Match when saving. */
  etag: string
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>

export type Role = Schemas['User']['role']
export type User = Schemas['User']
/** GET /api/v1/auth/me: who the requests act as (a signed-in user or an API key). */
export type Me = Schemas['Me']
export type SignedIn = Schemas['SignedIn']
export type Credentials = Schemas['Credentials']

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
  /** Any API call by path (JSON in and out, CSRF and problem+json handled); console features use it for routes typed locally. */
  request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T>
  authStatus(signal?: AbortSignal): Promise<Schemas['AuthStatus']>
  me(signal?: AbortSignal): Promise<Me>
  login(credentials: Credentials): Promise<SignedIn>
  setup(credentials: Credentials): Promise<SignedIn>
  logout(): Promise<void>
  /** Called with every 401 outside the sign-in calls (the session ended); returns an unsubscribe. */
  onUnauthorized(listener: (err: ApiError) => void): () => void
  listWorkflows(params?: ListWorkflowsParams, signal?: AbortSignal): Promise<Page<Workflow>>
  getWorkflow(id: string, signal?: AbortSignal): Promise<WorkflowDetail>
  /** `webhookToken`: the token of the URL shown before the first save (drafts.ts). */
  createWorkflow(doc: WorkflowDocument, options?: { active?: boolean; webhookToken?: string }): Promise<WorkflowDetail>
  listRuns(params?: ListRunsParams, signal?: AbortSignal): Promise<Page<Run>>
  getRun(id: string, signal?: AbortSignal): Promise<RunDetail>

  /** A workflow with the ETag to save it with. */
  getEditable(id: string, signal?: AbortSignal): Promise<Editable>
  /** Saves a new version; 412 when someone else saved since `etag`. */
  updateWorkflow(id: string, doc: WorkflowDocument, etag: string): Promise<Editable>
  validateWorkflow(doc: WorkflowDocument, signal?: AbortSignal): Promise<Schemas['Valid']>
  setActive(id: string, active: boolean): Promise<Workflow>
  deleteWorkflow(id: string): Promise<void>
  duplicateWorkflow(id: string): Promise<Workflow>
  importWorkflow(doc: WorkflowDocument): Promise<Workflow>
  exportUrl(id: string): string
  listVersions(id: string, signal?: AbortSignal): Promise<VersionInfo[]>
  getVersion(id: string, version: number, signal?: AbortSignal): Promise<VersionInfo>
  restoreVersion(id: string, version: number): Promise<Editable>
  testWorkflow(id: string, payload?: TestPayload): Promise<Run>
  getSample(id: string, signal?: AbortSignal): Promise<Sample>
  listInbox(id: string, signal?: AbortSignal): Promise<Page<InboxItem>>
  scheduleInfo(id: string, signal?: AbortSignal): Promise<ScheduleInfo>
  /** A spec in words with its next fire times, as the server will run it; 422 names the bad parameter. */
  describeSchedule(cron: string, timezone: string, signal?: AbortSignal): Promise<ScheduleDescription>
  listConnectors(signal?: AbortSignal): Promise<ConnectorSpec[]>
  listConnections(signal?: AbortSignal): Promise<Connection[]>
  createConnection(conn: NewConnection): Promise<Connection>
  /** Checks a connection's credentials with the service (501 when the connector cannot). */
  testConnection(id: string): Promise<Schemas['ConnectionTestResult']>
  evaluate(req: EvaluateRequest, signal?: AbortSignal): Promise<Evaluated>
  /** Run one action step alone with sample data (POST /api/v1/steps/test). */
  testStep(step: StepDoc, data: Record<string, unknown>): Promise<StepTestAnswer>
  /** Any operation of the OpenAPI document, typed from it: path and query parameters, body and answer. */
  op<P extends Path, M extends Method>(method: M, template: P, c?: OpCall<P, M>): Promise<OpAnswer<P, M>>
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
type Path = keyof paths
/** The generated description of one operation (never when the path has no such method). */
type Operation<P extends Path, M extends Method> = Lowercase<M> extends keyof paths[P] ? paths[P][Lowercase<M>] : never
type JsonContent<R> = R extends { content: { 'application/json': infer B } } ? B : undefined
/** The body of the operation's success answer (undefined for 204). */
type Answer<O> = O extends { responses: infer R } ? JsonContent<R[Extract<keyof R, 200 | 201 | 202 | 204>]> : never
type Body<O> = O extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never
type Params<O, In extends 'path' | 'query'> = O extends { parameters: { [K in In]?: infer X } } ? X : never

/** A call of one operation of the OpenAPI document: what the compiler checks against it. */
type Call<O> = {
  path?: Params<O, 'path'>
  query?: Params<O, 'query'>
  body?: Body<O>
  /** A body that is a file, not JSON (a connector upload): sent as is with its type. */
  raw?: { type: string; data: string | Blob }
  signal?: AbortSignal
  headers?: Record<string, string>
}

/** The generated description of an operation, for pages that call it through `op`. */
export type Op<P extends Path, M extends Method> = Operation<P, M>
export type OpCall<P extends Path, M extends Method> = Call<Operation<P, M>>
export type OpAnswer<P extends Path, M extends Method> = Answer<Operation<P, M>>

function query(params: Record<string, string | number | undefined> | undefined): string {
  const qs = new URLSearchParams()
  for (const [key, value] of Object.entries(params ?? {})) {
    if (value !== undefined && value !== '') qs.set(key, String(value))
  }
  const s = qs.toString()
  return s ? `?${s}` : ''
}

/** Fills a path template (`/api/v1/workflows/{id}`) with escaped parameters. */
function fill(template: string, params: Record<string, string | number> | undefined): string {
  return template.replace(/\{([a-z_]+)\}/g, (_, name: string) => {
    const v = params?.[name]
    if (v === undefined) throw new Error(`missing path parameter ${name} for ${template}`)
    return encodeURIComponent(String(v))
  })
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

function page<T>(raw: { items?: T[] | null; next_cursor?: string } | null | undefined): Page<T> {
  return { items: raw?.items ?? [], next_cursor: raw?.next_cursor ?? '' }
}

function versionEtag(version: number): string {
  return `"v${version}"`
}

function runDetail(raw: Schemas['RunDetail']): RunDetail {
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

  /** Calls one operation of the OpenAPI document; its types come from the generated `paths`. */
  async function call<P extends Path, M extends Method>(
    method: M,
    template: P,
    c: Call<Operation<P, M>> = {},
  ): Promise<{ data: Answer<Operation<P, M>>; headers: Headers | null }> {
    const path =
      fill(template, c.path as Record<string, string | number> | undefined) +
      query(c.query as Record<string, string | number | undefined> | undefined)
    const headers: Record<string, string> = { Accept: 'application/json, application/problem+json', ...c.headers }
    const init: RequestInit = { method, headers, signal: c.signal, credentials: 'same-origin' }
    if (!SAFE_METHODS.has(method)) {
      const token = readCookie() || csrfToken
      if (token) headers[CSRF_HEADER] = token
    }
    if (c.body !== undefined) {
      headers['Content-Type'] = 'application/json'
      init.body = JSON.stringify(c.body)
    } else if (c.raw) {
      headers['Content-Type'] = c.raw.type
      init.body = c.raw.data
    }
    type A = Answer<Operation<P, M>>
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
    if (res.status === 204) return { data: undefined as A, headers: resHeaders }
    const text = await res.text()
    if (!text) return { data: undefined as A, headers: resHeaders }
    try {
      return { data: JSON.parse(text) as A, headers: resHeaders }
    } catch {
      throw new ApiError({ title: 'Invalid response', status: res.status, detail: 'The server did not send JSON.' })
    }
  }

  async function request<P extends Path, M extends Method>(
    method: M,
    template: P,
    c: Call<Operation<P, M>> = {},
  ): Promise<Answer<Operation<P, M>>> {
    return (await call(method, template, c)).data
  }

  function remember<T extends { csrf_token?: string | null }>(value: T): T {
    if (value?.csrf_token) csrfToken = value.csrf_token
    return value
  }

  function editable(data: WorkflowDetail, headers: Headers | null): Editable {
    return { workflow: data, etag: headers?.get('ETag') || versionEtag(data.version) }
  }

  return {
    request: async <T,>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> =>
      (await call(method as Method, path as Path, { body, signal } as never)).data as T,
    authStatus(signal) {
      return request('GET', '/api/v1/auth/status', { signal })
    },
    async me(signal) {
      return remember(await request('GET', '/api/v1/auth/me', { signal }))
    },
    async login(credentials) {
      return remember(await request('POST', '/api/v1/auth/login', { body: credentials }))
    },
    async setup(credentials) {
      return remember(await request('POST', '/api/v1/auth/setup', { body: credentials }))
    },
    async logout() {
      await request('POST', '/api/v1/auth/logout')
      csrfToken = ''
    },
    onUnauthorized(listener) {
      unauthorizedListeners.add(listener)
      return () => unauthorizedListeners.delete(listener)
    },
    async listWorkflows(params = {}, signal) {
      const raw = await request('GET', '/api/v1/workflows', {
        query: { cursor: params.cursor, limit: params.limit },
        signal,
      })
      return page(raw)
    },
    async getWorkflow(id, signal) {
      return request('GET', '/api/v1/workflows/{id}', { path: { id }, signal })
    },
    async createWorkflow(doc, options = {}) {
      const q = {
        ...(options.active === false ? { active: 'false' as const } : {}),
        ...(options.webhookToken ? { webhook_token: options.webhookToken } : {}),
      }
      return request('POST', '/api/v1/workflows', { query: Object.keys(q).length ? q : undefined, body: doc })
    },
    async listRuns(params = {}, signal) {
      const raw = await request('GET', '/api/v1/runs', {
        query: {
          workflow: params.workflow,
          limit: params.limit,
          cursor: params.cursor,
          state: params.state,
          since: params.since,
        },
        signal,
      })
      return page(raw)
    },
    async getRun(id, signal) {
      return runDetail(await request('GET', '/api/v1/runs/{id}', { path: { id }, signal }))
    },
    async getEditable(id, signal) {
      const { data, headers } = await call('GET', '/api/v1/workflows/{id}', { path: { id }, signal })
      return editable(data, headers)
    },
    async updateWorkflow(id, doc, etag) {
      const { data, headers } = await call('PUT', '/api/v1/workflows/{id}', {
        path: { id },
        body: doc,
        headers: { 'If-Match': etag },
      })
      return editable(data, headers)
    },
    validateWorkflow(doc, signal) {
      return request('POST', '/api/v1/workflows/validate', { body: doc, signal })
    },
    setActive(id, active) {
      return active
        ? request('POST', '/api/v1/workflows/{id}/activate', { path: { id } })
        : request('POST', '/api/v1/workflows/{id}/deactivate', { path: { id } })
    },
    async deleteWorkflow(id) {
      await request('DELETE', '/api/v1/workflows/{id}', { path: { id } })
    },
    duplicateWorkflow(id) {
      return request('POST', '/api/v1/workflows/{id}/duplicate', { path: { id } })
    },
    importWorkflow(doc) {
      return request('POST', '/api/v1/workflows/import', { body: doc })
    },
    exportUrl(id) {
      return base + fill('/api/v1/workflows/{id}/export' satisfies Path, { id })
    },
    async listVersions(id, signal) {
      const raw = await request('GET', '/api/v1/workflows/{id}/versions', { path: { id }, signal })
      return raw?.items ?? []
    },
    getVersion(id, version, signal) {
      return request('GET', '/api/v1/workflows/{id}/versions/{version}', { path: { id, version: String(version) }, signal })
    },
    async restoreVersion(id, version) {
      const { data, headers } = await call('POST', '/api/v1/workflows/{id}/versions/{version}/restore', {
        path: { id, version: String(version) },
      })
      return editable(data, headers)
    },
    testWorkflow(id, payload) {
      return request('POST', '/api/v1/workflows/{id}/test', { path: { id }, body: payload ?? {} })
    },
    async getSample(id, signal) {
      const raw = await request('GET', '/api/v1/workflows/{id}/sample', { path: { id }, signal })
      return { sample: raw?.sample ?? null, captured_at: raw?.captured_at ?? null }
    },
    async listInbox(id, signal) {
      return page(await request('GET', '/api/v1/workflows/{id}/inbox', { path: { id }, signal }))
    },
    scheduleInfo(id, signal) {
      return request('GET', '/api/v1/workflows/{id}/schedule', { path: { id }, signal })
    },
    describeSchedule(cron, timezone, signal) {
      return request('GET', '/api/v1/schedules/describe', { query: { cron, timezone: timezone || undefined }, signal })
    },
    async listConnectors(signal) {
      const raw = await request('GET', '/api/v1/connectors', { signal })
      return raw?.items ?? []
    },
    async listConnections(signal) {
      const raw = await request('GET', '/api/v1/connections', { signal })
      return raw?.items ?? []
    },
    createConnection(conn) {
      return request('POST', '/api/v1/connections', { body: conn })
    },
    testConnection(id) {
      return request('POST', '/api/v1/connections/{id}/test', { path: { id } })
    },
    evaluate(req, signal) {
      return request('POST', '/api/v1/expressions/evaluate', { body: req, signal })
    },
    testStep(step, data) {
      return request('POST', '/api/v1/steps/test', { body: { step, data } })
    },
    op(method, template, c) {
      return request(method, template, c)
    },
  }
}

/** The client the app uses: same origin as the page. */
export const api: ApiClient = createApiClient()
