// A tiny path router:
//   /                               workflows
//   /workflows/new                  editor of a new (unsaved) workflow
//   /workflows/{id}                 editor
//   /workflows/{id}/runs            runs of a workflow
//   /workflows/{id}/runs/{runId}    one run
//   /subscriptions                  event subscriptions (admin)
// The Go server answers every non-API path with index.html, so deep links work.

import { useCallback, useEffect, useRef, useState } from 'react'

export type Page = 'workflows' | 'editor' | 'new' | 'runs' | 'subscriptions'

export interface Route {
  page: Page
  workflowId: string | null
  runId: string | null
}

export const HOME: Route = { page: 'workflows', workflowId: null, runId: null }
export const NEW_WORKFLOW: Route = { page: 'new', workflowId: null, runId: null }
export const SUBSCRIPTIONS: Route = { page: 'subscriptions', workflowId: null, runId: null }

export function editorRoute(workflowId: string): Route {
  return { page: 'editor', workflowId, runId: null }
}

export function runsRoute(workflowId: string, runId: string | null = null): Route {
  return { page: 'runs', workflowId, runId }
}

export function parseRoute(pathname: string): Route {
  const parts = pathname.split('/').filter(Boolean).map(safeDecode)
  if (parts[0] === 'subscriptions' && parts.length === 1) return SUBSCRIPTIONS
  if (parts[0] !== 'workflows' || !parts[1]) return HOME
  if (parts[1] === 'new' && parts.length === 2) return NEW_WORKFLOW
  if (parts[2] === 'runs') return runsRoute(parts[1], parts[3] || null)
  return editorRoute(parts[1])
}

export function routePath(route: Route): string {
  switch (route.page) {
    case 'workflows':
      return '/'
    case 'new':
      return '/workflows/new'
    case 'subscriptions':
      return '/subscriptions'
    case 'editor':
      return route.workflowId ? `/workflows/${encodeURIComponent(route.workflowId)}` : '/'
    case 'runs': {
      if (!route.workflowId) return '/'
      const base = `/workflows/${encodeURIComponent(route.workflowId)}/runs`
      return route.runId ? `${base}/${encodeURIComponent(route.runId)}` : base
    }
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

// ---- leaving with unsaved changes ------------------------------------------------------

type Guard = () => string | null
let guard: Guard | null = null

/**
 * While set, navigating away asks first: the guard returns a question (unsaved changes) or
 * null (nothing to lose). Returns a function that removes it.
 */
export function setNavigationGuard(g: Guard): () => void {
  guard = g
  return () => {
    if (guard === g) guard = null
  }
}

/** True when navigation may go ahead (nothing to lose, or the user agreed). */
export function confirmLeave(): boolean {
  const question = guard?.()
  if (!question) return true
  return window.confirm(question)
}

/** Current route plus a navigate function that pushes browser history. */
export function useRoute(): [Route, (next: Route, opts?: { replace?: boolean; force?: boolean }) => void] {
  const [route, setRoute] = useState<Route>(() => parseRoute(window.location.pathname))
  const current = useRef(window.location.pathname)

  useEffect(() => {
    const onPop = () => {
      if (!confirmLeave()) {
        // Stay: put the page we are on back on top.
        window.history.pushState(null, '', current.current)
        return
      }
      current.current = window.location.pathname
      setRoute(parseRoute(window.location.pathname))
    }
    window.addEventListener('popstate', onPop)
    return () => window.removeEventListener('popstate', onPop)
  }, [])

  const navigate = useCallback((next: Route, opts: { replace?: boolean; force?: boolean } = {}) => {
    const path = routePath(next)
    if (path !== window.location.pathname) {
      if (!opts.force && !confirmLeave()) return
      if (opts.replace) window.history.replaceState(null, '', path)
      else window.history.pushState(null, '', path)
    }
    current.current = path
    setRoute(next)
  }, [])

  return [route, navigate]
}

/** True for a plain left click (no modifier), which the app handles in-page. */
export function isPlainClick(e: { button: number; metaKey: boolean; ctrlKey: boolean; shiftKey: boolean; altKey: boolean }): boolean {
  return e.button === 0 && !e.metaKey && !e.ctrlKey && !e.shiftKey && !e.altKey
}
