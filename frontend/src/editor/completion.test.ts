import { CompletionContext } from '@codemirror/autocomplete'
import { EditorState } from '@codemirror/state'
import { describe, expect, it } from 'vitest'
import { completeAt, completionSource, parsePath, preview, resolve, templateExprStart, typeOf } from './completion.ts'

const data = {
  trigger: {
    body: { id: 7, total: 250, customer: { name: 'Ada', email: 'ada@x.io' }, items: [{ sku: 'A1' }, { sku: 'B2' }] },
    headers: { 'content-type': 'application/json', 'x-shop': 'one' },
    method: 'POST',
  },
  steps: { msg: { text: 'Order #7' } },
  vars: {},
  run: { id: 'r1', attempt: 1 },
}

/** Completions with the cursor at the `|` in `text`. */
function at(text: string, mode: 'template' | 'expression' = 'template') {
  const pos = text.indexOf('|')
  return completeAt(text.replace('|', ''), pos, data, mode)
}

const labels = (r: ReturnType<typeof at>) => r?.options.map((o) => o.label) ?? []

describe('expression autocomplete', () => {
  it('offers the names and helpers at the start of a {{ }}', () => {
    const r = at('Hello {{ |')
    expect(r?.eager).toBe(true)
    expect(labels(r)).toEqual(expect.arrayContaining(['trigger', 'steps', 'vars', 'run', 'lower', 'formatDate']))
    expect(r?.options.find((o) => o.label === 'trigger')?.detail).toBe('What started the run')
    expect(r?.options.find((o) => o.label === 'lower')?.apply).toBe('lower(')
  })

  it('completes a partly typed name from where the word starts', () => {
    const r = at('{{ tri|')
    expect(r?.from).toBe(3)
    expect(labels(r)).toContain('trigger')
  })

  it('lists the keys of the sample after a dot, with type and value', () => {
    const r = at('Order from {{ trigger.body.|')
    expect(labels(r)).toEqual(['id', 'total', 'customer', 'items'])
    const customer = r!.options.find((o) => o.label === 'customer')!
    expect(customer.detail).toMatch(/^object · \{"name":"Ada"/)
    expect(customer.type).toBe('namespace')
    expect(r!.options.find((o) => o.label === 'total')!.detail).toBe('number · 250')
  })

  it('filters nothing itself but starts after the dot while typing a key', () => {
    const text = '{{ trigger.body.cu'
    const r = completeAt(text, text.length, data, 'template')
    expect(r?.from).toBe(text.length - 2)
    expect(labels(r)).toContain('customer')
  })

  it('goes deeper: nested objects, earlier steps, list items', () => {
    expect(labels(at('{{ trigger.body.customer.|'))).toEqual(['name', 'email'])
    expect(labels(at('{{ steps.|'))).toEqual(['msg'])
    expect(labels(at('{{ steps.msg.|'))).toEqual(['text'])
    expect(labels(at('{{ trigger.body.items.|'))).toEqual(['[0]', '[1]'])
    expect(labels(at('{{ trigger.body.items[1].|'))).toEqual(['sku'])
    expect(labels(at('{{ trigger.headers["content-type"] + trigger.body?.|'))).toEqual(['id', 'total', 'customer', 'items'])
  })

  it('writes keys that are not names in brackets, replacing the dot', () => {
    const text = '{{ trigger.headers.'
    const r = completeAt(text, text.length, data, 'template')!
    const opt = r.options.find((o) => o.label === 'content-type')!
    expect(typeof opt.apply).toBe('function')
    const state = EditorState.create({ doc: text })
    let changed = ''
    const view = {
      dispatch: (spec: { changes: { from: number; to: number; insert: string } }) => {
        const { from, to, insert } = spec.changes
        changed = state.doc.toString().slice(0, from) + insert + state.doc.toString().slice(to)
      },
    }
    ;(opt.apply as (v: unknown, c: unknown, f: number, t: number) => void)(view, opt, r.from, r.to)
    expect(changed).toBe('{{ trigger.headers["content-type"]')
    expect(r.options.find((o) => o.label === 'x-shop')).toBeTruthy()
  })

  it('offers nothing outside {{ }} in a template, or for unknown paths', () => {
    expect(at('Hello tri|')).toBeNull()
    expect(at('{{ trigger.body.id }} and trig|')).toBeNull()
    expect(labels(at('{{ trigger.nothing.|'))).toEqual([])
    expect(labels(at('{{ trigger.body.total.|'))).toEqual([])
  })

  it('works on bare expressions (filter conditions)', () => {
    expect(labels(at('trigger.body.total > 100 && trigger.body.customer.|', 'expression'))).toEqual(['name', 'email'])
    const r = at('tr|', 'expression')
    expect(r?.eager).toBe(true)
    expect(labels(r)).toContain('trigger')
  })

  it('does not complete inside string literals or after numbers', () => {
    expect(at('{{ "trigger.|', 'template')).toBeNull()
    expect(at('1.|', 'expression')).toBeNull()
  })

  it('offers item and index inside a loop', () => {
    const r = completeAt('{{ it', 5, { ...data, item: { sku: 'A1' }, index: 0 }, 'template')
    expect(labels(r)).toContain('item')
    expect(labels(completeAt('{{ item.', 8, { ...data, item: { sku: 'A1' }, index: 0 }, 'template'))).toEqual(['sku'])
  })
})

describe('CodeMirror completion source', () => {
  const run = (text: string, explicit = false, mode: 'template' | 'expression' = 'template') => {
    const state = EditorState.create({ doc: text })
    return completionSource(() => data, mode)(new CompletionContext(state, text.length, explicit))
  }

  it('answers after a dot as the user types', () => {
    const r = run('Hi {{ trigger.body.')
    expect(r?.from).toBe('Hi {{ trigger.body.'.length)
    expect(r?.options.map((o) => o.label)).toContain('customer')
    expect(r?.validFor).toBeInstanceOf(RegExp)
  })

  it('stays quiet on a space in the middle of an expression unless asked (Ctrl+Space)', () => {
    expect(run('{{ trigger.body.total > ')).toBeNull()
    expect(run('{{ trigger.body.total > ', true)?.options.map((o) => o.label)).toContain('steps')
  })

  it('reads the data when the list opens, so new samples show up', () => {
    let current: Record<string, unknown> = { trigger: { body: {} } }
    const source = completionSource(() => current, 'template')
    const text = '{{ trigger.body.'
    const ctx = () => new CompletionContext(EditorState.create({ doc: text }), text.length, false)
    expect(source(ctx())).toBeNull()
    current = { trigger: { body: { fresh: true } } }
    expect(source(ctx())?.options.map((o) => o.label)).toEqual(['fresh'])
  })
})

describe('helpers', () => {
  it('finds the {{ }} the cursor is in', () => {
    expect(templateExprStart('a {{ b', 6)).toBe(4)
    expect(templateExprStart('a {{ b }} c', 11)).toBe(-1)
    expect(templateExprStart('{{ x }} {{ y', 12)).toBe(10)
    expect(templateExprStart('no template', 5)).toBe(-1)
  })

  it('parses and resolves paths', () => {
    expect(parsePath('trigger.body["a-b"][2].c')).toEqual(['trigger', 'body', 'a-b', 2, 'c'])
    expect(parsePath('steps.msg?.text')).toEqual(['steps', 'msg', 'text'])
    expect(parsePath('1.5')).toBeNull()
    expect(resolve(data, ['trigger', 'body', 'items', 0, 'sku'])).toBe('A1')
    expect(resolve(data, ['trigger', 'body', 'items', 'x'])).toBeUndefined()
  })

  it('names types and previews values', () => {
    expect([typeOf(null), typeOf([]), typeOf({}), typeOf(1), typeOf(true), typeOf('s')]).toEqual([
      'null',
      'list',
      'object',
      'number',
      'boolean',
      'string',
    ])
    expect(preview('x'.repeat(100), 10)).toHaveLength(10)
    expect(preview({ a: 1 })).toBe('{"a":1}')
  })
})
