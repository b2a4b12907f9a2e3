// One run (/runs/{runId}): what happened, on a timeline, with every step's data, every
// delivery attempt, the error in words, and replay / cancel.

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useContext, useEffect, useState } from 'react'
import { useApi } from '../../apiContext.ts'
import { useCanEdit } from '../../auth.tsx'
import {
  ConfirmButton,
  HeaderTable,
  HttpStatusBadge,
  Link,
  MetaList,
  NavigateContext,
  QueryResult,
  RelativeTime,
  StateBadge,
  useNow,
} from '../../components.tsx'
import { deliveryKindLabel, elapsedMs, formatDateTime, formatDuration, isFinalRunState, prettyBody, shortId } from '../../format.ts'
import { editorRoute, runRoute } from '../../route.ts'
import { cancelRun, getRun, replayRun, type ConsoleRunDetail, type DeliveryAttempt, type ReplayOptions } from './api.ts'
import { explainError } from './errors.ts'
import { JsonTree } from './JsonTree.tsx'
import { buildTimeline, withOriginalAttempts, type TimelineRow } from './timeline.ts'

export const runQueryKey = (id: string) => ['console-run', id] as const

export function useConsoleRun(runId: string) {
  const api = useApi()
  return useQuery({
    queryKey: runQueryKey(runId),
    queryFn: ({ signal }) => getRun(api, runId, signal),
    // Keep polling while the run, or a replay of it, is still going.
    refetchInterval: (q) =>
      q.state.data && isFinalRunState(q.state.data.state) && q.state.data.replays.every((r) => isFinalRunState(r.state)) ? false : 1500,
  })
}

export function RunPage({ runId }: { runId: string }) {
  const run = useConsoleRun(runId)
  const now = useNow(1000)
  useEffect(() => {
    document.title = `Run ${shortId(runId)}${run.data?.workflow_name ? ` of ${run.data.workflow_name}` : ''} · Switchboard`
  }, [runId, run.data?.workflow_name])
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to="/runs">Runs</Link> <span aria-hidden="true">›</span>{' '}
        {run.data ? (
          <>
            <Link to={`/runs?workflow=${encodeURIComponent(run.data.workflow_id)}`}>{run.data.workflow_name || 'Workflow'}</Link>{' '}
            <span aria-hidden="true">›</span>{' '}
          </>
        ) : null}
        <span aria-current="page">Run {shortId(runId)}</span>
      </nav>
      <QueryResult query={run} what="this run" loading="the run">
        {(data) => <RunView run={data} now={now} />}
      </QueryResult>
    </>
  )
}

export function RunView({ run, now }: { run: ConsoleRunDetail; now: number }) {
  const ms = elapsedMs(run.started_at, run.finished_at, now)
  const words = explainError(run.error)
  return (
    <article className="run-page" aria-labelledby="run-title" data-run-id={run.id} data-state={run.state}>
      <header className="run-page__head">
        <h1 id="run-title" className="h2">
          Run <code className="mono">{shortId(run.id)}</code>
          {run.workflow_name ? <span className="panel__sub"> of {run.workflow_name}</span> : null}
        </h1>
        <StateBadge state={run.state} />
        <span className="app-header__spacer" />
        <RunActions run={run} />
      </header>

      <MetaList
        items={[
          [
            'Workflow',
            <>
              <Link to={editorRoute(run.workflow_id)}>{run.workflow_name || shortId(run.workflow_id)}</Link> · v{run.version}
            </>,
          ],
          ['Trigger', run.trigger_type || '—'],
          ['Created', formatDateTime(run.created_at)],
          ['Duration', formatDuration(ms)],
          ['Attempts', run.attempt],
        ]}
      />

      {run.replay_of || run.replays.length ? (
        <div className="run-links" data-testid="run-links">
          {run.replay_of ? (
            <p>
              Replay of <Link to={runRoute(run.replay_of)}>run {shortId(run.replay_of)}</Link>
            </p>
          ) : null}
          {run.replays.length ? (
            <div>
              Replayed as{' '}
              <ul className="inline-list">
                {run.replays.map((r) => (
                  <li key={r.id}>
                    <Link to={runRoute(r.id)}>run {shortId(r.id)}</Link> <StateBadge state={r.state} />
                  </li>
                ))}
              </ul>
            </div>
          ) : null}
        </div>
      ) : null}

      {run.error ? (
        <div className="notice notice--error" data-testid="run-error">
          {words ? <p className="error-summary">{words.summary}</p> : null}
          <p className="pre-wrap">
            <strong>Error:</strong> {run.error}
          </p>
          {words?.hint ? <p>{words.hint}</p> : null}
        </div>
      ) : null}
      {run.next_attempt_at && !isFinalRunState(run.state) ? (
        <p className="notice notice--info" data-testid="next-attempt">
          Next attempt <RelativeTime value={run.next_attempt_at} now={now} /> (at {formatDateTime(run.next_attempt_at)}).
        </p>
      ) : null}

      <Timeline run={run} now={now} />

      {run.trigger ? (
        <section aria-labelledby="trigger-title" className="run-section">
          <h2 id="trigger-title" className="h3">
            Trigger input
          </h2>
          <JsonTree value={run.trigger} path="trigger" label="Trigger input" />
        </section>
      ) : null}

      <section aria-labelledby="steps-title" className="run-section">
        <h2 id="steps-title" className="h3">
          Steps <span className="count">{run.steps.length}</span>
        </h2>
        {run.steps.length === 0 ? <p className="muted">No steps recorded yet.</p> : null}
        {run.steps.map((s) => {
          const deliveries = run.deliveries.filter((d) => d.step_id === s.step_id && (d.item_key ?? '') === (s.item_key ?? ''))
          const stepWords = explainError(s.error)
          return (
            <details
              key={`${s.step_id}/${s.item_key ?? ''}`}
              className="step-card"
              data-step-id={s.step_id}
              data-state={s.state}
              open={s.state === 'failed' || run.steps.length <= 3}
            >
              <summary>
                <code className="step__id">{s.step_id}</code>
                {s.item_key ? <span className="muted"> item {s.item_key}</span> : null} <StateBadge state={s.state} />
                <span className="muted small">
                  {' '}
                  {s.attempts > 1 ? `${s.attempts} attempts · ` : ''}
                  {formatDuration(elapsedMs(s.started_at, s.finished_at, now))}
                </span>
              </summary>
              {s.error ? (
                <div className="notice notice--error">
                  {stepWords ? <p className="error-summary">{stepWords.summary}</p> : null}
                  <p className="pre-wrap">{s.error}</p>
                  {stepWords?.hint ? <p>{stepWords.hint}</p> : null}
                </div>
              ) : null}
              <div className="io-grid">
                <div>
                  <h3 className="h5">Input</h3>
                  <JsonTree value={s.input} path="" label={`Input of step ${s.step_id}`} />
                </div>
                <div>
                  <h3 className="h5">Output</h3>
                  <JsonTree value={s.output} path={`steps.${s.step_id}`} label={`Output of step ${s.step_id}`} />
                </div>
              </div>
              {deliveries.length ? (
                <div>
                  <h3 className="h5">
                    Deliveries <span className="count">{deliveries.length}</span>
                  </h3>
                  <ol className="deliveries-list">
                    {deliveries.map((d) => (
                      <DeliveryItem key={d.id} d={d} />
                    ))}
                  </ol>
                  {s.state === 'waiting' && run.next_attempt_at ? (
                    <p className="muted small">Next retry {formatDateTime(run.next_attempt_at)}.</p>
                  ) : null}
                </div>
              ) : null}
            </details>
          )
        })}
      </section>
    </article>
  )
}


export function DeliveryItem({ d }: { d: DeliveryAttempt }) {
  const words = explainError(d.error, d.status)
  return (
    <li className="delivery" data-attempt={d.attempt} data-status={d.status}>
      <div className="delivery__head">
        <span className="delivery__attempt">Attempt {d.attempt}</span>
        <span className="method">{d.method}</span> <code className="url">{d.url}</code>
        <HttpStatusBadge status={d.status} />
        {d.error_kind ? (
          <span className="badge badge--muted" data-testid="delivery-kind" title="by the connector retry rules">
            {deliveryKindLabel[d.error_kind] ?? d.error_kind}
          </span>
        ) : null}
        <span className="muted small">
          {d.latency_ms} ms · {formatDateTime(d.created_at)}
        </span>
      </div>
      {d.error || words ? (
        <div className="delivery__error">
          {words ? <p className="error-summary">{words.summary}</p> : null}
          {d.error ? <p className="text-danger pre-wrap">{d.error}</p> : null}
          {words?.hint ? <p>{words.hint}</p> : null}
        </div>
      ) : null}
      <details>
        <summary>Request and response</summary>
        <div className="io-grid">
          <Message side="Request" note=" (secrets redacted)" headers={d.request_headers} body={d.request_body} attempt={d.attempt} />
          <Message side="Response" headers={d.response_headers} body={d.response_body} attempt={d.attempt} />
        </div>
      </details>
    </li>
  )
}

function Timeline({ run, now }: { run: ConsoleRunDetail; now: number }) {
  return run.replay_of ? <ReplayTimeline run={run} originalId={run.replay_of} now={now} /> : <TimelineView run={run} now={now} />
}

/** A replay's timeline also shows the attempts of the run it replays (a retry that failed there, then worked here). */
function ReplayTimeline({ run, originalId, now }: { run: ConsoleRunDetail; originalId: string; now: number }) {
  const api = useApi()
  const original = useQuery({ queryKey: runQueryKey(originalId), queryFn: ({ signal }) => getRun(api, originalId, signal) })
  if (!original.data) return <TimelineView run={run} now={now} />
  const merged = withOriginalAttempts(run, original.data)
  return <TimelineView run={merged} now={now} note={merged === run ? undefined : `with the attempts of run ${shortId(originalId)}, which this replays`} />
}

function TimelineView({ run, now, note }: { run: ConsoleRunDetail; now: number; note?: string }) {
  const tl = buildTimeline(run, now)
  if (!tl.rows.length) return null
  return (
    <section aria-labelledby="timeline-title" className="run-section">
      <h2 id="timeline-title" className="h3">
        Timeline <span className="muted small">{formatDuration(tl.endMs - tl.startMs)} in all{note ? `, ${note}` : ''}</span>
      </h2>
      <ol className="timeline">
        {tl.rows.map((row) => (
          <TimelineBar key={row.key} row={row} />
        ))}
      </ol>
    </section>
  )
}

function TimelineBar({ row }: { row: TimelineRow }) {
  const desc =
    `${row.stepId}${row.itemKey ? ` item ${row.itemKey}` : ''}: ${row.state}, started at +${formatDuration(row.startMs)}` +
    (row.durationMs === null ? '' : `, took ${formatDuration(row.durationMs)}`) +
    (row.marks.length ? `, ${row.marks.length} attempt${row.marks.length === 1 ? '' : 's'}` : '')
  return (
    <li className="timeline__row" data-step-id={row.stepId} data-attempts={row.marks.length}>
      <span className="timeline__label">
        <code>{row.stepId}</code>
        {row.itemKey ? <span className="muted small"> {row.itemKey}</span> : null}
      </span>
      <span className="timeline__track" role="img" aria-label={desc}>
        <span
          className={`timeline__bar timeline__bar--${row.state}`}
          style={{ left: `${row.left}%`, width: `${row.width}%` }}
        />
        {row.marks.map((m) => (
          <span
            key={m.delivery.id}
            className={`timeline__mark ${m.ok ? 'is-ok' : 'is-bad'}`}
            style={{ left: `${m.at}%` }}
            title={`Attempt ${m.attempt}: ${m.status || 'no response'}`}
          />
        ))}
      </span>
      <span className="timeline__meta muted small">
        {row.marks.length > 1 ? `${row.marks.length} attempts · ` : ''}
        {row.durationMs === null ? row.state : formatDuration(row.durationMs)}
      </span>
    </li>
  )
}

function RunActions({ run }: { run: ConsoleRunDetail }) {
  const canEdit = useCanEdit()
  const api = useApi()
  const qc = useQueryClient()
  const navigate = useContext(NavigateContext)
  const [opts, setOpts] = useState<ReplayOptions>({ from: run.state === 'failed' ? 'failed' : 'start', version: 'pinned' })
  const replay = useMutation({
    mutationFn: () => replayRun(api, run.id, opts),
    onSuccess: async (nr) => {
      await qc.invalidateQueries({ queryKey: ['all-runs'] })
      await qc.invalidateQueries({ queryKey: runQueryKey(run.id) })
      navigate(runRoute(nr.id))
    },
  })
  const cancel = useMutation({
    mutationFn: () => cancelRun(api, run.id),
    onSuccess: () => qc.invalidateQueries({ queryKey: runQueryKey(run.id) }),
  })
  if (!canEdit) return null
  const final = isFinalRunState(run.state)
  return (
    <div className="run-actions">
      {final ? (
        <form
          className="replay-form"
          aria-label="Replay this run"
          onSubmit={(e) => {
            e.preventDefault()
            replay.mutate()
          }}
        >
          <label>
            From{' '}
            <select value={opts.from} onChange={(e) => setOpts({ ...opts, from: e.target.value as ReplayOptions['from'] })}>
              <option value="start">the start</option>
              {run.state === 'failed' ? <option value="failed">the failed step</option> : null}
            </select>
          </label>
          <label>
            on{' '}
            <select value={opts.version} onChange={(e) => setOpts({ ...opts, version: e.target.value as ReplayOptions['version'] })}>
              <option value="pinned">its version (v{run.version})</option>
              <option value="current">the current version</option>
            </select>
          </label>
          <button type="submit" className="btn btn--primary" disabled={replay.isPending}>
            {replay.isPending ? 'Replaying…' : 'Replay'}
          </button>
        </form>
      ) : (
        <ConfirmButton
          question="Cancel this run? Steps that already ran are not undone."
          onConfirm={() => cancel.mutate()}
          busy={cancel.isPending}
          className="btn btn--danger"
        >
          {cancel.isPending ? 'Canceling…' : 'Cancel run'}
        </ConfirmButton>
      )}
      {replay.isError ? <p role="alert" className="text-danger">Could not replay: {(replay.error as Error).message}</p> : null}
      {cancel.isError ? <p role="alert" className="text-danger">Could not cancel: {(cancel.error as Error).message}</p> : null}
    </div>
  )
}

/** One side of an attempt: its headers and its body. */
function Message({ side, note = '', headers, body, attempt }: { side: string; note?: string; headers: DeliveryAttempt['request_headers']; body: DeliveryAttempt['request_body']; attempt: number }) {
  return (
    <div>
      <h4 className="h5">
        {side} headers{note}
      </h4>
      <HeaderTable headers={headers} label={`${side} headers of attempt ${attempt}`} />
      <h4 className="h5">{side} body</h4>
      <pre className="json" tabIndex={0} aria-label={`${side} body of attempt ${attempt}`}>
        {prettyBody(body) || '(empty)'}
      </pre>
    </div>
  )
}
