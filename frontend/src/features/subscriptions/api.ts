// Client for the event-subscription routes (/api/v1/subscriptions, /api/v1/event-types).
// It shares the app's conventions: same origin, CSRF double-submit, problem+json errors.

import { ApiError, cookieValue, CSRF_COOKIE, CSRF_HEADER, type FetchLike, type Problem, type Schemas } from '../../api.ts'

// The wire types are generated from the OpenAPI document (src/api/schema.d.ts).
export type EventType = Schemas['EventType']
/** `secret` is only in the answer that created or rotated it. */
export type Subscription = Schemas['Subscription']
export type SubscriptionInput = Schemas['SubscriptionInput']
export type Attempt = Schemas['EventAttempt']
export type EventDelivery = Schemas['EventDelivery']

export interface SubscriptionsClient {
  eventTypes(signal?: AbortSignal): Promise<EventType[]>
  list(signal?: AbortSignal): Promise<Subscription[]>
  create(input: SubscriptionInput): Promise<Subscription>
  update(id: string, input: SubscriptionInput): Promise<Subscription>
  remove(id: string): Promise<void>
  rotate(id: string, overlap: string): Promise<Subscription>
  test(id: string, eventType: string): Promise<EventDelivery>
  deliveries(id: string, signal?: AbortSignal): Promise<EventDelivery[]>
  delivery(id: string, deliveryId: string, signal?: AbortSignal): Promise<EventDelivery>
  resend(id: string, deliveryId: string): Promise<EventDelivery>
}

export function createSubscriptionsClient(fetchImpl?: FetchLike, readCookie?: () => string): SubscriptionsClient {
  const doFetch: FetchLike = fetchImpl ?? ((input, init) => globalThis.fetch(input, init))
  const cookie = readCookie ?? (() => (typeof document === 'undefined' ? '' : cookieValue(document.cookie, CSRF_COOKIE)))

  async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json, application/problem+json' }
    if (method !== 'GET') {
      const token = cookie()
      if (token) headers[CSRF_HEADER] = token
    }
    const init: RequestInit = { method, headers, signal, credentials: 'same-origin' }
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json'
      init.body = JSON.stringify(body)
    }
    let res: Response
    try {
      res = await doFetch(path, init)
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') throw err
      throw new ApiError({ title: 'Network error', status: 0, detail: err instanceof Error ? err.message : String(err) })
    }
    const text = await res.text()
    if (!res.ok) {
      let problem: Problem = { title: res.statusText || `HTTP ${res.status}`, status: res.status }
      try {
        problem = { ...problem, ...(JSON.parse(text) as Partial<Problem>) }
      } catch {
        problem.detail = text.slice(0, 300)
      }
      throw new ApiError(problem)
    }
    return (text ? JSON.parse(text) : undefined) as T
  }
  const seg = encodeURIComponent
  const base = '/api/v1/subscriptions'
  return {
    async eventTypes(signal) {
      return (await request<{ items: EventType[] }>('GET', '/api/v1/event-types', undefined, signal)).items ?? []
    },
    async list(signal) {
      return (await request<{ items: Subscription[] }>('GET', base, undefined, signal)).items ?? []
    },
    create: (input) => request('POST', base, input),
    update: (id, input) => request('PATCH', `${base}/${seg(id)}`, input),
    remove: (id) => request('DELETE', `${base}/${seg(id)}`),
    rotate: (id, overlap) => request('POST', `${base}/${seg(id)}/rotate-secret`, overlap ? { overlap } : {}),
    test: (id, eventType) => request('POST', `${base}/${seg(id)}/test`, { event_type: eventType }),
    async deliveries(id, signal) {
      return (await request<{ items: EventDelivery[] }>('GET', `${base}/${seg(id)}/deliveries`, undefined, signal)).items ?? []
    },
    delivery: (id, deliveryId, signal) => request('GET', `${base}/${seg(id)}/deliveries/${seg(deliveryId)}`, undefined, signal),
    resend: (id, deliveryId) => request('POST', `${base}/${seg(id)}/deliveries/${seg(deliveryId)}/resend`),
  }
}

/** Parses "Name: value" lines into headers; returns the first bad line as an error. */
export function parseHeaderLines(text: string): { headers: Record<string, string>; error?: string } {
  const headers: Record<string, string> = {}
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim()
    if (!line) continue
    const colon = line.indexOf(':')
    if (colon <= 0) return { headers, error: `Line ${i + 1}: write it as "Name: value".` }
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim()
  }
  return { headers }
}
