// A tiny path router: `/`, `/workflows/{id}`, `/workflows/{id}/runs/{runId}`.
// The Go server answers every non-API path with index.html, so deep links work.

import { useCallback, useEffect, useState } from 'react'

export interface Route {
  workflowId: string | null
  runId: string | null
}

export const HOME: Route = { workflowId: null, runId: null }

export function parseRoute(pathname: string): Route {
  const parts = pathname.split('/').filter(Boolean).map(safeDecode)
  if (parts[0] !== 'workflows' || !parts[1]) return HOME
  if (parts[2] === 'runs' && parts[3]) return { workflowId: parts[1], runId: parts[3] }
  return { workflowId: parts[1], runId: null }
}

export function routePath(route: Route): string {
  if (!route.workflowId) return '/'
  const wf = `/workflows/${encodeURIComponent(route.workflowId)}`
  return route.runId ? `${wf}/runs/${encodeURIComponent(route.runId)}` : wf
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/** Current route plus a navigate function that pushes browser history. */
export function useRoute(): [Route, (next: Route) => void] {
  const [route, setRoute] = useState<Route>(() => parseRoute(window.location.pathname))

  useEffect(() => {
    const onPop = () => setRoute(parseRoute(window.location.pathname))
    window.addEventListener('popstate', onPop)
    return () => window.removeEventListener('popstate', onPop)
  }, [])

  const navigate = useCallback((next: Route) => {
    const path = routePath(next)
    if (path !== window.location.pathname) window.history.pushState(null, '', path)
    setRoute(next)
  }, [])

  return [route, navigate]
}

/** True for a plain left click (no modifier), which the app handles in-page. */
export function isPlainClick(e: { button: number; metaKey: boolean; ctrlKey: boolean; shiftKey: boolean; altKey: boolean }): boolean {
  return e.button === 0 && !e.metaKey && !e.ctrlKey && !e.shiftKey && !e.altKey
}
