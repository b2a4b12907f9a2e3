// The data a step can read, for autocomplete and the live preview: the trigger's sample (or
// the last test run's trigger), earlier steps' outputs (from the last run, else the
// connector's sample output or a shape guessed from the step), vars, run, item/index.

import type { ConnectorSpec, RunDetail, StepDoc, TriggerInput, WorkflowDocument } from '../api.ts'
import { parsePath, resolve } from './completion.ts'
import { availableAt, findStep, stepsBefore } from './doc.ts'

export interface DataSources {
  doc: WorkflowDocument
  /** Captured sample (GET /workflows/{id}/sample). */
  sample: TriggerInput | null
  /** The last test run, if any. */
  run: RunDetail | null
  connectors: ConnectorSpec[]
  /** Outputs from "Test this step" (logic steps evaluated alone). */
  tried?: Record<string, unknown>
}

/** What `trigger` looks like before any sample exists. */
export function placeholderTrigger(doc: WorkflowDocument): Record<string, unknown> {
  switch (doc.trigger.type) {
    case 'form': {
      const fields = ((doc.trigger.form as { fields?: Array<{ key: string; type?: string }> } | undefined)?.fields ?? [])
      return {
        fields: Object.fromEntries(fields.map((f) => [f.key, f.type === 'number' ? 0 : f.type === 'checkbox' ? false : ''])),
        submitted_at: '2026-01-01T09:00:00Z',
      }
    }
    case 'schedule':
      return { fired_at: '2026-01-01T09:00:00Z' }
    default:
      return { body: {}, headers: {}, query: {}, method: 'POST', received_at: '2026-01-01T09:00:00Z' }
  }
}

export function triggerData(src: DataSources): Record<string, unknown> {
  if (src.sample && typeof src.sample === 'object') {
    const { raw: _raw, ...rest } = src.sample as TriggerInput & { raw?: unknown }
    return rest
  }
  if (src.run?.trigger && typeof src.run.trigger === 'object') {
    const { raw: _raw, test: _test, ...rest } = src.run.trigger as TriggerInput & { raw?: unknown; test?: unknown }
    return rest
  }
  return placeholderTrigger(src.doc)
}

/** What a step's output probably looks like, without running it. */
export function guessOutput(step: StepDoc, connectors: ConnectorSpec[]): unknown {
  switch (step.type) {
    case 'filter':
      return { passed: true }
    case 'map':
      return Object.fromEntries(
        Object.entries(step.fields ?? {}).map(([k, v]) => [k, typeof v === 'string' && v.includes('{{') ? '…' : v]),
      )
    case 'action': {
      const [c, a] = (step.action ?? '').split('.')
      const spec = connectors.find((s) => s.id === c)?.actions?.find((x) => x.id === a)
      return spec?.sample_output ?? {}
    }
  }
  return {}
}

function outputOf(step: StepDoc, src: DataSources): unknown {
  // Tried in this session: newer than any run.
  if (src.tried && step.id in src.tried) return src.tried[step.id]
  const rec = src.run?.steps.find((s) => s.step_id === step.id && s.state === 'succeeded' && s.output !== null && s.output !== undefined)
  if (rec) return rec.output
  return guessOutput(step, src.connectors)
}

function build(src: DataSources, steps: StepDoc[], loop: StepDoc | null): Record<string, unknown> {
  const data: Record<string, unknown> = {
    trigger: triggerData(src),
    steps: Object.fromEntries(steps.map((s) => [s.id, outputOf(s, src)])),
    vars: (src.doc.vars as Record<string, unknown> | undefined) ?? {},
    run: { id: '01900000-0000-7000-8000-000000000000', attempt: 1 },
  }
  if (loop) {
    let item: unknown = {}
    const segs = loop.items ? parsePath(loop.items.trim()) : null
    if (segs) {
      const list = resolve(data, segs)
      if (Array.isArray(list) && list.length) item = list[0]
    }
    data.item = item
    data.index = 0
  }
  return data
}

/** The data available to step `stepId`. */
export function dataForStep(src: DataSources, stepId: string): Record<string, unknown> {
  if (!findStep(src.doc, stepId)) return build(src, [], null)
  const { steps, loop } = stepsBefore(src.doc, stepId)
  return build(src, steps, loop)
}

/** The data available at a position in a list (for a step about to be added). */
export function dataAt(src: DataSources, list: string, index: number): Record<string, unknown> {
  const { steps, loop } = availableAt(src.doc, list, index)
  return build(src, steps, loop)
}

/** Keeps the preview request under the server's 256 KiB limit by dropping big parts. */
export function trimForEvaluate(data: Record<string, unknown>, limit = 200_000): Record<string, unknown> {
  let s = JSON.stringify(data)
  if (s.length <= limit) return data
  const out = { ...data }
  const trigger = { ...(out.trigger as Record<string, unknown>) }
  delete trigger.headers
  out.trigger = trigger
  s = JSON.stringify(out)
  if (s.length <= limit) return out
  return { trigger: {}, steps: {}, vars: out.vars ?? {} }
}
