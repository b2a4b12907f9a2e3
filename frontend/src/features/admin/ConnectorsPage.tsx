// Admin › Connectors: every installed connector (built-ins read-only), and adding one
// without a rebuild: a declarative YAML/JSON file (uploaded or pasted, checked with its
// inline tests, problems shown on their lines) or a WebAssembly plugin.

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useId, useState, type ChangeEvent } from 'react'
import { ApiError, type Schemas } from '../../api.ts'
import { useApi } from '../../apiContext.ts'
import { Alert, ErrorNotice, errorText, Loading, Switch, TableHead } from '../../components.tsx'
import { formatDateTime } from '../../format.ts'
import { ConnectorIcon } from '../connections/ConnectorIcon.tsx'
import { AdminFrame } from './AdminPages.tsx'
import { FileEditor, type LineProblem } from './FileEditor.tsx'

export type Installed = Schemas['InstalledConnector']

const EXAMPLE = `id: acme
name: Acme CRM
version: 1.0.0
base_url: https://api.acme.example/v2
auth:
  type: bearer
  credential: token
  fields:
    - {key: token, label: API token, type: string, required: true, secret: true}
actions:
  - id: add_contact
    name: Add a contact
    input:
      - {key: email, label: E-mail, type: string, required: true}
    method: POST
    path: /contacts
    body: {email: "{{ input.email }}"}
    output: {id: "{{ response.body.id }}"}
tests:
  - action: add_contact
    input: {email: ada@example.com}
    credentials: {token: t0k}
    expect:
      method: POST
      path: /v2/contacts
      headers: {Authorization: Bearer t0k}
      body: {email: ada@example.com}
    response: {status: 201, body: {id: 7}}
    output: {id: 7}
`

/** The media type to send a file as: JSON when it looks like JSON, else YAML. */
export function fileType(text: string, name = ''): 'application/json' | 'application/yaml' {
  if (name.endsWith('.json')) return 'application/json'
  if (name.endsWith('.yaml') || name.endsWith('.yml')) return 'application/yaml'
  return text.trimStart().startsWith('{') ? 'application/json' : 'application/yaml'
}

/** The problems of a refused upload that name a line (the rest are shown as a list). */
export function lineProblems(err: unknown): LineProblem[] {
  if (!(err instanceof ApiError)) return []
  return err.fieldErrors.filter((f) => (f.line ?? 0) > 0).map((f) => ({ line: f.line!, message: f.message, path: f.path || undefined }))
}

export function ConnectorsPage() {
  const api = useApi()
  const qc = useQueryClient()
  const id = useId()
  const installed = useQuery({ queryKey: ['admin', 'connectors'], queryFn: ({ signal }) => api.op('GET', '/api/v1/connectors/installed', { signal }) })
  const [text, setText] = useState('')
  const [result, setResult] = useState<Installed | null>(null)
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: ['admin', 'connectors'] })
    void qc.invalidateQueries({ queryKey: ['connectors'] })
  }
  const upload = useMutation({
    mutationFn: (raw: { type: string; data: string | Blob }) => api.op('POST', '/api/v1/connectors', { raw }),
    onSuccess: (info) => {
      setResult(info)
      refresh()
    },
    onMutate: () => setResult(null),
  })
  const onFile = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0]
    e.target.value = ''
    if (!file) return
    if (file.name.endsWith('.wasm')) {
      upload.mutate({ type: 'application/wasm', data: file })
      return
    }
    const t = await file.text()
    setText(t)
    upload.mutate({ type: fileType(t, file.name), data: t })
  }
  const problems = lineProblems(upload.error)
  const otherProblems = upload.error instanceof ApiError ? upload.error.fieldErrors.filter((f) => !f.line) : []
  const items = installed.data?.items ?? []
  const builtins = items.filter((c) => c.origin === 'builtin')
  const added = items.filter((c) => c.origin !== 'builtin')

  return (
    <AdminFrame title="Connectors" current="/admin/connectors">
      <section className="panel" aria-labelledby={`${id}-add`}>
        <h2 id={`${id}-add`} className="h2">
          Add or update a connector
        </h2>
        <p className="small">
          Upload a declarative connector (YAML or JSON) or a WebAssembly plugin (.wasm), or paste a file below. It is checked and its inline tests run
          before it is installed; nothing is installed when anything is wrong. The same id replaces the file.
        </p>
        <div className="toolbar">
          <label className="btn" htmlFor={`${id}-file`}>
            Choose a file…
          </label>
          <input id={`${id}-file`} className="visually-hidden" type="file" accept=".yaml,.yml,.json,.wasm" onChange={(e) => void onFile(e)} />
          <button type="button" className="btn" onClick={() => setText(EXAMPLE)}>
            Start from an example
          </button>
        </div>
        <p id={`${id}-editor-label`} className="field__label">
          Connector file
        </p>
        <FileEditor value={text} onChange={setText} problems={problems} labelledBy={`${id}-editor-label`} describedBy={`${id}-result`} />
        <div className="toolbar">
          <button
            type="button"
            className="btn btn--primary"
            disabled={!text.trim() || upload.isPending}
            onClick={() => upload.mutate({ type: fileType(text), data: text })}
          >
            {upload.isPending ? 'Checking…' : 'Check and install'}
          </button>
        </div>
        <div id={`${id}-result`} aria-live="polite">
          {upload.error ? (
            <div className="notice notice--error" role="alert" data-testid="upload-problems">
              <p>
                <strong>Not installed.</strong> {upload.error instanceof ApiError ? upload.error.problem.detail : errorText(upload.error)}
              </p>
              {problems.length || otherProblems.length ? (
                <ul>
                  {problems.map((p, i) => (
                    <li key={`l${i}`}>
                      Line {p.line}: {p.path ? <code>{p.path}</code> : null} {p.message}
                    </li>
                  ))}
                  {otherProblems.map((p, i) => (
                    <li key={`o${i}`}>
                      {p.path ? <code>{p.path}</code> : null} {p.message}
                    </li>
                  ))}
                </ul>
              ) : null}
            </div>
          ) : null}
          {result ? (
            <div className="notice" role="status" data-testid="upload-result">
              <p>
                <strong>
                  Installed {result.spec.name} ({result.id}
                  {result.version ? ` ${result.version}` : ''}).
                </strong>{' '}
                {'tests' in result ? `${result.tests} inline test${result.tests === 1 ? '' : 's'} passed. ` : ''}
                Actions: {(result.spec.actions ?? []).map((a) => `${result.id}.${a.id}`).join(', ')}. Editors can use them in workflows now.
              </p>
            </div>
          ) : null}
        </div>
      </section>

      {installed.isPending ? <Loading what="connectors" /> : null}
      {installed.error ? <ErrorNotice error={installed.error} what="connectors" onRetry={() => void installed.refetch()} /> : null}
      {installed.data ? (
        <>
          <h2 className="h2">Added connectors</h2>
          {added.length ? (
            <ConnectorTable items={added} editable onChanged={refresh} />
          ) : (
            <p className="muted">None yet: every connector below is built in.</p>
          )}
          <h2 className="h2">Built-in connectors</h2>
          <p className="small muted">Part of this Switchboard build; they cannot be changed here.</p>
          <ConnectorTable items={builtins} editable={false} onChanged={refresh} />
        </>
      ) : null}
    </AdminFrame>
  )
}

function ConnectorTable({ items, editable, onChanged }: { items: Installed[]; editable: boolean; onChanged: () => void }) {
  const api = useApi()
  const [error, setError] = useState<string | null>(null)
  const [versionsOf, setVersionsOf] = useState<string | null>(null)
  const toggle = useMutation({
    mutationFn: (v: { id: string; on: boolean }) =>
      v.on ? api.op('POST', '/api/v1/connectors/{id}/enable', { path: { id: v.id } }) : api.op('POST', '/api/v1/connectors/{id}/disable', { path: { id: v.id } }),
    onSuccess: () => {
      setError(null)
      onChanged()
    },
    onError: (e) => setError(errorText(e)),
  })
  const remove = useMutation({
    mutationFn: (cid: string) => api.op('DELETE', '/api/v1/connectors/{id}', { path: { id: cid } }),
    onSuccess: () => {
      setError(null)
      onChanged()
    },
    onError: (e) => setError(errorText(e)),
  })
  return (
    <>
      <Alert error={error} />
      <div className="table-wrap">
        <table className="table">
          <TableHead columns={['Connector', 'Kind', 'Version', 'Actions', editable ? 'In service' : 'State', ...(editable ? ['Manage'] : [])]} />
          <tbody>
            {items.map((c) => (
              <tr key={c.id}>
                <th scope="row">
                  <span className="conn-name">
                    <ConnectorIcon icon={c.spec.icon} name={c.spec.name} />
                    {c.spec.name} <span className="mono muted small">{c.id}</span>
                  </span>
                </th>
                <td>{c.origin === 'plugin' ? 'WebAssembly plugin' : c.origin === 'file' ? 'declarative file' : 'built in'}</td>
                <td>
                  {c.version || '—'}
                  {'revision' in c ? <span className="muted small"> (upload {c.revision})</span> : null}
                  {'tests' in c && c.origin === 'file' ? <span className="muted small"> · {c.tests} tests passed</span> : null}
                </td>
                <td className="small">{(c.spec.actions ?? []).map((a) => a.name).join(', ')}</td>
                <td>
                  {editable ? (
                    <Switch checked={c.enabled} label={`${c.spec.name} in service`} busy={toggle.isPending} onChange={(on) => toggle.mutate({ id: c.id, on })} />
                  ) : (
                    <span className={`badge ${c.enabled ? 'badge--success' : 'badge--muted'}`}>{c.enabled ? 'on' : 'off'}</span>
                  )}
                </td>
                {editable ? (
                  <td className="row-actions">
                    {c.origin === 'plugin' ? (
                      <button type="button" className="btn btn--small" onClick={() => setVersionsOf(versionsOf === c.id ? null : c.id)} aria-expanded={versionsOf === c.id}>
                        Versions
                      </button>
                    ) : null}
                    <button
                      type="button"
                      className="btn btn--small btn--danger"
                      aria-label={`Delete ${c.spec.name}`}
                      onClick={() => {
                        if (window.confirm(`Delete the connector ${c.spec.name}? Workflows using it fail until it is back.`)) remove.mutate(c.id)
                      }}
                    >
                      Delete
                    </button>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {versionsOf ? <PluginVersions id={versionsOf} onChanged={onChanged} /> : null}
    </>
  )
}

function PluginVersions({ id, onChanged }: { id: string; onChanged: () => void }) {
  const api = useApi()
  const qc = useQueryClient()
  const versions = useQuery({ queryKey: ['admin', 'connectors', id, 'versions'], queryFn: ({ signal }) => api.op('GET', '/api/v1/connectors/{id}/versions', { path: { id }, signal }) })
  const activate = useMutation({
    mutationFn: (rev: number) => api.op('POST', '/api/v1/connectors/{id}/versions/{version}/activate', { path: { id, version: String(rev) } }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['admin', 'connectors', id, 'versions'] })
      onChanged()
    },
  })
  return (
    <section className="panel" aria-label={`Versions of ${id}`}>
      <h3>Uploads of {id}</h3>
      {versions.isPending ? <Loading what="versions" /> : null}
      <Alert error={activate.error} inline />
      <ul className="plain-list">
        {(versions.data?.items ?? []).map((v) => (
          <li key={v.revision}>
            Upload {v.revision} {v.version ? `(${v.version})` : ''} · {formatDateTime(v.uploaded_at)} {v.uploaded_by ? `by ${v.uploaded_by}` : ''}{' '}
            {v.current ? (
              <span className="badge badge--success">current</span>
            ) : (
              <button type="button" className="btn btn--small" onClick={() => activate.mutate(v.revision)}>
                Make current
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  )
}
