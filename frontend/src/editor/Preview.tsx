// Live preview of a template or expression, evaluated by the server against the sample data.

import { useContext, useEffect, useState } from 'react'
import { ApiError } from '../api.ts'
import { useApi } from '../apiContext.ts'
import { useCanEdit } from '../auth.tsx'
import type { ExprMode } from './completion.ts'
import { SampleContext } from './context.ts'
import { trimForEvaluate } from './sampleData.ts'

type State =
  | { kind: 'idle' }
  | { kind: 'loading' }
  | { kind: 'ok'; value: unknown; type: string }
  | { kind: 'error'; message: string }

const DEBOUNCE_MS = 300

/** Whether a value is worth previewing: a template with `{{`, or any expression. */
export function needsPreview(value: string, mode: ExprMode): boolean {
  return mode === 'expression' ? value.trim() !== '' : value.includes('{{')
}

export function formatPreview(value: unknown, type: string): string {
  if (type === 'string') return String(value)
  try {
    return JSON.stringify(value, null, 2)
  } catch {
    return String(value)
  }
}

export function Preview({
  id,
  value,
  mode,
  getData,
}: {
  id: string
  value: string
  mode: ExprMode
  getData: () => Record<string, unknown>
}) {
  const api = useApi()
  const canEdit = useCanEdit()
  const sample = useContext(SampleContext)
  const [state, setState] = useState<State>({ kind: 'idle' })
  const active = canEdit && needsPreview(value, mode)
  const dataKey = active ? JSON.stringify(getData()) : ''

  useEffect(() => {
    if (!active) {
      setState({ kind: 'idle' })
      return
    }
    const controller = new AbortController()
    setState((s) => (s.kind === 'idle' ? { kind: 'loading' } : s))
    const timer = window.setTimeout(async () => {
      const data = trimForEvaluate(JSON.parse(dataKey))
      try {
        const req = mode === 'expression' ? { expression: value, data } : { template: value, data }
        const res = await api.evaluate(req, controller.signal)
        setState({ kind: 'ok', value: res.value, type: res.type })
      } catch (err) {
        if (controller.signal.aborted) return
        if (err instanceof ApiError) {
          const fe = err.fieldErrors[0] as (typeof err.fieldErrors)[0] & { line?: number; column?: number }
          const where = fe?.line ? `line ${fe.line}, column ${fe.column}: ` : ''
          setState({ kind: 'error', message: fe ? `${where}${fe.message}` : err.message })
        } else {
          setState({ kind: 'error', message: err instanceof Error ? err.message : String(err) })
        }
      }
    }, DEBOUNCE_MS)
    return () => {
      controller.abort()
      window.clearTimeout(timer)
    }
  }, [active, value, mode, dataKey, api])

  if (!active || state.kind === 'idle') return null
  return (
    <div id={id} className={`preview preview--${state.kind === 'error' && !sample.real ? 'nosample' : state.kind}`} aria-live="polite" data-testid="preview">
      {state.kind === 'loading' ? (
        <span className="muted">Preview…</span>
      ) : state.kind === 'error' && !sample.real ? (
        <span className="muted" title={state.message}>
          Preview needs sample data: send a test event from the trigger.
        </span>
      ) : state.kind === 'error' ? (
        <>
          <span className="preview__label">Preview error:</span> <span className="preview__error">{state.message}</span>
        </>
      ) : (
        <>
          <span className="preview__label">
            Preview <span className="preview__type">({state.type})</span>:
          </span>{' '}
          <output className="preview__value">{formatPreview(state.value, state.type) || <em className="muted">empty</em>}</output>
        </>
      )}
    </div>
  )
}
