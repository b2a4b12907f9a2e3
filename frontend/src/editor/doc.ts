// The workflow document as the editor changes it: pure functions over `switchboard/v1`.
//
// A step's address is its path in the document, the same form the server uses in validation
// errors: `steps[1]`, `steps[2].paths[0].steps[0]`, `steps[3].steps[1]`. A list of steps (where
// a step can be inserted) is addressed by the path of that list: `steps`, `steps[2].paths[0].steps`.

import type { FieldError, PathDoc, StepDoc, WorkflowDocument } from '../api.ts'

export const SCHEMA = 'switchboard/v1'

export interface StepEntry {
  step: StepDoc
  /** e.g. `steps[2].paths[0].steps[1]` */
  path: string
  /** The list holding the step, e.g. `steps[2].paths[0].steps`. */
  list: string
  index: number
  depth: number
  /** Paths of the steps that contain this one (outermost first). */
  ancestors: string[]
}

/** Every step of the tree in document order (a parent before its children). */
export function walkSteps(doc: WorkflowDocument): StepEntry[] {
  const out: StepEntry[] = []
  const visit = (steps: StepDoc[] | undefined, list: string, depth: number, ancestors: string[]) => {
    ;(steps ?? []).forEach((step, index) => {
      const path = `${list}[${index}]`
      out.push({ step, path, list, index, depth, ancestors })
      const inner = [...ancestors, path]
      if (step.type === 'paths') {
        ;(step.paths ?? []).forEach((p, j) => visit(p.steps, `${path}.paths[${j}].steps`, depth + 1, inner))
      } else if (step.type === 'for_each') {
        visit(step.steps, `${path}.steps`, depth + 1, inner)
      }
    })
  }
  visit(doc.steps, 'steps', 0, [])
  return out
}

export function findStep(doc: WorkflowDocument, id: string): StepEntry | undefined {
  return walkSteps(doc).find((e) => e.step.id === id)
}

export function stepIds(doc: WorkflowDocument): Set<string> {
  return new Set(walkSteps(doc).map((e) => e.step.id))
}

const TOKEN = /([a-z_]+)(?:\[(\d+)\])?/g

/** Resolves a list path (`steps[1].paths[0].steps`) to the array in `doc` (which it may create). */
function listAt(doc: WorkflowDocument, listPath: string, create = false): StepDoc[] | undefined {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let cur: any = doc
  const tokens = [...listPath.matchAll(TOKEN)]
  for (let i = 0; i < tokens.length; i++) {
    const [, key, idx] = tokens[i]
    if (cur == null) return undefined
    if (cur[key] === undefined && create && idx === undefined) cur[key] = []
    cur = cur[key]
    if (idx !== undefined) cur = cur?.[Number(idx)]
  }
  return Array.isArray(cur) ? cur : undefined
}

function clone<T>(v: T): T {
  return structuredClone(v)
}

/** A step id that is not used yet: `base`, `base_2`, `base_3`, … */
export function uniqueId(doc: WorkflowDocument, base: string, taken: Set<string> = stepIds(doc)): string {
  let clean = base.replace(/[^a-zA-Z0-9_]/g, '_').replace(/^[^a-zA-Z]+/, '')
  if (!clean) clean = 'step'
  clean = clean.slice(0, 56)
  if (!taken.has(clean)) return clean
  for (let n = 2; ; n++) {
    const id = `${clean}_${n}`
    if (!taken.has(id)) return id
  }
}

export function insertStep(doc: WorkflowDocument, listPath: string, index: number, step: StepDoc): WorkflowDocument {
  const next = clone(doc)
  const list = listAt(next, listPath, true)
  if (!list) throw new Error(`no step list at ${listPath}`)
  list.splice(Math.max(0, Math.min(index, list.length)), 0, step)
  return next
}

export function updateStep(doc: WorkflowDocument, id: string, change: (step: StepDoc) => StepDoc): WorkflowDocument {
  const next = clone(doc)
  const entry = findStep(next, id)
  if (!entry) return doc
  const list = listAt(next, entry.list)!
  list[entry.index] = change(clone(entry.step))
  return next
}

export function removeStep(doc: WorkflowDocument, id: string): WorkflowDocument {
  const next = clone(doc)
  const entry = findStep(next, id)
  if (!entry) return doc
  listAt(next, entry.list)!.splice(entry.index, 1)
  return next
}

/** Moves a step up (-1) or down (+1) within its list. */
export function moveStep(doc: WorkflowDocument, id: string, delta: -1 | 1): WorkflowDocument {
  const entry = findStep(doc, id)
  if (!entry) return doc
  const next = clone(doc)
  const list = listAt(next, entry.list)!
  const to = entry.index + delta
  if (to < 0 || to >= list.length) return doc
  const [s] = list.splice(entry.index, 1)
  list.splice(to, 0, s)
  return next
}

const MOVING = '\u0000moving'

/**
 * Moves a step (with what it contains) to position `index` of the list `listPath`, paths as
 * they are before the move. Returns the document unchanged when the target is inside the step.
 */
export function moveStepTo(doc: WorkflowDocument, id: string, listPath: string, index: number): WorkflowDocument {
  const entry = findStep(doc, id)
  if (!entry) return doc
  if (listPath === entry.path || listPath.startsWith(entry.path + '.')) return doc
  if (listPath === entry.list && (index === entry.index || index === entry.index + 1)) return doc
  const next = clone(doc)
  // Leave a placeholder so every path stays valid while inserting, then drop it.
  const from = listAt(next, entry.list)!
  const step = from[entry.index]
  from[entry.index] = { id: MOVING, type: 'delay' }
  const to = listAt(next, listPath, true)
  if (!to) return doc
  to.splice(Math.max(0, Math.min(index, to.length)), 0, step)
  const holder = walkSteps(next).find((e) => e.step.id === MOVING)!
  listAt(next, holder.list)!.splice(holder.index, 1)
  return next
}

export function canMove(doc: WorkflowDocument, id: string, delta: -1 | 1): boolean {
  const entry = findStep(doc, id)
  if (!entry) return false
  const list = listAt(doc, entry.list) ?? []
  const to = entry.index + delta
  return to >= 0 && to < list.length
}

/** Copies a step (and what it contains) right after itself, with fresh ids. Returns the copy's id. */
export function duplicateStep(doc: WorkflowDocument, id: string): { doc: WorkflowDocument; id: string } {
  const entry = findStep(doc, id)
  if (!entry) return { doc, id }
  const taken = stepIds(doc)
  const copy = clone(entry.step)
  const renames = new Map<string, string>()
  const refresh = (s: StepDoc) => {
    const fresh = uniqueId(doc, s.id.replace(/_\d+$/, ''), taken)
    taken.add(fresh)
    renames.set(s.id, fresh)
    s.id = fresh
    s.steps?.forEach(refresh)
    s.paths?.forEach((p) => p.steps?.forEach(refresh))
  }
  refresh(copy)
  // References between the copied steps point at the copies.
  let renamed: StepDoc = copy
  for (const [from, to] of renames) renamed = replaceStepRefs(renamed, from, to)
  return { doc: insertStep(doc, entry.list, entry.index + 1, renamed), id: copy.id }
}

const IDENT = /^[a-zA-Z][a-zA-Z0-9_]{0,63}$/

export function isValidStepId(id: string): boolean {
  return IDENT.test(id)
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** Replaces `steps.<from>` with `steps.<to>` in every string of a value. */
export function replaceStepRefs<T>(value: T, from: string, to: string): T {
  const re = new RegExp(`\\bsteps\\.${escapeRe(from)}\\b`, 'g')
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return v.replace(re, `steps.${to}`)
    if (Array.isArray(v)) return v.map(walk)
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, walk(x)]))
    }
    return v
  }
  return walk(value) as T
}

/** Renames a step and every `steps.<old>` reference to it. */
export function renameStep(doc: WorkflowDocument, from: string, to: string): WorkflowDocument {
  if (from === to) return doc
  const next = updateStep(doc, from, (s) => ({ ...s, id: to }))
  return replaceStepRefs(next, from, to)
}

/**
 * What a step can read: the steps that have finished before it starts (earlier siblings in
 * its list and in every enclosing list, and the enclosing steps themselves) and the
 * innermost enclosing for_each (which gives `item` and `index`).
 */
export function stepsBefore(doc: WorkflowDocument, id: string): { steps: StepDoc[]; loop: StepDoc | null } {
  const all = walkSteps(doc)
  const entry = all.find((e) => e.step.id === id)
  if (!entry) return { steps: [], loop: null }
  return availableAt(doc, entry.list, entry.index, entry.ancestors)
}

/** Same as stepsBefore, for a position in a list (where a new step would go). */
export function availableAt(
  doc: WorkflowDocument,
  list: string,
  index: number,
  ancestors: string[] = ancestorsOfList(list),
): { steps: StepDoc[]; loop: StepDoc | null } {
  const all = walkSteps(doc)
  const byPath = new Map(all.map((e) => [e.path, e]))
  const out: StepDoc[] = []
  let loop: StepDoc | null = null
  const addEarlier = (listPath: string, before: number) => {
    for (const e of all) {
      if (e.list === listPath && e.index < before) {
        out.push(e.step)
        // Steps inside an earlier sibling finished too (paths branches, loop bodies are not
        // readable as a whole, but a paths branch's steps are).
        if (e.step.type === 'paths') {
          for (const inner of all) if (inner.ancestors.includes(e.path)) out.push(inner.step)
        }
      }
    }
  }
  for (const anc of ancestors) {
    const a = byPath.get(anc)
    if (!a) continue
    addEarlier(a.list, a.index)
  }
  addEarlier(list, index)
  for (const anc of ancestors) {
    const a = byPath.get(anc)
    if (!a) continue
    if (a.step.type === 'for_each') loop = a.step
  }
  // Keep the document order and one entry per id.
  const seen = new Set<string>()
  return { steps: out.filter((s) => (seen.has(s.id) ? false : (seen.add(s.id), true))), loop }
}

/** `steps[2].paths[0].steps` → [`steps[2]`]; `steps` → []. */
export function ancestorsOfList(list: string): string[] {
  const out: string[] = []
  const re = /steps\[\d+\]/g
  let m: RegExpExecArray | null
  while ((m = re.exec(list))) {
    const end = m.index + m[0].length
    out.push(list.slice(0, end))
  }
  return out
}

// ---- validation errors -------------------------------------------------------------

export interface LocatedError {
  /** Step id, or null for the trigger or the whole document. */
  stepId: string | null
  /** The part inside the step or trigger: `fields.text`, `input.channel`, `if`, `webhook.methods[0]`. */
  field: string
  /** True when it concerns the trigger. */
  trigger: boolean
  message: string
  path: string
}

/** Places server errors (paths like `steps[1].fields.text`) on steps and fields. */
export function locateErrors(doc: WorkflowDocument, errors: FieldError[] | undefined): LocatedError[] {
  if (!errors?.length) return []
  // Longest paths first, so a nested step wins over the step containing it.
  const entries = walkSteps(doc).sort((a, b) => b.path.length - a.path.length)
  return errors.map((e) => {
    const path = e.path ?? ''
    const withStep = e as FieldError & { step?: string }
    if (path === 'trigger' || path.startsWith('trigger.')) {
      return { stepId: null, field: path.replace(/^trigger\.?/, ''), trigger: true, message: e.message, path }
    }
    for (const entry of entries) {
      if (path === entry.path || path.startsWith(entry.path + '.')) {
        return {
          stepId: entry.step.id,
          field: path.slice(entry.path.length + 1),
          trigger: false,
          message: e.message,
          path,
        }
      }
    }
    if (withStep.step) return { stepId: withStep.step, field: '', trigger: false, message: e.message, path }
    return { stepId: null, field: path, trigger: false, message: e.message, path }
  })
}

/** Messages for one field of a step (`fields.text` also matches `fields.text.sub`). */
export function fieldErrors(errors: LocatedError[], stepId: string | null, field: string): string[] {
  return errors
    .filter((e) => e.stepId === stepId && (e.field === field || e.field.startsWith(field + '.') || e.field.startsWith(field + '[')))
    .map((e) => e.message)
}

// ---- new documents and steps ------------------------------------------------------

export function emptyDocument(name: string, triggerType: string): WorkflowDocument {
  const trigger: WorkflowDocument['trigger'] = { type: triggerType as WorkflowDocument['trigger']['type'] }
  if (triggerType === 'webhook') trigger.webhook = { methods: ['POST'] }
  if (triggerType === 'schedule') trigger.schedule = { cron: '0 9 * * 1-5', timezone: 'UTC' }
  if (triggerType === 'form') {
    trigger.form = {
      title: name,
      fields: [
        { key: 'name', label: 'Name', required: true },
        { key: 'email', label: 'E-mail', type: 'email', required: true },
      ],
      success: { message: 'Thank you!' },
    }
  }
  return { schema: SCHEMA, name, trigger, steps: [] }
}

export const LOGIC_STEPS = [
  { type: 'filter', label: 'Filter', help: 'Only continue when a condition is true' },
  { type: 'map', label: 'Map data', help: 'Build new fields from the data so far' },
  { type: 'paths', label: 'Paths', help: 'Branch into paths, each with its own condition' },
  { type: 'for_each', label: 'Loop', help: 'Repeat steps for each item of a list' },
  { type: 'delay', label: 'Delay', help: 'Wait for a while, or until a time' },
] as const

/** A fresh step of a type (`filter`, …) or an action (`slack.post_message`). */
export function newStep(doc: WorkflowDocument, kind: string, opts: { connection?: string } = {}): StepDoc {
  const taken = stepIds(doc)
  switch (kind) {
    case 'filter':
      return { id: uniqueId(doc, 'filter', taken), type: 'filter', if: '' }
    case 'map':
      return { id: uniqueId(doc, 'map', taken), type: 'map', fields: {} }
    case 'paths':
      return {
        id: uniqueId(doc, 'paths', taken),
        type: 'paths',
        mode: 'all',
        paths: [
          { name: 'Path A', if: '', steps: [] },
          { name: 'Path B', if: '', steps: [] },
        ] satisfies PathDoc[],
      }
    case 'for_each':
      return { id: uniqueId(doc, 'loop', taken), type: 'for_each', items: '', steps: [] }
    case 'delay':
      return { id: uniqueId(doc, 'delay', taken), type: 'delay', for: '5m' }
  }
  const [connector] = kind.split('.')
  const step: StepDoc = { id: uniqueId(doc, connector, taken), type: 'action', action: kind, input: {} }
  if (opts.connection) step.connection = opts.connection
  return step
}

/** A short, human label for a step's type. */
export function stepKindLabel(step: StepDoc, actionName?: (action: string) => string | undefined): string {
  if (step.type === 'action') return (step.action && actionName?.(step.action)) || step.action || 'Action'
  return LOGIC_STEPS.find((s) => s.type === step.type)?.label ?? step.type
}

/** A one-line summary shown on a node. */
export function stepSummary(step: StepDoc): string {
  switch (step.type) {
    case 'filter':
      return step.if ? `if ${step.if}` : 'no condition yet'
    case 'map': {
      const keys = Object.keys(step.fields ?? {})
      return keys.length ? keys.join(', ') : 'no fields yet'
    }
    case 'paths':
      return `${step.paths?.length ?? 0} paths · ${step.mode === 'first' ? 'first match' : 'all matches'}`
    case 'for_each':
      return step.items ? `each of ${step.items}` : 'no list yet'
    case 'delay':
      return step.for ? `wait ${step.for}` : step.until ? `until ${step.until}` : 'no time yet'
    case 'action':
      return step.connection ? `via ${step.connection}` : ''
  }
  return ''
}
