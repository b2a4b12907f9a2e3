// The app shell and its routes (react-router). Pages live in src/features/<feature>/ and
// older top-level files; a new page is one line in `pages` below plus, if it belongs in
// the header, one entry in `NAV`.

import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, type ReactNode } from 'react'
import {
  createBrowserRouter,
  Outlet,
  RouterProvider,
  useBlocker,
  useLocation,
  useMatches,
  useNavigate,
  useParams,
  type RouteObject,
} from 'react-router'
import { Logo, useSession, UserMenu } from './auth.tsx'
import { Link, Loading, NavigateContext, useNow, type NavigateFn } from './components.tsx'
import { AuditPage, KeysPage, SettingsPage, UsersPage } from './features/admin/AdminPages.tsx'
import { ConnectionsPage } from './features/connections/ConnectionsPage.tsx'
import { RunsPage } from './features/runs/RunsPage.tsx'
import { InboxPage } from './features/inbox/InboxPage.tsx'
import { RunPage } from './features/runs/RunPage.tsx'
import { SubscriptionsPage } from './features/subscriptions/SubscriptionsPage.tsx'
import { leaveQuestion, routePath } from './route.ts'
import { WorkflowRunsPage } from './WorkflowRuns.tsx'
import { WorkflowsPage } from './workflows.tsx'

// Heavy pages load when opened: the editor (React Flow, CodeMirror), the dashboard (charts).
const Editor = lazy(() => import('./editor/Editor.tsx'))
const DashboardPage = lazy(() => import('./features/dashboard/DashboardPage.tsx'))
// The connector editor (CodeMirror) too.
const ConnectorsPage = lazy(() => import('./features/admin/ConnectorsPage.tsx').then((m) => ({ default: m.ConnectorsPage })))

/** Route metadata: `wide` pages (the editor) use the whole window. */
interface Handle {
  wide?: boolean
}

/** Header navigation: label, path, and which paths count as "here". */
export const NAV: Array<{ label: string; to: string; match: (path: string) => boolean; admin?: boolean }> = [
  { label: 'Dashboard', to: '/dashboard', match: (p) => p === '/dashboard' },
  { label: 'Workflows', to: '/', match: (p) => p === '/' || p.startsWith('/workflows') },
  { label: 'Runs', to: '/runs', match: (p) => p.startsWith('/runs') },
  { label: 'Connections', to: '/connections', match: (p) => p.startsWith('/connections') },
  { label: 'Subscriptions', to: '/subscriptions', match: (p) => p.startsWith('/subscriptions') },
  { label: 'Admin', to: '/admin/users', match: (p) => p.startsWith('/admin'), admin: true },
]

function WorkflowsRoute() {
  const now = useNow(1000)
  useTitle('Workflows')
  return <WorkflowsPage now={now} />
}

function EditorRoute() {
  const { workflowId } = useParams()
  const now = useNow(1000)
  return (
    <Suspense fallback={<Loading what="the editor" />}>
      <Editor key={workflowId ?? 'new'} workflowId={workflowId ?? null} now={now} />
    </Suspense>
  )
}

function WorkflowRunsRoute() {
  const { workflowId, runId } = useParams()
  const now = useNow(1000)
  return <WorkflowRunsPage workflowId={workflowId!} runId={runId ?? null} now={now} />
}

function RunRoute() {
  const { runId } = useParams()
  return <RunPage key={runId} runId={runId!} />
}

function InboxRoute() {
  const { workflowId } = useParams()
  return <InboxPage workflowId={workflowId!} />
}

function SubscriptionsRoute() {
  const now = useNow(1000)
  return <SubscriptionsPage now={now} />
}

function DashboardRoute() {
  return (
    <Suspense fallback={<Loading what="the dashboard" />}>
      <DashboardPage />
    </Suspense>
  )
}

function NotFound() {
  useTitle('Not found')
  return (
    <div className="empty">
      <h1 className="empty__title">Nothing here</h1>
      <p>
        This address is not a page of Switchboard. <Link to="/">Go to the workflows</Link>.
      </p>
    </div>
  )
}

/** The pages, relative to the shell. */
export const pages: RouteObject[] = [
  { index: true, element: <WorkflowsRoute /> },
  { path: 'workflows', element: <WorkflowsRoute /> },
  { path: 'dashboard', element: <DashboardRoute /> },
  { path: 'runs', element: <RunsPage /> },
  { path: 'runs/:runId', element: <RunRoute /> },
  { path: 'workflows/new', element: <EditorRoute />, handle: { wide: true } satisfies Handle },
  { path: 'workflows/:workflowId', element: <EditorRoute />, handle: { wide: true } satisfies Handle },
  { path: 'workflows/:workflowId/runs', element: <WorkflowRunsRoute /> },
  { path: 'workflows/:workflowId/inbox', element: <InboxRoute /> },
  { path: 'workflows/:workflowId/runs/:runId', element: <WorkflowRunsRoute /> },
  { path: 'subscriptions', element: <SubscriptionsRoute /> },
  { path: 'connections', element: <ConnectionsPage /> },
  { path: 'admin', element: <UsersPage /> },
  { path: 'admin/users', element: <UsersPage /> },
  { path: 'admin/keys', element: <KeysPage /> },
  { path: 'admin/audit', element: <AuditPage /> },
  {
    path: 'admin/connectors',
    element: (
      <Suspense fallback={<Loading what="connectors" />}>
        <ConnectorsPage />
      </Suspense>
    ),
  },
  { path: 'admin/settings', element: <SettingsPage /> },
  { path: '*', element: <NotFound /> },
]

/** Sets the document title ("… · Switchboard"). */
export function useTitle(title: string) {
  useEffect(() => {
    document.title = `${title} · Switchboard`
  }, [title])
}

function Shell() {
  const location = useLocation()
  const matches = useMatches()
  const wide = matches.some((m) => (m.handle as Handle | undefined)?.wide)
  const routerNavigate = useNavigate()
  const session = useSession()
  const skipGuard = useRef(false)

  // Leaving a page with unsaved changes asks first (links, Back, the address bar's history).
  const blocker = useBlocker(
    useCallback(
      ({ currentLocation, nextLocation }: { currentLocation: { pathname: string }; nextLocation: { pathname: string } }) => {
        if (skipGuard.current) {
          skipGuard.current = false
          return false
        }
        return currentLocation.pathname !== nextLocation.pathname && leaveQuestion() !== null
      },
      [],
    ),
  )
  useEffect(() => {
    if (blocker.state !== 'blocked') return
    const question = leaveQuestion()
    if (!question || window.confirm(question)) blocker.proceed()
    else blocker.reset()
  }, [blocker])

  const navigate = useMemo<NavigateFn>(
    () => (to, opts = {}) => {
      if (opts.force) skipGuard.current = true
      void routerNavigate(routePath(to), { replace: opts.replace })
    },
    [routerNavigate],
  )

  return (
    <NavigateContext.Provider value={navigate}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <Link to="/" className="brand">
          <Logo />
          <span className="brand__name">Switchboard</span>
        </Link>
        <nav aria-label="Main" className="app-nav">
          {NAV.filter((item) => !item.admin || session.me.role === 'admin').map((item) => (
            <Link key={item.to} to={item.to} current={item.match(location.pathname)}>
              {item.label}
            </Link>
          ))}
        </nav>
        <span className="app-header__spacer" />
        <UserMenu />
      </header>
      <main id="main" className={wide ? 'app-main app-main--editor' : 'app-main'}>
        <Outlet />
      </main>
    </NavigateContext.Provider>
  )
}

export function createAppRouter(extra: { basename?: string } = {}) {
  return createBrowserRouter([{ path: '/', element: <Shell />, children: pages }], extra)
}

export default function App(): ReactNode {
  const router = useMemo(() => createAppRouter(), [])
  return <RouterProvider router={router} />
}
