// Form fields drawn from connector specs (no code per connector), plus the expression field,
// the key/value editor and the connection picker with inline create.

import { useQueryClient } from '@tanstack/react-query'
import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react'
import { ApiError, type ConnectorSpec, type FieldSpec } from '../api.ts'
import { useApi } from '../apiContext.ts'
import { useCanEdit } from '../auth.tsx'
import { Alert, FormActions } from '../components.tsx'
import { slugify } from '../format.ts'
import { useConnections } from '../queries.ts'
import type { ExprMode } from './completion.ts'
import { Preview } from './Preview.tsx'
import TemplateInput from './TemplateInput.tsx'

type GetData = () => Record<string, unknown>

// ---- shell ------------------------------------------------------------------------------

export function FieldShell({
  id,
  labelId,
  label,
  required,
  help,
  errors,
  children,
  asLabel = true,
  extra,
}: {
  id: string
  labelId?: string
  label: string
  required?: boolean
  help?: ReactNode
  errors?: string[]
  children: ReactNode
  /** false when the control is not a native input (the label is then a plain element). */
  asLabel?: boolean
  extra?: ReactNode
}) {
  const lid = labelId ?? `${id}-label`
  const content = (
    <>
      {label}
      {required ? (
        <span className="required-mark" aria-hidden="true">
          *
        </span>
      ) : null}
      {required ? <span className="visually-hidden"> (required)</span> : null}
    </>
  )
  return (
    <div className={`field${errors?.length ? ' has-error' : ''}`} data-field={id}>
      {asLabel ? (
        <label id={lid} htmlFor={id}>
          {content}
        </label>
      ) : (
        <span id={lid} className="field__label">
          {content}
        </span>
      )}
      {children}
      <FieldNotes id={id} help={help} errors={errors} />
      {extra}
    </div>
  )
}

/** What goes under a field: its help, then its errors (the first one is what aria-describedby names). */
function FieldNotes({ id, help, errors }: { id: string; help?: ReactNode; errors?: string[] }) {
  return (
    <>
      {help ? (
        <p id={`${id}-help`} className="field__help">
          {help}
        </p>
      ) : null}
      {errors?.map((e, i) => (
        <p key={i} id={i === 0 ? `${id}-error` : undefined} className="field__error" role="alert">
          {e}
        </p>
      ))}
    </>
  )
}

function describedBy(id: string, help: unknown, errors?: string[]): string | undefined {
  const ids = [help ? `${id}-help` : '', errors?.length ? `${id}-error` : '', `${id}-preview`].filter(Boolean)
  return ids.join(' ') || undefined
}

// ---- expression / template field -----------------------------------------------------------

export function ExprField({
  id,
  label,
  value,
  onChange,
  mode = 'template',
  multiline,
  required,
  help,
  errors,
  getData,
  placeholder,
}: {
  id: string
  label: string
  value: string
  onChange: (v: string) => void
  mode?: ExprMode
  multiline?: boolean
  required?: boolean
  help?: ReactNode
  errors?: string[]
  getData: GetData
  placeholder?: string
}) {
  const canEdit = useCanEdit()
  return (
    <FieldShell id={id} label={label} required={required} help={help} errors={errors} asLabel={false}>
      <TemplateInput
        id={id}
        labelledBy={`${id}-label`}
        describedBy={describedBy(id, help, errors)}
        value={value}
        onChange={onChange}
        mode={mode}
        multiline={multiline}
        getData={getData}
        invalid={!!errors?.length}
        placeholder={placeholder}
        readOnly={!canEdit}
      />
      <Preview id={`${id}-preview`} value={value} mode={mode} getData={getData} />
    </FieldShell>
  )
}

// ---- key / value rows ---------------------------------------------------------------------

interface Row {
  key: string
  /** The text shown. */
  value: string
  /** The value written to the document (kept as loaded until the text is edited). */
  raw: unknown
  id: number
}

function toText(v: unknown): string {
  if (typeof v === 'string') return v
  if (v === undefined) return ''
  return JSON.stringify(v)
}

/**
 * What typed text stands for: an object or list written as JSON keeps its shape; everything
 * else is text (a number is written {{ 5 }} — a field that is one {{ }} keeps the value's type).
 */
export function fromText(s: string): unknown {
  const t = s.trim()
  if (/^[[{]/.test(t) && !t.startsWith('{{')) {
    try {
      return JSON.parse(t)
    } catch {
      return s
    }
  }
  return s
}

let rowSeq = 0

function rowsOf(obj: Record<string, unknown> | undefined): Row[] {
  return Object.entries(obj ?? {}).map(([key, value]) => ({ key, value: toText(value), raw: value, id: ++rowSeq }))
}

function objOf(rows: Row[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const r of rows) if (r.key.trim()) out[r.key.trim()] = r.raw
  return out
}

/** Keys with template values: map step fields, object-typed connector fields. */
export function KeyValueField({
  id,
  label,
  value,
  onChange,
  required,
  help,
  errors,
  getData,
  keyLabel = 'Name',
  valueLabel = 'Value',
  addLabel = 'Add',
  fieldErrors,
}: {
  id: string
  label: string
  value: Record<string, unknown> | undefined
  onChange: (v: Record<string, unknown>) => void
  required?: boolean
  help?: ReactNode
  errors?: string[]
  getData: GetData
  keyLabel?: string
  valueLabel?: string
  addLabel?: string
  /** Errors of one key's value. */
  fieldErrors?: (key: string) => string[]
}) {
  const canEdit = useCanEdit()
  const [rows, setRows] = useState<Row[]>(() => rowsOf(value))
  const emitted = useRef(JSON.stringify(value ?? {}))
  const focusNext = useRef<number | null>(null)

  // Undo, redo or another panel changed the value: show it.
  useEffect(() => {
    const s = JSON.stringify(value ?? {})
    if (s !== emitted.current) {
      emitted.current = s
      setRows(rowsOf(value))
    }
  }, [value])

  useEffect(() => {
    if (focusNext.current !== null) {
      document.getElementById(`${id}-key-${focusNext.current}`)?.focus()
      focusNext.current = null
    }
  })

  const update = (next: Row[]) => {
    setRows(next)
    const obj = objOf(next)
    emitted.current = JSON.stringify(obj)
    onChange(obj)
  }

  return (
    <fieldset className={`field kv${errors?.length ? ' has-error' : ''}`} data-field={id}>
      <legend className="field__label">
        {label}
        {required ? (
          <span className="required-mark" aria-hidden="true">
            *
          </span>
        ) : null}
      </legend>
      {help ? <p className="field__help">{help}</p> : null}
      {rows.length === 0 ? <p className="muted small">None yet.</p> : null}
      {rows.map((row, i) => {
        const rowErrors = row.key ? fieldErrors?.(row.key) ?? [] : []
        const vid = `${id}-value-${row.id}`
        return (
          <div className="kv__row" key={row.id}>
            <div className="kv__key">
              <label htmlFor={`${id}-key-${row.id}`} className="visually-hidden">
                {keyLabel} {i + 1}
              </label>
              <input
                id={`${id}-key-${row.id}`}
                className="input"
                placeholder={keyLabel}
                value={row.key}
                readOnly={!canEdit}
                onChange={(e) => update(rows.map((r) => (r.id === row.id ? { ...r, key: e.target.value } : r)))}
              />
            </div>
            <div className="kv__value">
              <span id={`${vid}-label`} className="visually-hidden">
                {valueLabel} of {row.key || `${keyLabel.toLowerCase()} ${i + 1}`}
              </span>
              <TemplateInput
                id={vid}
                labelledBy={`${vid}-label`}
                describedBy={`${vid}-preview`}
                value={row.value}
                onChange={(v) => update(rows.map((r) => (r.id === row.id ? { ...r, value: v, raw: fromText(v) } : r)))}
                getData={getData}
                invalid={rowErrors.length > 0}
                placeholder={valueLabel + ' — type {{ for data'}
                readOnly={!canEdit}
              />
              <Preview id={`${vid}-preview`} value={row.value} mode="template" getData={getData} />
              {rowErrors.map((e, k) => (
                <p key={k} className="field__error" role="alert">
                  {e}
                </p>
              ))}
            </div>
            {canEdit ? (
              <button
                type="button"
                className="btn btn--icon"
                aria-label={`Remove ${row.key || `${keyLabel.toLowerCase()} ${i + 1}`}`}
                onClick={() => update(rows.filter((r) => r.id !== row.id))}
              >
                ×
              </button>
            ) : null}
          </div>
        )
      })}
      {errors?.map((e, i) => (
        <p key={i} className="field__error" role="alert">
          {e}
        </p>
      ))}
      {canEdit ? (
        <button
          type="button"
          className="btn btn--small"
          onClick={() => {
            const row: Row = { key: '', value: '', raw: '', id: ++rowSeq }
            focusNext.current = row.id
            setRows([...rows, row])
          }}
        >
          {addLabel}
        </button>
      ) : null}
    </fieldset>
  )
}

// ---- JSON (list / any) -----------------------------------------------------------------------

function JsonField({
  spec,
  id,
  value,
  onChange,
  errors,
  getData,
}: {
  spec: FieldSpec
  id: string
  value: unknown
  onChange: (v: unknown) => void
  errors?: string[]
  getData: GetData
}) {
  const canEdit = useCanEdit()
  const shown = (v: unknown) => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v, null, 2))
  const [text, setText] = useState(() => shown(value))
  const emitted = useRef<unknown>(value)
  useEffect(() => {
    if (JSON.stringify(value) !== JSON.stringify(emitted.current)) {
      emitted.current = value
      setText(shown(value))
    }
  }, [value])
  let note: string | null = null
  const t = text.trim()
  if (t && !t.startsWith('{{')) {
    try {
      const parsed = JSON.parse(t)
      if (spec.type === 'list' && !Array.isArray(parsed)) note = 'A list is written as [ … ].'
    } catch {
      note = 'Not valid JSON yet; it is sent as text.'
    }
  }
  const help = [spec.help, spec.type === 'list' ? 'JSON list, or {{ }} giving a list.' : 'JSON, or {{ }} for data.']
    .filter(Boolean)
    .join(' ')
  return (
    <FieldShell id={id} label={spec.label} required={spec.required} help={help} errors={errors} asLabel={false}>
      <TemplateInput
        id={id}
        labelledBy={`${id}-label`}
        describedBy={describedBy(id, help, errors)}
        value={text}
        multiline
        onChange={(v) => {
          setText(v)
          const s = v.trim()
          let next: unknown = v
          if (!s) next = undefined
          else if (!s.startsWith('{{')) {
            try {
              next = JSON.parse(s)
            } catch {
              next = v
            }
          }
          emitted.current = next
          onChange(next)
        }}
        getData={getData}
        invalid={!!errors?.length}
        readOnly={!canEdit}
      />
      {note ? <p className="field__help">{note}</p> : null}
    </FieldShell>
  )
}

// ---- one field of a spec -----------------------------------------------------------------------

export function SpecField({
  spec,
  idPrefix,
  value,
  onChange,
  errors,
  getData,
  fieldErrors,
}: {
  spec: FieldSpec
  idPrefix: string
  value: unknown
  onChange: (v: unknown) => void
  errors?: string[]
  getData: GetData
  fieldErrors?: (key: string) => string[]
}) {
  const canEdit = useCanEdit()
  const id = `${idPrefix}-${spec.key}`
  const defaultHint =
    spec.default !== undefined && spec.type !== 'boolean' && spec.type !== 'select' ? `Default: ${toText(spec.default)}` : ''
  const help = [spec.help, defaultHint].filter(Boolean).join(' · ') || undefined
  switch (spec.type) {
    case 'boolean': {
      const checked = value === true || (value === undefined && spec.default === true)
      return (
        <div className={`field field--check${errors?.length ? ' has-error' : ''}`} data-field={id}>
          <label htmlFor={id} className="check">
            <input
              id={id}
              type="checkbox"
              checked={checked}
              disabled={!canEdit}
              aria-describedby={help ? `${id}-help` : undefined}
              onChange={(e) => onChange(e.target.checked)}
            />
            {spec.label}
            {spec.required ? <span className="required-mark" aria-hidden="true">*</span> : null}
          </label>
          <FieldNotes id={id} help={help} errors={errors} />
        </div>
      )
    }
    case 'select': {
      const current = value === undefined ? (spec.default as string | undefined) ?? '' : String(value)
      return (
        <FieldShell id={id} label={spec.label} required={spec.required} help={spec.help} errors={errors}>
          <select
            id={id}
            value={current}
            disabled={!canEdit}
            aria-invalid={errors?.length ? true : undefined}
            aria-describedby={describedBy(id, spec.help, errors)}
            onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)}
          >
            {spec.default === undefined ? <option value="">{spec.required ? 'Choose…' : '—'}</option> : null}
            <OptionList options={spec.options} />
          </select>
        </FieldShell>
      )
    }
    case 'number':
      return (
        <FieldShell id={id} label={spec.label} required={spec.required} help={help} errors={errors}>
          <input
            id={id}
            type="text"
            inputMode="decimal"
            value={value === undefined ? '' : String(value)}
            placeholder={spec.default !== undefined ? String(spec.default) : undefined}
            readOnly={!canEdit}
            aria-invalid={errors?.length ? true : undefined}
            aria-describedby={describedBy(id, help, errors)}
            onChange={(e) => {
              const s = e.target.value
              if (s.trim() === '') onChange(undefined)
              else if (/^-?\d+(\.\d+)?$/.test(s.trim())) onChange(Number(s.trim()))
              else onChange(s)
            }}
          />
        </FieldShell>
      )
    case 'object':
      return (
        <KeyValueField
          id={id}
          label={spec.label}
          required={spec.required}
          help={spec.help}
          errors={errors}
          value={value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined}
          onChange={(v) => onChange(Object.keys(v).length ? v : undefined)}
          getData={getData}
          keyLabel="Key"
          addLabel={`Add to ${spec.label.toLowerCase()}`}
          fieldErrors={fieldErrors}
        />
      )
    case 'list':
    case 'any':
      return <JsonField spec={spec} id={id} value={value} onChange={onChange} errors={errors} getData={getData} />
    case 'text':
    case 'string':
    default:
      return (
        <ExprField
          id={id}
          label={spec.label}
          required={spec.required}
          help={help}
          errors={errors}
          value={toText(value)}
          onChange={(v) => onChange(v === '' ? undefined : v)}
          multiline={spec.type === 'text'}
          getData={getData}
          placeholder={spec.default !== undefined ? String(spec.default) : undefined}
        />
      )
  }
}

/** Every field of an action's input, drawn from its spec. */
export function SpecForm({
  fields,
  idPrefix,
  value,
  onChange,
  errorsFor,
  getData,
}: {
  fields: FieldSpec[]
  idPrefix: string
  value: Record<string, unknown>
  onChange: (next: Record<string, unknown>) => void
  /** Errors of one input key (or a sub-path `key.sub`). */
  errorsFor: (key: string) => string[]
  getData: GetData
}) {
  return (
    <div className="spec-form">
      {fields.map((f) => (
        <SpecField
          key={f.key}
          spec={f}
          idPrefix={idPrefix}
          value={value[f.key]}
          errors={errorsFor(f.key)}
          fieldErrors={(k) => errorsFor(`${f.key}.${k}`)}
          getData={getData}
          onChange={(v) => {
            const next = { ...value }
            if (v === undefined) delete next[f.key]
            else next[f.key] = v
            onChange(next)
          }}
        />
      ))}
    </div>
  )
}

// ---- connections ---------------------------------------------------------------------------------

/** key, or key-2, key-3 … when a connection already has it. */
export function uniqueKey(key: string, taken: string[]): string {
  if (!taken.includes(key)) return key
  for (let n = 2; ; n++) if (!taken.includes(`${key}-${n}`)) return `${key}-${n}`
}

export function suggestConnectionName(connector: string, taken: string[]): string {
  const base = connector.replace(/[^a-zA-Z0-9_.-]/g, '-')
  if (!taken.includes(base)) return base
  for (let n = 2; ; n++) if (!taken.includes(`${base}-${n}`)) return `${base}-${n}`
}

export function ConnectionPicker({
  spec,
  value,
  onChange,
  errors,
  idPrefix,
}: {
  spec: ConnectorSpec
  value: string | undefined
  onChange: (name: string | undefined) => void
  errors?: string[]
  idPrefix: string
}) {
  const canEdit = useCanEdit()
  const connections = useConnections()
  const mine = (connections.data ?? []).filter((c) => c.connector === spec.id)
  const [creating, setCreating] = useState(false)
  const id = `${idPrefix}-connection`
  const missing = value && connections.data && !mine.some((c) => c.name === value)
  const chosen = mine.find((c) => c.name === value)
  const needed = !spec.auth.optional && (spec.auth.fields?.length ?? 0) > 0
  const help = needed ? `Which ${spec.name} account this step uses.` : `Optional: credentials for ${spec.name}.`
  const allErrors = [...(errors ?? []), ...(missing ? [`There is no ${spec.name} connection named “${value}”.`] : [])]
  return (
    <div className="connection-picker">
      <FieldShell id={id} label="Connection" required={needed} help={help} errors={allErrors}>
        <div className="inline">
          <select
            id={id}
            value={value ?? ''}
            disabled={!canEdit}
            aria-invalid={allErrors.length ? true : undefined}
            aria-describedby={`${id}-help`}
            onChange={(e) => onChange(e.target.value || undefined)}
          >
            <option value="">{connections.isPending ? 'Loading…' : mine.length ? 'Choose a connection…' : 'No connection yet'}</option>
            {missing ? <option value={value}>{value} (missing)</option> : null}
            {mine.map((c) => (
              <option key={c.id} value={c.name}>
                {c.name}
              </option>
            ))}
          </select>
          {canEdit && !creating ? (
            <button type="button" className="btn" onClick={() => setCreating(true)}>
              New connection
            </button>
          ) : null}
        </div>
      </FieldShell>
      {canEdit && chosen ? <TestConnection key={chosen.id} id={chosen.id} name={chosen.name} /> : null}
      {creating ? (
        <NewConnectionForm
          spec={spec}
          taken={(connections.data ?? []).map((c) => c.name)}
          onCancel={() => setCreating(false)}
          onCreated={(name) => {
            setCreating(false)
            onChange(name)
          }}
        />
      ) : null}
    </div>
  )
}

function TestConnection({ id, name }: { id: string; name: string }) {
  const api = useApi()
  const [state, setState] = useState<{ kind: 'idle' | 'busy' } | { kind: 'done'; ok: boolean; text: string }>({ kind: 'idle' })
  const run = async () => {
    setState({ kind: 'busy' })
    try {
      // The server says what it contacted, or that it contacted nothing.
      const r = await api.testConnection(id)
      setState({ kind: 'done', ok: r.ok, text: r.message || r.error || (r.ok ? 'Accepted.' : 'The test failed.') })
    } catch (err) {
      setState({ kind: 'done', ok: false, text: err instanceof Error ? err.message : String(err) })
    }
  }
  return (
    <div className="inline test-connection">
      <button type="button" className="btn btn--small" onClick={() => void run()} disabled={state.kind === 'busy'} aria-label={`Test connection ${name}`}>
        {state.kind === 'busy' ? 'Testing…' : 'Test connection'}
      </button>
      {state.kind === 'done' ? (
        <span role="status" className={state.ok ? 'small ok-text' : 'small error-text'}>
          {state.text}
        </span>
      ) : null}
    </div>
  )
}

export function NewConnectionForm({
  spec,
  taken,
  onCancel,
  onCreated,
}: {
  spec: ConnectorSpec
  taken: string[]
  onCancel: () => void
  onCreated: (name: string) => void
}) {
  const api = useApi()
  const queryClient = useQueryClient()
  const uid = useId()
  // People type a name ("Team Slack"); steps refer to the key derived from it ("team-slack").
  const [name, setName] = useState(() => suggestConnectionName(spec.id, taken))
  const key = uniqueKey(slugify(name) || spec.id, taken)
  const [values, setValues] = useState<Record<string, string>>({})
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [fieldErrs, setFieldErrs] = useState<Record<string, string>>({})
  const fields = spec.auth.fields ?? []

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    e.stopPropagation()
    setBusy(true)
    setError(null)
    setFieldErrs({})
    const payload: Record<string, string> = {}
    for (const f of fields) {
      const v = values[f.key]
      if (v !== undefined && v !== '') payload[f.key] = v
    }
    try {
      const conn = await api.createConnection({ name: key, connector: spec.id, fields: payload })
      await queryClient.invalidateQueries({ queryKey: ['connections'] })
      onCreated(conn.name)
    } catch (err) {
      setBusy(false)
      if (err instanceof ApiError && err.fieldErrors.length) {
        setFieldErrs(Object.fromEntries(err.fieldErrors.map((f) => [f.path.replace(/^fields\./, ''), f.message])))
        setError('Check the fields below.')
      } else {
        setError(err instanceof Error ? err.message : String(err))
      }
    }
  }

  return (
    <form className="subform" onSubmit={(e) => void submit(e)} aria-labelledby={`${uid}-title`}>
      <h4 id={`${uid}-title`}>New {spec.name} connection</h4>
      <p className="field__help">Secrets are stored encrypted and never shown again.</p>
      <Alert error={error} />
      <FieldShell
        id={`${uid}-name`}
        label="Connection name"
        required
        help={
          <>
            Any name, such as “Team Slack”. Steps refer to it as <code data-testid="connection-key">{key}</code>.
          </>
        }
        errors={fieldErrs.name ? [fieldErrs.name] : undefined}
      >
        <input id={`${uid}-name`} type="text" value={name} onChange={(e) => setName(e.target.value)} autoFocus aria-describedby={`${uid}-name-help`} />
      </FieldShell>
      {fields.map((f) => {
        const fid = `${uid}-${f.key}`
        const errs = fieldErrs[f.key] ? [fieldErrs[f.key]] : undefined
        const help = [f.help, f.default !== undefined ? `Default: ${toText(f.default)}` : ''].filter(Boolean).join(' · ')
        if (f.type === 'select') {
          return (
            <FieldShell key={f.key} id={fid} label={f.label} required={f.required} help={help} errors={errs}>
              <select id={fid} value={values[f.key] ?? String(f.default ?? '')} onChange={(e) => setValues({ ...values, [f.key]: e.target.value })}>
                {f.default === undefined ? <option value="">—</option> : null}
                <OptionList options={f.options} />
              </select>
            </FieldShell>
          )
        }
        return (
          <FieldShell key={f.key} id={fid} label={f.label} required={f.required} help={help || undefined} errors={errs}>
            <input
              id={fid}
              type={f.secret ? 'password' : 'text'}
              autoComplete={f.secret ? 'new-password' : 'off'}
              value={values[f.key] ?? ''}
              placeholder={f.default !== undefined ? String(f.default) : undefined}
              aria-describedby={help ? `${fid}-help` : undefined}
              onChange={(e) => setValues({ ...values, [f.key]: e.target.value })}
            />
          </FieldShell>
        )
      })}
      <FormActions subform onCancel={onCancel} busy={busy} busyLabel="Saving…" label="Save connection" />
    </form>
  )
}

/** The choices of a select field from a spec; a choice without a label shows its value. */
export function OptionList({ options }: { options?: { value: string; label?: string }[] }) {
  return (
    <>
      {(options ?? []).map((o) => (
        <option key={o.value} value={o.value}>
          {o.label || o.value}
        </option>
      ))}
    </>
  )
}
