// The workflow editor page: canvas + side panel, save with If-Match, validation as you type,
// test runs with results on the nodes, activate, versions, undo/redo and keyboard shortcuts.

import { useQuery, useQueryClient } from '@tanstack/react-query'
import { lazy, Suspense, useCallback, useContext, useEffect, useMemo, useReducer, useRef, useState } from 'react'
import { ApiError, type Editable, type FieldError, type RunDetail, type StepDoc, type TriggerDoc, type WorkflowDetail, type WorkflowDocument } from '../api.ts'
import { useApi } from '../apiContext.ts'
import { useCanEdit } from '../auth.tsx'
import { ErrorNotice, Link, Loading, NavigateContext, SidePanelHead, StateBadge, Switch } from '../components.tsx'
import { clearDraft, draftWebhook, draftWebhookToken, loadDraft, saveDraft } from '../drafts.ts'
import { isFinalRunState } from '../format.ts'
import { queryKeys, useConnectors } from '../queries.ts'
import { editorRoute, HOME, runsRoute, setNavigationGuard } from '../route.ts'
import { testQuestion } from './testConfirm.ts'
import { AddStepDialog } from './AddStepDialog.tsx'
import { nodeButtonId, SampleContext, type EditorContextValue } from './context.ts'
import {
  canMove,
  duplicateStep,
  emptyDocument,
  findStep,
  insertStep,
  locateErrors,
  moveStep,
  moveStepTo,
  newStep,
  removeStep,
  renameStep,
  updateStep,
  walkSteps,
  type LocatedError,
} from './doc.ts'
import { historyReducer, initHistory } from './history.ts'
import { dataForStep, type DataSources } from './sampleData.ts'
import { StepPanel } from './StepPanel.tsx'
import { TriggerPanel } from './TriggerPanel.tsx'
import { VersionsPanel } from './VersionsPanel.tsx'

const Canvas = lazy(() => import('./Canvas.tsx'))

const SELECTED_KEY = 'switchboard.selected'
const VALIDATE_DEBOUNCE_MS = 600

export default function Editor({ workflowId, now }: { workflowId: string | null; now: number }) {
  const api = useApi()
  const editable = useQuery({
    queryKey: ['workflow-edit', workflowId],
    queryFn: ({ signal }) => api.getEditable(workflowId!, signal),
    enabled: !!workflowId,
    staleTime: Infinity,
    refetchOnWindowFocus: false,
    gcTime: 0,
  })
  const [draft] = useState<WorkflowDocument | null>(() =>
    workflowId ? null : (loadDraft() ?? emptyDocument('Untitled workflow', 'webhook')),
  )
  if (workflowId) {
    if (editable.isPending) return <Loading what="the workflow" />
    if (!editable.data) {
      return (
        <div className="app-main">
          <ErrorNotice error={editable.error} what="the workflow" onRetry={() => void editable.refetch()} />
          <Link to={HOME}>Back to workflows</Link>
        </div>
      )
    }
    return <EditorLoaded initial={editable.data} draft={null} now={now} />
  }
  return <EditorLoaded initial={null} draft={draft} now={now} />
}

type SaveState = { kind: 'idle' } | { kind: 'saving' } | { kind: 'saved' } | { kind: 'error'; message: string }
type Side = { kind: 'selection' } | { kind: 'versions' } | { kind: 'shortcuts' }

function isEditable(el: EventTarget | null): boolean {
  const t = el as HTMLElement | null
  if (!t) return false
  return t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName) || !!t.closest?.('.cm-editor')
}

/** The state of each step in a run (a loop's steps: failed if any item failed). */
export function runStates(run: RunDetail | undefined): Map<string, string> {
  const out = new Map<string, string>()
  for (const s of run?.steps ?? []) {
    const prev = out.get(s.step_id)
    if (prev === 'failed') continue
    out.set(s.step_id, s.state)
  }
  return out
}

function EditorLoaded({ initial, draft, now }: { initial: Editable | null; draft: WorkflowDocument | null; now: number }) {
  const api = useApi()
  const queryClient = useQueryClient()
  const navigate = useContext(NavigateContext)
  const canEdit = useCanEdit()
  const connectors = useConnectors()
  const specs = useMemo(() => connectors.data ?? [], [connectors.data])

  const startDoc = initial?.workflow.document ?? draft!
  const [history, dispatch] = useReducer(historyReducer<WorkflowDocument>, startDoc, initHistory)
  const doc = history.present
  const [saved, setSaved] = useState<{ json: string; etag: string; workflow: WorkflowDetail | null }>(() => ({
    // A draft counts as changed once it differs from how it started.
    json: JSON.stringify(startDoc),
    etag: initial?.etag ?? '',
    workflow: initial?.workflow ?? null,
  }))
  const workflow = saved.workflow
  const workflowId = workflow?.id ?? null
  const changed = JSON.stringify(doc) !== saved.json
  const dirty = !workflow || changed

  const [selected, setSelected] = useState<string | null>(() => {
    const remembered = sessionStorage.getItem(SELECTED_KEY)
    sessionStorage.removeItem(SELECTED_KEY)
    return remembered || (initial ? null : 'trigger')
  })
  const [side, setSide] = useState<Side>({ kind: 'selection' })
  const [addAt, setAddAt] = useState<{ list: string; index: number; place: string } | null>(null)
  const [errors, setErrors] = useState<FieldError[]>([])
  const [saveState, setSaveState] = useState<SaveState>({ kind: 'idle' })
  const [conflict, setConflict] = useState(false)
  const [listening, setListening] = useState(false)
  const [testRunId, setTestRunId] = useState<string | null>(null)
  const [testError, setTestError] = useState<string | null>(null)
  const [activeBusy, setActiveBusy] = useState(false)
  const [announce, setAnnounce] = useState('')
  const [tried, setTried] = useState<Record<string, unknown>>({})

  const located: LocatedError[] = useMemo(() => locateErrors(doc, errors), [doc, errors])

  // ---- changes -----------------------------------------------------------------------------

  const change = useCallback((next: WorkflowDocument, key?: string) => dispatch({ type: 'set', value: next, key }), [])

  useEffect(() => {
    if (!workflow) saveDraft(doc)
  }, [doc, workflow])

  useEffect(() => {
    document.title = `${dirty ? '• ' : ''}${doc.name || 'Workflow'} · Switchboard`
  }, [doc.name, dirty])

  // A draft webhook shows its URL before the first save (the save keeps that token).
  const pendingWebhook = useQuery({
    queryKey: ['draft-webhook'],
    queryFn: ({ signal }) => draftWebhook(api, signal),
    enabled: !workflow && canEdit && doc.trigger.type === 'webhook',
    staleTime: Infinity,
  })

  // Validate as the user edits (the server knows the connectors and the expression language).
  useEffect(() => {
    if (!canEdit) return
    const controller = new AbortController()
    const timer = window.setTimeout(async () => {
      try {
        await api.validateWorkflow(doc, controller.signal)
        setErrors([])
      } catch (err) {
        if (controller.signal.aborted) return
        if (err instanceof ApiError && err.status === 422) setErrors(err.fieldErrors)
      }
    }, VALIDATE_DEBOUNCE_MS)
    return () => {
      controller.abort()
      window.clearTimeout(timer)
    }
  }, [doc, api, canEdit])

  // ---- leaving with unsaved changes -----------------------------------------------------------

  const dirtyRef = useRef(dirty)
  dirtyRef.current = changed && canEdit
  useEffect(
    () => setNavigationGuard(() => (dirtyRef.current ? 'This workflow has unsaved changes. Leave without saving them?' : null)),
    [],
  )
  useEffect(() => {
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      if (!dirtyRef.current) return
      e.preventDefault()
      e.returnValue = ''
    }
    window.addEventListener('beforeunload', onBeforeUnload)
    return () => window.removeEventListener('beforeunload', onBeforeUnload)
  }, [])

  // ---- data for autocomplete and preview --------------------------------------------------------

  const sample = useQuery({
    queryKey: ['sample', workflowId],
    queryFn: ({ signal }) => api.getSample(workflowId!, signal),
    enabled: !!workflowId,
    refetchInterval: listening ? 1000 : false,
  })
  const listenFrom = useRef<string | null>(null)
  const startListening = (on: boolean) => {
    if (on) listenFrom.current = sample.data?.captured_at ?? null
    setListening(on)
  }
  useEffect(() => {
    if (!listening || !sample.data?.sample) return
    if (sample.data.captured_at && sample.data.captured_at !== listenFrom.current) {
      setListening(false)
      setAnnounce('Test event received. Its data is now the sample for the steps.')
    }
  }, [listening, sample.data])

  const latestRun = useQuery({
    queryKey: ['latest-run', workflowId],
    queryFn: async ({ signal }) => {
      const page = await api.listRuns({ workflow: workflowId!, limit: 1 }, signal)
      return page.items[0]?.id ?? null
    },
    enabled: !!workflowId,
    staleTime: Infinity,
  })
  const runId = testRunId ?? latestRun.data ?? null
  const run = useQuery({
    queryKey: queryKeys.run(runId ?? ''),
    queryFn: ({ signal }) => api.getRun(runId!, signal),
    enabled: !!runId,
    refetchInterval: (q) => (q.state.data && isFinalRunState(q.state.data.state) ? false : 700),
  })
  const testRun = testRunId ? run.data : undefined
  const states = useMemo(() => runStates(testRun), [testRun])

  const sources: DataSources = useMemo(
    () => ({ doc, sample: sample.data?.sample ?? null, run: run.data ?? null, connectors: specs, tried }),
    [doc, sample.data, run.data, specs, tried],
  )
  const sampleStatus = useMemo(
    () => ({ real: !!sample.data?.sample || !!run.data?.trigger || doc.trigger.type === 'schedule' }),
    [sample.data, run.data, doc.trigger.type],
  )
  const sourcesRef = useRef(sources)
  sourcesRef.current = sources

  // ---- tree operations --------------------------------------------------------------------------

  const select = useCallback((id: string | null) => {
    setSelected(id)
    setSide({ kind: 'selection' })
  }, [])

  const focusNode = (id: string | null) =>
    window.setTimeout(() => document.getElementById(nodeButtonId(id))?.focus(), 50)

  /** Moves the keyboard focus to the first field of the side panel. */
  const focusPanel = () =>
    window.setTimeout(() => {
      const panel = document.getElementById('side-panel')
      const first = panel?.querySelector<HTMLElement>('input:not([type=hidden]), select, textarea, [contenteditable=true], button')
      ;(first ?? panel)?.focus()
    }, 60)

  const addStep = (kind: string) => {
    if (!addAt) return
    const connector = kind.includes('.') ? kind.split('.')[0] : null
    const conns = connector ? (queryClient.getQueryData<{ connector: string; name: string }[]>(['connections']) ?? []) : []
    const mine = conns.filter((c) => c.connector === connector)
    const step = newStep(doc, kind, { connection: mine.length === 1 ? mine[0].name : undefined })
    change(insertStep(doc, addAt.list, addAt.index, step))
    setAddAt(null)
    select(step.id)
    setAnnounce(`Added step ${step.id}.`)
    focusPanel()
  }

  const deleteStep = (id: string) => {
    const entry = findStep(doc, id)
    if (!entry) return
    const inner = walkSteps(doc).filter((e) => e.ancestors.includes(entry.path)).length
    if (inner && !window.confirm(`Delete “${id}” and the ${inner} step(s) inside it?`)) return
    const all = walkSteps(doc)
    const i = all.findIndex((e) => e.step.id === id)
    const prev = i > 0 ? all[i - 1].step.id : null
    change(removeStep(doc, id))
    select(prev ?? 'trigger')
    focusNode(prev)
    setAnnounce(`Deleted step ${id}.`)
  }

  const duplicate = (id: string) => {
    const r = duplicateStep(doc, id)
    change(r.doc)
    select(r.id)
    setAnnounce(`Duplicated ${id} as ${r.id}.`)
  }

  const move = (id: string, delta: -1 | 1) => {
    if (!canMove(doc, id, delta)) return
    change(moveStep(doc, id, delta))
    focusNode(id)
  }

  // ---- save, test, activate ----------------------------------------------------------------------

  const saving = useRef(false)
  const save = async (opts: { overwrite?: boolean } = {}): Promise<WorkflowDetail | null> => {
    if (saving.current || !canEdit) return null
    saving.current = true
    setSaveState({ kind: 'saving' })
    const snapshot = doc
    try {
      if (!workflow) {
        const webhookToken = snapshot.trigger.type === 'webhook' ? draftWebhookToken() : undefined
        const wf = await api.createWorkflow(snapshot, { active: false, webhookToken })
        clearDraft()
        await queryClient.invalidateQueries({ queryKey: queryKeys.workflows })
        queryClient.setQueryData(['workflow-edit', wf.id], { workflow: wf, etag: `"v${wf.version}"` } satisfies Editable)
        if (selected) sessionStorage.setItem(SELECTED_KEY, selected)
        dirtyRef.current = false
        navigate(editorRoute(wf.id), { replace: true, force: true })
        return wf
      }
      let etag = saved.etag
      if (opts.overwrite) etag = (await api.getEditable(workflow.id)).etag
      const res = await api.updateWorkflow(workflow.id, snapshot, etag)
      setSaved({ json: JSON.stringify(snapshot), etag: res.etag, workflow: res.workflow })
      setConflict(false)
      // Saved, yet a step may still lack its connection (a draft may): keep what validation says.
      api.validateWorkflow(snapshot).then(
        () => setErrors([]),
        (err) => setErrors(err instanceof ApiError && err.status === 422 ? err.fieldErrors : []),
      )
      setSaveState({ kind: 'saved' })
      setAnnounce(`Saved as version ${res.workflow.version}.`)
      void queryClient.invalidateQueries({ queryKey: queryKeys.workflows })
      return res.workflow
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) {
        setConflict(true)
        setSaveState({ kind: 'error', message: 'Not saved: changed by someone else' })
      } else if (err instanceof ApiError && err.status === 422) {
        setErrors(err.fieldErrors)
        const n = err.fieldErrors.length
        setSaveState({ kind: 'error', message: `Not saved: ${n} problem${n === 1 ? '' : 's'} to fix` })
      } else {
        setSaveState({ kind: 'error', message: `Not saved: ${err instanceof Error ? err.message : String(err)}` })
      }
      return null
    } finally {
      saving.current = false
    }
  }

  const reload = async () => {
    if (!workflow) return
    const fresh = await api.getEditable(workflow.id)
    dispatch({ type: 'reset', value: fresh.workflow.document })
    setSaved({ json: JSON.stringify(fresh.workflow.document), etag: fresh.etag, workflow: fresh.workflow })
    setConflict(false)
    setSaveState({ kind: 'idle' })
  }

  const test = async () => {
    if (!canEdit) return
    // A test calls the real services (sends the message, creates the contact): ask first.
    const question = testQuestion(doc, specs)
    if (question && !window.confirm(question)) return
    setTestError(null)
    let wf = workflow
    if (!wf || dirty) {
      wf = await save()
      if (!wf || !workflow) return // a draft moves to its own page after the first save
    }
    try {
      const r = await api.testWorkflow(wf.id)
      setTestRunId(r.id)
      setAnnounce('Test run started.')
    } catch (err) {
      setTestError(err instanceof Error ? err.message : String(err))
    }
  }
  useEffect(() => {
    if (testRun && isFinalRunState(testRun.state)) setAnnounce(`Test run ${testRun.state}.`)
  }, [testRun?.state]) // eslint-disable-line react-hooks/exhaustive-deps

  const setActive = async (active: boolean) => {
    if (!workflow) return
    if (active && dirty) {
      if (!window.confirm('Save your changes first? The saved version is what runs.')) return
      if (!(await save())) return
    }
    setActiveBusy(true)
    try {
      const wf = await api.setActive(workflow.id, active)
      setSaved((s) => (s.workflow ? { ...s, workflow: { ...s.workflow, active: wf.active } } : s))
      setAnnounce(wf.active ? 'The workflow is on.' : 'The workflow is off.')
      void queryClient.invalidateQueries({ queryKey: queryKeys.workflows })
    } catch (err) {
      if (err instanceof ApiError && err.fieldErrors.length) {
        // Refused (a step without its connection): say which step, and flag it on the canvas.
        setErrors(err.fieldErrors)
        setSaveState({ kind: 'error', message: `Not turned on: ${err.fieldErrors.map((f) => f.message).join('; ')}` })
      } else {
        setSaveState({ kind: 'error', message: err instanceof Error ? err.message : String(err) })
      }
    } finally {
      setActiveBusy(false)
    }
  }

  const restore = async (version: number) => {
    if (!workflow) return
    if (dirty && !window.confirm('Restoring replaces your unsaved changes. Continue?')) return
    const res = await api.restoreVersion(workflow.id, version)
    dispatch({ type: 'reset', value: res.workflow.document })
    setSaved({ json: JSON.stringify(res.workflow.document), etag: res.etag, workflow: res.workflow })
    setAnnounce(`Restored version ${version} as version ${res.workflow.version}.`)
    void queryClient.invalidateQueries({ queryKey: queryKeys.workflows })
  }

  // ---- keyboard shortcuts ----------------------------------------------------------------------

  const keyHandler = useRef<(e: KeyboardEvent) => void>(() => {})
  keyHandler.current = (e: KeyboardEvent) => {
    if (e.defaultPrevented || addAt) return
    const mod = e.ctrlKey || e.metaKey
    const key = e.key.toLowerCase()
    const inField = isEditable(e.target)
    const stepId = selected && selected !== 'trigger' ? selected : null
    if (e.key === 'F6') {
      // Between the canvas and the settings of the selected node.
      e.preventDefault()
      const panel = document.getElementById('side-panel')
      if (panel?.contains(document.activeElement)) focusNode(selected === 'trigger' ? null : selected)
      else focusPanel()
    } else if (mod && key === 's') {
      e.preventDefault()
      void save()
    } else if (mod && key === 'enter') {
      e.preventDefault()
      void test()
    } else if (!inField && mod && key === 'z' && !e.shiftKey) {
      e.preventDefault()
      dispatch({ type: 'undo' })
    } else if (!inField && mod && ((key === 'z' && e.shiftKey) || key === 'y')) {
      e.preventDefault()
      dispatch({ type: 'redo' })
    } else if (!inField && canEdit && stepId && (e.key === 'Delete' || e.key === 'Backspace')) {
      e.preventDefault()
      deleteStep(stepId)
    } else if (!inField && canEdit && stepId && mod && key === 'd') {
      e.preventDefault()
      duplicate(stepId)
    } else if (!inField && canEdit && stepId && e.altKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) {
      e.preventDefault()
      move(stepId, e.key === 'ArrowUp' ? -1 : 1)
    } else if (!e.altKey && !mod && (e.key === 'ArrowDown' || e.key === 'ArrowUp') && (e.target as HTMLElement).id?.startsWith('node-')) {
      // Walk the nodes of the canvas in order.
      e.preventDefault()
      const order: Array<string | null> = [null, ...walkSteps(doc).map((x) => x.step.id)]
      const here = (e.target as HTMLElement).id
      const i = order.findIndex((id) => nodeButtonId(id) === here)
      const next = order[Math.max(0, Math.min(order.length - 1, i + (e.key === 'ArrowDown' ? 1 : -1)))]
      document.getElementById(nodeButtonId(next))?.focus()
    } else if (!inField && e.key === '?') {
      e.preventDefault()
      setSide((s) => (s.kind === 'shortcuts' ? { kind: 'selection' } : { kind: 'shortcuts' }))
    } else if (!inField && e.key === 'Escape') {
      select(null)
    }
  }
  useEffect(() => {
    const h = (e: KeyboardEvent) => keyHandler.current(e)
    window.addEventListener('keydown', h)
    return () => window.removeEventListener('keydown', h)
  }, [])

  // ---- render ------------------------------------------------------------------------------------

  const actionName = useCallback(
    (action: string) => {
      const [c, a] = action.split('.')
      const spec = specs.find((s) => s.id === c)
      const act = spec?.actions?.find((x) => x.id === a)
      return act ? `${spec!.name}: ${act.name}` : undefined
    },
    [specs],
  )
  const errorCount = useCallback(
    (stepId: string | null) => located.filter((e) => (stepId === null ? e.trigger : e.stepId === stepId)).length,
    [located],
  )
  const ctx: EditorContextValue = useMemo(
    () => ({
      doc,
      selected,
      select,
      openAdd: (list, index, place) => setAddAt({ list, index, place }),
      errorCount,
      runState: (id) => states.get(id),
      triggerRunState: testRun ? 'succeeded' : undefined,
      actionName,
      canEdit,
      moveTo: (stepId, list, index) => {
        const next = moveStepTo(doc, stepId, list, index)
        if (next === doc) return
        change(next)
        setAnnounce(`Moved step ${stepId}.`)
      },
    }),
    [doc, selected, select, errorCount, states, testRun, actionName, canEdit, change],
  )

  const selectedEntry = selected && selected !== 'trigger' ? findStep(doc, selected) : undefined
  const problems = located.length
  const docLevel = located.filter((e) => !e.trigger && !e.stepId)

  return (
    <div className="editor">
      <div className="visually-hidden" role="status" aria-live="polite">
        {announce}
      </div>
      <header className="editor__bar">
        <nav aria-label="Breadcrumb" className="editor__crumbs">
          <Link to={HOME}>Workflows</Link>
          <span aria-hidden="true"> › </span>
        </nav>
        <label htmlFor="workflow-name" className="visually-hidden">
          Workflow name
        </label>
        <input
          id="workflow-name"
          className="editor__name"
          value={doc.name}
          readOnly={!canEdit}
          onChange={(e) => change({ ...doc, name: e.target.value }, 'name')}
        />
        <span className={`editor__status${saveState.kind === 'error' ? ' is-error' : ''}`} data-testid="save-status">
          {saveState.kind === 'saving'
            ? 'Saving…'
            : saveState.kind === 'error'
              ? saveState.message
              : !workflow
                ? 'Not saved yet'
                : dirty
                  ? 'Unsaved changes'
                  : `Saved · v${workflow.version}`}
        </span>
        <span className="editor__spacer" />
        {canEdit ? (
          <>
            <button type="button" className="btn btn--icon" onClick={() => dispatch({ type: 'undo' })} disabled={!history.past.length} aria-label="Undo" title="Undo (Ctrl+Z)" aria-keyshortcuts="Control+Z">
              ↶
            </button>
            <button type="button" className="btn btn--icon" onClick={() => dispatch({ type: 'redo' })} disabled={!history.future.length} aria-label="Redo" title="Redo (Ctrl+Shift+Z)" aria-keyshortcuts="Control+Shift+Z">
              ↷
            </button>
          </>
        ) : null}
        {problems ? (
          <button type="button" className="btn btn--warn" onClick={() => select(null)} aria-label={`${problems} problem${problems === 1 ? '' : 's'}: show list`}>
            ⚠ {problems}
          </button>
        ) : null}
        {workflow ? (
          <>
            <button type="button" className="btn" onClick={() => setSide(side.kind === 'versions' ? { kind: 'selection' } : { kind: 'versions' })} aria-pressed={side.kind === 'versions'}>
              Versions
            </button>
            <Link to={runsRoute(workflow.id)} className="btn">
              Runs
            </Link>
            {workflow.webhook_url ? (
              <Link to={`/workflows/${encodeURIComponent(workflow.id)}/inbox`} className="btn">
                Inbox
              </Link>
            ) : null}
          </>
        ) : null}
        {canEdit ? (
          <>
            <button type="button" className="btn" onClick={() => void test()} disabled={!workflow} title={workflow ? 'Save and run once with the sample data (Ctrl+Enter)' : 'Save the workflow first'} aria-keyshortcuts="Control+Enter">
              Test workflow
            </button>
            <button type="button" className="btn btn--primary" onClick={() => void save()} disabled={saveState.kind === 'saving' || (!dirty && !!workflow)} aria-keyshortcuts="Control+S">
              Save
            </button>
          </>
        ) : null}
        <span className="editor__active">
          <Switch checked={!!workflow?.active} label="Active" disabled={!workflow || !canEdit} busy={activeBusy} onChange={(v) => void setActive(v)} />
        </span>
      </header>

      {conflict ? (
        <div className="notice notice--error editor__banner" role="alert">
          <p>
            <strong>This workflow was changed by someone else</strong> since you opened it, so your changes were not saved.
          </p>
          <button type="button" className="btn" onClick={() => void reload()}>
            Reload their version (drop mine)
          </button>{' '}
          <button type="button" className="btn" onClick={() => void save({ overwrite: true })}>
            Save mine over theirs
          </button>
        </div>
      ) : null}

      {testRunId ? (
        <div className="editor__testbar" role="region" aria-label="Test run">
          {testRun ? (
            <>
              <span>Test run</span> <StateBadge state={testRun.state} />
              {testRun.error ? <span className="error-text small">{testRun.error}</span> : null}
              <span className="muted small">
                {testRun.steps.length} step result{testRun.steps.length === 1 ? '' : 's'}
              </span>
              {workflow ? (
                <Link to={runsRoute(workflow.id, testRun.id)}>View the run</Link>
              ) : null}
            </>
          ) : (
            <span>Starting test run…</span>
          )}
          <button type="button" className="btn btn--small" onClick={() => setTestRunId(null)}>
            Clear results
          </button>
        </div>
      ) : null}
      {testError ? (
        <div className="notice notice--error editor__banner" role="alert">
          Could not start the test: {testError}
        </div>
      ) : null}

      <div className="editor__body">
        <Suspense fallback={<div className="canvas"><Loading what="the canvas" /></div>}>
          <Canvas ctx={ctx} />
        </Suspense>
        <SampleContext.Provider value={sampleStatus}>
          <aside className="side-panel" id="side-panel" aria-label="Settings" tabIndex={-1}>
            {side.kind === 'versions' && workflow ? (
              <VersionsPanel workflowId={workflow.id} current={workflow.version} now={now} onRestore={restore} onClose={() => setSide({ kind: 'selection' })} />
            ) : side.kind === 'shortcuts' ? (
              <Shortcuts onClose={() => setSide({ kind: 'selection' })} />
            ) : selected === 'trigger' ? (
              <TriggerPanel
                trigger={doc.trigger}
                workflow={workflow}
                dirty={dirty}
                errors={located}
                onChange={(t: TriggerDoc, key) => change({ ...doc, trigger: t }, `trigger:${key}`)}
                sample={sample.data}
                listening={listening}
                onListen={startListening}
                stepIds={walkSteps(doc).map((e) => e.step.id)}
                draftWebhook={pendingWebhook.data}
              />
            ) : selectedEntry ? (
              <StepPanel
                key={selectedEntry.step.id}
                doc={doc}
                step={selectedEntry.step}
                connectors={specs}
                errors={located}
                getData={() => dataForStep(sourcesRef.current, selectedEntry.step.id)}
                onChange={(next: StepDoc, key) => change(updateStep(doc, selectedEntry.step.id, () => next), key)}
                onRename={(to) => {
                  change(renameStep(doc, selectedEntry.step.id, to))
                  setSelected(to)
                }}
                onDelete={() => deleteStep(selectedEntry.step.id)}
                onDuplicate={() => duplicate(selectedEntry.step.id)}
                onMove={(d) => move(selectedEntry.step.id, d)}
                canMoveUp={canMove(doc, selectedEntry.step.id, -1)}
                canMoveDown={canMove(doc, selectedEntry.step.id, 1)}
                results={(testRun ?? run.data)?.steps.filter((s) => s.step_id === selectedEntry.step.id) ?? []}
                onTried={(output) => setTried((t) => ({ ...t, [selectedEntry.step.id]: output }))}
              />
            ) : (
              <Overview problems={located} docLevel={docLevel} select={select} stepsCount={walkSteps(doc).length} />
            )}
          </aside>
        </SampleContext.Provider>
      </div>

      {addAt ? (
        <AddStepDialog
          place={addAt.place}
          connectors={specs}
          onPick={addStep}
          onClose={() => setAddAt(null)}
        />
      ) : null}
    </div>
  )
}

function Overview({
  problems,
  docLevel,
  select,
  stepsCount,
}: {
  problems: LocatedError[]
  docLevel: LocatedError[]
  select: (id: string | null) => void
  stepsCount: number
}) {
  return (
    <div className="overview">
      <SidePanelHead kind="Workflow" title={stepsCount ? 'Select a step' : 'Add the first step'} />
      <p className="muted">
        Select the trigger or a step on the canvas to edit it. Use the <strong>+</strong> buttons to add steps.
        Press <kbd>?</kbd> for keyboard shortcuts.
      </p>
      {problems.length ? (
        <section aria-labelledby="problems-title">
          <h3 id="problems-title">Problems</h3>
          <ul className="problems">
            {docLevel.map((p, i) => (
              <li key={`d${i}`}>
                <code>{p.path || 'workflow'}</code>: {p.message}
              </li>
            ))}
            {problems
              .filter((p) => p.trigger || p.stepId)
              .map((p, i) => (
                <li key={i}>
                  <button type="button" className="link-button" onClick={() => select(p.trigger ? 'trigger' : p.stepId)}>
                    {p.trigger ? 'Trigger' : p.stepId}
                  </button>
                  {p.field ? (
                    <>
                      {' '}
                      · <code>{p.field}</code>
                    </>
                  ) : null}
                  : {p.message}
                </li>
              ))}
          </ul>
        </section>
      ) : null}
    </div>
  )
}

function Shortcuts({ onClose }: { onClose: () => void }) {
  const rows: Array<[string, string]> = [
    ['Ctrl/⌘ + S', 'Save'],
    ['Ctrl/⌘ + Enter', 'Test the workflow'],
    ['Ctrl/⌘ + Z', 'Undo'],
    ['Ctrl/⌘ + Shift + Z, Ctrl + Y', 'Redo'],
    ['Delete', 'Delete the selected step'],
    ['Ctrl/⌘ + D', 'Duplicate the selected step'],
    ['Alt + ↑ / ↓', 'Move the selected step up or down'],
    ['↑ / ↓ on a node', 'Go to the previous or next node'],
    ['F6', 'Move between the canvas and the settings'],
    ['Escape', 'Close a dialog, or clear the selection'],
    ['?', 'Show or hide this list'],
  ]
  return (
    <div>
      <SidePanelHead kind="Help" title="Keyboard shortcuts" onClose={onClose} />
      <table className="table table--compact">
        <tbody>
          {rows.map(([k, v]) => (
            <tr key={k}>
              <th scope="row">
                <kbd>{k}</kbd>
              </th>
              <td>{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
