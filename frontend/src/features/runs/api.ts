// Calls of the runs console (list across workflows, count, one run, replay, cancel).

import type { ApiClient, Page, RunDetail, RunState, Schemas } from '../../api.ts'

export interface RunFilters {
  workflow?: string
  state?: RunState | ''
  trigger?: string
  /** RFC 3339: runs created at or after. */
  since?: string
  /** RFC 3339: runs created before. */
  until?: string
  /** Text to find in the trigger input. */
  q?: string
}

// The wire types are generated from the contract (src/api/schema.d.ts); absent lists read as empty.
export type ConsoleRun = Schemas['Run']
export type RunLink = Schemas['RunLink']
export type DeliveryAttempt = Schemas['Delivery']

export type ConsoleRunDetail = Omit<RunDetail, 'deliveries' | 'replays'> & {
  replays: RunLink[]
  deliveries: DeliveryAttempt[]
}

/** The console always says where a replay starts and on which version. */
export type ReplayOptions = Required<Schemas['ReplayOptions']>

/** The filters as the generated query type of GET /runs and /runs/count ('' leaves one out). */
function runsQuery(f: RunFilters) {
  return {
    workflow: f.workflow || undefined,
    state: f.state || undefined,
    trigger: f.trigger || undefined,
    since: f.since || undefined,
    until: f.until || undefined,
    q: f.q || undefined,
  }
}

export async function listRuns(
  api: ApiClient,
  f: RunFilters,
  page: { cursor?: string; limit?: number } = {},
  signal?: AbortSignal,
): Promise<Page<ConsoleRun>> {
  const raw = await api.op('GET', '/api/v1/runs', { query: { ...runsQuery(f), cursor: page.cursor || undefined, limit: page.limit }, signal })
  return { items: raw?.items ?? [], next_cursor: raw?.next_cursor ?? '' }
}

export function countRuns(api: ApiClient, f: RunFilters, signal?: AbortSignal): Promise<Schemas['RunCount']> {
  return api.op('GET', '/api/v1/runs/count', { query: runsQuery(f), signal })
}

export async function getRun(api: ApiClient, id: string, signal?: AbortSignal): Promise<ConsoleRunDetail> {
  const raw = await api.op('GET', '/api/v1/runs/{id}', { path: { id }, signal })
  return {
    ...raw,
    trigger: raw.trigger ?? null,
    steps: raw.steps ?? [],
    deliveries: (raw.deliveries ?? []) as DeliveryAttempt[],
    replays: raw.replays ?? [],
  }
}

export function replayRun(api: ApiClient, id: string, o: ReplayOptions): Promise<ConsoleRun> {
  return api.op('POST', '/api/v1/runs/{id}/replay', { path: { id }, body: o })
}

export function cancelRun(api: ApiClient, id: string): Promise<ConsoleRun> {
  return api.op('POST', '/api/v1/runs/{id}/cancel', { path: { id } })
}

/** Every run id a filter selects right now (newest first), page by page, up to `max`. */
export async function collectRunIds(api: ApiClient, f: RunFilters, max: number, signal?: AbortSignal): Promise<string[]> {
  const ids: string[] = []
  let cursor = ''
  do {
    const page = await listRuns(api, f, { cursor, limit: 200 }, signal)
    for (const r of page.items) if (ids.length < max) ids.push(r.id)
    cursor = page.next_cursor
  } while (cursor && ids.length < max)
  return ids
}

export interface BulkProgress {
  done: number
  total: number
  failed: Array<{ id: string; error: string }>
}

/**
 * Applies `action` to every id, a few at a time, reporting progress after each one. A failure
 * of one run is recorded and the rest go on.
 */
export async function runBulk(
  ids: string[],
  action: (id: string) => Promise<unknown>,
  onProgress: (p: BulkProgress) => void,
  concurrency = 4,
): Promise<BulkProgress> {
  const p: BulkProgress = { done: 0, total: ids.length, failed: [] }
  let next = 0
  async function worker() {
    while (next < ids.length) {
      const id = ids[next++]
      try {
        await action(id)
      } catch (err) {
        p.failed.push({ id, error: err instanceof Error ? err.message : String(err) })
      }
      p.done++
      onProgress({ ...p, failed: [...p.failed] })
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker))
  return p
}
