// Presentational views: data in, markup out (no fetching), so they render in unit tests.

import { useContext, type MouseEvent, type ReactNode } from 'react'
import type { Delivery, Run, RunDetail, StepRun, Workflow } from './api.ts'
import {
  Empty,
  HttpStatusBadge,
  JsonBlock,
  Link,
  MetaList,
  NavigateContext,
  RelativeTime,
  StateBadge,
  TableHead,
} from './components.tsx'
import { deliveryKindLabel, elapsedMs, formatDateTime, formatDuration, prettyBody, shortId } from './format.ts'
import { runsRoute, type Route } from './route.ts'
import { RunError } from './features/runs/RunError.tsx'

/** Whole-row click for mouse users; the link in the first cell stays the accessible target. */
function useRowClick(to: Route) {
  const navigate = useContext(NavigateContext)
  return (e: MouseEvent<HTMLTableRowElement>) => {
    const target = e.target as HTMLElement
    if (target.closest('a, button, input, select, textarea, summary, pre')) return
    if (window.getSelection()?.toString()) return // let people select text
    navigate(to)
  }
}

// ---- runs -------------------------------------------------------------------

export function EmptyRuns({ workflow }: { workflow?: Workflow }) {
  return (
    <Empty title="No runs yet" small>
      {workflow?.webhook_url ? (
        <>
          <p>Send an event to the webhook to start one:</p>
          <pre className="command">
            <code>{`curl -X POST -H 'Content-Type: application/json' -d '{}' ${workflow.webhook_url}`}</code>
          </pre>
        </>
      ) : (
        <p>Runs appear here when the trigger fires.</p>
      )}
    </Empty>
  )
}

export function RunTable({
  runs,
  workflowId,
  selectedRunId,
  now,
}: {
  runs: Run[]
  workflowId: string
  selectedRunId: string | null
  now: number
}) {
  return (
    <div className="table-wrap">
      <table className="table table--compact" aria-label="Recent runs">
        <TableHead columns={['Run', 'State', 'Started', { label: 'Duration', num: true }, 'Error']} />
        <tbody>
          {runs.map((run) => (
            <RunRow key={run.id} run={run} workflowId={workflowId} selected={run.id === selectedRunId} now={now} />
          ))}
        </tbody>
      </table>
    </div>
  )
}

function RunRow({ run, workflowId, selected, now }: { run: Run; workflowId: string; selected: boolean; now: number }) {
  const to: Route = runsRoute(workflowId, run.id)
  const onClick = useRowClick(to)
  const ms = elapsedMs(run.started_at, run.finished_at, now)
  return (
    <tr className={selected ? 'is-selected clickable' : 'clickable'} data-run-id={run.id} onClick={onClick}>
      <th scope="row">
        <Link to={to} current={selected} className="row-link mono" aria-label={`Run ${shortId(run.id)}, ${run.state}`}>
          {shortId(run.id)}
        </Link>
      </th>
      <td>
        <StateBadge state={run.state} />
      </td>
      <td>
        {run.started_at ? <RelativeTime value={run.started_at} now={now} /> : <span className="muted">not started</span>}
      </td>
      <td className="num">{ms === null ? <span className="muted">—</span> : formatDuration(ms)}</td>
      <td className="error-cell">{run.error ? <RunError message={run.error} /> : <span className="muted">—</span>}</td>
    </tr>
  )
}

// ---- run detail -------------------------------------------------------------

export function RunDetailView({ run, now }: { run: RunDetail; now: number }) {
  const ms = elapsedMs(run.started_at, run.finished_at, now)
  return (
    <article className="run-detail" aria-labelledby="run-title" data-run-id={run.id}>
      <header className="run-detail__head">
        <h3 id="run-title">
          Run <code className="mono">{run.id}</code>
        </h3>
        <StateBadge state={run.state} />
      </header>

      <MetaList
        items={[
          ['Version', `v${run.version}`],
          ['Created', formatDateTime(run.created_at)],
          ['Started', formatDateTime(run.started_at)],
          ['Finished', formatDateTime(run.finished_at)],
          ['Duration', formatDuration(ms)],
        ]}
      />

      {run.error ? (
        <div className="notice notice--error">
          <strong>Error:</strong> <span className="pre-wrap">{run.error}</span>
        </div>
      ) : null}

      {run.trigger ? (
        <details className="trigger">
          <summary>
            Trigger input
            {run.trigger.method ? <span className="muted"> · {run.trigger.method}</span> : null}
            {run.trigger.received_at ? (
              <span className="muted"> · received {formatDateTime(run.trigger.received_at)}</span>
            ) : null}
          </summary>
          <div className="io-grid">
            <div>
              <h5>Body</h5>
              <JsonBlock value={run.trigger.body} label="Trigger body" />
            </div>
            <div>
              <h5>Headers</h5>
              <JsonBlock value={run.trigger.headers ?? {}} label="Trigger headers" />
              {run.trigger.query && Object.keys(run.trigger.query).length ? (
                <>
                  <h5>Query</h5>
                  <JsonBlock value={run.trigger.query} label="Trigger query" />
                </>
              ) : null}
            </div>
          </div>
        </details>
      ) : null}

      <CountedSection id="steps-title" title="Steps" count={run.steps.length} none="No steps recorded yet.">
        <ol className="steps">
          {run.steps.map((step, i) => (
            <StepItem key={`${step.step_id}-${i}`} step={step} />
          ))}
        </ol>
      </CountedSection>

      <CountedSection id="deliveries-title" title="Deliveries" count={run.deliveries.length} none="No outbound HTTP calls.">
        <DeliveryTable deliveries={run.deliveries} />
      </CountedSection>
    </article>
  )
}

// CountedSection is a titled list of a run's records with their number, or a line saying there are none.
function CountedSection({
  id,
  title,
  count,
  none,
  children,
}: {
  id: string
  title: string
  count: number
  none: string
  children: ReactNode
}) {
  return (
    <section aria-labelledby={id}>
      <h4 id={id}>
        {title} <span className="count">{count}</span>
      </h4>
      {count === 0 ? <p className="muted">{none}</p> : children}
    </section>
  )
}

function StepItem({ step }: { step: StepRun }) {
  const ms = elapsedMs(step.started_at, step.finished_at)
  return (
    <li className="step" data-step-id={step.step_id} data-state={step.state}>
      <div className="step__head">
        <code className="step__id">{step.step_id}</code>
        <StateBadge state={step.state} />
        <span className="muted small">
          {step.attempts > 1 ? `${step.attempts} attempts · ` : ''}
          {ms === null ? '' : formatDuration(ms)}
        </span>
      </div>
      {step.error ? (
        <div className="notice notice--error">
          <span className="pre-wrap">{step.error}</span>
        </div>
      ) : null}
      <div className="io-grid">
        <div>
          <h5>Input</h5>
          <JsonBlock value={step.input} label={`Input of step ${step.step_id}`} />
        </div>
        <div>
          <h5>Output</h5>
          <JsonBlock value={step.output} label={`Output of step ${step.step_id}`} />
        </div>
      </div>
    </li>
  )
}

export function DeliveryTable({ deliveries }: { deliveries: Delivery[] }) {
  return (
    <div className="table-wrap">
      <table className="table table--compact deliveries" aria-label="Deliveries">
        <TableHead columns={['Step', { label: 'Attempt', num: true }, 'Request', 'Status', { label: 'Latency', num: true }]} />
        {deliveries.map((d, i) => (
          <tbody key={`${d.step_id}-${d.attempt}-${i}`} data-step-id={d.step_id}>
            <tr className={d.error || d.response_body ? 'has-sub' : undefined}>
              <td>
                <code>{d.step_id}</code>
              </td>
              <td className="num">{d.attempt}</td>
              <td className="request-cell">
                <span className="method">{d.method}</span>{' '}
                <code className="url" title={d.url}>
                  {d.url}
                </code>
              </td>
              <td>
                <HttpStatusBadge status={d.status} />
                {d.error_kind ? (
                  <span className="muted" data-testid="delivery-kind" title="by the connector retry rules">
                    {' '}
                    {deliveryKindLabel[d.error_kind]}
                  </span>
                ) : null}
              </td>
              <td className="num">{d.latency_ms} ms</td>
            </tr>
            {d.error || d.response_body ? (
              <tr className="sub-row">
                <td colSpan={5}>
                  {d.error ? <div className="text-danger pre-wrap">{d.error}</div> : null}
                  {d.response_body ? (
                    <details>
                      <summary>Response body ({d.response_body.length} bytes)</summary>
                      <pre className="json">{prettyBody(d.response_body)}</pre>
                    </details>
                  ) : null}
                </td>
              </tr>
            ) : null}
          </tbody>
        ))}
      </table>
    </div>
  )
}
