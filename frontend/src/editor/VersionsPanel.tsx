// Version history: every saved version, what changed from the one before it, and "restore"
// (saved again as the newest version).

import { useQuery } from '@tanstack/react-query'
import { useState } from 'react'
import type { ApiClient, Schemas } from '../api.ts'
import { useApi } from '../apiContext.ts'
import { useCanEdit } from '../auth.tsx'
import { ErrorNotice, JsonBlock, Loading, RelativeTime, SidePanelHead } from '../components.tsx'
import { formatDateTime } from '../format.ts'

export type VersionDiff = Omit<Schemas['VersionDiff'], 'changes'> & { changes: Schemas['Change'][] }

export async function getVersionDiff(api: ApiClient, id: string, version: number, signal?: AbortSignal): Promise<VersionDiff> {
  const raw = await api.op('GET', '/api/v1/workflows/{id}/versions/{version}/diff', { path: { id, version: String(version) }, signal })
  return { ...raw, changes: raw.changes ?? [] }
}

/** A changed value in a few words: strings as they are, the rest as compact JSON. */
export function showValue(v: unknown): string {
  if (v === undefined) return ''
  return typeof v === 'string' ? v : JSON.stringify(v)
}

function Changes({ workflowId, version }: { workflowId: string; version: number }) {
  const api = useApi()
  const diff = useQuery({
    queryKey: ['version-diff', workflowId, version],
    queryFn: ({ signal }) => getVersionDiff(api, workflowId, version, signal),
  })
  if (diff.isPending) return <Loading what={`the changes of version ${version}`} />
  if (diff.isError) return <ErrorNotice error={diff.error} what="the changes" onRetry={() => void diff.refetch()} />
  const { changes, from } = diff.data
  if (!changes.length) return <p className="muted small">No change from v{from}.</p>
  return (
    <ul className="version-diff" aria-label={`Changes from version ${from} to ${version}`}>
      {changes.map((c) => (
        <li key={c.path} className={`version-diff__item is-${c.change}`} data-path={c.path}>
          <code>{c.path}</code> <span className="badge">{c.change}</span>
          {c.change !== 'added' ? (
            <del className="version-diff__before" aria-label="before">
              {showValue(c.before)}
            </del>
          ) : null}
          {c.change !== 'removed' ? (
            <ins className="version-diff__after" aria-label="after">
              {showValue(c.after)}
            </ins>
          ) : null}
        </li>
      ))}
    </ul>
  )
}

export function VersionsPanel({
  workflowId,
  current,
  now,
  onRestore,
  onClose,
}: {
  workflowId: string
  current: number
  now: number
  onRestore: (version: number) => Promise<void>
  onClose: () => void
}) {
  const api = useApi()
  const canEdit = useCanEdit()
  const versions = useQuery({
    queryKey: ['versions', workflowId, current],
    queryFn: ({ signal }) => api.listVersions(workflowId, signal),
  })
  const [open, setOpen] = useState<number | null>(null)
  const doc = useQuery({
    queryKey: ['version', workflowId, open],
    queryFn: ({ signal }) => api.getVersion(workflowId, open!, signal),
    enabled: open !== null,
  })
  const [busy, setBusy] = useState<number | null>(null)
  const [changesOf, setChangesOf] = useState<number | null>(null)
  const items = [...(versions.data ?? [])].sort((a, b) => b.version - a.version)
  return (
    <div className="versions-panel">
      <SidePanelHead kind="Workflow" title="Version history" onClose={onClose} />
      <p className="field__help">Every save is a version. Runs keep the version they started on.</p>
      {versions.isPending ? (
        <Loading what="versions" />
      ) : versions.isError ? (
        <ErrorNotice error={versions.error} what="versions" onRetry={() => void versions.refetch()} />
      ) : (
        <ol className="versions" reversed>
          {items.map((v) => (
            <li key={v.version} className={v.version === current ? 'is-current' : undefined}>
              <div className="versions__row">
                <span>
                  <strong>v{v.version}</strong>{' '}
                  <span className="muted small" title={formatDateTime(v.created_at)}>
                    <RelativeTime value={v.created_at} now={now} />
                  </span>
                  {v.version === current ? <span className="badge badge--info">current</span> : null}
                </span>
                <span className="versions__actions">
                  <button
                    type="button"
                    className="btn btn--small"
                    aria-expanded={open === v.version}
                    onClick={() => setOpen(open === v.version ? null : v.version)}
                  >
                    {open === v.version ? 'Hide' : 'View'}
                  </button>
                  {v.version > 1 ? (
                    <button
                      type="button"
                      className="btn btn--small"
                      aria-expanded={changesOf === v.version}
                      aria-label={`Changes in version ${v.version}`}
                      onClick={() => setChangesOf(changesOf === v.version ? null : v.version)}
                    >
                      Changes
                    </button>
                  ) : null}
                  {canEdit && v.version !== current ? (
                    <button
                      type="button"
                      className="btn btn--small"
                      disabled={busy !== null}
                      aria-label={`Restore version ${v.version}`}
                      onClick={async () => {
                        setBusy(v.version)
                        try {
                          await onRestore(v.version)
                        } finally {
                          setBusy(null)
                        }
                      }}
                    >
                      {busy === v.version ? 'Restoring…' : 'Restore'}
                    </button>
                  ) : null}
                </span>
              </div>
              {changesOf === v.version ? <Changes workflowId={workflowId} version={v.version} /> : null}
              {open === v.version ? (
                doc.data ? (
                  <JsonBlock value={doc.data.document} label={`Document of version ${v.version}`} />
                ) : (
                  <Loading what={`version ${v.version}`} />
                )
              ) : null}
            </li>
          ))}
        </ol>
      )}
    </div>
  )
}
