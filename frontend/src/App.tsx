import { lazy, Suspense, useEffect, useRef } from 'react'
import type { Workflow } from './api.ts'
import { Logo, UserMenu } from './auth.tsx'
import { ErrorNotice, Link, Loading, NavigateContext, useNow } from './components.tsx'
import { useRun, useRuns, useWorkflows } from './queries.ts'
import { SubscriptionsPage } from './features/subscriptions/SubscriptionsPage.tsx'
import { editorRoute, HOME, SUBSCRIPTIONS, useRoute } from './route.ts'
import { EmptyRuns, RunDetailView, RunTable } from './views.tsx'
import { WorkflowsPage } from './workflows.tsx'

// The editor (React Flow, CodeMirror) loads only when a workflow is opened.
const Editor = lazy(() => import('./editor/Editor.tsx'))

export default function App() {
  const [route, navigate] = useRoute()
  const now = useNow(1000)
  const isEditor = route.page === 'editor' || route.page === 'new'

  useEffect(() => {
    if (route.page === 'workflows') document.title = 'Workflows · Switchboard'
  }, [route.page])

  return (
    <NavigateContext.Provider value={navigate}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <Link to={HOME} className="brand">
          <Logo />
          <span className="brand__name">Switchboard</span>
        </Link>
        <nav aria-label="Main" className="app-nav">
          <Link to={HOME} current={route.page === 'workflows'}>
            Workflows
          </Link>
          <Link to={SUBSCRIPTIONS} current={route.page === 'subscriptions'}>
            Subscriptions
          </Link>
        </nav>
        <span className="app-header__spacer" />
        <UserMenu />
      </header>

      {isEditor ? (
        <main id="main" className="app-main app-main--editor">
          <Suspense fallback={<Loading what="the editor" />}>
            <Editor key={route.workflowId ?? 'new'} workflowId={route.workflowId} now={now} />
          </Suspense>
        </main>
      ) : route.page === 'subscriptions' ? (
        <main id="main" className="app-main">
          <SubscriptionsPage now={now} />
        </main>
      ) : route.page === 'runs' && route.workflowId ? (
        <main id="main" className="app-main">
          <RunsPage workflowId={route.workflowId} runId={route.runId} now={now} />
        </main>
      ) : (
        <main id="main" className="app-main">
          <WorkflowsPage now={now} />
        </main>
      )}
    </NavigateContext.Provider>
  )
}

function RunsPage({ workflowId, runId, now }: { workflowId: string; runId: string | null; now: number }) {
  const workflows = useWorkflows()
  const workflow = workflows.data?.pages.flatMap((p) => p.items).find((w) => w.id === workflowId)
  useEffect(() => {
    document.title = `${workflow ? `Runs of ${workflow.name}` : 'Runs'} · Switchboard`
  }, [workflow])
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to={HOME}>Workflows</Link> <span aria-hidden="true">›</span>{' '}
        <Link to={editorRoute(workflowId)}>{workflow?.name ?? 'Workflow'}</Link> <span aria-hidden="true">›</span>{' '}
        <span aria-current="page">Runs</span>
      </nav>
      <div className="split">
        <RunsPanel workflowId={workflowId} workflow={workflow} selectedRunId={runId} now={now} />
        {runId ? (
          <RunPanel key={runId} runId={runId} now={now} />
        ) : (
          <section className="panel panel--placeholder" aria-label="Run detail">
            <p className="muted">Select a run to see its steps and deliveries.</p>
          </section>
        )}
      </div>
    </>
  )
}

function RunsPanel({
  workflowId,
  workflow,
  selectedRunId,
  now,
}: {
  workflowId: string
  workflow: Workflow | undefined
  selectedRunId: string | null
  now: number
}) {
  const runs = useRuns(workflowId)
  const items = runs.data?.items ?? []
  return (
    <section className="panel" aria-labelledby="runs-title">
      <div className="panel__head">
        <h1 id="runs-title" className="h2">
          Recent runs
          {workflow ? <span className="panel__sub"> · {workflow.name}</span> : null}
        </h1>
      </div>
      {runs.isPending ? (
        <Loading what="runs" />
      ) : runs.isError && items.length === 0 ? (
        <ErrorNotice error={runs.error} what="runs" onRetry={() => void runs.refetch()} />
      ) : items.length === 0 ? (
        <EmptyRuns workflow={workflow} />
      ) : (
        <RunTable runs={items} workflowId={workflowId} selectedRunId={selectedRunId} now={now} />
      )}
    </section>
  )
}

function RunPanel({ runId, now }: { runId: string; now: number }) {
  const run = useRun(runId)
  const ref = useScrollIntoViewOnMount<HTMLElement>()
  return (
    <section className="panel" aria-labelledby="run-detail-title" ref={ref}>
      <div className="panel__head">
        <h2 id="run-detail-title">Run detail</h2>
      </div>
      {run.isPending ? (
        <Loading what="run" />
      ) : run.isError && !run.data ? (
        <ErrorNotice error={run.error} what="this run" onRetry={() => void run.refetch()} />
      ) : run.data ? (
        <RunDetailView run={run.data} now={now} />
      ) : null}
    </section>
  )
}

/** Brings a panel into view when it appears (after a click further up the page). */
function useScrollIntoViewOnMount<T extends HTMLElement>() {
  const ref = useRef<T>(null)
  useEffect(() => {
    const el = ref.current
    if (!el || typeof el.scrollIntoView !== 'function') return
    const rect = el.getBoundingClientRect()
    if (rect.top > window.innerHeight - 80) el.scrollIntoView({ block: 'nearest', behavior: 'smooth' })
  }, [])
  return ref
}

