// The workflows page: list with search, active switch, last run and 7-day success rate;
// create from scratch or a template; import and export.

import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useContext, useId, useMemo, useRef, useState, type ChangeEvent, type FormEvent } from 'react'
import { ApiError, type Workflow } from './api.ts'
import { useApi } from './apiContext.ts'
import { useCanEdit } from './auth.tsx'
import { Alert, ConfirmButton, FormActions, Link, ListResult, Modal, NavigateContext, RelativeTime, StateBadge, Switch, TableHead } from './components.tsx'
import { emptyDocument } from './editor/doc.ts'
import { saveDraft } from './drafts.ts'
import { queryKeys, useConnectors, useWorkflowStats, useWorkflows } from './queries.ts'
import { editorRoute, NEW_WORKFLOW, runsRoute } from './route.ts'
import { BLANK_TRIGGERS, TEMPLATES } from './templates.ts'

export function WorkflowsPage({ now }: { now: number }) {
  const workflows = useWorkflows()
  const canEdit = useCanEdit()
  const [search, setSearch] = useState('')
  const [creating, setCreating] = useState(false)
  const items = useMemo(() => workflows.data?.pages.flatMap((p) => p.items) ?? [], [workflows.data])
  const q = search.trim().toLowerCase()
  const shown = q ? items.filter((w) => w.name.toLowerCase().includes(q) || w.trigger_type.includes(q)) : items
  const searchId = useId()

  return (
    <section className="panel" aria-labelledby="workflows-title">
      <div className="panel__head">
        <h1 id="workflows-title">Workflows</h1>
        <div className="toolbar">
          <label htmlFor={searchId} className="visually-hidden">
            Search workflows
          </label>
          <input
            id={searchId}
            type="search"
            className="input input--search"
            placeholder="Search workflows"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
          {canEdit ? (
            <>
              <ImportButton />
              <button type="button" className="btn btn--primary" onClick={() => setCreating(true)}>
                New workflow
              </button>
            </>
          ) : null}
        </div>
      </div>
      <ListResult
        query={workflows}
        what="workflows"
        count={items.length}
        empty={
          <div className="empty">
            <p className="empty__title">No workflows yet</p>
            <p>{canEdit ? 'Create one from scratch or start from a template.' : 'An editor has not created any workflow yet.'}</p>
            {canEdit ? (
              <button type="button" className="btn btn--primary" onClick={() => setCreating(true)}>
                Create your first workflow
              </button>
            ) : null}
          </div>
        }
      >
        {shown.length === 0 ? (
          <p className="muted">No workflow matches “{search}”.</p>
        ) : (
          <div className="table-wrap">
            <table className="table" aria-label="Workflows">
              <TableHead
                columns={['Name', 'Trigger', 'Active', 'Last run', { label: 'Success (7 days)', num: true }, 'Updated', { label: 'Actions', hidden: true }]}
              />
              <tbody>
                {shown.map((wf) => (
                  <WorkflowRow key={wf.id} wf={wf} now={now} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </ListResult>
      {workflows.hasNextPage ? (
        <button
          type="button"
          className="btn load-more"
          onClick={() => void workflows.fetchNextPage()}
          disabled={workflows.isFetchingNextPage}
        >
          {workflows.isFetchingNextPage ? 'Loading…' : 'Load more workflows'}
        </button>
      ) : null}
      {creating ? <NewWorkflowDialog onClose={() => setCreating(false)} /> : null}
    </section>
  )
}

function WorkflowRow({ wf, now }: { wf: Workflow; now: number }) {
  const api = useApi()
  const queryClient = useQueryClient()
  const canEdit = useCanEdit()
  const stats = useWorkflowStats(wf.id)
  const [error, setError] = useState<unknown>(null)
  const toggle = useMutation({
    mutationFn: (active: boolean) => api.setActive(wf.id, active),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.workflows }),
    onError: setError,
  })
  const duplicate = useMutation({
    mutationFn: () => api.duplicateWorkflow(wf.id),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.workflows }),
    onError: setError,
  })
  const remove = useMutation({
    mutationFn: () => api.deleteWorkflow(wf.id),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.workflows }),
    onError: setError,
  })
  const active = toggle.isPending && toggle.variables !== undefined ? toggle.variables : wf.active
  const last = stats.data?.last
  const rate = stats.data?.successRate

  return (
    <tr data-workflow-id={wf.id}>
      <th scope="row">
        <Link to={editorRoute(wf.id)} className="row-link">
          {wf.name || <span className="muted">(unnamed)</span>}
        </Link>
        {error ? (
          <div className="error-text small" role="alert">
            {error instanceof Error ? error.message : String(error)}
          </div>
        ) : null}
      </th>
      <td>
        <span className={`trigger-chip trigger-chip--${wf.trigger_type}`}>{wf.trigger_type || '—'}</span>
      </td>
      <td>
        <Switch
          checked={active}
          label={`Active: ${wf.name}`}
          disabled={!canEdit}
          busy={toggle.isPending}
          onChange={(next) => {
            setError(null)
            toggle.mutate(next)
          }}
        />
      </td>
      <td>
        {last ? (
          <span className="last-run">
            <Link to={runsRoute(wf.id, last.id)} aria-label={`Last run: ${last.state}`}>
              <StateBadge state={last.state} />
            </Link>{' '}
            <RelativeTime value={last.created_at} now={now} />
          </span>
        ) : stats.isPending ? (
          <span className="muted">…</span>
        ) : (
          <span className="muted">never</span>
        )}
      </td>
      <td className="num">
        {rate === null || rate === undefined ? (
          <span className="muted">—</span>
        ) : (
          <span title={`${stats.data?.runs7d ?? 0} runs in 7 days`}>{Math.round(rate * 100)}%</span>
        )}
      </td>
      <td>
        <RelativeTime value={wf.updated_at} now={now} />
      </td>
      <td className="row-actions">
        <Link to={runsRoute(wf.id)} className="btn btn--small" aria-label={`Runs of ${wf.name}`}>
          Runs
        </Link>
        <a className="btn btn--small" href={api.exportUrl(wf.id)} download aria-label={`Export ${wf.name}`}>
          Export
        </a>
        {canEdit ? (
          <>
            <button
              type="button"
              className="btn btn--small"
              aria-label={`Duplicate ${wf.name}`}
              disabled={duplicate.isPending}
              onClick={() => duplicate.mutate()}
            >
              Duplicate
            </button>
            <ConfirmButton
              question={`Delete “${wf.name}” with all its versions and runs? This cannot be undone.`}
              onConfirm={() => remove.mutate()}
              busy={remove.isPending}
              className="btn btn--small btn--danger"
              label={`Delete ${wf.name}`}
            >
              Delete
            </ConfirmButton>
          </>
        ) : null}
      </td>
    </tr>
  )
}

function ImportButton() {
  const api = useApi()
  const navigate = useContext(NavigateContext)
  const queryClient = useQueryClient()
  const input = useRef<HTMLInputElement>(null)
  const [error, setError] = useState<string | null>(null)
  const onFile = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0]
    e.target.value = ''
    if (!file) return
    setError(null)
    try {
      const doc = JSON.parse(await file.text())
      const wf = await api.importWorkflow(doc)
      await queryClient.invalidateQueries({ queryKey: queryKeys.workflows })
      navigate(editorRoute(wf.id))
    } catch (err) {
      if (err instanceof ApiError && err.fieldErrors.length) {
        setError(`Import failed: ${err.fieldErrors.map((f) => `${f.path}: ${f.message}`).join('; ')}`)
      } else {
        setError(`Import failed: ${err instanceof Error ? err.message : String(err)}`)
      }
    }
  }
  return (
    <>
      <button type="button" className="btn" onClick={() => input.current?.click()}>
        Import
      </button>
      <input ref={input} type="file" accept="application/json,.json" hidden onChange={(e) => void onFile(e)} aria-label="Workflow file to import" />
      {error ? (
        <span className="error-text small" role="alert">
          {error}
        </span>
      ) : null}
    </>
  )
}

/** Choose a name and a starting point: an empty workflow with a trigger, or a template. */
export function NewWorkflowDialog({ onClose }: { onClose: () => void }) {
  const api = useApi()
  const navigate = useContext(NavigateContext)
  const queryClient = useQueryClient()
  const connectors = useConnectors()
  const id = useId()
  const [name, setName] = useState('')
  const [start, setStart] = useState<string>('blank:webhook')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const template = TEMPLATES.find((t) => `template:${t.id}` === start)
  const defaultName = template ? template.title.replace(' → ', ' to ') : 'Untitled workflow'

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const finalName = name.trim() || defaultName
    if (!template) {
      saveDraft(emptyDocument(finalName, start.slice('blank:'.length)))
      onClose()
      navigate(NEW_WORKFLOW)
      return
    }
    setBusy(true)
    setError(null)
    const doc = template.build(finalName, connectors.data ?? [])
    try {
      const wf = await api.createWorkflow(doc, { active: false })
      await queryClient.invalidateQueries({ queryKey: queryKeys.workflows })
      onClose()
      navigate(editorRoute(wf.id))
    } catch (err) {
      // Open it as a draft: the editor shows what to fix.
      if (err instanceof ApiError && err.status === 422) {
        saveDraft(doc)
        onClose()
        navigate(NEW_WORKFLOW)
        return
      }
      setBusy(false)
      setError(err instanceof Error ? err.message : String(err))
    }
  }

  return (
    <Modal title="New workflow" onClose={onClose} wide>
      <form onSubmit={(e) => void submit(e)} className="new-workflow">
        <Alert error={error} />
        <div className="field">
          <label htmlFor={`${id}-name`}>Workflow name</label>
          <input
            id={`${id}-name`}
            type="text"
            data-autofocus
            placeholder={defaultName}
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
        </div>
        <fieldset className="choices">
          <legend>Start from scratch with a trigger</legend>
          {BLANK_TRIGGERS.map((t) => (
            <Choice key={t.id} name={`${id}-start`} value={`blank:${t.id}`} title={t.label} help={t.help} checked={start === `blank:${t.id}`} onSelect={setStart} />
          ))}
        </fieldset>
        <fieldset className="choices">
          <legend>Or start from a template</legend>
          {TEMPLATES.map((t) => (
            <Choice key={t.id} name={`${id}-start`} value={`template:${t.id}`} title={t.title} help={t.description} checked={start === `template:${t.id}`} onSelect={setStart} />
          ))}
        </fieldset>
        <FormActions onCancel={onClose} busy={busy} busyLabel="Creating…" label="Create workflow" />
      </form>
    </Modal>
  )
}

function Choice({
  name,
  value,
  title,
  help,
  checked,
  onSelect,
}: {
  name: string
  value: string
  title: string
  help: string
  checked: boolean
  onSelect: (v: string) => void
}) {
  const id = useId()
  return (
    <div className={`choice${checked ? ' is-checked' : ''}`} onClick={() => onSelect(value)}>
      <input id={id} type="radio" name={name} value={value} checked={checked} onChange={() => onSelect(value)} aria-describedby={`${id}-help`} />
      <label htmlFor={id} className="choice__title">
        {title}
      </label>
      <span id={`${id}-help`} className="choice__help">
        {help}
      </span>
    </div>
  )
}
