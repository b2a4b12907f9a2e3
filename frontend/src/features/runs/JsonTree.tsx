// A collapsible JSON viewer: every value can be copied, and so can its path
// (`steps.msg.text`, `trigger.body.items[0].sku`), ready to paste into a `{{ }}` template.

import { useState } from 'react'
import { CopyButton, useCopy } from '../../components.tsx'

/** A small copy button whose visible word ("value", "path") is part of its name. */
function CopyChip({ text, word, label }: { text: string; word: string; label: string }) {
  const [status, onClick] = useCopy(text, 1500)
  const done = status === 'copied' ? 'Copied' : status === 'failed' ? 'Copy failed' : ''
  return (
    <button type="button" className="chip" onClick={onClick} aria-label={label} title={label}>
      copy {word}
      {done === 'Copied' ? <span aria-hidden="true"> ✓</span> : null}
      <span className="visually-hidden" aria-live="polite">
        {done}
      </span>
    </button>
  )
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/

/** The path of a child: `.name` for identifiers, `[0]` for list items, `["odd key"]` otherwise. */
export function childPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`
  if (IDENT.test(key)) return base ? `${base}.${key}` : key
  return `${base}[${JSON.stringify(key)}]`
}

function preview(value: unknown): string {
  if (Array.isArray(value)) return `[${value.length} item${value.length === 1 ? '' : 's'}]`
  if (value && typeof value === 'object') {
    const n = Object.keys(value).length
    return `{${n} field${n === 1 ? '' : 's'}}`
  }
  return JSON.stringify(value) ?? String(value)
}

function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  return value !== null && typeof value === 'object'
}

function leafClass(value: unknown): string {
  if (value === null) return 'json-null'
  return `json-${typeof value}`
}

function Row({ name, path, value, depth }: { name: string; path: string; value: unknown; depth: number }) {
  // The first two levels start open; deeper ones on demand.
  const [open, setOpen] = useState(depth < 2)
  const tools = (
    <span className="json-tools">
      <CopyChip word="value" text={typeof value === 'string' ? value : JSON.stringify(value, null, 2)} label={`copy value of ${path || name}`} />
      {path ? <CopyChip word="path" text={path} label={`copy path ${path}`} /> : null}
    </span>
  )
  if (!isContainer(value)) {
    return (
      <li className="json-row" data-path={path}>
        <span className="json-key">{name}</span>
        <span className="json-sep">: </span>
        <span className={leafClass(value)}>{JSON.stringify(value) ?? String(value)}</span>
        {tools}
      </li>
    )
  }
  const entries: Array<[string | number, unknown]> = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : Object.entries(value)
  return (
    <li className="json-row" data-path={path}>
      <button type="button" className="json-toggle" aria-expanded={open} onClick={() => setOpen(!open)}>
        <span aria-hidden="true">{open ? '▾' : '▸'}</span> <span className="json-key">{name}</span>
        <span className="muted"> {preview(value)}</span>
      </button>
      {tools}
      {open && entries.length > 0 ? (
        <ul className="json-children">
          {entries.map(([k, v]) => (
            <Row key={String(k)} name={String(k)} path={childPath(path, k)} value={v} depth={depth + 1} />
          ))}
        </ul>
      ) : null}
    </li>
  )
}

/** The tree of `value`; `path` is where it sits in a template's data (`steps.msg`), or '' for none. */
export function JsonTree({ value, path, label }: { value: unknown; path: string; label: string }) {
  if (value === undefined || value === null || (isContainer(value) && Object.keys(value).length === 0)) {
    return <p className="muted small">{value === null || value === undefined ? 'Nothing' : preview(value)}</p>
  }
  if (!isContainer(value)) {
    return (
      <ul className="json-tree" aria-label={label}>
        <Row name={path || 'value'} path={path} value={value} depth={0} />
      </ul>
    )
  }
  const entries: Array<[string | number, unknown]> = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value)
  return (
    <div className="json-view">
      <div className="json-view__head">
        <code className="small">{path || 'value'}</code>
        <CopyButton text={JSON.stringify(value, null, 2)} label={`Copy all of ${label}`} />
      </div>
      <ul className="json-tree" aria-label={label}>
        {entries.map(([k, v]) => (
          <Row key={String(k)} name={String(k)} path={childPath(path, k)} value={v} depth={0} />
        ))}
      </ul>
    </div>
  )
}
