// A workflow's webhook inbox (/workflows/{id}/inbox): every request the endpoint received,
// accepted or not, with the verdict and its reason, the headers (secrets redacted) and the raw
// body; "Copy as curl" to send it again by hand.

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useContext, useEffect, useState } from 'react'
import type { ApiClient, InboxItem, Run, Schemas } from '../../api.ts'
import { useApi } from '../../apiContext.ts'
import { useCanEdit } from '../../auth.tsx'
import { ConfirmButton, CopyButton, ErrorNotice, HeaderTable, Link, Loading, NavigateContext, RelativeTime, useNow } from '../../components.tsx'
import { formatDateTime, prettyBody, shortId } from '../../format.ts'
import { editorRoute, HOME, runRoute } from '../../route.ts'

/** Headers curl or the HTTP stack set by themselves, left out of "Copy as curl". */
const SKIP = new Set(['host', 'content-length', 'connection', 'accept-encoding', 'user-agent', 'x-forwarded-for', 'x-real-ip'])

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

/** The request as a curl command against `url` (redacted header values stay "[redacted]"). */
export function toCurl(item: Pick<InboxItem, 'method' | 'headers' | 'body' | 'query'>, url: string): string {
  const u = new URL(url)
  for (const [k, v] of Object.entries(item.query ?? {})) {
    for (const one of Array.isArray(v) ? v : [v]) u.searchParams.append(k, String(one))
  }
  const parts = ['curl', '-X', item.method, shellQuote(u.toString())]
  for (const [k, v] of Object.entries(item.headers ?? {})) {
    if (SKIP.has(k.toLowerCase())) continue
    for (const one of Array.isArray(v) ? v : [v]) parts.push('-H', shellQuote(`${k}: ${String(one)}`))
  }
  if (item.body) parts.push('--data-binary', shellQuote(item.body))
  return parts.join(' ')
}

/** "Send it again through the workflow": a run of the current version with this request. */
export function resendInbound(api: ApiClient, workflowId: string, itemId: string): Promise<Run> {
  return api.op('POST', '/api/v1/workflows/{id}/inbox/{item}/resend', { path: { id: workflowId, item: itemId } })
}

/** "Use as sample data": the editor's autocomplete and tests then see this request. */
export function keepAsSample(api: ApiClient, workflowId: string, itemId: string): Promise<Schemas['Sample']> {
  return api.op('POST', '/api/v1/workflows/{id}/inbox/{item}/sample', { path: { id: workflowId, item: itemId } })
}

function ItemActions({ workflowId, item }: { workflowId: string; item: InboxItem }) {
  const api = useApi()
  const navigate = useContext(NavigateContext)
  const queryClient = useQueryClient()
  const [said, setSaid] = useState('')
  const sample = useMutation({
    mutationFn: () => keepAsSample(api, workflowId, item.id),
    onSuccess: () => {
      setSaid('Kept as the sample data of this workflow: the editor uses it for suggestions and tests.')
      void queryClient.invalidateQueries({ queryKey: ['sample', workflowId] })
    },
  })
  const resend = useMutation({
    mutationFn: () => resendInbound(api, workflowId, item.id),
    onSuccess: (run) => navigate(runRoute(run.id)),
  })
  const error = sample.error ?? resend.error
  return (
    <>
      <button type="button" className="btn btn--small" disabled={sample.isPending} onClick={() => sample.mutate()}>
        Use as sample data
      </button>
      <ConfirmButton
        question="Send this request through the workflow again? Its actions run for real."
        onConfirm={() => resend.mutate()}
        busy={resend.isPending}
      >
        {resend.isPending ? 'Sending…' : 'Send it again through the workflow'}
      </ConfirmButton>
      <span role="status" className="small inbox-item__said">
        {error ? <span className="error-text">{error instanceof Error ? error.message : String(error)}</span> : said}
      </span>
    </>
  )
}

const TONE: Record<string, string> = { accepted: 'success', captured: 'info', rejected: 'danger', duplicate: 'muted', ignored: 'muted' }

export function InboxPage({ workflowId }: { workflowId: string }) {
  const api = useApi()
  const now = useNow(5000)
  const wf = useQuery({ queryKey: ['workflow', workflowId], queryFn: ({ signal }) => api.getWorkflow(workflowId, signal) })
  const inbox = useQuery({
    queryKey: ['inbox', workflowId],
    queryFn: ({ signal }) => api.listInbox(workflowId, signal),
    refetchInterval: 3000,
  })
  const [open, setOpen] = useState<string | null>(null)
  const canEdit = useCanEdit()
  useEffect(() => {
    document.title = `Inbox${wf.data ? ` of ${wf.data.name}` : ''} · Switchboard`
  }, [wf.data])
  const items = inbox.data?.items ?? []
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to={HOME}>Workflows</Link> <span aria-hidden="true">›</span>{' '}
        <Link to={editorRoute(workflowId)}>{wf.data?.name ?? 'Workflow'}</Link> <span aria-hidden="true">›</span>{' '}
        <span aria-current="page">Webhook inbox</span>
      </nav>
      <div className="page-head">
        <h1>Webhook inbox</h1>
        <p className="muted">Every request the webhook received, accepted or not, newest first.</p>
      </div>
      {inbox.isPending ? (
        <Loading what="the inbox" />
      ) : inbox.isError && !inbox.data ? (
        <ErrorNotice error={inbox.error} what="the inbox" onRetry={() => void inbox.refetch()} />
      ) : items.length === 0 ? (
        <div className="empty empty--small">
          <p className="empty__title">No requests yet</p>
          {wf.data?.webhook_url ? (
            <p>
              Requests to <code>{wf.data.webhook_url}</code> appear here.
            </p>
          ) : (
            <p>This workflow has no webhook trigger.</p>
          )}
        </div>
      ) : (
        <ol className="inbox-list">
          {items.map((item) => (
            <li key={item.id} className="inbox-item" data-verdict={item.verdict} data-inbox-id={item.id}>
              <div className="inbox-item__head">
                <span className={`badge badge--${TONE[item.verdict] ?? 'neutral'}`}>{item.verdict}</span>
                <span className="method">{item.method}</span>
                <span className="inbox-item__reason">{item.reason || (item.verdict === 'accepted' ? 'started a run' : '')}</span>
                <span className="muted small">
                  <RelativeTime value={item.received_at} now={now} /> · {item.body_size} bytes · from {item.source_ip || 'unknown'}
                </span>
                {item.run_id ? <Link to={runRoute(item.run_id)}>run {shortId(item.run_id)}</Link> : null}
                <span className="app-header__spacer" />
                {wf.data?.webhook_url ? <CopyButton text={toCurl(item, wf.data.webhook_url)} label="Copy as curl" /> : null}
                {canEdit ? <ItemActions workflowId={workflowId} item={item} /> : null}
                <button
                  type="button"
                  className="btn btn--small"
                  aria-expanded={open === item.id}
                  onClick={() => setOpen(open === item.id ? null : item.id)}
                >
                  {open === item.id ? 'Hide' : 'Show'} request
                </button>
              </div>
              {open === item.id ? (
                <div className="io-grid">
                  <div>
                    <h2 className="h5">Headers (secrets redacted)</h2>
                    <HeaderTable headers={item.headers} label="Request headers" />
                  </div>
                  <div>
                    <h2 className="h5">Raw body · received {formatDateTime(item.received_at)}</h2>
                    <pre className="json" tabIndex={0} aria-label="Raw body">
                      {prettyBody(item.body) || '(empty)'}
                    </pre>
                  </div>
                </div>
              ) : null}
            </li>
          ))}
        </ol>
      )}
    </>
  )
}
