// Autocomplete for expressions and `{{ }}` templates: the names a step can read (trigger,
// steps.<id>, vars, run, item/index in a loop), what is inside them according to the sample
// data, and the helper functions.

import type { Completion, CompletionContext, CompletionResult } from '@codemirror/autocomplete'

export type ExprMode = 'template' | 'expression'

/** The helper functions expressions can call (expr-lang builtins and Switchboard's own). */
export const HELPERS: Array<{ name: string; detail: string }> = [
  { name: 'lower', detail: 'lower(text)' },
  { name: 'upper', detail: 'upper(text)' },
  { name: 'trim', detail: 'trim(text)' },
  { name: 'split', detail: 'split(text, sep)' },
  { name: 'replace', detail: 'replace(text, old, new)' },
  { name: 'join', detail: 'join(list, sep)' },
  { name: 'len', detail: 'len(list or text)' },
  { name: 'truncate', detail: 'truncate(text, n)' },
  { name: 'slugify', detail: 'slugify(text)' },
  { name: 'urlEncode', detail: 'urlEncode(text)' },
  { name: 'string', detail: 'string(value)' },
  { name: 'int', detail: 'int(value)' },
  { name: 'float', detail: 'float(value)' },
  { name: 'round', detail: 'round(number)' },
  { name: 'roundTo', detail: 'roundTo(number, digits)' },
  { name: 'abs', detail: 'abs(number)' },
  { name: 'max', detail: 'max(a, b)' },
  { name: 'min', detail: 'min(a, b)' },
  { name: 'sum', detail: 'sum(list)' },
  { name: 'first', detail: 'first(list)' },
  { name: 'last', detail: 'last(list)' },
  { name: 'filter', detail: 'filter(list, predicate)' },
  { name: 'map', detail: 'map(list, expr)' },
  { name: 'uniq', detail: 'uniq(list)' },
  { name: 'sort', detail: 'sort(list)' },
  { name: 'keys', detail: 'keys(object)' },
  { name: 'values', detail: 'values(object)' },
  { name: 'now', detail: 'now()' },
  { name: 'date', detail: 'date(text)' },
  { name: 'duration', detail: 'duration("1h")' },
  { name: 'formatDate', detail: 'formatDate(date, layout, zone?)' },
  { name: 'parseDate', detail: 'parseDate(text, layout?, zone?)' },
  { name: 'toUnix', detail: 'toUnix(date)' },
  { name: 'fromUnix', detail: 'fromUnix(seconds, zone?)' },
  { name: 'toJSON', detail: 'toJSON(value)' },
  { name: 'fromJSON', detail: 'fromJSON(text)' },
  { name: 'toBase64', detail: 'toBase64(text)' },
  { name: 'fromBase64', detail: 'fromBase64(text)' },
  { name: 'hmacSha256', detail: 'hmacSha256(text, key)' },
]

const NAME_HELP: Record<string, string> = {
  trigger: 'What started the run',
  steps: 'Outputs of earlier steps',
  vars: 'Workflow variables',
  run: 'This run (id, attempt)',
  item: 'The current item of the loop',
  index: 'Position of the current item (from 0)',
}

export interface CompleteResult {
  from: number
  to: number
  options: Completion[]
  /** True right after a dot, `{{` or when the user typed part of a name. */
  eager: boolean
}

const IDENT = /^[A-Za-z_$][\w$]*$/

/** Type name as expressions see it. */
export function typeOf(v: unknown): string {
  if (v === null || v === undefined) return 'null'
  if (Array.isArray(v)) return 'list'
  if (typeof v === 'object') return 'object'
  if (typeof v === 'number') return 'number'
  if (typeof v === 'boolean') return 'boolean'
  return 'string'
}

/** A short preview of a value for the completion list. */
export function preview(v: unknown, max = 60): string {
  let s: string
  if (typeof v === 'string') s = JSON.stringify(v)
  else {
    try {
      s = JSON.stringify(v) ?? String(v)
    } catch {
      s = String(v)
    }
  }
  return s.length > max ? s.slice(0, max - 1) + '…' : s
}

/** Start of the `{{ … }}` the position is in, or -1 when outside any. */
export function templateExprStart(text: string, pos: number): number {
  const open = text.lastIndexOf('{{', pos - 2 >= 0 ? pos - 2 : 0)
  if (open < 0 || open + 2 > pos) return -1
  const close = text.indexOf('}}', open + 2)
  if (close >= 0 && close < pos) return -1
  return open + 2
}

/** Parses `a.b["c-d"][0]` into segments; null when it is not such a path. */
export function parsePath(src: string): Array<string | number> | null {
  const segs: Array<string | number> = []
  let i = 0
  const first = /^[A-Za-z_$][\w$]*/.exec(src)
  if (!first) return null
  segs.push(first[0])
  i = first[0].length
  while (i < src.length) {
    const rest = src.slice(i)
    let m: RegExpExecArray | null
    if ((m = /^\??\.([A-Za-z_$][\w$]*)/.exec(rest))) {
      segs.push(m[1])
    } else if ((m = /^\[\s*(\d+)\s*\]/.exec(rest))) {
      segs.push(Number(m[1]))
    } else if ((m = /^\[\s*"((?:[^"\\]|\\.)*)"\s*\]/.exec(rest)) || (m = /^\[\s*'((?:[^'\\]|\\.)*)'\s*\]/.exec(rest))) {
      segs.push(m[1])
    } else {
      return null
    }
    i += m[0].length
  }
  return segs
}

/** Looks a path up in the data. */
export function resolve(data: Record<string, unknown>, segs: Array<string | number>): unknown {
  let cur: unknown = data
  for (const seg of segs) {
    if (cur === null || cur === undefined) return undefined
    if (typeof seg === 'number') {
      if (!Array.isArray(cur)) return undefined
      cur = cur[seg]
    } else {
      if (typeof cur !== 'object' || Array.isArray(cur)) return undefined
      cur = (cur as Record<string, unknown>)[seg]
    }
  }
  return cur
}

// A path just before the cursor that ends with a dot: `trigger.body.` or `steps.msg?.`
const PATH_BEFORE_DOT = /([A-Za-z_$][\w$]*(?:\??\.[A-Za-z_$][\w$]*|\[\s*(?:\d+|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*\])*)(\??\.)$/

/**
 * Completions at `pos` in `text`: members of the value before a dot, or the top-level names
 * and helpers. In template mode only inside `{{ }}`.
 */
export function completeAt(text: string, pos: number, data: Record<string, unknown>, mode: ExprMode): CompleteResult | null {
  let start = 0
  if (mode === 'template') {
    start = templateExprStart(text, pos)
    if (start < 0) return null
  }
  const before = text.slice(start, pos)
  // Inside a string literal: nothing to complete.
  const quotes = (before.match(/"/g)?.length ?? 0) + (before.match(/'/g)?.length ?? 0)
  if (quotes % 2 === 1 && !/\[\s*["'][^"']*$/.test(before)) return null
  const word = /[A-Za-z_$][\w$]*$/.exec(before)?.[0] ?? ''
  const from = pos - word.length
  const head = before.slice(0, before.length - word.length)
  const dot = PATH_BEFORE_DOT.exec(head)
  if (dot) {
    const segs = parsePath(dot[1])
    if (!segs) return null
    const value = resolve(data, segs)
    const dotFrom = from - dot[2].length
    return { from, to: pos, options: memberOptions(value, dotFrom), eager: true }
  }
  if (/[\w$.\]]$/.test(head)) return null // after a number or something we cannot read
  const eager = word.length > 0 || /^\s*$/.test(head)
  return { from, to: pos, options: topOptions(data), eager }
}

function memberOptions(value: unknown, dotFrom: number): Completion[] {
  if (Array.isArray(value)) {
    return value.slice(0, 5).map((v, i) => ({
      label: `[${i}]`,
      detail: typeOf(v),
      info: preview(v, 200),
      type: 'property',
      apply: (view, _c, _from, to) => {
        view.dispatch({ changes: { from: dotFrom, to, insert: `[${i}]` }, selection: { anchor: dotFrom + `[${i}]`.length } })
      },
      boost: -i,
    }))
  }
  if (value === null || typeof value !== 'object') return []
  return Object.entries(value as Record<string, unknown>).map(([key, v]) => {
    const c: Completion = {
      label: key,
      detail: `${typeOf(v)} · ${preview(v, 40)}`,
      info: preview(v, 300),
      type: v !== null && typeof v === 'object' ? 'namespace' : 'property',
    }
    if (!IDENT.test(key)) {
      const insert = `[${JSON.stringify(key)}]`
      c.apply = (view, _c, _from, to) => {
        view.dispatch({ changes: { from: dotFrom, to, insert }, selection: { anchor: dotFrom + insert.length } })
      }
    }
    return c
  })
}

function topOptions(data: Record<string, unknown>): Completion[] {
  const names: Completion[] = Object.keys(data).map((name) => ({
    label: name,
    detail: NAME_HELP[name] ?? typeOf(data[name]),
    info: preview(data[name], 300),
    type: 'variable',
    boost: 10,
  }))
  const helpers: Completion[] = HELPERS.map((h) => ({
    label: h.name,
    detail: h.detail,
    type: 'function',
    apply: `${h.name}(`,
  }))
  return [...names, ...helpers]
}

/** The CodeMirror completion source over `data` (read through a getter, so it stays current). */
export function completionSource(getData: () => Record<string, unknown>, mode: ExprMode) {
  return (ctx: CompletionContext): CompletionResult | null => {
    const text = ctx.state.doc.toString()
    const r = completeAt(text, ctx.pos, getData(), mode)
    if (!r || r.options.length === 0) return null
    if (!r.eager && !ctx.explicit) return null
    return { from: r.from, to: r.to, options: r.options, validFor: /^[\w$]*$/ }
  }
}
