// The admin area (admins only; the server refuses everyone else too): users with
// invitations and reset links, API keys, the audit log, instance settings. Connectors
// have their own file (ConnectorsPage.tsx). Every call is typed from the OpenAPI document.

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useEffect, useId, useState, type FormEvent, type InputHTMLAttributes, type ReactNode } from 'react'
import { ApiError, type Role, type Schemas } from '../../api.ts'
import { useApi } from '../../apiContext.ts'
import { useSession } from '../../auth.tsx'
import { Alert, CopyButton, ErrorNotice, errorText, FormActions, Link, Loading, Modal, RelativeTime, TableHead, useNow } from '../../components.tsx'
import { formatDateTime } from '../../format.ts'
import './admin.css'

export type AdminUser = Schemas['User']
export type ApiKey = Schemas['APIKey']
export type AuditEntry = Schemas['AuditEntry']

export const ADMIN_TABS = [
  { to: '/admin/users', label: 'Users' },
  { to: '/admin/keys', label: 'API keys' },
  { to: '/admin/audit', label: 'Audit log' },
  { to: '/admin/connectors', label: 'Connectors' },
  { to: '/admin/settings', label: 'Settings' },
] as const

/** The frame of every admin page: title, tabs, and a refusal for non-admins. */
export function AdminFrame({ title, current, children }: { title: string; current: string; children: ReactNode }) {
  const { me } = useSession()
  useEffect(() => {
    document.title = `${title} · Admin · Switchboard`
  }, [title])
  return (
    <>
      <h1>{title}</h1>
      <nav aria-label="Admin" className="admin-tabs">
        {ADMIN_TABS.map((t) => (
          <Link key={t.to} to={t.to} current={t.to === current}>
            {t.label}
          </Link>
        ))}
      </nav>
      {me.role !== 'admin' ? (
        <div className="notice" role="status">
          <p>The admin area is for admins. You are signed in as {me.role}; ask an admin if you need something changed here.</p>
        </div>
      ) : (
        children
      )}
    </>
  )
}

const ROLES: Role[] = ['admin', 'editor', 'viewer']
const ROLE_HELP: Record<Role, string> = {
  admin: 'everything, including users, keys and connectors',
  editor: 'builds, tests and replays workflows; manages connections',
  viewer: 'reads workflows and runs; changes nothing',
}

function RoleSelect({ id, value, onChange, label }: { id: string; value: Role; onChange: (r: Role) => void; label?: string }) {
  return (
    <select id={id} value={value} onChange={(e) => onChange(e.target.value as Role)} aria-label={label}>
      {ROLES.map((r) => (
        <option key={r} value={r}>
          {r}
        </option>
      ))}
    </select>
  )
}

/** A one-time link or key, shown once with a copy button. */
function ShownOnce({ label, value, note, onDone }: { label: string; value: string; note: string; onDone: () => void }) {
  return (
    <div className="notice shown-once" role="status" aria-label={label}>
      <p>
        <strong>{label}</strong> — {note}
      </p>
      <p className="shown-once__value">
        <code data-testid="shown-once">{value}</code> <CopyButton text={value} label={`Copy ${label.toLowerCase()}`} />{' '}
        <button type="button" className="btn btn--small" onClick={onDone}>
          Done
        </button>
      </p>
    </div>
  )
}

// ---- users ---------------------------------------------------------------------

export function UsersPage() {
  const api = useApi()
  const qc = useQueryClient()
  const { me } = useSession()
  const users = useQuery({ queryKey: ['admin', 'users'], queryFn: ({ signal }) => api.op('GET', '/api/v1/users', { signal }) })
  const [link, setLink] = useState<{ label: string; url: string; note: string } | null>(null)
  const [inviting, setInviting] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const refresh = () => qc.invalidateQueries({ queryKey: ['admin', 'users'] })
  const patch = useMutation({
    mutationFn: (v: { id: string; body: Schemas['UserPatch'] }) => api.op('PATCH', '/api/v1/users/{id}', { path: { id: v.id }, body: v.body }),
    onSuccess: () => {
      setError(null)
      void refresh()
    },
    onError: (e) => setError(errorText(e)),
  })
  const reset = useMutation({
    mutationFn: (u: AdminUser) => api.op('POST', '/api/v1/users/{id}/reset-link', { path: { id: u.id } }),
    onSuccess: (l, u) => {
      setError(null)
      setLink({ label: 'Password reset link', url: l.url, note: `send it to ${u.email}; it works once, until ${formatDateTime(l.expires_at)}. Their password keeps working until they use it.` })
    },
    onError: (e) => setError(errorText(e)),
  })
  const remove = useMutation({
    mutationFn: (u: AdminUser) => api.op('DELETE', '/api/v1/users/{id}', { path: { id: u.id } }),
    onSuccess: () => void refresh(),
    onError: (e) => setError(errorText(e)),
  })
  const items = users.data?.items ?? []
  return (
    <AdminFrame title="Users" current="/admin/users">
      <p className="muted">
        Invite people with a one-time link: they choose their own password. Roles: {ROLES.map((r) => `${r} (${ROLE_HELP[r]})`).join('; ')}.
      </p>
      {link ? <ShownOnce label={link.label} value={link.url} note={link.note} onDone={() => setLink(null)} /> : null}
      <Alert error={error} />
      <div className="toolbar">
        <button type="button" className="btn btn--primary" onClick={() => setInviting(true)}>
          Invite a user
        </button>
      </div>
      {inviting ? (
        <InviteDialog
          onClose={() => setInviting(false)}
          onInvited={(r) => {
            setInviting(false)
            void refresh()
            setLink({ label: 'Invitation link', url: r.link.url, note: `send it to ${r.user.email}; it works once, until ${formatDateTime(r.link.expires_at)}.` })
          }}
        />
      ) : null}
      {users.isPending ? <Loading what="users" /> : null}
      {users.error ? <ErrorNotice error={users.error} what="users" onRetry={() => void users.refetch()} /> : null}
      {items.length ? (
        <div className="table-wrap">
          <table className="table">
            <TableHead columns={['User', 'Role', 'State', 'Actions']} />
            <tbody>
              {items.map((u) => {
                const self = u.id === me.user?.id
                return (
                  <tr key={u.id}>
                    <th scope="row">
                      {u.name ? <span>{u.name} · </span> : null}
                      <span className="mono">{u.email}</span>
                      {self ? <span className="muted"> (you)</span> : null}
                    </th>
                    <td>
                      <RoleSelect
                        id={`role-${u.id}`}
                        label={`Role of ${u.email}`}
                        value={u.role}
                        onChange={(role) => patch.mutate({ id: u.id, body: { role } })}
                      />
                    </td>
                    <td>
                      {u.disabled ? (
                        <span className="badge badge--muted">disabled</span>
                      ) : u.invite_pending ? (
                        <span className="badge badge--warning">invited</span>
                      ) : (
                        <span className="badge badge--success">active</span>
                      )}
                    </td>
                    <td className="row-actions">
                      <button type="button" className="btn btn--small" onClick={() => reset.mutate(u)} aria-label={`Reset password for ${u.email}`}>
                        Reset password
                      </button>
                      <button
                        type="button"
                        className="btn btn--small"
                        onClick={() => patch.mutate({ id: u.id, body: { disabled: !u.disabled } })}
                        aria-label={`${u.disabled ? 'Enable' : 'Disable'} ${u.email}`}
                      >
                        {u.disabled ? 'Enable' : 'Disable'}
                      </button>
                      {!self ? (
                        <button
                          type="button"
                          className="btn btn--small btn--danger"
                          aria-label={`Delete ${u.email}`}
                          onClick={() => {
                            if (window.confirm(`Delete ${u.email}? Their API keys are revoked too.`)) remove.mutate(u)
                          }}
                        >
                          Delete
                        </button>
                      ) : null}
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </div>
      ) : null}
    </AdminFrame>
  )
}

function InviteDialog({ onClose, onInvited }: { onClose: () => void; onInvited: (r: Schemas['InvitedUser']) => void }) {
  const api = useApi()
  const id = useId()
  const [email, setEmail] = useState('')
  const [name, setName] = useState('')
  const [role, setRole] = useState<Role>('editor')
  const invite = useMutation({
    mutationFn: () => api.op('POST', '/api/v1/users/invite', { body: { email: email.trim(), name: name.trim() || undefined, role } }),
    onSuccess: onInvited,
  })
  const submit = (e: FormEvent) => {
    e.preventDefault()
    invite.mutate()
  }
  const fieldErr = (path: string) => (invite.error instanceof ApiError ? invite.error.fieldErrors.find((f) => f.path === path)?.message : undefined)
  return (
    <Modal title="Invite a user" onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <Alert error={!fieldErr('email') && !fieldErr('role') && invite.error} />
        <InputField
          id={`${id}-email`}
          label="E-mail"
          error={fieldErr('email') ? `E-mail ${fieldErr('email')}` : undefined}
          type="email"
          value={email}
          required
          data-autofocus
          onChange={(e) => setEmail(e.target.value)}
        />
        <div className="field">
          <label htmlFor={`${id}-name`}>Name (optional)</label>
          <input id={`${id}-name`} type="text" value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-role`}>Role</label>
          <RoleSelect id={`${id}-role`} value={role} onChange={setRole} />
          <p className="field__help">{ROLE_HELP[role]}</p>
        </div>
        <FormActions onCancel={onClose} busy={invite.isPending} busyLabel="Inviting…" label="Create invitation link" />
      </form>
    </Modal>
  )
}

// ---- API keys ------------------------------------------------------------------

export function KeysPage() {
  const api = useApi()
  const qc = useQueryClient()
  const now = useNow(30_000)
  const id = useId()
  const keys = useQuery({ queryKey: ['admin', 'keys'], queryFn: ({ signal }) => api.op('GET', '/api/v1/api-keys', { signal }) })
  const [name, setName] = useState('')
  const [role, setRole] = useState<Role>('editor')
  const [shown, setShown] = useState<string | null>(null)
  const refresh = () => qc.invalidateQueries({ queryKey: ['admin', 'keys'] })
  const create = useMutation({
    mutationFn: () => api.op('POST', '/api/v1/api-keys', { body: { name: name.trim(), role } }),
    onSuccess: (k) => {
      setShown(k.key)
      setName('')
      void refresh()
    },
  })
  const revoke = useMutation({
    mutationFn: (k: ApiKey) => api.op('DELETE', '/api/v1/api-keys/{id}', { path: { id: k.id } }),
    onSuccess: () => void refresh(),
  })
  const origin = typeof window === 'undefined' ? '' : window.location.origin
  return (
    <AdminFrame title="API keys" current="/admin/keys">
      <p className="muted">
        Programs call the API with a key: <code>Authorization: Bearer sbk_…</code>. A key acts for the admin who made it and never has more rights
        than they have now.
      </p>
      {shown ? (
        <div className="notice shown-once" role="status" aria-label="New API key">
          <p>
            <strong>New API key</strong> — shown only now; store it where the program reads it.
          </p>
          <p className="shown-once__value">
            <code data-testid="shown-once">{shown}</code> <CopyButton text={shown} label="Copy API key" />{' '}
            <button type="button" className="btn btn--small" onClick={() => setShown(null)}>
              Done
            </button>
          </p>
          <p className="small">
            Try it: <code className="mono">curl -H &quot;Authorization: Bearer {shown.slice(0, 8)}…&quot; {origin}/api/v1/workflows</code>
          </p>
        </div>
      ) : null}
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault()
          create.mutate()
        }}
        aria-labelledby={`${id}-title`}
      >
        <h2 id={`${id}-title`} className="h2">
          Create a key
        </h2>
        <div className="field">
          <label htmlFor={`${id}-name`}>Name</label>
          <input id={`${id}-name`} type="text" value={name} required placeholder="e.g. deploy script" onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-role`}>Role</label>
          <RoleSelect id={`${id}-role`} value={role} onChange={setRole} />
        </div>
        <button type="submit" className="btn btn--primary" disabled={create.isPending}>
          Create key
        </button>
        <Alert error={create.error} inline />
      </form>
      {keys.isPending ? <Loading what="API keys" /> : null}
      {keys.error ? <ErrorNotice error={keys.error} what="API keys" onRetry={() => void keys.refetch()} /> : null}
      {keys.data?.items?.length ? (
        <div className="table-wrap">
          <table className="table">
            <TableHead columns={['Name', 'Key', 'Role', 'Owner', 'Last used', 'State']} />
            <tbody>
              {keys.data.items.map((k) => (
                <tr key={k.id}>
                  <th scope="row">{k.name}</th>
                  <td className="mono">{k.prefix}…</td>
                  <td>
                    {k.role}
                    {k.effective_role && k.effective_role !== k.role ? <span className="muted"> (acts as {k.effective_role})</span> : null}
                  </td>
                  <td>{k.owner ? (k.owner.deleted ? 'deleted user' : k.owner.email) : <span className="muted">command line</span>}</td>
                  <td>{k.last_used_at ? <RelativeTime value={k.last_used_at} now={now} /> : <span className="muted">never</span>}</td>
                  <td>
                    {k.revoked_at ? (
                      <span className="badge badge--muted">revoked</span>
                    ) : (
                      <>
                      {!k.effective_role ? (
                        <span className="badge badge--muted" title="its owner is disabled or deleted, so the key is refused">
                          inactive ({k.owner?.deleted ? 'owner deleted' : 'owner disabled'}){' '}
                        </span>
                      ) : null}
                      <button
                        type="button"
                        className="btn btn--small btn--danger"
                        aria-label={`Revoke ${k.name}`}
                        onClick={() => {
                          if (window.confirm(`Revoke the key ${k.name}? Programs using it stop working at once.`)) revoke.mutate(k)
                        }}
                      >
                        Revoke
                      </button>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : keys.data ? (
        <p className="muted">No API keys yet.</p>
      ) : null}
    </AdminFrame>
  )
}

// ---- audit log -----------------------------------------------------------------

interface AuditFilters {
  actor: string
  action: string
  since: string
  until: string
}

/** A datetime-local value ("2026-12-04T10:00") as RFC 3339 in UTC ('' stays ''). */
export function localToRFC3339(v: string): string {
  if (!v) return ''
  const d = new Date(v)
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** "what changed" of an audit entry, in short words. */
export function describeDetail(detail: Record<string, unknown> | undefined): string[] {
  if (!detail) return []
  const out: string[] = []
  const changes = detail.changes as Record<string, unknown> | undefined
  if (changes) {
    for (const [k, v] of Object.entries(changes)) {
      out.push(Array.isArray(v) ? `${k}: ${String(v[0])} → ${String(v[1])}` : `${k} changed`)
    }
  }
  for (const [k, v] of Object.entries(detail)) {
    if (k === 'changes' || k === 'request') continue
    out.push(`${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
  }
  return out
}

export function AuditPage() {
  const api = useApi()
  const id = useId()
  const [draft, setDraft] = useState<AuditFilters>({ actor: '', action: '', since: '', until: '' })
  const [filters, setFilters] = useState<AuditFilters>(draft)
  const [cursor, setCursor] = useState<string[]>([])
  const query = {
    actor: filters.actor || undefined,
    action: filters.action || undefined,
    since: localToRFC3339(filters.since) || undefined,
    until: localToRFC3339(filters.until) || undefined,
    cursor: cursor[cursor.length - 1],
  }
  const audit = useQuery({
    queryKey: ['admin', 'audit', query],
    queryFn: ({ signal }) => api.op('GET', '/api/v1/audit', { query, signal }),
  })
  const set = (k: keyof AuditFilters) => (e: { target: { value: string } }) => setDraft({ ...draft, [k]: e.target.value })
  return (
    <AdminFrame title="Audit log" current="/admin/audit">
      <p className="muted">Who changed what, newest first. Secrets in requests are never kept.</p>
      <form
        className="filters"
        aria-label="Filter the audit log"
        onSubmit={(e) => {
          e.preventDefault()
          setCursor([])
          setFilters(draft)
        }}
      >
        <div className="field">
          <label htmlFor={`${id}-actor`}>Actor</label>
          <input id={`${id}-actor`} type="search" value={draft.actor} placeholder="name, e-mail or id" onChange={set('actor')} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-action`}>Action</label>
          <input id={`${id}-action`} type="search" value={draft.action} placeholder="user.update, or user. for all" onChange={set('action')} list={`${id}-actions`} />
          <datalist id={`${id}-actions`}>
            {['user.', 'api_key.', 'connection.', 'connector.', 'workflow.', 'settings.', 'run.', 'auth.'].map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
        </div>
        <div className="field">
          <label htmlFor={`${id}-since`}>From</label>
          <input id={`${id}-since`} type="datetime-local" value={draft.since} onChange={set('since')} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-until`}>Until</label>
          <input id={`${id}-until`} type="datetime-local" value={draft.until} onChange={set('until')} />
        </div>
        <button type="submit" className="btn btn--primary">
          Apply
        </button>
      </form>
      {audit.isPending ? <Loading what="the audit log" /> : null}
      {audit.error ? <ErrorNotice error={audit.error} what="the audit log" onRetry={() => void audit.refetch()} /> : null}
      {audit.data ? (
        audit.data.items?.length ? (
          <div className="table-wrap">
            <table className="table table--compact" aria-label="Audit entries">
              <TableHead columns={['When', 'Who', 'Action', 'Target', 'What changed']} />
              <tbody>
                {audit.data.items.map((e) => (
                  <tr key={e.id}>
                    <td>{formatDateTime(e.at)}</td>
                    <td>
                      {e.actor_name || e.actor_id || 'anonymous'} <span className="muted small">({e.actor_kind})</span>
                    </td>
                    <td className="mono">{e.action}</td>
                    <td className="small">
                      {e.target_name ? (
                        <span title={e.target_id}>
                          {e.target_name} <span className="muted">({e.target_type.replace('_', ' ')})</span>
                        </span>
                      ) : (
                        <span className="mono">{e.target_id}</span>
                      )}
                    </td>
                    <td>
                      <AuditDetail entry={e} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p className="muted">No entries match.</p>
        )
      ) : null}
      <div className="toolbar">
        {cursor.length ? (
          <button type="button" className="btn" onClick={() => setCursor(cursor.slice(0, -1))}>
            Newer
          </button>
        ) : null}
        {audit.data?.next_cursor ? (
          <button type="button" className="btn" onClick={() => setCursor([...cursor, audit.data.next_cursor])}>
            Older
          </button>
        ) : null}
      </div>
    </AdminFrame>
  )
}

function AuditDetail({ entry }: { entry: AuditEntry }) {
  const lines = describeDetail(entry.detail as Record<string, unknown> | undefined)
  const request = (entry.detail as Record<string, unknown> | undefined)?.request
  return (
    <>
      {lines.length ? (
        <ul className="plain-list">
          {lines.map((l) => (
            <li key={l}>{l}</li>
          ))}
        </ul>
      ) : null}
      {request !== undefined ? (
        <details>
          <summary>Request</summary>
          <pre className="json small">{JSON.stringify(request, null, 2)}</pre>
        </details>
      ) : null}
      {!lines.length && request === undefined ? <span className="muted">—</span> : null}
    </>
  )
}

// ---- settings ------------------------------------------------------------------

export function SettingsPage() {
  const api = useApi()
  const qc = useQueryClient()
  const id = useId()
  const settings = useQuery({ queryKey: ['admin', 'settings'], queryFn: ({ signal }) => api.op('GET', '/api/v1/settings', { signal }) })
  const [maxAge, setMaxAge] = useState<string | null>(null)
  const [maxRuns, setMaxRuns] = useState<string | null>(null)
  const ret = settings.data?.retention
  const save = useMutation({
    mutationFn: () =>
      api.op('PUT', '/api/v1/settings', { body: { retention: { max_age: (maxAge ?? ret?.max_age ?? '').trim(), max_runs: Number(maxRuns ?? ret?.max_runs ?? 0) } } }),
    onSuccess: (data) => {
      qc.setQueryData(['admin', 'settings'], data)
      setMaxAge(null)
      setMaxRuns(null)
    },
  })
  const reset = useMutation({
    mutationFn: () => api.op('DELETE', '/api/v1/settings/retention'),
    onSuccess: (data) => {
      qc.setQueryData(['admin', 'settings'], data)
      setMaxAge(null)
      setMaxRuns(null)
    },
  })
  const fieldErr = (path: string) => (save.error instanceof ApiError ? save.error.fieldErrors.find((f) => f.path === path)?.message : undefined)
  return (
    <AdminFrame title="Settings" current="/admin/settings">
      <p className="muted">Settings that are safe to change while Switchboard runs. Every process applies them on its next pass, without a restart.</p>
      {settings.isPending ? <Loading what="settings" /> : null}
      {settings.error ? <ErrorNotice error={settings.error} what="settings" onRetry={() => void settings.refetch()} /> : null}
      {ret ? (
        <form
          className="panel settings-form"
          aria-labelledby={`${id}-title`}
          noValidate
          onSubmit={(e) => {
            e.preventDefault()
            save.mutate()
          }}
        >
          <h2 id={`${id}-title`} className="h2">
            Run history retention
          </h2>
          <p className="small">
            {ret.source === 'admin'
              ? `Set here${ret.updated_by ? ` by ${ret.updated_by}` : ''}${ret.updated_at ? ` on ${formatDateTime(ret.updated_at)}` : ''}. `
              : 'From the configuration. '}
            The configuration says {ret.default.max_age === '0' ? 'keep forever' : ret.default.max_age} and {ret.default.max_runs || 'no limit of'} runs per
            workflow (SWITCHBOARD_RETENTION_AGE, SWITCHBOARD_RETENTION_RUNS). A workflow&apos;s own retention setting still wins.
          </p>
          <Alert error={!fieldErr('retention.max_age') && !fieldErr('retention.max_runs') && save.error} />
          <InputField
            id={`${id}-age`}
            label="Keep runs for"
            help="A duration such as 720h (30 days) or 90m; 0 keeps runs forever."
            error={fieldErr('retention.max_age')}
            type="text"
            value={maxAge ?? ret.max_age}
            onChange={(e) => setMaxAge(e.target.value)}
          />
          <InputField
            id={`${id}-runs`}
            label="Newest runs kept per workflow"
            help="0 means no limit."
            error={fieldErr('retention.max_runs')}
            type="number"
            min={0}
            value={maxRuns ?? String(ret.max_runs)}
            onChange={(e) => setMaxRuns(e.target.value)}
          />
          <div className="toolbar">
            <button type="submit" className="btn btn--primary" disabled={save.isPending}>
              Save retention
            </button>
            {ret.source === 'admin' ? (
              <button type="button" className="btn" onClick={() => reset.mutate()} disabled={reset.isPending}>
                Use the configured values
              </button>
            ) : null}
            {save.isSuccess && maxAge === null ? (
              <span role="status" className="small ok-text">
                Saved.
              </span>
            ) : null}
          </div>
        </form>
      ) : null}
    </AdminFrame>
  )
}

/** A labelled input with its help and the server's error for it, both named by aria-describedby. */
function InputField({
  id,
  label,
  help,
  error,
  ...input
}: { id: string; label: string; help?: ReactNode; error?: ReactNode } & InputHTMLAttributes<HTMLInputElement>) {
  const describedBy = [help ? `${id}-help` : '', error ? `${id}-err` : ''].filter(Boolean).join(' ') || undefined
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} {...input} aria-invalid={error ? true : undefined} aria-describedby={describedBy} />
      {help ? (
        <p className="field__help" id={`${id}-help`}>
          {help}
        </p>
      ) : null}
      {error ? (
        <p className="field__error" id={`${id}-err`}>
          {error}
        </p>
      ) : null}
    </div>
  )
}
