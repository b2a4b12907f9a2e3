// Connections: every stored credential with its connector's icon, whether it works
// (connected, or needs attention and why), and the workflows that use it. Forms are
// drawn from the connector's spec; OAuth2 connections connect through the provider's
// consent page and come back here.

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useEffect, useId, useMemo, useState, type FormEvent } from 'react'
import { ApiError, type Connection, type ConnectorSpec, type NewConnection, type Schemas } from '../../api.ts'
import { useApi } from '../../apiContext.ts'
import { useCanEdit } from '../../auth.tsx'
import { Alert, ErrorNotice, errorText, FormActions, Link, Loading, Modal } from '../../components.tsx'
import { OptionList } from '../../editor/fields.tsx'
import { formatDateTime, formatRelative, slugify } from '../../format.ts'
import { editorRoute } from '../../route.ts'
import { ConnectorIcon } from './ConnectorIcon.tsx'
import './connections.css'

// slugify lives in format.ts (the editor's inline connection form derives keys too).
export { slugify }

/** Is this connection authorized with OAuth2 (its connector's kind, or its own settings)? */
export function isOAuth(spec: ConnectorSpec | undefined, conn?: Connection): boolean {
  return spec?.auth.kind === 'oauth2' || !!conn?.oauth
}

type TestState = Schemas['ConnectionTestResult'] | { ok: false; tested: false; message: string; error?: string }

export function ConnectionsPage() {
  const api = useApi()
  const canEdit = useCanEdit()
  const specs = useQuery({ queryKey: ['connectors'], queryFn: ({ signal }) => api.listConnectors(signal) })
  const conns = useQuery({ queryKey: ['connections'], queryFn: ({ signal }) => api.listConnections(signal), refetchInterval: 15_000 })
  const byId = useMemo(() => new Map((specs.data ?? []).map((s) => [s.id, s])), [specs.data])
  const [editing, setEditing] = useState<{ spec: ConnectorSpec; conn?: Connection } | null>(null)
  const [choosing, setChoosing] = useState(false)
  const [tests, setTests] = useState<Record<string, TestState | 'busy'>>({})
  const [deleting, setDeleting] = useState<Connection | null>(null)
  const [banner, setBanner] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)

  useEffect(() => {
    document.title = 'Connections · Switchboard'
    // Back from the provider's consent page (GET /api/v1/oauth/callback redirects here).
    const q = new URLSearchParams(window.location.search)
    if (q.get('oauth') === 'connected') {
      setBanner('The connection is authorized: Switchboard stored its token and refreshes it before it expires.')
      window.history.replaceState(null, '', window.location.pathname)
    }
  }, [])

  const qc = useQueryClient()
  const test = async (c: Connection) => {
    setTests((t) => ({ ...t, [c.id]: 'busy' }))
    try {
      const r = await api.testConnection(c.id)
      setTests((t) => ({ ...t, [c.id]: r }))
    } catch (err) {
      setTests((t) => ({ ...t, [c.id]: { ok: false, tested: false, message: errorText(err) } }))
    }
    // A failed test marks the connection (a passing one clears the mark): show its new status.
    void qc.invalidateQueries({ queryKey: ['connections'] })
  }
  const connect = async (c: Connection) => {
    setError(null)
    try {
      if (c.oauth?.grant === 'client_credentials') {
        await api.op('POST', '/api/v1/connections/{id}/oauth/connect', { path: { id: c.id } })
        setBanner(`${c.name} is connected: the provider issued a token.`)
        void conns.refetch()
        return
      }
      const r = await api.op('POST', '/api/v1/connections/{id}/oauth/start', { path: { id: c.id } })
      window.location.assign(r.authorize_url)
    } catch (err) {
      setError(errorText(err))
    }
  }

  const items = conns.data ?? []
  return (
    <>
      <h1>Connections</h1>
      <p className="muted">
        Credentials that workflow steps use by name. Secrets are stored encrypted and never shown again; leave a secret empty when editing to keep it.
      </p>
      {banner ? (
        <div className="notice" role="status">
          <p>{banner}</p>
        </div>
      ) : null}
      <Alert error={error} />
      {canEdit ? (
        <div className="toolbar">
          <button type="button" className="btn btn--primary" onClick={() => setChoosing(true)} disabled={!specs.data}>
            New connection
          </button>
        </div>
      ) : null}
      {conns.isPending ? <Loading what="connections" /> : null}
      {conns.error ? <ErrorNotice error={conns.error} what="connections" onRetry={() => void conns.refetch()} /> : null}
      {conns.data && !items.length ? <p className="muted">No connections yet.</p> : null}
      {items.length ? (
        <ul className="conn-list" aria-label="Connections">
          {items.map((c) => {
            const spec = byId.get(c.connector)
            const t = tests[c.id]
            return (
              <li key={c.id} className="conn-card panel" aria-labelledby={`conn-${c.id}`}>
                <div className="conn-card__head">
                  <ConnectorIcon icon={spec?.icon} name={spec?.name ?? c.connector} />
                  <div>
                    <h2 className="h2 conn-card__name" id={`conn-${c.id}`}>
                      {c.name}
                    </h2>
                    <p className="small muted">{spec?.name ?? c.connector}</p>
                  </div>
                  <span className="app-header__spacer" />
                  {c.status === 'connected' ? (
                    <span className="badge badge--success">Connected</span>
                  ) : (
                    <span className="badge badge--warning">Needs attention</span>
                  )}
                </div>
                {c.status !== 'connected' && c.attention ? (
                  <p className="conn-card__reason" data-testid={`attention-${c.name}`}>
                    {c.attention}
                    {c.failure && c.failure.reason === c.attention ? (
                      <span className="muted">
                        {' '}
                        ({c.failure.source === 'test' ? 'test failed' : 'refused'} <time dateTime={c.failure.at} title={formatDateTime(c.failure.at)}>{formatRelative(c.failure.at)}</time>)
                      </span>
                    ) : null}
                  </p>
                ) : null}
                <div className="small">
                  {c.used_by.length ? (
                    <>
                      Used by{' '}
                      {c.used_by.map((u, i) => (
                        <span key={u.workflow_id}>
                          {i ? ', ' : ''}
                          <Link to={editorRoute(u.workflow_id)}>{u.workflow_name}</Link>
                          {u.steps.filter(Boolean).length ? <span className="muted"> (step {u.steps.filter(Boolean).join(', ')})</span> : null}
                          {!u.active ? <span className="muted"> · off</span> : null}
                        </span>
                      ))}
                    </>
                  ) : (
                    <span className="muted">Not used by any workflow.</span>
                  )}
                </div>
                {spec?.auth.test ? <p className="small muted">Test: {spec.auth.test}</p> : null}
                {canEdit ? (
                  <div className="row-actions">
                    <button type="button" className="btn btn--small" onClick={() => void test(c)} disabled={t === 'busy'} aria-label={`Test ${c.name}`}>
                      {t === 'busy' ? 'Testing…' : 'Test'}
                    </button>
                    {isOAuth(spec, c) ? (
                      <button type="button" className="btn btn--small btn--primary" onClick={() => void connect(c)} aria-label={`${c.oauth?.connected ? 'Reconnect' : 'Connect'} ${c.name}`}>
                        {c.oauth?.connected ? 'Reconnect' : 'Connect'}
                      </button>
                    ) : null}
                    <button type="button" className="btn btn--small" onClick={() => spec && setEditing({ spec, conn: c })} disabled={!spec} aria-label={`Edit ${c.name}`}>
                      Edit
                    </button>
                    <button type="button" className="btn btn--small btn--danger" onClick={() => setDeleting(c)} aria-label={`Delete ${c.name}`}>
                      Delete
                    </button>
                  </div>
                ) : null}
                {t && t !== 'busy' ? (
                  <p role="status" className={`small ${t.ok ? 'ok-text' : t.tested ? 'error-text' : ''}`} data-testid={`test-result-${c.name}`}>
                    {t.ok ? '✓ ' : t.tested ? '✗ ' : ''}
                    {t.message || t.error}
                  </p>
                ) : null}
              </li>
            )
          })}
        </ul>
      ) : null}
      {choosing && specs.data ? (
        <ChooseConnector
          specs={specs.data}
          onClose={() => setChoosing(false)}
          onChoose={(spec) => {
            setChoosing(false)
            setEditing({ spec })
          }}
        />
      ) : null}
      {editing ? <ConnectionForm spec={editing.spec} conn={editing.conn} onClose={() => setEditing(null)} /> : null}
      {deleting ? <DeleteConnection conn={deleting} onClose={() => setDeleting(null)} /> : null}
    </>
  )
}

function ChooseConnector({ specs, onClose, onChoose }: { specs: ConnectorSpec[]; onClose: () => void; onChoose: (s: ConnectorSpec) => void }) {
  return (
    <Modal title="New connection: which app?" onClose={onClose}>
      <ul className="add-step__list">
        {specs.map((s) => (
          <li key={s.id}>
            <button type="button" className="add-step__item" onClick={() => onChoose(s)}>
              <ConnectorIcon icon={s.icon} name={s.name} />
              <span className="add-step__name">{s.name}</span>
              {s.description ? <span className="add-step__help">{s.description}</span> : null}
            </button>
          </li>
        ))}
      </ul>
    </Modal>
  )
}

/** Create or edit a connection; the fields come from the connector's spec. */
export function ConnectionForm({ spec, conn, onClose }: { spec: ConnectorSpec; conn?: Connection; onClose: () => void }) {
  const api = useApi()
  const qc = useQueryClient()
  const uid = useId()
  const fields = spec.auth.fields ?? []
  const [label, setLabel] = useState(conn?.name ?? '')
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(Object.entries(conn?.fields ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])),
  )
  const oauthWanted = spec.auth.kind === 'oauth2' || !!conn?.oauth
  const [useOAuth, setUseOAuth] = useState(oauthWanted)
  const [oauth, setOAuth] = useState<Record<string, string>>(() => ({
    grant: conn?.oauth?.grant ?? 'authorization_code',
    client_id: conn?.oauth?.client_id ?? '',
    client_secret: '',
    auth_url: conn?.oauth?.auth_url ?? '',
    token_url: conn?.oauth?.token_url ?? '',
    scopes: conn?.oauth?.scopes ?? '',
  }))
  const key = conn ? conn.name : slugify(label)
  const save = useMutation({
    mutationFn: () => {
      const payload: NewConnection = { name: key, connector: spec.id, fields: {} }
      for (const f of fields) {
        const v = values[f.key]
        if (v !== undefined && v !== '') payload.fields![f.key] = v
      }
      if (useOAuth) {
        const o = Object.fromEntries(Object.entries(oauth).filter(([, v]) => v !== ''))
        payload.oauth2 = o
      }
      return conn ? api.op('PUT', '/api/v1/connections/{id}', { path: { id: conn.id }, body: payload }) : api.createConnection(payload)
    },
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['connections'] })
      onClose()
    },
  })
  const fieldErr = (k: string) => (save.error instanceof ApiError ? save.error.fieldErrors.find((f) => f.path === k || f.path === `fields.${k}`)?.message : undefined)
  const submit = (e: FormEvent) => {
    e.preventDefault()
    save.mutate()
  }
  return (
    <Modal title={conn ? `Edit ${conn.name}` : `New ${spec.name} connection`} onClose={onClose} wide>
      <form onSubmit={submit} noValidate>
        <Alert error={save.error} />
        <div className="field">
          <label htmlFor={`${uid}-name`}>Name</label>
          <input
            id={`${uid}-name`}
            type="text"
            value={label}
            disabled={!!conn}
            data-autofocus
            required
            placeholder={`e.g. Sales ${spec.name}`}
            aria-describedby={`${uid}-name-help`}
            onChange={(e) => setLabel(e.target.value)}
          />
          <p className="field__help" id={`${uid}-name-help`}>
            {conn ? 'The name steps use cannot change.' : <>Steps use it as <code>{key || '…'}</code>.</>}
          </p>
          {fieldErr('name') ? <p className="field__error">{fieldErr('name')}</p> : null}
        </div>
        {fields.map((f) => {
          const fid = `${uid}-${f.key}`
          const err = fieldErr(f.key)
          const kept = f.secret && conn?.secret_set?.[f.key]
          const help = [f.help, kept ? 'Stored; leave empty to keep it.' : '', f.default !== undefined ? `Default: ${String(f.default)}` : ''].filter(Boolean).join(' ')
          return (
            <div className="field" key={f.key}>
              <label htmlFor={fid}>
                {f.label}
                {f.required ? <span className="required-mark"> (required)</span> : null}
              </label>
              {f.type === 'select' ? (
                <select id={fid} value={values[f.key] ?? String(f.default ?? '')} onChange={(e) => setValues({ ...values, [f.key]: e.target.value })}>
                  {f.default === undefined ? <option value="">—</option> : null}
                  <OptionList options={f.options} />
                </select>
              ) : f.type === 'text' ? (
                <textarea id={fid} rows={4} value={values[f.key] ?? ''} aria-describedby={help ? `${fid}-help` : undefined} onChange={(e) => setValues({ ...values, [f.key]: e.target.value })} />
              ) : (
                <input
                  id={fid}
                  type={f.secret ? 'password' : 'text'}
                  autoComplete={f.secret ? 'new-password' : 'off'}
                  value={values[f.key] ?? ''}
                  placeholder={kept ? '••••••••' : f.default !== undefined ? String(f.default) : undefined}
                  aria-invalid={err ? true : undefined}
                  aria-describedby={help ? `${fid}-help` : undefined}
                  onChange={(e) => setValues({ ...values, [f.key]: e.target.value })}
                />
              )}
              {help ? (
                <p className="field__help" id={`${fid}-help`}>
                  {help}
                </p>
              ) : null}
              {err ? <p className="field__error">{err}</p> : null}
            </div>
          )
        })}
        {spec.auth.kind !== 'oauth2' ? (
          <div className="field field--check">
            <label className="check">
              <input type="checkbox" checked={useOAuth} onChange={(e) => setUseOAuth(e.target.checked)} /> Authorize with OAuth2 instead
            </label>
          </div>
        ) : null}
        {useOAuth ? (
          <fieldset className="path-box">
            <legend>OAuth2</legend>
            <div className="field">
              <label htmlFor={`${uid}-grant`}>Grant</label>
              <select id={`${uid}-grant`} value={oauth.grant} onChange={(e) => setOAuth({ ...oauth, grant: e.target.value })}>
                <option value="authorization_code">A person consents in the browser (authorization code)</option>
                <option value="client_credentials">Server to server (client credentials)</option>
              </select>
            </div>
            {(
              [
                ['client_id', 'Client ID', 'text'],
                ['client_secret', 'Client secret', 'password'],
                ...(oauth.grant === 'authorization_code' ? [['auth_url', 'Authorization URL', 'url']] : []),
                ['token_url', 'Token URL', 'url'],
                ['scopes', 'Scopes (space-separated)', 'text'],
              ] as Array<[string, string, string]>
            ).map(([k, l, type]) => (
              <div className="field" key={k}>
                <label htmlFor={`${uid}-o-${k}`}>{l}</label>
                <input
                  id={`${uid}-o-${k}`}
                  type={type}
                  value={oauth[k] ?? ''}
                  placeholder={k === 'client_secret' && conn?.oauth?.client_secret_set ? '•••••••• (kept when empty)' : undefined}
                  autoComplete={k === 'client_secret' ? 'new-password' : 'off'}
                  onChange={(e) => setOAuth({ ...oauth, [k]: e.target.value })}
                />
                {fieldErr(`oauth2.${k}`) ? <p className="field__error">{fieldErr(`oauth2.${k}`)}</p> : null}
              </div>
            ))}
            <p className="field__help">After saving, use Connect on the connection to authorize it.</p>
          </fieldset>
        ) : null}
        <FormActions onCancel={onClose} busy={save.isPending} disabled={save.isPending || !key} busyLabel="Saving…" label="Save connection" />
      </form>
    </Modal>
  )
}

function DeleteConnection({ conn, onClose }: { conn: Connection; onClose: () => void }) {
  const api = useApi()
  const qc = useQueryClient()
  const descId = useId()
  const remove = useMutation({
    mutationFn: () => api.op('DELETE', '/api/v1/connections/{id}', { path: { id: conn.id } }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['connections'] })
      onClose()
    },
  })
  return (
    <Modal title={`Delete ${conn.name}?`} onClose={onClose} describedBy={descId}>
      <div id={descId}>
        {conn.used_by.length ? (
          <>
            <p>
              <strong>
                {conn.used_by.length} workflow{conn.used_by.length === 1 ? ' uses' : 's use'} it
              </strong>
              ; their steps fail until you pick another connection:
            </p>
            <ul data-testid="delete-used-by">
              {conn.used_by.map((u) => (
                <li key={u.workflow_id}>
                  {u.workflow_name}
                  {u.active ? ' (on)' : ' (off)'}
                </li>
              ))}
            </ul>
          </>
        ) : (
          <p>No workflow uses it.</p>
        )}
        <p>The stored secrets are deleted; this cannot be undone.</p>
      </div>
      <Alert error={remove.error} inline />
      <div className="modal__actions">
        <button type="button" className="btn" onClick={onClose} data-autofocus>
          Keep it
        </button>
        <button type="button" className="btn btn--danger" onClick={() => remove.mutate()} disabled={remove.isPending}>
          Delete connection
        </button>
      </div>
    </Modal>
  )
}
