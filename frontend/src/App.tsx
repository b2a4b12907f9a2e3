import { useEffect, useRef } from 'react'
import { Logo, UserMenu } from './auth.tsx'
import type { Workflow } from './api.ts'
import { ErrorNotice, Link, Loading, NavigateContext, useNow } from './components.tsx'
import { useRun, useRuns, useWorkflows } from './queries.ts'
import { HOME, useRoute } from './route.ts'
import { EmptyRuns, EmptyWorkflows, RunDetailView, RunTable, WorkflowTable } from './views.tsx'

export default function App() {
  const [route, navigate] = useRoute()
  const now = useNow(1000)
  const workflows = useWorkflows()
  const items = workflows.data?.pages.flatMap((p) => p.items) ?? []
  const selected = route.workflowId ? items.find((w) => w.id === route.workflowId) : undefined

  useEffect(() => {
    document.title = selected ? `${selected.name} · Switchboard` : 'Switchboard'
  }, [selected])

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
        <span className="app-header__tag">Workflow automation</span>
        <span className="app-header__spacer" />
        <UserMenu />
      </header>

      <main id="main" className="app-main">
        <section className="panel" aria-labelledby="workflows-title">
          <div className="panel__head">
            <h1 id="workflows-title">Workflows</h1>
            {workflows.isFetching && !workflows.isPending ? (
              <span className="muted small" aria-hidden="true">
                refreshing…
              </span>
            ) : null}
          </div>
          {workflows.isPending ? (
            <Loading what="workflows" />
          ) : workflows.isError && items.length === 0 ? (
            <ErrorNotice error={workflows.error} what="workflows" onRetry={() => void workflows.refetch()} />
          ) : items.length === 0 ? (
            <EmptyWorkflows />
          ) : (
            <>
              <WorkflowTable workflows={items} selectedId={route.workflowId} now={now} />
              {workflows.hasNextPage ? (
                <button
                  type="button"
                  className="btn load-more"
                  onClick={() => void workflows.fetchNextPage()}
                  disabled={workflows.isFetchingNextPage}
                >
                  {workflows.isFetchingNextPage ? 'Loading…' : 'Load more workflows'}
                </button>
              ) : null}
            </>
          )}
        </section>

        {route.workflowId ? (
          <div className="split">
            <RunsPanel
              key={route.workflowId}
              workflowId={route.workflowId}
              workflow={selected}
              selectedRunId={route.runId}
              now={now}
            />
            {route.runId ? (
              <RunPanel key={route.runId} runId={route.runId} now={now} />
            ) : (
              <section className="panel panel--placeholder" aria-label="Run detail">
                <p className="muted">Select a run to see its steps and deliveries.</p>
              </section>
            )}
          </div>
        ) : null}
      </main>
    </NavigateContext.Provider>
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
  const ref = useScrollIntoViewOnMount<HTMLElement>()
  const items = runs.data?.items ?? []
  return (
    <section className="panel" aria-labelledby="runs-title" ref={ref}>
      <div className="panel__head">
        <h2 id="runs-title">
          Recent runs
          {workflow ? <span className="panel__sub"> · {workflow.name}</span> : null}
        </h2>
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
