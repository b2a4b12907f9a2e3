// Event subscriptions: endpoints that get Switchboard's own events as signed
// Standard Webhooks. The signing secret is shown once, after creating or rotating.

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useEffect, useMemo, useState, type FormEvent } from 'react'
import { Alert, CopyButton, ErrorNotice, errorText, HttpStatusBadge, JsonBlock, Loading, RelativeTime, StateBadge, TableHead } from '../../components.tsx'
import { useWorkflows } from '../../queries.ts'
import './subscriptions.css'
import { createSubscriptionsClient, parseHeaderLines, type EventDelivery, type Subscription } from './api.ts'

const client = createSubscriptionsClient()
const keys = {
  types: ['event-types'] as const,
  list: ['subscriptions'] as const,
  deliveries: (id: string) => ['subscriptions', id, 'deliveries'] as const,
  delivery: (id: string, d: string) => ['subscriptions', id, 'deliveries', d] as const,
}

export function SubscriptionsPage({ now }: { now: number }) {
  useEffect(() => {
    document.title = 'Event subscriptions · Switchboard'
  }, [])
  const list = useQuery({ queryKey: keys.list, queryFn: ({ signal }) => client.list(signal), refetchInterval: 10_000 })
  const [selected, setSelected] = useState<string | null>(null)
  const [secret, setSecret] = useState<{ id: string; secret: string; rotated: boolean } | null>(null)
  const current = list.data?.find((s) => s.id === selected) ?? null

  return (
    <>
      <h1>Event subscriptions</h1>
      <p className="muted">
        Switchboard sends its own events (runs ending, workflows saved or switched, rejected webhooks…) to these URLs as
        signed <a href="https://www.standardwebhooks.com/">Standard Webhooks</a>, retrying for about a day.
      </p>
      {secret ? (
        <div className="notice sub-secret" role="status" aria-label="Signing secret">
          <p>
            <strong>{secret.rotated ? 'New signing secret' : 'Signing secret'}</strong> — shown only now; store it with the
            receiver.
          </p>
          <code data-testid="subscription-secret">{secret.secret}</code> <CopyButton text={secret.secret} label="Copy signing secret" />{' '}
          <button type="button" className="btn btn--small" onClick={() => setSecret(null)}>
            Done
          </button>
        </div>
      ) : null}
      <div className="split">
        <section className="panel" aria-label="Subscriptions">
          <CreateForm
            onCreated={(s) => {
              setSecret({ id: s.id, secret: s.secret ?? '', rotated: false })
              setSelected(s.id)
            }}
          />
          {list.isPending ? <Loading what="subscriptions" /> : null}
          {list.error ? <ErrorNotice error={list.error} what="subscriptions" onRetry={() => list.refetch()} /> : null}
          {list.data && list.data.length === 0 ? <p className="muted">No subscriptions yet.</p> : null}
          {list.data && list.data.length > 0 ? (
            <table className="table">
              <TableHead columns={['URL', 'Events', 'State']} />
              <tbody>
                {list.data.map((s) => (
                  <tr key={s.id} aria-selected={s.id === selected}>
                    <td>
                      <button type="button" className="btn btn--link" onClick={() => setSelected(s.id)}>
                        {s.url}
                      </button>
                    </td>
                    <td>{s.events.join(', ')}</td>
                    <td>
                      <StateBadge state={s.enabled ? (s.failing_since ? 'failing' : 'enabled') : 'disabled'} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </section>
        {current ? (
          <SubscriptionDetail
            key={current.id}
            sub={current}
            now={now}
            onSecret={(s) => setSecret({ id: s.id, secret: s.secret ?? '', rotated: true })}
            onDeleted={() => setSelected(null)}
          />
        ) : (
          <section className="panel panel--placeholder" aria-label="Subscription detail">
            <p className="muted">Select a subscription to see its deliveries.</p>
          </section>
        )}
      </div>
    </>
  )
}

function CreateForm({ onCreated }: { onCreated: (s: Subscription) => void }) {
  const qc = useQueryClient()
  const types = useQuery({ queryKey: keys.types, queryFn: ({ signal }) => client.eventTypes(signal), staleTime: Infinity })
  const workflows = useWorkflows()
  const [url, setUrl] = useState('')
  const [picked, setPicked] = useState<string[]>([])
  const [workflowId, setWorkflowId] = useState('')
  const [headerText, setHeaderText] = useState('')
  const [error, setError] = useState('')
  const create = useMutation({
    mutationFn: () => {
      const { headers, error: bad } = parseHeaderLines(headerText)
      if (bad) throw new Error(bad)
      return client.create({ url, events: picked, workflow_id: workflowId || undefined, headers })
    },
    onSuccess: (s) => {
      setUrl('')
      setPicked([])
      setHeaderText('')
      setError('')
      qc.invalidateQueries({ queryKey: keys.list })
      onCreated(s)
    },
    onError: (err) => setError(errorText(err)),
  })
  const submit = (e: FormEvent) => {
    e.preventDefault()
    create.mutate()
  }
  return (
    <form onSubmit={submit} aria-label="New subscription" className="sub-form">
      <h2>New subscription</h2>
      <label>
        Endpoint URL
        <input type="url" required value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://example.com/switchboard-events" />
      </label>
      <fieldset>
        <legend>Events</legend>
        {types.data?.map((t) => (
          <label key={t.type} title={t.description}>
            <input
              type="checkbox"
              checked={picked.includes(t.type)}
              onChange={(e) => setPicked(e.target.checked ? [...picked, t.type] : picked.filter((x) => x !== t.type))}
            />{' '}
            {t.type}
          </label>
        ))}
      </fieldset>
      <label>
        Only events of workflow
        <select value={workflowId} onChange={(e) => setWorkflowId(e.target.value)}>
          <option value="">Any workflow</option>
          {workflows.data?.pages
            .flatMap((p) => p.items)
            .map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
              </option>
            ))}
        </select>
      </label>
      <label>
        Custom headers (one "Name: value" per line)
        <textarea rows={2} value={headerText} onChange={(e) => setHeaderText(e.target.value)} />
      </label>
      <Alert error={error} />
      <button type="submit" className="btn btn--primary" disabled={create.isPending}>
        Subscribe
      </button>
    </form>
  )
}

function SubscriptionDetail({
  sub,
  now,
  onSecret,
  onDeleted,
}: {
  sub: Subscription
  now: number
  onSecret: (s: Subscription) => void
  onDeleted: () => void
}) {
  const qc = useQueryClient()
  const deliveries = useQuery({
    queryKey: keys.deliveries(sub.id),
    queryFn: ({ signal }) => client.deliveries(sub.id, signal),
    refetchInterval: (q) => (q.state.data?.some((d) => d.state === 'pending') ? 1000 : 5000),
  })
  const [overlap, setOverlap] = useState('24h')
  const [testType, setTestType] = useState('run.succeeded')
  const [open, setOpen] = useState<string | null>(null)
  const [error, setError] = useState('')
  const refresh = () => {
    qc.invalidateQueries({ queryKey: keys.list })
    qc.invalidateQueries({ queryKey: keys.deliveries(sub.id) })
  }
  const act = useMutation({
    mutationFn: async (what: 'enable' | 'disable' | 'rotate' | 'test' | 'delete') => {
      switch (what) {
        case 'enable':
        case 'disable':
          return client.update(sub.id, { enabled: what === 'enable' })
        case 'rotate':
          onSecret(await client.rotate(sub.id, overlap))
          return
        case 'test':
          return client.test(sub.id, testType)
        case 'delete':
          await client.remove(sub.id)
          onDeleted()
          return
      }
    },
    onSuccess: () => {
      setError('')
      refresh()
    },
    onError: (err) => setError(errorText(err)),
  })
  return (
    <section className="panel" aria-label="Subscription detail">
      <h2>{sub.url}</h2>
      <p>
        {sub.enabled ? 'Enabled' : 'Disabled'}
        {sub.disabled_reason ? ` — ${sub.disabled_reason}` : ''}
        {sub.failing_since ? (
          <>
            {' '}
            — failing since <RelativeTime value={sub.failing_since} now={now} />
          </>
        ) : null}
      </p>
      <p className="muted">
        Events: {sub.events.join(', ')}
        {sub.workflow_id ? ` · workflow ${sub.workflow_id}` : ''}
        {Object.keys(sub.headers).length ? ` · headers: ${Object.keys(sub.headers).join(', ')}` : ''}
        {sub.previous_secret_valid_until ? (
          <>
            {' '}
            · previous secret still signs until <RelativeTime value={sub.previous_secret_valid_until} now={now} />
          </>
        ) : null}
      </p>
      <div className="sub-toolbar">
        <button type="button" className="btn" onClick={() => act.mutate(sub.enabled ? 'disable' : 'enable')}>
          {sub.enabled ? 'Disable' : 'Enable'}
        </button>
        <label>
          Overlap{' '}
          <select value={overlap} onChange={(e) => setOverlap(e.target.value)}>
            <option value="0s">none</option>
            <option value="1h">1 hour</option>
            <option value="24h">24 hours</option>
            <option value="168h">7 days</option>
          </select>
        </label>
        <button type="button" className="btn" onClick={() => act.mutate('rotate')}>
          Rotate secret
        </button>
        <label>
          Test event{' '}
          <select value={testType} onChange={(e) => setTestType(e.target.value)}>
            {sub.events
              .filter((e) => e !== '*')
              .concat(sub.events.includes('run.succeeded') ? [] : ['run.succeeded'])
              .map((t) => (
                <option key={t}>{t}</option>
              ))}
          </select>
        </label>
        <button type="button" className="btn" onClick={() => act.mutate('test')}>
          Send test event
        </button>
        <button
          type="button"
          className="btn btn--danger"
          onClick={() => window.confirm('Delete this subscription and its deliveries?') && act.mutate('delete')}
        >
          Delete
        </button>
      </div>
      <Alert error={error} />
      <h3>Deliveries</h3>
      {deliveries.error ? <ErrorNotice error={deliveries.error} what="deliveries" /> : null}
      {deliveries.data && deliveries.data.length === 0 ? <p className="muted">Nothing sent yet.</p> : null}
      {deliveries.data?.length ? (
        <table className="table" aria-label="Deliveries">
          <TableHead columns={['Event', 'State', 'Attempts', 'Last status', 'When', '']} />
          <tbody>
            {deliveries.data.map((d) => (
              <DeliveryRow key={d.id} sub={sub} d={d} now={now} open={open === d.id} onToggle={() => setOpen(open === d.id ? null : d.id)} />
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  )
}

function DeliveryRow({ sub, d, now, open, onToggle }: { sub: Subscription; d: EventDelivery; now: number; open: boolean; onToggle: () => void }) {
  const qc = useQueryClient()
  const detail = useQuery({
    queryKey: keys.delivery(sub.id, d.id),
    queryFn: ({ signal }) => client.delivery(sub.id, d.id, signal),
    enabled: open,
    refetchInterval: open && d.state === 'pending' ? 1000 : false,
  })
  const resend = useMutation({
    mutationFn: () => client.resend(sub.id, d.id),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: keys.deliveries(sub.id) })
      qc.invalidateQueries({ queryKey: keys.delivery(sub.id, d.id) })
    },
  })
  const attempts = useMemo(() => detail.data?.attempt_list ?? [], [detail.data])
  return (
    <>
      <tr data-testid="delivery-row">
        <td>
          <button type="button" className="btn btn--link" aria-expanded={open} onClick={onToggle}>
            {d.event_type}
          </button>
        </td>
        <td>
          <StateBadge state={d.state} />
        </td>
        <td>{d.attempts}</td>
        <td>{d.last_status ? <HttpStatusBadge status={d.last_status} /> : d.last_error ? 'error' : '—'}</td>
        <td>
          <RelativeTime value={d.updated_at} now={now} />
        </td>
        <td>
          <button type="button" className="btn btn--small" onClick={() => resend.mutate()} disabled={resend.isPending}>
            Resend
          </button>
        </td>
      </tr>
      {open ? (
        <tr>
          <td colSpan={6}>
            {detail.isPending ? <Loading what="attempts" /> : null}
            <ol aria-label="Attempts" className="sub-attempts">
              {attempts.map((a) => (
                <li key={a.attempt}>
                  Attempt {a.attempt}: {a.status ? `HTTP ${a.status}` : a.error} in {a.latency_ms} ms,{' '}
                  {a.signatures > 1 ? `${a.signatures} signatures, ` : ''}
                  <RelativeTime value={a.at} now={now} />
                  {a.response_body ? <pre className="excerpt">{a.response_body}</pre> : null}
                </li>
              ))}
            </ol>
            {detail.data?.payload ? <JsonBlock value={detail.data.payload} label="Payload" /> : null}
          </td>
        </tr>
      ) : null}
    </>
  )
}
