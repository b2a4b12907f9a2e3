import { describe, expect, it } from 'vitest'
import { ApiError, type ApiClient, type EvaluateRequest, type StepDoc } from '../api.ts'
import { canTestStep, testLogicStep } from './stepTest.ts'

/** A fake evaluator: `a.b` paths, `x > n`, and `{{ path }}` templates over the data. */
function fakeApi(): ApiClient {
  const get = (data: Record<string, unknown>, path: string) =>
    path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], data)
  return {
    async evaluate(req: EvaluateRequest) {
      const data = req.data ?? {}
      if (req.expression !== undefined) {
        const src = req.expression.trim()
        if (src === 'broken(') throw new ApiError({ title: 'x', status: 422, errors: [{ path: 'expression', message: 'unexpected end', line: 1, column: 8 } as never] })
        const gt = /^(.+?) > (\d+)$/.exec(src)
        if (gt) return { value: Number(get(data, gt[1])) > Number(gt[2]), type: 'boolean' }
        return { value: get(data, src), type: 'object' }
      }
      return { value: (req.template ?? '').replace(/\{\{\s*(.+?)\s*\}\}/g, (_, p) => String(get(data, p))), type: 'string' }
    },
  } as unknown as ApiClient
}

const data = { trigger: { body: { total: 250, name: 'Ada', items: [{ sku: 'A' }, { sku: 'B' }] } } }

describe('testing one logic step', () => {
  it('filter: passed or not', async () => {
    expect(await testLogicStep(fakeApi(), { id: 'f', type: 'filter', if: 'trigger.body.total > 100' }, data)).toEqual({ output: { passed: true } })
    expect(await testLogicStep(fakeApi(), { id: 'f', type: 'filter', if: 'trigger.body.total > 1000' }, data)).toEqual({ output: { passed: false } })
    expect((await testLogicStep(fakeApi(), { id: 'f', type: 'filter', if: 'trigger.body.name' }, data)).error).toEqual({
      field: 'if',
      message: 'gives "Ada", not true or false',
    })
  })

  it('map: every field rendered, nested values too', async () => {
    const r = await testLogicStep(
      fakeApi(),
      { id: 'm', type: 'map', fields: { text: 'Hi {{ trigger.body.name }}', n: 3, deep: { who: '{{ trigger.body.name }}' } } },
      data,
    )
    expect(r.output).toEqual({ text: 'Hi Ada', n: 3, deep: { who: 'Ada' } })
  })

  it('loop: the list and its first item; paths: which run', async () => {
    expect((await testLogicStep(fakeApi(), { id: 'l', type: 'for_each', items: 'trigger.body.items' }, data)).output).toEqual({ count: 2, first: { sku: 'A' } })
    const paths: StepDoc = {
      id: 'p',
      type: 'paths',
      mode: 'all',
      paths: [
        { name: 'big', if: 'trigger.body.total > 100', steps: [] },
        { name: 'huge', if: 'trigger.body.total > 1000', steps: [] },
        { name: 'always', steps: [] },
      ],
    }
    expect((await testLogicStep(fakeApi(), paths, data)).output).toEqual({ paths: ['big', 'always'] })
    expect((await testLogicStep(fakeApi(), { ...paths, mode: 'first' }, data)).output).toEqual({ paths: ['big'] })
  })

  it('names the field and position of an expression error', async () => {
    expect(await testLogicStep(fakeApi(), { id: 'f', type: 'filter', if: 'broken(' }, data)).toEqual({
      error: { field: 'if', message: 'line 1, column 8: unexpected end' },
    })
    expect((await testLogicStep(fakeApi(), { id: 'f', type: 'filter', if: '' }, data)).error).toEqual({ field: 'if', message: 'is empty' })
  })

  it('knows which steps it can test alone', () => {
    expect(canTestStep({ id: 'a', type: 'action' })).toBe(false)
    expect(canTestStep({ id: 'd', type: 'delay', for: '1h' })).toBe(false)
    expect(canTestStep({ id: 'd', type: 'delay', until: 'now()' })).toBe(true)
    expect(canTestStep({ id: 'm', type: 'map' })).toBe(true)
  })
})

describe('testing one action step', () => {
  it('sends the step and the sample data to the server and shows the output or the error', async () => {
    const calls: unknown[] = []
    const api = {
      async testStep(step: unknown, d: unknown) {
        calls.push({ step, d })
        return (step as { input?: { url?: string } }).input?.url
          ? { ok: true, output: { status: 200, body: { reserved: true } } }
          : { ok: false, error: { kind: 'bad_input', message: 'input: url is required' } }
      },
    } as unknown as ApiClient
    const step = { id: 'post', type: 'action', action: 'http.request', input: { url: 'https://x.example', json: { sku: '{{ trigger.body.name }}' } } }
    expect(canTestStep(step as never)).toBe(true)
    expect(await testLogicStep(api, step as never, data)).toEqual({ output: { status: 200, body: { reserved: true } } })
    expect(calls).toHaveLength(1)
    expect(await testLogicStep(api, { id: 'p', type: 'action', action: 'http.request', input: {} } as never, data)).toEqual({
      error: { field: '', message: 'input: url is required' },
    })
  })
})
