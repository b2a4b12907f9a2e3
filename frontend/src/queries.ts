// React Query hooks over the API client. Lists refresh on their own, faster while
// something is still in flight.

import { QueryClient, useInfiniteQuery, useQuery } from '@tanstack/react-query'
import { ApiError, type Page, type Run } from './api.ts'
import { useApi } from './apiContext.ts'
import { isFinalRunState } from './format.ts'

export const WORKFLOW_PAGE_SIZE = 50
export const RUNS_LIMIT = 20

const ACTIVE_POLL_MS = 1500
const IDLE_POLL_MS = 10_000

export const queryKeys = {
  workflows: ['workflows'] as const,
  runs: (workflowId: string) => ['runs', workflowId] as const,
  run: (runId: string) => ['run', runId] as const,
}

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 2_000,
        // A 4xx will not get better by asking again.
        retry: (failures, error) =>
          !(error instanceof ApiError && error.status >= 400 && error.status < 500) && failures < 2,
      },
      mutations: {
        retry: false,
      },
    },
  })
}

export function useWorkflows() {
  const api = useApi()
  return useInfiniteQuery({
    queryKey: queryKeys.workflows,
    queryFn: ({ pageParam, signal }) => api.listWorkflows({ cursor: pageParam, limit: WORKFLOW_PAGE_SIZE }, signal),
    initialPageParam: '',
    getNextPageParam: (last) => last.next_cursor || undefined,
    refetchInterval: IDLE_POLL_MS,
  })
}

/** Poll interval for a list of runs: fast while any run is not final. */
export function runsPollInterval(page: Page<Run> | undefined): number {
  return page?.items.some((r) => !isFinalRunState(r.state)) ? ACTIVE_POLL_MS : IDLE_POLL_MS / 2
}

export function useRuns(workflowId: string) {
  const api = useApi()
  return useQuery({
    queryKey: queryKeys.runs(workflowId),
    queryFn: ({ signal }) => api.listRuns({ workflow: workflowId, limit: RUNS_LIMIT }, signal),
    refetchInterval: (q) => runsPollInterval(q.state.data),
  })
}

export function useRun(runId: string) {
  const api = useApi()
  return useQuery({
    queryKey: queryKeys.run(runId),
    queryFn: ({ signal }) => api.getRun(runId, signal),
    refetchInterval: (q) => (q.state.data && isFinalRunState(q.state.data.state) ? false : ACTIVE_POLL_MS),
  })
}

export const SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000

export interface WorkflowStats {
  last: Run | null
  /** Succeeded / (succeeded + failed) over 7 days, or null without finished runs. */
  successRate: number | null
  runs7d: number
}

/** Success rate of runs over the last 7 days (filtered and canceled runs do not count). */
export function successRate(runs: Run[]): number | null {
  const ok = runs.filter((r) => r.state === 'succeeded').length
  const failed = runs.filter((r) => r.state === 'failed').length
  return ok + failed === 0 ? null : ok / (ok + failed)
}

export function useWorkflowStats(workflowId: string) {
  const api = useApi()
  return useQuery({
    queryKey: ['workflow-stats', workflowId],
    queryFn: async ({ signal }): Promise<WorkflowStats> => {
      const since = new Date(Date.now() - SEVEN_DAYS_MS).toISOString()
      const [recent, week] = await Promise.all([
        api.listRuns({ workflow: workflowId, limit: 1 }, signal),
        api.listRuns({ workflow: workflowId, limit: 200, since }, signal),
      ])
      return { last: recent.items[0] ?? null, successRate: successRate(week.items), runs7d: week.items.length }
    },
    refetchInterval: IDLE_POLL_MS,
  })
}

export function useConnectors() {
  const api = useApi()
  return useQuery({
    queryKey: ['connectors'],
    queryFn: ({ signal }) => api.listConnectors(signal),
    staleTime: 5 * 60_000,
  })
}

export function useConnections() {
  const api = useApi()
  return useQuery({
    queryKey: ['connections'],
    queryFn: ({ signal }) => api.listConnections(signal),
    staleTime: 30_000,
  })
}
