// Route values for in-app links. The router itself is react-router (src/router.tsx); these
// helpers name the pages so links and tests do not spell paths by hand:
//   /                               workflows
//   /dashboard                      home dashboard
//   /runs[?filters]                 runs across all workflows
//   /runs/{runId}                   one run
//   /workflows/new                  editor of a new (unsaved) workflow
//   /workflows/{id}                 editor
//   /workflows/{id}/runs            runs of a workflow
//   /workflows/{id}/runs/{runId}    one run, beside its workflow's runs
//   /workflows/{id}/inbox           the webhook's inbox (string path, no Route value)
//   /subscriptions                  event subscriptions (admin)
// The Go server answers every non-API path with index.html, so deep links work.

export type Page = 'workflows' | 'editor' | 'new' | 'runs' | 'dashboard' | 'allRuns' | 'run' | 'subscriptions'

export interface Route {
  page: Page
  workflowId: string | null
  runId: string | null
}

export const HOME: Route = { page: 'workflows', workflowId: null, runId: null }
export const NEW_WORKFLOW: Route = { page: 'new', workflowId: null, runId: null }
export const DASHBOARD: Route = { page: 'dashboard', workflowId: null, runId: null }
export const SUBSCRIPTIONS: Route = { page: 'subscriptions', workflowId: null, runId: null }
export const ALL_RUNS: Route = { page: 'allRuns', workflowId: null, runId: null }

export function editorRoute(workflowId: string): Route {
  return { page: 'editor', workflowId, runId: null }
}

export function runsRoute(workflowId: string, runId: string | null = null): Route {
  return { page: 'runs', workflowId, runId }
}

export function runRoute(runId: string): Route {
  return { page: 'run', workflowId: null, runId }
}

export function parseRoute(pathname: string): Route {
  const parts = pathname.split('/').filter(Boolean).map(safeDecode)
  if (parts[0] === 'dashboard' && parts.length === 1) return DASHBOARD
  if (parts[0] === 'subscriptions' && parts.length === 1) return SUBSCRIPTIONS
  if (parts[0] === 'runs') return parts[1] ? runRoute(parts[1]) : ALL_RUNS
  if (parts[0] !== 'workflows' || !parts[1]) return HOME
  if (parts[1] === 'new' && parts.length === 2) return NEW_WORKFLOW
  if (parts[2] === 'runs') return runsRoute(parts[1], parts[3] || null)
  return editorRoute(parts[1])
}

export function routePath(route: Route | string): string {
  if (typeof route === 'string') return route
  switch (route.page) {
    case 'workflows':
      return '/'
    case 'dashboard':
      return '/dashboard'
    case 'subscriptions':
      return '/subscriptions'
    case 'allRuns':
      return '/runs'
    case 'run':
      return route.runId ? `/runs/${encodeURIComponent(route.runId)}` : '/runs'
    case 'new':
      return '/workflows/new'
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

/** The question to ask before leaving, or null when there is nothing to lose. */
export function leaveQuestion(): string | null {
  return guard?.() ?? null
}

/** True when navigation may go ahead (nothing to lose, or the user agreed). */
export function confirmLeave(): boolean {
  const question = guard?.()
  if (!question) return true
  return window.confirm(question)
}

/** True for a plain left click (no modifier), which the app handles in-page. */
export function isPlainClick(e: { button: number; metaKey: boolean; ctrlKey: boolean; shiftKey: boolean; altKey: boolean }): boolean {
  return e.button === 0 && !e.metaKey && !e.ctrlKey && !e.shiftKey && !e.altKey
}
