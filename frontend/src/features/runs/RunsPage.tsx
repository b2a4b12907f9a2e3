// Runs across all workflows (/runs): filters kept in the address (so links and Back work),
// newest first with "Load more", new runs appearing on their own, select many → replay or
// cancel, and "replay every failed run matching this filter" with a count first and a
// progress bar while it works.

import { useInfiniteQuery, useQueryClient } from '@tanstack/react-query'
import { useEffect, useMemo, useState } from 'react'
import { useSearchParams } from 'react-router'
import { RUN_STATES, type RunState } from '../../api.ts'
import { useApi } from '../../apiContext.ts'
import { useCanEdit } from '../../auth.tsx'
import { Link, ListResult, Modal, RelativeTime, StateBadge, useNow } from '../../components.tsx'
import { elapsedMs, formatDuration, isFinalRunState, shortId } from '../../format.ts'
import { useWorkflows } from '../../queries.ts'
import { RunError } from './RunError.tsx'
import { editorRoute, runRoute } from '../../route.ts'
import {
  cancelRun,
  collectRunIds,
  countRuns,
  listRuns,
  replayRun,
  runBulk,
  type BulkProgress,
  type ConsoleRun,
  type ReplayOptions,
  type RunFilters,
} from './api.ts'

export const TRIGGER_TYPES = ['webhook', 'schedule', 'form', 'manual'] as const
export const TIME_RANGES: Record<string, { label: string; ms: number }> = {
  '1h': { label: 'Last hour', ms: 3600_000 },
  '24h': { label: 'Last 24 hours', ms: 24 * 3600_000 },
  '7d': { label: 'Last 7 days', ms: 7 * 24 * 3600_000 },
  '30d': { label: 'Last 30 days', ms: 30 * 24 * 3600_000 },
}
const PAGE = 50
/** Bulk replays stop at this many runs (the API's own bulk replay has the same bound). */
export const MAX_BULK = 1000

/** The filters in the address: ?workflow=&state=&trigger=&range=1h|24h|7d|30d&q= */
export interface UrlFilters {
  workflow: string
  state: string
  trigger: string
  range: string
  q: string
}

export function readFilters(sp: URLSearchParams): UrlFilters {
  return {
    workflow: sp.get('workflow') ?? '',
    state: sp.get('state') ?? '',
    trigger: sp.get('trigger') ?? '',
    range: sp.get('range') ?? '',
    q: sp.get('q') ?? '',
  }
}

/** The API filter for the address's filters at `now` (time ranges end now). */
export function apiFilters(f: UrlFilters, now: number): RunFilters {
  const out: RunFilters = {}
  if (f.workflow) out.workflow = f.workflow
  if (f.state) out.state = f.state as RunState
  if (f.trigger) out.trigger = f.trigger
  if (f.q.trim()) out.q = f.q.trim()
  const r = TIME_RANGES[f.range]
  if (r) out.since = new Date(now - r.ms).toISOString()
  return out
}

export function RunsPage() {
  const api = useApi()
  const now = useNow(1000)
  const canEdit = useCanEdit()
  const qc = useQueryClient()
  const [sp, setSp] = useSearchParams()
  const filters = readFilters(sp)
  const [text, setText] = useState(filters.q)
  const workflows = useWorkflows()
  const wfList = workflows.data?.pages.flatMap((p) => p.items) ?? []

  useEffect(() => {
    document.title = 'Runs · Switchboard'
  }, [])

  // The search box applies after a short pause in typing.
  useEffect(() => {
    if (text === filters.q) return
    const t = window.setTimeout(() => setFilter('q', text), 300)
    return () => window.clearTimeout(t)
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [text])

  function setFilter(key: keyof UrlFilters, value: string) {
    const next = new URLSearchParams(sp)
    if (value) next.set(key, value)
    else next.delete(key)
    setSp(next, { replace: true })
  }

  const key = ['all-runs', filters] as const
  const runs = useInfiniteQuery({
    queryKey: key,
    queryFn: ({ pageParam, signal }) => listRuns(api, apiFilters(filters, Date.now()), { cursor: pageParam, limit: PAGE }, signal),
    initialPageParam: '',
    getNextPageParam: (last) => last.next_cursor || undefined,
    // New runs appear without a reload; faster while some shown run is still going.
    refetchInterval: (q) => (q.state.data?.pages.some((p) => p.items.some((r) => !isFinalRunState(r.state))) ? 1500 : 4000),
  })
  const items = useMemo(() => runs.data?.pages.flatMap((p) => p.items) ?? [], [runs.data])

  const [selected, setSelected] = useState<Set<string>>(new Set())
  const visibleSelected = items.filter((r) => selected.has(r.id))
  const allSelected = items.length > 0 && visibleSelected.length === items.length
  const toggle = (id: string) => {
    const next = new Set(selected)
    if (next.has(id)) next.delete(id)
    else next.add(id)
    setSelected(next)
  }

  const [bulk, setBulk] = useState<BulkJob | null>(null)
  const refresh = () => qc.invalidateQueries({ queryKey: ['all-runs'] })

  // The filters that pick from a list; the empty choice of each means any.
  const selects: { id: string; field: keyof UrlFilters; label: string; any: string; options: { value: string; label: string }[] }[] = [
    { id: 'filter-workflow', field: 'workflow', label: 'Workflow', any: 'All workflows', options: wfList.map((w) => ({ value: w.id, label: w.name })) },
    { id: 'filter-state', field: 'state', label: 'State', any: 'Any state', options: RUN_STATES.map((s) => ({ value: s, label: s })) },
    { id: 'filter-trigger', field: 'trigger', label: 'Trigger', any: 'Any trigger', options: TRIGGER_TYPES.map((t) => ({ value: t, label: t })) },
    {
      id: 'filter-time',
      field: 'range',
      label: 'Time',
      any: 'Any time',
      options: Object.entries(TIME_RANGES).map(([k, r]) => ({ value: k, label: r.label })),
    },
  ]
  return (
    <>
      <div className="page-head">
        <h1>Runs</h1>
        <p className="muted">Every run of every workflow, newest first. New runs appear on their own.</p>
      </div>

      <form className="filters" role="search" aria-label="Filter runs" onSubmit={(e) => e.preventDefault()}>
        {selects.map((f) => (
          <FilterSelect
            key={f.id}
            id={f.id}
            label={f.label}
            any={f.any}
            options={f.options}
            value={filters[f.field]}
            onChange={(v) => setFilter(f.field, v)}
          />
        ))}
        <div className="filter filters__search">
          <label htmlFor="filter-q">Search the trigger input</label>
          <input id="filter-q" type="search" value={text} placeholder="an e-mail, an order id, …" onChange={(e) => setText(e.target.value)} />
        </div>
      </form>

      {canEdit ? (
        <div className="bulk-bar" aria-label="Bulk actions" role="group">
          {visibleSelected.length ? (
            <>
              <span>
                <strong>{visibleSelected.length}</strong> selected
              </span>
              <button
                type="button"
                className="btn"
                onClick={() => setBulk({ kind: 'replay', ids: visibleSelected.map((r) => r.id), from: 'start' })}
              >
                Replay from the start
              </button>
              <button
                type="button"
                className="btn"
                disabled={!visibleSelected.some((r) => r.state === 'failed')}
                onClick={() =>
                  setBulk({ kind: 'replay', ids: visibleSelected.filter((r) => r.state === 'failed').map((r) => r.id), from: 'failed' })
                }
              >
                Replay failed from the failed step
              </button>
              <button
                type="button"
                className="btn btn--danger"
                disabled={!visibleSelected.some((r) => !isFinalRunState(r.state))}
                onClick={() => setBulk({ kind: 'cancel', ids: visibleSelected.filter((r) => !isFinalRunState(r.state)).map((r) => r.id) })}
              >
                Cancel
              </button>
              <button type="button" className="btn" onClick={() => setSelected(new Set())}>
                Clear selection
              </button>
            </>
          ) : (
            <span className="muted">Select runs to replay or cancel them together.</span>
          )}
          <span className="app-header__spacer" />
          <button type="button" className="btn" onClick={() => setBulk({ kind: 'matching', filters })}>
            Replay every failed run matching this filter…
          </button>
        </div>
      ) : null}

      <ListResult
        query={runs}
        what="runs"
        count={items.length}
        empty={
          <div className="empty empty--small">
            <p className="empty__title">No runs match</p>
            <p>Runs appear here when a trigger fires. Change the filters to see more.</p>
          </div>
        }
      >
        <>
          <div className="table-wrap">
            <table className="table table--compact runs-table" aria-label="Runs">
              <thead>
                <tr>
                  {canEdit ? (
                    <th scope="col" className="check">
                      <input
                        type="checkbox"
                        aria-label="Select all shown runs"
                        checked={allSelected}
                        onChange={() => setSelected(allSelected ? new Set() : new Set(items.map((r) => r.id)))}
                      />
                    </th>
                  ) : null}
                  <th scope="col">Run</th>
                  <th scope="col">Workflow</th>
                  <th scope="col">State</th>
                  <th scope="col">Trigger</th>
                  <th scope="col">Started</th>
                  <th scope="col" className="num">
                    Duration
                  </th>
                  <th scope="col">Error</th>
                </tr>
              </thead>
              <tbody>
                {items.map((r) => (
                  <RunRow key={r.id} run={r} now={now} canEdit={canEdit} checked={selected.has(r.id)} onToggle={() => toggle(r.id)} />
                ))}
              </tbody>
            </table>
          </div>
          {runs.hasNextPage ? (
            <button type="button" className="btn load-more" onClick={() => void runs.fetchNextPage()} disabled={runs.isFetchingNextPage}>
              {runs.isFetchingNextPage ? 'Loading…' : 'Load more'}
            </button>
          ) : (
            <p className="muted small">
              {items.length} run{items.length === 1 ? '' : 's'}, the oldest shown last.
            </p>
          )}
        </>
      </ListResult>

      {bulk ? (
        <BulkDialog
          job={bulk}
          onClose={() => {
            setBulk(null)
            setSelected(new Set())
            void refresh()
          }}
        />
      ) : null}
    </>
  )
}

function RunRow({
  run,
  now,
  canEdit,
  checked,
  onToggle,
}: {
  run: ConsoleRun
  now: number
  canEdit: boolean
  checked: boolean
  onToggle: () => void
}) {
  const ms = elapsedMs(run.started_at, run.finished_at, now)
  return (
    <tr data-run-id={run.id} data-state={run.state} className={checked ? 'is-selected' : undefined}>
      {canEdit ? (
        <td className="check">
          <input type="checkbox" aria-label={`Select run ${shortId(run.id)}`} checked={checked} onChange={onToggle} />
        </td>
      ) : null}
      <th scope="row">
        <Link to={runRoute(run.id)} className="mono" aria-label={`Run ${shortId(run.id)}, ${run.state}`}>
          {shortId(run.id)}
        </Link>
        {run.replay_of ? <span className="muted small"> replay</span> : null}
      </th>
      <td>
        <Link to={editorRoute(run.workflow_id)}>{run.workflow_name || shortId(run.workflow_id)}</Link>
      </td>
      <td>
        <StateBadge state={run.state} />
      </td>
      <td>{run.trigger_type}</td>
      <td>{run.started_at ? <RelativeTime value={run.started_at} now={now} /> : <span className="muted">not started</span>}</td>
      <td className="num">{ms === null ? <span className="muted">—</span> : formatDuration(ms)}</td>
      <td className="error-cell">{run.error ? <RunError message={run.error} /> : <span className="muted">—</span>}</td>
    </tr>
  )
}

type BulkJob =
  | { kind: 'replay'; ids: string[]; from: ReplayOptions['from'] }
  | { kind: 'cancel'; ids: string[] }
  | { kind: 'matching'; filters: UrlFilters }

function BulkDialog({ job, onClose }: { job: BulkJob; onClose: () => void }) {
  const api = useApi()
  const [count, setCount] = useState<{ count: number; capped: boolean } | null>(null)
  const [countError, setCountError] = useState<string | null>(null)
  const [from, setFrom] = useState<ReplayOptions['from']>(job.kind === 'replay' ? job.from : 'failed')
  const [version, setVersion] = useState<ReplayOptions['version']>('pinned')
  const [progress, setProgress] = useState<BulkProgress | null>(null)
  const [phase, setPhase] = useState<'confirm' | 'working' | 'done'>('confirm')

  const matching = job.kind === 'matching' ? { ...apiFilters(job.filters, Date.now()), state: 'failed' as const } : null
  // Count first, so nobody replays thousands of runs by accident.
  useEffect(() => {
    if (!matching) return
    countRuns(api, matching).then(setCount, (err: Error) => setCountError(err.message))
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [])

  const total = job.kind === 'matching' ? Math.min(count?.count ?? 0, MAX_BULK) : job.ids.length
  const title =
    job.kind === 'cancel' ? 'Cancel runs' : job.kind === 'replay' ? 'Replay runs' : 'Replay every failed run matching this filter'

  async function start() {
    setPhase('working')
    setProgress({ done: 0, total, failed: [] })
    let ids: string[]
    if (job.kind === 'matching') {
      // Taken once, before replaying: the replays (newer runs) are not replayed again.
      ids = await collectRunIds(api, { ...matching!, until: new Date().toISOString() }, MAX_BULK)
      setProgress({ done: 0, total: ids.length, failed: [] })
    } else {
      ids = job.ids
    }
    const action = job.kind === 'cancel' ? (id: string) => cancelRun(api, id) : (id: string) => replayRun(api, id, { from, version })
    const result = await runBulk(ids, action, setProgress)
    setProgress(result)
    setPhase('done')
  }

  return (
    <Modal title={title} onClose={phase === 'working' ? () => {} : onClose}>
      <div className="modal__body">
        {phase === 'confirm' ? (
          <>
            {job.kind === 'matching' ? (
              countError ? (
                <p role="alert" className="text-danger">
                  Could not count the runs: {countError}
                </p>
              ) : count === null ? (
                <p role="status">Counting the failed runs…</p>
              ) : (
                <p data-testid="bulk-count">
                  <strong>{count.count}</strong>
                  {count.capped ? '+' : ''} failed run{count.count === 1 ? '' : 's'} match this filter
                  {count.count > MAX_BULK ? `; the newest ${MAX_BULK} will be replayed` : ''}.
                </p>
              )
            ) : (
              <p>
                {job.kind === 'cancel' ? 'Cancel' : 'Replay'} <strong>{job.ids.length}</strong> run{job.ids.length === 1 ? '' : 's'}?
                {job.kind === 'cancel' ? ' Steps that already ran are not undone.' : ''}
              </p>
            )}
            {job.kind !== 'cancel' ? (
              <div className="form-row">
                <label>
                  From{' '}
                  <select value={from} onChange={(e) => setFrom(e.target.value as ReplayOptions['from'])}>
                    <option value="failed">the failed step</option>
                    <option value="start">the start</option>
                  </select>
                </label>{' '}
                <label>
                  on{' '}
                  <select value={version} onChange={(e) => setVersion(e.target.value as ReplayOptions['version'])}>
                    <option value="pinned">each run's own version</option>
                    <option value="current">the current version</option>
                  </select>
                </label>
              </div>
            ) : null}
          </>
        ) : null}
        {progress ? (
          <div className="bulk-progress">
            <label htmlFor="bulk-progress">
              {phase === 'done' ? 'Done' : job.kind === 'cancel' ? 'Canceling' : 'Replaying'}: {progress.done} of {progress.total}
            </label>
            <progress id="bulk-progress" max={progress.total || 1} value={progress.done} />
            {phase === 'done' ? (
              <p role="status" data-testid="bulk-result">
                {progress.done - progress.failed.length} of {progress.total} {job.kind === 'cancel' ? 'canceled' : 'replayed'}
                {progress.failed.length ? `; ${progress.failed.length} could not be:` : '.'}
              </p>
            ) : null}
            {progress.failed.length ? (
              <ul className="small">
                {progress.failed.slice(0, 10).map((f) => (
                  <li key={f.id}>
                    <Link to={runRoute(f.id)}>run {shortId(f.id)}</Link>: {f.error}
                  </li>
                ))}
              </ul>
            ) : null}
          </div>
        ) : null}
      </div>
      <div className="modal__actions">
        {phase === 'confirm' ? (
          <>
            <button type="button" className="btn" onClick={onClose}>
              Back
            </button>
            <button
              type="button"
              className={job.kind === 'cancel' ? 'btn btn--danger' : 'btn btn--primary'}
              disabled={total === 0}
              onClick={() => void start()}
            >
              {job.kind === 'cancel' ? `Cancel ${total} run${total === 1 ? '' : 's'}` : `Replay ${total} run${total === 1 ? '' : 's'}`}
            </button>
          </>
        ) : (
          <button type="button" className="btn" onClick={onClose} disabled={phase === 'working'}>
            Done
          </button>
        )}
      </div>
    </Modal>
  )
}

/** One of the filters above the list: a labelled select whose empty choice means any. */
function FilterSelect({
  id,
  label,
  any,
  value,
  options,
  onChange,
}: {
  id: string
  label: string
  any: string
  value: string
  options: { value: string; label: string }[]
  onChange: (value: string) => void
}) {
  return (
    <div className="filter">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">{any}</option>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  )
}
