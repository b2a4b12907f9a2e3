// Home dashboard (/dashboard): runs by state over the last hour / day / week (Recharts),
// success rate, p50/p95 duration, the workflows failing most, queue depth and the oldest
// waiting run, connections needing attention. Refreshes every few seconds.

import { useQuery } from '@tanstack/react-query'
import { useEffect, useState } from 'react'
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import type { ApiClient, Schemas, Timestamp } from '../../api.ts'
import { useApi } from '../../apiContext.ts'
import { Link, QueryResult, RelativeTime, useNow } from '../../components.tsx'
import { formatDuration, shortId } from '../../format.ts'
import { runRoute } from '../../route.ts'

export type DashboardRange = 'hour' | 'day' | 'week'

type Wire = Schemas['DashboardView']
/** GET /dashboard as generated from the contract, with absent lists and maps read as empty. */
export type Dashboard = Omit<Wire, 'range' | 'buckets' | 'totals' | 'failing_workflows' | 'connections_needing_attention'> & {
  range: DashboardRange
  buckets: Array<{ start: Timestamp; states: Record<string, number> }>
  totals: Record<string, number>
  failing_workflows: Schemas['FailingWorkflow'][]
  connections_needing_attention: Schemas['AttentionConnection'][]
}

export async function getDashboard(api: ApiClient, range: DashboardRange, signal?: AbortSignal): Promise<Dashboard> {
  const raw: Wire = await api.op('GET', '/api/v1/dashboard', { query: { range }, signal })
  return {
    ...raw,
    range,
    buckets: (raw.buckets ?? []).map((b) => ({ start: b.start, states: b.states ?? {} })),
    totals: raw.totals ?? {},
    failing_workflows: raw.failing_workflows ?? [],
    connections_needing_attention: raw.connections_needing_attention ?? [],
  }
}

/** Chart series: the states worth a colour, in stacking order. */
export const SERIES: Array<{ state: string; color: string }> = [
  { state: 'succeeded', color: '#1e8e4a' },
  { state: 'failed', color: '#c62828' },
  { state: 'filtered', color: '#7d8794' },
  { state: 'canceled', color: '#4a525d' },
  { state: 'waiting', color: '#c98a00' },
  { state: 'running', color: '#2f5bea' },
  { state: 'queued', color: '#8f63d9' },
]

function slotLabel(iso: string, range: DashboardRange): string {
  const d = new Date(iso)
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`
  if (range === 'week') return `${d.toLocaleDateString(undefined, { weekday: 'short' })} ${hm}`
  return hm
}

/** Rows for the chart (one per slot, a number per state). */
export function chartRows(d: Dashboard): Array<Record<string, number | string>> {
  return d.buckets.map((b) => {
    const row: Record<string, number | string> = { slot: slotLabel(b.start, d.range) }
    for (const s of SERIES) row[s.state] = b.states[s.state] ?? 0
    return row
  })
}

export default function DashboardPage() {
  const api = useApi()
  const now = useNow(5000)
  const [range, setRange] = useState<DashboardRange>('day')
  const q = useQuery({
    queryKey: ['dashboard', range],
    queryFn: ({ signal }) => getDashboard(api, range, signal),
    refetchInterval: 5000,
  })
  useEffect(() => {
    document.title = 'Dashboard · Switchboard'
  }, [])

  return (
    <>
      <div className="page-head">
        <h1>Dashboard</h1>
        <div className="dash-controls" role="group" aria-label="Time range">
          {(['hour', 'day', 'week'] as const).map((r) => (
            <button key={r} type="button" className="btn btn--small" aria-pressed={range === r} onClick={() => setRange(r)}>
              Last {r}
            </button>
          ))}
        </div>
      </div>
      <QueryResult query={q} what="the dashboard">
        {(data) => <DashboardView d={data} now={now} />}
      </QueryResult>
    </>
  )
}

export function DashboardView({ d, now }: { d: Dashboard; now: number }) {
  const total = Object.values(d.totals).reduce((a, b) => a + b, 0)
  const failed = d.totals.failed ?? 0
  const rangeQuery = d.range === 'hour' ? '1h' : d.range === 'day' ? '24h' : '7d'
  return (
    <div data-testid="dashboard">
      <dl className="dash-cards">
        <div className="dash-card">
          <dt>Runs</dt>
          <dd data-testid="dash-total">
            {total} <span className="small muted">{failed ? `${failed} failed` : 'none failed'}</span>
          </dd>
        </div>
        <div className="dash-card">
          <dt>Success rate</dt>
          <dd data-testid="dash-success">{d.success_rate === null ? '—' : `${Math.round(d.success_rate * 1000) / 10}%`}</dd>
        </div>
        <div className="dash-card">
          <dt>Duration p50 / p95</dt>
          <dd data-testid="dash-durations">
            {d.p50_ms === null ? '—' : formatDuration(d.p50_ms)} <span className="small muted">/</span>{' '}
            {d.p95_ms === null ? '—' : formatDuration(d.p95_ms)}
          </dd>
        </div>
        <div className="dash-card">
          <dt>Queue</dt>
          <dd data-testid="dash-queue">
            {d.queue.queued} <span className="small muted">queued · {d.queue.running} running · {d.queue.waiting} waiting</span>
          </dd>
        </div>
        <div className="dash-card">
          <dt>Oldest waiting run</dt>
          <dd className="small">
            {d.queue.oldest_queued_id ? (
              <>
                <Link to={runRoute(d.queue.oldest_queued_id)}>run {shortId(d.queue.oldest_queued_id)}</Link>, queued{' '}
                <RelativeTime value={d.queue.oldest_queued_at} now={now} />
              </>
            ) : (
              'none: nothing is waiting for a worker'
            )}
          </dd>
        </div>
      </dl>

      <section className="dash-chart" aria-labelledby="chart-title">
        <h2 id="chart-title">Runs by state</h2>
        <div style={{ width: '100%', height: 260 }} aria-hidden="true">
          <ResponsiveContainer>
            <BarChart data={chartRows(d)} margin={{ top: 10, right: 10, bottom: 0, left: -10 }} accessibilityLayer={false}>
              <CartesianGrid strokeDasharray="3 3" vertical={false} />
              <XAxis dataKey="slot" tick={{ fontSize: 11 }} interval="preserveStartEnd" />
              <YAxis allowDecimals={false} tick={{ fontSize: 11 }} />
              <Tooltip />
              <Legend wrapperStyle={{ fontSize: 12 }} />
              {SERIES.map((s) => (
                <Bar key={s.state} dataKey={s.state} stackId="runs" fill={s.color} isAnimationActive={false} />
              ))}
            </BarChart>
          </ResponsiveContainer>
        </div>
        <details>
          <summary>The same numbers as a table</summary>
          <div className="table-wrap">
            <table className="table table--compact" aria-label="Runs by state per time slot">
              <thead>
                <tr>
                  <th scope="col">From</th>
                  {SERIES.map((s) => (
                    <th key={s.state} scope="col" className="num">
                      {s.state}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {chartRows(d).map((row, i) => (
                  <tr key={i}>
                    <th scope="row">{row.slot}</th>
                    {SERIES.map((s) => (
                      <td key={s.state} className="num">
                        {row[s.state]}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      </section>

      <div className="dash-grid">
        <section className="dash-chart" aria-labelledby="failing-title">
          <h2 id="failing-title">Failing most</h2>
          {d.failing_workflows.length === 0 ? (
            <p className="muted">No failed runs in this range.</p>
          ) : (
            <ul className="dash-list">
              {d.failing_workflows.map((w) => (
                <li key={w.workflow_id}>
                  <Link to={`/runs?workflow=${encodeURIComponent(w.workflow_id)}&state=failed&range=${rangeQuery}`}>{w.name}</Link>
                  <span>
                    {w.failed} failed
                  </span>
                </li>
              ))}
            </ul>
          )}
          <p className="small">
            <Link to={`/runs?state=failed&range=${rangeQuery}`}>All failed runs in this range</Link>
          </p>
        </section>
        <section className="dash-chart" aria-labelledby="conn-title">
          <h2 id="conn-title">Connections needing attention</h2>
          {d.connections_needing_attention.length === 0 ? (
            <p className="muted">All connections are fine.</p>
          ) : (
            <ul className="dash-list">
              {d.connections_needing_attention.map((c) => (
                <li key={c.id}>
                  <span>
                    <Link to="/connections">
                      <strong>{c.name}</strong>
                    </Link>{' '}
                    <span className="muted">({c.connector})</span>
                  </span>
                  <span className="text-danger">{c.reason}</span>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </div>
  )
}
