// The runs of one workflow beside one run's detail (/workflows/{id}/runs[/{runId}]).

import { useEffect, useRef } from 'react'
import type { Workflow } from './api.ts'
import { Link, ListResult, QueryResult } from './components.tsx'
import { useRun, useRuns, useWorkflows } from './queries.ts'
import { editorRoute, HOME, runRoute } from './route.ts'
import { EmptyRuns, RunDetailView, RunTable } from './views.tsx'

export function WorkflowRunsPage({ workflowId, runId, now }: { workflowId: string; runId: string | null; now: number }) {
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
      {workflow?.webhook_url ? (
        <p className="small">
          <Link to={`/workflows/${encodeURIComponent(workflowId)}/inbox`}>Webhook inbox</Link>: every request the webhook got, with its verdict
        </p>
      ) : null}
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
      <ListResult query={runs} what="runs" count={items.length} empty={<EmptyRuns workflow={workflow} />}>
        <RunTable runs={items} workflowId={workflowId} selectedRunId={selectedRunId} now={now} />
      </ListResult>
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
        <Link to={runRoute(runId)}>Open the run page (timeline, replay)</Link>
      </div>
      <QueryResult query={run} what="this run" loading="run">
        {(data) => <RunDetailView run={data} now={now} />}
      </QueryResult>
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

