import { describe, expect, it } from 'vitest'
import type { WorkflowDocument } from '../api.ts'
import {
  availableAt,
  canMove,
  duplicateStep,
  emptyDocument,
  fieldErrors,
  findStep,
  insertStep,
  locateErrors,
  moveStep,
  newStep,
  removeStep,
  renameStep,
  stepsBefore,
  uniqueId,
  walkSteps,
} from './doc.ts'
import { historyReducer, initHistory } from './history.ts'
import { layoutDocument } from './layout.ts'

const DOC: WorkflowDocument = {
  schema: 'switchboard/v1',
  name: 'Orders',
  trigger: { type: 'webhook', webhook: {} },
  steps: [
    { id: 'big', type: 'filter', if: 'trigger.body.total > 100' },
    { id: 'msg', type: 'map', fields: { text: '#{{ trigger.body.id }}' } },
    {
      id: 'route',
      type: 'paths',
      mode: 'all',
      paths: [
        { name: 'vip', if: 'trigger.body.total > 1000', steps: [{ id: 'ping', type: 'action', action: 'slack.post_message', input: { text: '{{ steps.msg.text }}' } }] },
        { name: 'crm', steps: [] },
      ],
    },
    { id: 'each', type: 'for_each', items: 'trigger.body.items', steps: [{ id: 'stock', type: 'action', action: 'http.request', input: {} }] },
    { id: 'later', type: 'delay', for: '1h' },
  ],
}

describe('the document tree', () => {
  it('walks every step with its path', () => {
    expect(walkSteps(DOC).map((e) => [e.step.id, e.path])).toEqual([
      ['big', 'steps[0]'],
      ['msg', 'steps[1]'],
      ['route', 'steps[2]'],
      ['ping', 'steps[2].paths[0].steps[0]'],
      ['each', 'steps[3]'],
      ['stock', 'steps[3].steps[0]'],
      ['later', 'steps[4]'],
    ])
  })

  it('inserts into any list, including an empty path, without changing the original', () => {
    const next = insertStep(DOC, 'steps[2].paths[1].steps', 0, { id: 'crm_call', type: 'delay', for: '1m' })
    expect(findStep(next, 'crm_call')?.path).toBe('steps[2].paths[1].steps[0]')
    expect(findStep(DOC, 'crm_call')).toBeUndefined()
    const first = insertStep(DOC, 'steps', 0, { id: 'first', type: 'delay', for: '1m' })
    expect(first.steps[0].id).toBe('first')
  })

  it('removes, moves and duplicates steps', () => {
    expect(walkSteps(removeStep(DOC, 'route')).map((e) => e.step.id)).toEqual(['big', 'msg', 'each', 'stock', 'later'])
    expect(moveStep(DOC, 'msg', -1).steps.map((s) => s.id).slice(0, 2)).toEqual(['msg', 'big'])
    expect(canMove(DOC, 'big', -1)).toBe(false)
    expect(canMove(DOC, 'stock', 1)).toBe(false)
    const dup = duplicateStep(DOC, 'each')
    expect(dup.id).toBe('each_2')
    expect(dup.doc.steps[4]).toMatchObject({ id: 'each_2', steps: [{ id: 'stock_2' }] })
  })

  it('renames a step and what refers to it', () => {
    const next = renameStep(DOC, 'msg', 'message')
    expect(findStep(next, 'message')).toBeTruthy()
    expect(findStep(next, 'ping')?.step.input).toEqual({ text: '{{ steps.message.text }}' })
  })

  it('makes unique ids', () => {
    expect(uniqueId(DOC, 'big')).toBe('big_2')
    expect(uniqueId(DOC, '9 lives!')).toBe('lives_')
    expect(newStep(DOC, 'slack.post_message', { connection: 'team' })).toEqual({
      id: 'slack',
      type: 'action',
      action: 'slack.post_message',
      input: {},
      connection: 'team',
    })
    expect(newStep(DOC, 'filter').id).toBe('filter')
  })

  it('knows which steps a step can read', () => {
    expect(stepsBefore(DOC, 'big').steps.map((s) => s.id)).toEqual([])
    expect(stepsBefore(DOC, 'ping').steps.map((s) => s.id)).toEqual(['big', 'msg'])
    expect(stepsBefore(DOC, 'stock')).toMatchObject({ loop: { id: 'each' } })
    expect(stepsBefore(DOC, 'stock').steps.map((s) => s.id)).toEqual(['big', 'msg', 'route', 'ping'])
    expect(availableAt(DOC, 'steps', 5).steps.map((s) => s.id)).toEqual(['big', 'msg', 'route', 'ping', 'each', 'later'])
  })

  it('places server errors on steps and fields', () => {
    const located = locateErrors(DOC, [
      { path: 'steps[1].fields.text', message: 'unknown name' },
      { path: 'steps[2].paths[0].steps[0].input.text', message: 'is required' },
      { path: 'trigger.webhook.methods[0]', message: 'unsupported method' },
      { path: 'steps', message: 'needs at least one step' },
    ])
    expect(located.map((e) => [e.stepId, e.field, e.trigger])).toEqual([
      ['msg', 'fields.text', false],
      ['ping', 'input.text', false],
      [null, 'webhook.methods[0]', true],
      [null, 'steps', false],
    ])
    expect(fieldErrors(located, 'msg', 'fields')).toEqual(['unknown name'])
    expect(fieldErrors(located, 'ping', 'input.text')).toEqual(['is required'])
    expect(fieldErrors(located, 'ping', 'input.channel')).toEqual([])
  })

  it('starts documents for each trigger', () => {
    expect(emptyDocument('A', 'webhook').trigger).toEqual({ type: 'webhook', webhook: { methods: ['POST'] } })
    expect(emptyDocument('A', 'schedule').trigger.schedule?.cron).toBe('0 9 * * 1-5')
    expect(emptyDocument('A', 'form').trigger.form).toMatchObject({ title: 'A' })
  })
})

describe('layout', () => {
  it('draws the trigger, the steps, paths side by side and a loop as a group', () => {
    const { nodes, edges } = layoutDocument(DOC)
    const byId = new Map(nodes.map((n) => [n.id, n]))
    expect(byId.get('trigger')?.type).toBe('trigger')
    for (const id of ['big', 'msg', 'route', 'ping', 'each', 'stock', 'later']) expect(byId.get(`step:${id}`)).toBeTruthy()
    expect(byId.get('group:each')?.type).toBe('group')
    // paths: the branches are side by side below the paths node, each with its name on the edge
    const ping = byId.get('step:ping')!
    const crmEnd = byId.get('add:steps[2].paths[1].steps')!
    expect(ping.position.y).toBeGreaterThan(byId.get('step:route')!.position.y)
    expect(crmEnd.position.x).toBeGreaterThan(ping.position.x)
    expect(edges.find((e) => e.target === 'step:ping')?.label).toBe('vip')
    expect(edges.find((e) => e.target === 'add:steps[2].paths[1].steps')?.label).toBe('crm')
    // the loop's step sits inside its group
    const group = byId.get('group:each')!
    const stock = byId.get('step:stock')!
    expect(stock.position.x).toBeGreaterThan(group.position.x)
    expect(stock.position.y + stock.height).toBeLessThan(group.position.y + group.height)
    // steps run top to bottom
    expect(byId.get('step:later')!.position.y).toBeGreaterThan(group.position.y + group.height)
  })

  it('puts a "+" on every edge between steps and at the end of every list', () => {
    const { nodes, edges } = layoutDocument(DOC)
    expect(edges.find((e) => e.target === 'step:big')?.insert).toMatchObject({ list: 'steps', index: 0 })
    expect(edges.find((e) => e.target === 'step:msg')?.insert).toMatchObject({ list: 'steps', index: 1 })
    expect(edges.find((e) => e.target === 'step:later')?.insert).toMatchObject({ list: 'steps', index: 4 })
    const adds = nodes.filter((n) => n.type === 'add').map((n) => [n.data.list, n.data.index])
    expect(adds).toEqual(
      expect.arrayContaining([
        ['steps', 5],
        ['steps[2].paths[0].steps', 1],
        ['steps[2].paths[1].steps', 0],
        ['steps[3].steps', 1],
      ]),
    )
  })

  it('lays out 100 steps quickly', () => {
    const big: WorkflowDocument = { ...DOC, steps: Array.from({ length: 100 }, (_, i) => ({ id: `s${i}`, type: 'delay', for: '1s' })) }
    const t = performance.now()
    const { nodes } = layoutDocument(big)
    expect(nodes.filter((n) => n.type === 'step')).toHaveLength(100)
    expect(performance.now() - t).toBeLessThan(50)
  })
})

describe('undo history', () => {
  it('undoes and redoes, merging keystrokes in one field', () => {
    let h = initHistory('a')
    h = historyReducer(h, { type: 'set', value: 'ab', key: 'name', at: 1000 })
    h = historyReducer(h, { type: 'set', value: 'abc', key: 'name', at: 1200 })
    h = historyReducer(h, { type: 'set', value: 'abc!', key: 'other', at: 1300 })
    expect(h.past).toEqual(['a', 'abc'])
    h = historyReducer(h, { type: 'undo' })
    expect(h.present).toBe('abc')
    h = historyReducer(h, { type: 'undo' })
    expect(h.present).toBe('a')
    h = historyReducer(h, { type: 'undo' })
    expect(h.present).toBe('a')
    h = historyReducer(h, { type: 'redo' })
    expect(h.present).toBe('abc')
    h = historyReducer(h, { type: 'set', value: 'x', at: 5000 })
    expect(h.future).toEqual([])
    h = historyReducer(h, { type: 'set', value: 'y', key: 'name', at: 5100 })
    h = historyReducer(h, { type: 'set', value: 'z', key: 'name', at: 9000 })
    expect(h.past.slice(-2)).toEqual(['x', 'y'])
  })
})

describe('moving a step anywhere', () => {
  it('moves into a branch, out of a loop, and within a list', async () => {
    const { moveStepTo } = await import('./doc.ts')
    const ids = (d: WorkflowDocument) => walkSteps(d).map((e) => `${e.step.id}@${e.path}`)
    // the first step into the empty crm path (whose path shifts once it is gone)
    expect(ids(moveStepTo(DOC, 'big', 'steps[2].paths[1].steps', 0))).toContain('big@steps[1].paths[1].steps[0]')
    // out of the loop to the end
    const out = moveStepTo(DOC, 'stock', 'steps', 5)
    expect(out.steps.at(-1)?.id).toBe('stock')
    expect(findStep(out, 'each')?.step.steps).toEqual([])
    // down within the same list
    expect(moveStepTo(DOC, 'big', 'steps', 3).steps.map((s) => s.id)).toEqual(['msg', 'route', 'big', 'each', 'later'])
    // not into itself, and no-ops stay the same object
    expect(moveStepTo(DOC, 'route', 'steps[2].paths[0].steps', 0)).toBe(DOC)
    expect(moveStepTo(DOC, 'msg', 'steps', 1)).toBe(DOC)
    expect(moveStepTo(DOC, 'msg', 'steps', 2)).toBe(DOC)
  })
})
