// The panel for one step: its settings drawn from the step type or the connector spec,
// errors on each field, the last test result, and delete / duplicate / move.

import { useEffect, useId, useState } from 'react'
import { useApi } from '../apiContext.ts'
import { canTestStep, testLogicStep, type StepTestResult } from './stepTest.ts'
import type { ConnectorSpec, PathDoc, RetryDoc, StepDoc, StepRun, WorkflowDocument } from '../api.ts'
import { explainError } from '../features/runs/errors.ts'
import { useCanEdit } from '../auth.tsx'
import { JsonBlock, SidePanelHead, StateBadge } from '../components.tsx'
import { fieldErrors, isValidStepId, stepIds, stepKindLabel, type LocatedError } from './doc.ts'
import { ConnectionPicker, ExprField, FieldShell, KeyValueField, SpecForm } from './fields.tsx'

export interface StepPanelProps {
  doc: WorkflowDocument
  step: StepDoc
  connectors: ConnectorSpec[]
  errors: LocatedError[]
  getData: () => Record<string, unknown>
  /** Changes the step; `key` groups keystrokes into one undo step. */
  onChange: (next: StepDoc, key: string) => void
  onRename: (to: string) => void
  onDelete: () => void
  onDuplicate: () => void
  onMove: (delta: -1 | 1) => void
  canMoveUp: boolean
  canMoveDown: boolean
  results: StepRun[]
  /** A logic step was tried alone: its output feeds later steps' autocomplete. */
  onTried: (output: unknown) => void
}

function actionSpec(connectors: ConnectorSpec[], action: string | undefined) {
  const [c, a] = (action ?? '').split('.')
  const connector = connectors.find((s) => s.id === c)
  return { connector, action: connector?.actions?.find((x) => x.id === a) }
}

export function StepPanel(props: StepPanelProps) {
  const { step, connectors, errors, getData, onChange, doc } = props
  const canEdit = useCanEdit()
  const uid = useId()
  const p = `${uid}-${step.id}`
  const errs = (field: string) => fieldErrors(errors, step.id, field)
  const set = (patch: Partial<StepDoc>, key: string) => {
    const next: StepDoc = { ...step, ...patch }
    const fields = next as Record<string, unknown>
    for (const k of Object.keys(patch)) if (fields[k] === undefined || fields[k] === '') delete fields[k]
    onChange(next, `${step.id}:${key}`)
  }
  const kind = stepKindLabel(step, (a) => actionSpec(connectors, a).action?.name)
  const general = errors.filter((e) => e.stepId === step.id && ['', 'type', 'steps'].includes(e.field))

  return (
    <div className="step-panel" data-step-panel={step.id}>
      <SidePanelHead kind={step.type === 'action' ? 'Action' : 'Logic'} title={step.name || kind} />

      {general.map((e, i) => (
        <div key={i} className="notice notice--error" role="alert">
          {e.field === 'steps' ? `Steps inside: ${e.message}. Use the + inside it on the canvas.` : e.message}
        </div>
      ))}

      <StepIdField step={step} doc={doc} onRename={props.onRename} idPrefix={p} errors={errs('id')} />
      <FieldShell id={`${p}-name`} label="Title on the canvas" help="Optional; only for people reading the workflow.">
        <input
          id={`${p}-name`}
          type="text"
          value={step.name ?? ''}
          placeholder={kind}
          readOnly={!canEdit}
          aria-describedby={`${p}-name-help`}
          onChange={(e) => set({ name: e.target.value }, 'name')}
        />
      </FieldShell>

      {step.type === 'filter' ? (
        <ExprField
          id={`${p}-if`}
          label="Continue only if"
          mode="expression"
          required
          value={step.if ?? ''}
          onChange={(v) => set({ if: v }, 'if')}
          errors={errs('if')}
          getData={getData}
          placeholder="trigger.body.total > 100"
          help="An expression that is true or false. The run stops here (as “filtered”) when it is false."
        />
      ) : null}

      {step.type === 'map' ? (
        <KeyValueField
          id={`${p}-fields`}
          label="Fields"
          required
          help="Each field becomes part of this step’s output (steps.{id}.name). Type {{ to insert data."
          value={step.fields}
          onChange={(v) => set({ fields: v }, 'fields')}
          errors={errs('fields').length && !Object.keys(step.fields ?? {}).length ? errs('fields') : undefined}
          fieldErrors={(k) => errs(`fields.${k}`)}
          getData={getData}
          keyLabel="Field name"
          valueLabel="Value"
          addLabel="Add field"
        />
      ) : null}

      {step.type === 'paths' ? <PathsEditor step={step} idPrefix={p} set={set} errs={errs} getData={getData} /> : null}

      {step.type === 'for_each' ? (
        <>
          <ExprField
            id={`${p}-items`}
            label="Repeat for each item of"
            mode="expression"
            required
            value={step.items ?? ''}
            onChange={(v) => set({ items: v }, 'items')}
            errors={errs('items')}
            getData={getData}
            placeholder="trigger.body.items"
            help="An expression giving a list. Steps inside the loop read the current item as item (and its position as index)."
          />
          <FieldShell id={`${p}-concurrency`} label="Items at once" help="How many items run at the same time (1–64)." errors={errs('concurrency')}>
            <input
              id={`${p}-concurrency`}
              type="number"
              min={1}
              max={64}
              value={step.concurrency ?? ''}
              placeholder="1"
              readOnly={!canEdit}
              aria-describedby={`${p}-concurrency-help`}
              onChange={(e) => set({ concurrency: e.target.value ? Number(e.target.value) : undefined }, 'concurrency')}
            />
          </FieldShell>
        </>
      ) : null}

      {step.type === 'delay' ? <DelayEditor step={step} idPrefix={p} set={set} errs={errs} getData={getData} /> : null}

      {step.type === 'action' ? <ActionEditor {...props} idPrefix={p} set={set} errs={errs} /> : null}

      <details className="advanced">
        <summary>Retries, timeout and errors</summary>
        <AdvancedEditor step={step} idPrefix={p} set={set} errs={errs} />
      </details>

      {canEdit && canTestStep(step) ? <TryStep step={step} getData={getData} onTried={props.onTried} /> : null}

      <TestResult results={props.results} />

      {canEdit ? (
        <div className="step-panel__actions" role="group" aria-label="Step actions">
          <button type="button" className="btn" onClick={() => props.onMove(-1)} disabled={!props.canMoveUp} aria-keyshortcuts="Alt+ArrowUp">
            Move up
          </button>
          <button type="button" className="btn" onClick={() => props.onMove(1)} disabled={!props.canMoveDown} aria-keyshortcuts="Alt+ArrowDown">
            Move down
          </button>
          <button type="button" className="btn" onClick={props.onDuplicate} aria-keyshortcuts="Control+D">
            Duplicate
          </button>
          <button type="button" className="btn btn--danger" onClick={props.onDelete} aria-keyshortcuts="Delete">
            Delete step
          </button>
        </div>
      ) : null}
    </div>
  )
}

function StepIdField({
  step,
  doc,
  onRename,
  idPrefix,
  errors,
}: {
  step: StepDoc
  doc: WorkflowDocument
  onRename: (to: string) => void
  idPrefix: string
  errors: string[]
}) {
  const canEdit = useCanEdit()
  const [text, setText] = useState(step.id)
  useEffect(() => setText(step.id), [step.id])
  let problem: string | null = null
  if (text !== step.id) {
    if (!isValidStepId(text)) problem = 'Start with a letter; use only letters, digits and _.'
    else if (stepIds(doc).has(text)) problem = 'Another step already has this id.'
  }
  const commit = () => {
    if (text !== step.id && !problem) onRename(text)
    else setText(step.id)
  }
  const id = `${idPrefix}-id`
  return (
    <FieldShell
      id={id}
      label="Step ID"
      help={`Later steps read this step’s output as steps.${step.id}. Renaming updates them.`}
      errors={[...(problem ? [problem] : []), ...errors]}
    >
      <input
        id={id}
        type="text"
        className="mono"
        value={text}
        readOnly={!canEdit}
        aria-invalid={problem ? true : undefined}
        aria-describedby={`${id}-help${problem || errors.length ? ` ${id}-error` : ''}`}
        onChange={(e) => setText(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commit()
          if (e.key === 'Escape') setText(step.id)
        }}
      />
    </FieldShell>
  )
}

type Setter = (patch: Partial<StepDoc>, key: string) => void
type Errs = (field: string) => string[]

/** What every step kind's editor gets: the step, how to change it, its errors. */
interface KindEditorProps {
  step: StepDoc
  idPrefix: string
  set: Setter
  errs: Errs
  getData: () => Record<string, unknown>
}

function PathsEditor({ step, idPrefix, set, errs, getData }: KindEditorProps) {
  const canEdit = useCanEdit()
  const paths: PathDoc[] = step.paths ?? []
  const setPath = (j: number, patch: Partial<PathDoc>, key: string) =>
    set({ paths: paths.map((p, i) => (i === j ? { ...p, ...patch } : p)) }, `paths.${j}.${key}`)
  return (
    <>
      <FieldShell id={`${idPrefix}-mode`} label="Which paths run" errors={errs('mode')}>
        <select
          id={`${idPrefix}-mode`}
          value={step.mode || 'all'}
          disabled={!canEdit}
          onChange={(e) => set({ mode: e.target.value as StepDoc['mode'] }, 'mode')}
        >
          <option value="all">Every path whose condition is true</option>
          <option value="first">Only the first path whose condition is true</option>
        </select>
      </FieldShell>
      {errs('paths')
        .filter((_, i) => i === 0 && !paths.length)
        .map((e) => (
          <p key={e} className="field__error" role="alert">
            {e}
          </p>
        ))}
      {paths.map((path, j) => (
        <fieldset key={j} className="path-box">
          <legend>
            Path {j + 1}: {path.name || '(unnamed)'}
          </legend>
          <FieldShell id={`${idPrefix}-path-${j}-name`} label="Name">
            <input
              id={`${idPrefix}-path-${j}-name`}
              type="text"
              value={path.name}
              readOnly={!canEdit}
              onChange={(e) => setPath(j, { name: e.target.value }, 'name')}
            />
          </FieldShell>
          <ExprField
            id={`${idPrefix}-path-${j}-if`}
            label="Runs when"
            mode="expression"
            value={path.if ?? ''}
            onChange={(v) => setPath(j, { if: v || undefined }, 'if')}
            errors={errs(`paths[${j}].if`)}
            getData={getData}
            placeholder="always (leave empty)"
            help="Leave empty to always run this path."
          />
          {canEdit ? (
            <button
              type="button"
              className="btn btn--small btn--danger"
              onClick={() => {
                if (path.steps?.length && !window.confirm(`Remove “${path.name}” and its ${path.steps.length} step(s)?`)) return
                set({ paths: paths.filter((_, i) => i !== j) }, `paths.remove.${j}`)
              }}
            >
              Remove path
            </button>
          ) : null}
        </fieldset>
      ))}
      {canEdit ? (
        <button
          type="button"
          className="btn btn--small"
          onClick={() => set({ paths: [...paths, { name: `Path ${String.fromCharCode(65 + paths.length)}`, if: '', steps: [] }] }, 'paths.add')}
        >
          Add path
        </button>
      ) : null}
    </>
  )
}

function DelayEditor({ step, idPrefix, set, errs, getData }: KindEditorProps) {
  const canEdit = useCanEdit()
  const mode = step.until !== undefined && step.for === undefined ? 'until' : 'for'
  return (
    <>
      <fieldset className="field radios">
        <legend className="field__label">Wait</legend>
        <label className="check">
          <input type="radio" checked={mode === 'for'} disabled={!canEdit} onChange={() => set({ for: step.for || '5m', until: undefined }, 'delay.mode')} />
          for a while
        </label>
        <label className="check">
          <input type="radio" checked={mode === 'until'} disabled={!canEdit} onChange={() => set({ until: step.until || 'now() + duration("1h")', for: undefined }, 'delay.mode')} />
          until a time
        </label>
      </fieldset>
      {mode === 'for' ? (
        <FieldShell id={`${idPrefix}-for`} label="How long" required help="A duration such as 90s, 15m, 2h or 24h." errors={[...errs('for'), ...errs('')]}>
          <input
            id={`${idPrefix}-for`}
            type="text"
            value={step.for ?? ''}
            readOnly={!canEdit}
            aria-describedby={`${idPrefix}-for-help`}
            onChange={(e) => set({ for: e.target.value }, 'for')}
          />
        </FieldShell>
      ) : (
        <ExprField
          id={`${idPrefix}-until`}
          label="Until"
          mode="expression"
          required
          value={step.until ?? ''}
          onChange={(v) => set({ until: v }, 'until')}
          errors={errs('until')}
          getData={getData}
          help="An expression giving a date and time."
        />
      )}
    </>
  )
}

function ActionEditor({
  step,
  connectors,
  getData,
  idPrefix,
  set,
  errs,
}: StepPanelProps & KindEditorProps) {
  const canEdit = useCanEdit()
  const { connector, action } = actionSpec(connectors, step.action)
  return (
    <>
      <FieldShell id={`${idPrefix}-action`} label="Action" required errors={errs('action')}>
        <select
          id={`${idPrefix}-action`}
          value={step.action ?? ''}
          disabled={!canEdit}
          onChange={(e) => {
            const [c] = e.target.value.split('.')
            const keepConnection = c === connector?.id
            set({ action: e.target.value, input: keepConnection ? step.input : {}, connection: keepConnection ? step.connection : undefined }, 'action')
          }}
        >
          {!action ? <option value={step.action ?? ''}>{step.action || 'Choose…'} (unknown)</option> : null}
          {connectors.map((c) => (
            <optgroup key={c.id} label={c.name}>
              {(c.actions ?? []).map((a) => (
                <option key={a.id} value={`${c.id}.${a.id}`}>
                  {c.name}: {a.name}
                </option>
              ))}
            </optgroup>
          ))}
        </select>
      </FieldShell>
      {connector && ((connector.auth.fields?.length ?? 0) > 0 || step.connection) ? (
        <ConnectionPicker
          spec={connector}
          value={step.connection}
          onChange={(name) => set({ connection: name }, 'connection')}
          errors={errs('connection')}
          idPrefix={idPrefix}
        />
      ) : null}
      {action ? (
        <>
          {action.description ? <p className="field__help">{action.description}</p> : null}
          <SpecForm
            fields={action.input ?? []}
            idPrefix={`${idPrefix}-input`}
            value={step.input ?? {}}
            onChange={(input) => set({ input }, 'input')}
            errorsFor={(k) => errs(`input.${k}`)}
            getData={getData}
          />
        </>
      ) : (
        <p className="notice">This server has no action “{step.action}”. Choose another action.</p>
      )}
    </>
  )
}

function AdvancedEditor({ step, idPrefix, set, errs }: Omit<KindEditorProps, 'getData'>) {
  const canEdit = useCanEdit()
  const retry = step.retry
  return (
    <div className="advanced__body">
      <FieldShell id={`${idPrefix}-on-error`} label="When this step fails" errors={errs('on_error')}>
        <select id={`${idPrefix}-on-error`} value={step.on_error || 'fail'} disabled={!canEdit} onChange={(e) => set({ on_error: e.target.value === 'fail' ? undefined : (e.target.value as StepDoc['on_error']) }, 'on_error')}>
          <option value="fail">Stop the run (failed)</option>
          <option value="continue">Continue with the next step</option>
        </select>
      </FieldShell>
      <FieldShell id={`${idPrefix}-timeout`} label="Timeout" help="Longest time one attempt may take, such as 30s." errors={errs('timeout')}>
        <input
          id={`${idPrefix}-timeout`}
          type="text"
          value={step.timeout ?? ''}
          placeholder="server default"
          readOnly={!canEdit}
          aria-describedby={`${idPrefix}-timeout-help`}
          onChange={(e) => set({ timeout: e.target.value }, 'timeout')}
        />
      </FieldShell>
      <div className="field field--check">
        <label className="check">
          <input
            type="checkbox"
            checked={!!retry}
            disabled={!canEdit}
            onChange={(e) => set({ retry: e.target.checked ? { max_attempts: 3, backoff: 'exponential', initial: '2s', max: '10m' } : undefined }, 'retry')}
          />
          Retry when it fails with an error that may pass
        </label>
      </div>
      {retry ? (
        <div className="grid-2">
          <FieldShell id={`${idPrefix}-retry-max`} label="Attempts" errors={errs('retry.max_attempts')}>
            <input
              id={`${idPrefix}-retry-max`}
              type="number"
              min={1}
              max={50}
              value={retry.max_attempts}
              readOnly={!canEdit}
              onChange={(e) => set({ retry: { ...retry, max_attempts: Number(e.target.value) } }, 'retry.max')}
            />
          </FieldShell>
          <FieldShell id={`${idPrefix}-retry-backoff`} label="Backoff" errors={errs('retry.backoff')}>
            <select id={`${idPrefix}-retry-backoff`} value={retry.backoff ?? 'exponential'} disabled={!canEdit} onChange={(e) => set({ retry: { ...retry, backoff: e.target.value as RetryDoc['backoff'] } }, 'retry.backoff')}>
              <option value="exponential">Exponential</option>
              <option value="fixed">Fixed</option>
            </select>
          </FieldShell>
          <FieldShell id={`${idPrefix}-retry-initial`} label="First wait" errors={errs('retry.initial')}>
            <input id={`${idPrefix}-retry-initial`} type="text" value={retry.initial ?? ''} readOnly={!canEdit} onChange={(e) => set({ retry: { ...retry, initial: e.target.value || undefined } }, 'retry.initial')} />
          </FieldShell>
          <FieldShell id={`${idPrefix}-retry-maxwait`} label="Longest wait" errors={errs('retry.max')}>
            <input id={`${idPrefix}-retry-maxwait`} type="text" value={retry.max ?? ''} readOnly={!canEdit} onChange={(e) => set({ retry: { ...retry, max: e.target.value || undefined } }, 'retry.maxwait')} />
          </FieldShell>
        </div>
      ) : null}
    </div>
  )
}

function TestResult({ results }: { results: StepRun[] }) {
  if (!results.length) return null
  return (
    <section className="test-result" aria-label="Latest run result">
      <h3>Latest run</h3>
      {results.slice(0, 5).map((r, i) => (
        <div key={`${r.item_key ?? ''}-${i}`} className="test-result__item" data-state={r.state}>
          <p>
            <StateBadge state={r.state} />
            {r.item_key ? <span className="muted small"> item {r.item_key}</span> : null}
            {r.attempts > 1 ? <span className="muted small"> · {r.attempts} attempts</span> : null}
          </p>
          {r.error ? <ErrorInWords message={r.error} /> : null}
          <JsonBlock value={r.output} label="Output of the step" />
        </div>
      ))}
      {results.length > 5 ? <p className="muted small">…and {results.length - 5} more items.</p> : null}
    </section>
  )
}


/** A recorded error, whole, with a sentence in plain words when we know one. */
function ErrorInWords({ message }: { message: string }) {
  return (
    <>
      <p className="error-text pre-wrap">{message}</p>
      <ErrorHint message={message} />
    </>
  )
}

function ErrorHint({ message }: { message: string }) {
  const words = explainError(message)
  if (!words) return null
  return (
    <p className="small" data-testid="error-words">
      {words.summary}
      {words.hint ? ` ${words.hint}` : ''}
    </p>
  )
}

function TryStep({ step, getData, onTried }: { step: StepDoc; getData: () => Record<string, unknown>; onTried: (output: unknown) => void }) {
  const api = useApi()
  const [busy, setBusy] = useState(false)
  const [result, setResult] = useState<StepTestResult | null>(null)
  const run = async () => {
    setBusy(true)
    const r = await testLogicStep(api, step, getData())
    setResult(r)
    setBusy(false)
    if (!r.error) onTried(r.output)
  }
  return (
    <section className="try-step" aria-label="Test this step">
      <div className="inline">
        <button type="button" className="btn" onClick={() => void run()} disabled={busy}>
          {busy ? 'Testing…' : 'Test this step'}
        </button>
        <span className="muted small">
          {step.type === 'action'
            ? 'with the sample data: this calls the service for real, without running the workflow'
            : 'with the sample data, without running the workflow'}
        </span>
      </div>
      {result ? (
        <div role="status" className="try-step__result">
          {result.error ? (
            <>
              <p className="error-text">
                {result.error.field ? <code>{result.error.field}</code> : null} {result.error.message}
              </p>
              <ErrorHint message={result.error.message} />
            </>
          ) : (
            <JsonBlock value={result.output} label="Output of this step with the sample data" />
          )}
        </div>
      ) : null}
    </section>
  )
}
