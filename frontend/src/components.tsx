// Small shared presentational pieces.

import { createContext, useContext, useEffect, useId, useRef, useState, type MouseEvent, type ReactNode } from 'react'
import { ApiError } from './api.ts'
import { formatDateTime, formatRelative, httpStatusTone, prettyJson, stateTone } from './format.ts'
import { isPlainClick, routePath, type Route } from './route.ts'

// ---- navigation -------------------------------------------------------------

/** Provided by App; the default does a full page load (good enough outside the app). */
export type NavigateFn = (route: Route | string, opts?: { replace?: boolean; force?: boolean }) => void

export const NavigateContext = createContext<NavigateFn>((route) => {
  window.location.assign(routePath(route))
})

interface LinkProps {
  to: Route | string
  children: ReactNode
  className?: string
  current?: boolean
  'aria-label'?: string
}

/** A real link (works with middle-click / new tab) that navigates in-page on a plain click. */
export function Link({ to, children, className, current, ...rest }: LinkProps) {
  const navigate = useContext(NavigateContext)
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (!isPlainClick(e)) return
    e.preventDefault()
    navigate(to)
  }
  return (
    <a href={routePath(to)} className={className} aria-current={current ? 'true' : undefined} onClick={onClick} {...rest}>
      {children}
    </a>
  )
}

// ---- badges -----------------------------------------------------------------

export function StateBadge({ state }: { state: string }) {
  return (
    <span className={`badge badge--${stateTone(state)}`} data-state={state}>
      {state}
    </span>
  )
}

export function YesNoBadge({ value, yes = 'yes', no = 'no' }: { value: boolean; yes?: string; no?: string }) {
  return <span className={`badge badge--${value ? 'success' : 'muted'}`}>{value ? yes : no}</span>
}

export function HttpStatusBadge({ status }: { status: number }) {
  return (
    <span className={`badge badge--${httpStatusTone(status)}`}>{status || 'no response'}</span>
  )
}

// ---- time -------------------------------------------------------------------

/** Current time, refreshed every `intervalMs`, so relative times and running durations move. */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    const id = window.setInterval(() => setNow(Date.now()), intervalMs)
    return () => window.clearInterval(id)
  }, [intervalMs])
  return now
}

export function RelativeTime({ value, now }: { value: string | null | undefined; now: number }) {
  if (!value || formatDateTime(value) === '—') return <span className="muted">—</span>
  return (
    <time dateTime={value} title={formatDateTime(value)}>
      {formatRelative(value, now)}
    </time>
  )
}

// ---- JSON -------------------------------------------------------------------

export function JsonBlock({ value, label }: { value: unknown; label: string }) {
  return (
    <pre className="json" tabIndex={0} aria-label={label}>
      {prettyJson(value)}
    </pre>
  )
}

// ---- copy -------------------------------------------------------------------

export async function copyText(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text)
    return
  }
  // Fallback for plain-http origins other than localhost.
  const ta = document.createElement('textarea')
  ta.value = text
  ta.setAttribute('readonly', '')
  ta.style.position = 'fixed'
  ta.style.opacity = '0'
  document.body.appendChild(ta)
  ta.select()
  const ok = document.execCommand('copy')
  document.body.removeChild(ta)
  if (!ok) throw new Error('copy failed')
}

export type CopyStatus = 'idle' | 'copied' | 'failed'

/** Copies text on demand and says how it went, for `resetMs` before going back to idle. */
export function useCopy(text: string, resetMs: number): [CopyStatus, () => Promise<void>] {
  const [status, setStatus] = useState<CopyStatus>('idle')
  const timer = useRef<number | undefined>(undefined)
  useEffect(() => () => window.clearTimeout(timer.current), [])
  const copy = async () => {
    try {
      await copyText(text)
      setStatus('copied')
    } catch {
      setStatus('failed')
    }
    window.clearTimeout(timer.current)
    timer.current = window.setTimeout(() => setStatus('idle'), resetMs)
  }
  return [status, copy]
}

export function CopyButton({ text, label }: { text: string; label: string }) {
  const [status, onClick] = useCopy(text, 2000)

  // The visible word is part of the name ("Copy webhook URL"), as WCAG 2.5.3 asks.
  const what = label.replace(/^Copy\s*/i, '')
  const word = status === 'copied' ? 'Copied' : status === 'failed' ? 'Copy failed' : 'Copy'
  return (
    <button type="button" className="btn btn--small" onClick={onClick} title={label}>
      {word}
      <span className="visually-hidden"> {what}</span>
      <span className="visually-hidden" aria-live="polite">
        {status === 'copied' ? 'Copied to the clipboard' : status === 'failed' ? 'Could not copy' : ''}
      </span>
    </button>
  )
}

// ---- states -----------------------------------------------------------------

export function ErrorNotice({ error, onRetry, what }: { error: unknown; onRetry?: () => void; what: string }) {
  let message = 'Something went wrong.'
  let status: number | null = null
  if (error instanceof ApiError) {
    message = error.message
    status = error.status
  } else if (error instanceof Error) {
    message = error.message
  }
  return (
    <div className="notice notice--error" role="alert">
      <p>
        <strong>Could not load {what}.</strong> {message}
        {status ? <span className="muted"> (HTTP {status})</span> : null}
      </p>
      {onRetry ? (
        <button type="button" className="btn" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  )
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  )
}

/** A list from a query: "Loading …" at first, the error with a retry when nothing is shown, `empty` when there is nothing to list. */
export function ListResult({
  query,
  what,
  count,
  empty,
  children,
}: {
  query: { isPending: boolean; isError: boolean; error: unknown; refetch: () => unknown }
  what: string
  /** How many items the page has to show. */
  count: number
  empty: ReactNode
  children: ReactNode
}) {
  if (query.isPending) return <Loading what={what} />
  if (query.isError && count === 0) return <ErrorNotice error={query.error} what={what} onRetry={() => void query.refetch()} />
  return <>{count === 0 ? empty : children}</>
}

/** The part of a query a page shows: the data, drawn by children; "Loading …" while it loads; the error with a retry when there is nothing to show. */
export function QueryResult<T>({
  query,
  what,
  loading = what,
  children,
}: {
  query: { isPending: boolean; isError: boolean; data: T | undefined; error: unknown; refetch: () => unknown }
  /** Names the data in the error ("this run"). */
  what: string
  /** Names it while loading, when that reads differently ("the run"). */
  loading?: string
  children: (data: T) => ReactNode
}) {
  if (query.isPending) return <Loading what={loading} />
  if (query.isError && !query.data) return <ErrorNotice error={query.error} what={what} onRetry={() => void query.refetch()} />
  return query.data ? <>{children(query.data)}</> : null
}

// ---- modal dialog -------------------------------------------------------------

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"]), [contenteditable="true"]'

/**
 * A modal dialog: focus moves in (to `initialFocus` or the first control), Tab stays inside,
 * Escape closes, and focus returns to where it was.
 */
export function Modal({
  title,
  onClose,
  children,
  wide,
  describedBy,
}: {
  title: string
  onClose: () => void
  children: ReactNode
  wide?: boolean
  describedBy?: string
}) {
  const ref = useRef<HTMLDivElement>(null)
  const titleId = useId()
  const closeRef = useRef(onClose)
  closeRef.current = onClose

  useEffect(() => {
    const before = document.activeElement as HTMLElement | null
    const el = ref.current
    const first = el?.querySelector<HTMLElement>('[data-autofocus]') ?? el?.querySelector<HTMLElement>(FOCUSABLE)
    first?.focus()
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.stopPropagation()
        closeRef.current()
      } else if (e.key === 'Tab' && el) {
        const items = [...el.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((x) => x.offsetParent !== null || x === document.activeElement)
        if (!items.length) return
        const firstItem = items[0]
        const lastItem = items[items.length - 1]
        if (e.shiftKey && document.activeElement === firstItem) {
          e.preventDefault()
          lastItem.focus()
        } else if (!e.shiftKey && document.activeElement === lastItem) {
          e.preventDefault()
          firstItem.focus()
        }
      }
    }
    el?.addEventListener('keydown', onKey)
    return () => {
      el?.removeEventListener('keydown', onKey)
      if (before && document.contains(before)) before.focus()
    }
  }, [])

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        className={wide ? 'modal modal--wide' : 'modal'}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={describedBy}
        ref={ref}
      >
        <div className="modal__head">
          <h2 id={titleId}>{title}</h2>
          <button type="button" className="btn btn--icon" onClick={onClose} aria-label="Close">
            ×
          </button>
        </div>
        {children}
      </div>
    </div>
  )
}

// ---- switch -------------------------------------------------------------------

export function Switch({
  checked,
  onChange,
  label,
  disabled,
  busy,
  showText = true,
}: {
  checked: boolean
  onChange: (next: boolean) => void
  label: string
  disabled?: boolean
  busy?: boolean
  showText?: boolean
}) {
  return (
    <button
      type="button"
      role="switch"
      aria-checked={checked}
      aria-label={label}
      className={`switch${checked ? ' is-on' : ''}`}
      disabled={disabled || busy}
      aria-busy={busy || undefined}
      onClick={() => onChange(!checked)}
    >
      <span className="switch__track" aria-hidden="true">
        <span className="switch__thumb" />
      </span>
      {showText ? <span className="switch__text">{checked ? 'On' : 'Off'}</span> : null}
    </button>
  )
}

/** The head of the editor's side panel: what is edited, its name, and Close when the panel can close. */
export function SidePanelHead({ kind, title, onClose }: { kind: string; title: ReactNode; onClose?: () => void }) {
  return (
    <header className="side-panel__head">
      <div>
        <p className="side-panel__kind">{kind}</p>
        <h2 className="side-panel__title">{title}</h2>
      </div>
      {onClose ? (
        <button type="button" className="btn btn--small" onClick={onClose}>
          Close
        </button>
      ) : null}
    </header>
  )
}

/** A button for an action that cannot be taken back: it asks first, and is disabled while the action runs. */
export function ConfirmButton({
  question,
  onConfirm,
  busy = false,
  className = 'btn btn--small',
  label,
  children,
}: {
  question: string
  onConfirm: () => void
  busy?: boolean
  className?: string
  /** The accessible name, when the visible text alone is not enough. */
  label?: string
  children: ReactNode
}) {
  return (
    <button
      type="button"
      className={className}
      aria-label={label}
      disabled={busy}
      onClick={() => {
        if (window.confirm(question)) onConfirm()
      }}
    >
      {children}
    </button>
  )
}

/** A column of a data table: its heading, right-aligned for numbers, or heard but not seen. */
export type Column = string | { label: string; num?: boolean; hidden?: boolean }

/** The header row of a data table. */
export function TableHead({ columns }: { columns: Column[] }) {
  return (
    <thead>
      <tr>
        {columns.map((c) => {
          const col = typeof c === 'string' ? { label: c } : c
          return (
            <th key={col.label} scope="col" className={col.num ? 'num' : undefined}>
              {col.hidden ? <span className="visually-hidden">{col.label}</span> : col.label}
            </th>
          )
        })}
      </tr>
    </thead>
  )
}

/** Words for an API error, with its field errors. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    const fields = err.fieldErrors.map((f) => `${f.path}: ${f.message}`)
    return fields.length ? `${err.message} — ${fields.join('; ')}` : err.message
  }
  return err instanceof Error ? err.message : String(err)
}

/** An error to show, or nothing when there is none: a notice, or with `inline` a line under a field. */
export function Alert({ error, inline = false }: { error: unknown; inline?: boolean }) {
  if (!error) return null
  const text = typeof error === 'string' ? error : errorText(error)
  return inline ? (
    <p className="field__error" role="alert">
      {text}
    </p>
  ) : (
    <div className="notice notice--error" role="alert">
      {text}
    </div>
  )
}

/** Recorded HTTP headers, one row each; repeated values are joined. */
export function HeaderTable({ headers, label }: { headers: Record<string, string | string[]> | null | undefined; label: string }) {
  const entries = Object.entries(headers ?? {})
  if (!entries.length) return <p className="muted small">No headers recorded.</p>
  return (
    <table className="table table--compact headers" aria-label={label}>
      <tbody>
        {entries.map(([k, v]) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td className="mono">{Array.isArray(v) ? v.join(', ') : String(v)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

/** The buttons under a form: Cancel, and the submit button that says what it does and, while busy, that it is doing it. */
export function FormActions({
  onCancel,
  busy,
  disabled = busy,
  label,
  busyLabel,
  subform = false,
}: {
  onCancel: () => void
  busy: boolean
  /** When the submit button is off for another reason too; default while busy. */
  disabled?: boolean
  label: string
  busyLabel: string
  /** A form inside another form's panel rather than a dialog's. */
  subform?: boolean
}) {
  return (
    <div className={subform ? 'subform__actions' : 'modal__actions'}>
      <button type="button" className="btn" onClick={onCancel}>
        Cancel
      </button>
      <button type="submit" className="btn btn--primary" disabled={disabled}>
        {busy ? busyLabel : label}
      </button>
    </div>
  )
}

/** Facts about one thing, term then value, as a description list. */
export function MetaList({ items }: { items: [term: string, value: ReactNode][] }) {
  return (
    <dl className="meta">
      {items.map(([term, value]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  )
}
