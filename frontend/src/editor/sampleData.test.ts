import { describe, expect, it } from 'vitest'
import type { ConnectorSpec, RunDetail, WorkflowDocument } from '../api.ts'
import { dataForStep, placeholderTrigger, trimForEvaluate } from './sampleData.ts'

const doc: WorkflowDocument = {
  schema: 'switchboard/v1',
  name: 'x',
  trigger: { type: 'webhook' },
  steps: [
    { id: 'msg', type: 'map', fields: { text: 'Hi {{ trigger.body.name }}', n: 3 } },
    { id: 'post', type: 'action', action: 'slack.post_message', input: {} },
    { id: 'each', type: 'for_each', items: 'trigger.body.items', steps: [{ id: 'inner', type: 'delay', for: '1s' }] },
  ],
}
const slack: ConnectorSpec = {
  id: 'slack',
  name: 'Slack',
  auth: { kind: 'custom' },
  actions: [{ id: 'post_message', name: 'Post', input: [], sample_output: { ok: true, ts: '1.2' } }],
}
const sample = { body: { name: 'Ada', items: [{ sku: 'A1' }] }, headers: { a: '1' }, method: 'POST', raw: '{…}' }

describe('data available to a step', () => {
  it('uses the captured sample, guessed outputs and the connector sample output', () => {
    const data = dataForStep({ doc, sample, run: null, connectors: [slack] }, 'inner')
    expect(data.trigger).toEqual({ body: sample.body, headers: { a: '1' }, method: 'POST' })
    expect(data.steps).toEqual({ msg: { text: '…', n: 3 }, post: { ok: true, ts: '1.2' } })
    expect(data.item).toEqual({ sku: 'A1' })
    expect(data.index).toBe(0)
  })

  it('prefers outputs of the last test run', () => {
    const run = {
      trigger: { body: { name: 'Bob' }, test: true },
      steps: [{ step_id: 'msg', state: 'succeeded', output: { text: 'Hi Bob', n: 3 } }],
    } as unknown as RunDetail
    const data = dataForStep({ doc, sample: null, run, connectors: [slack] }, 'post')
    expect(data.trigger).toEqual({ body: { name: 'Bob' } })
    expect(data.steps).toEqual({ msg: { text: 'Hi Bob', n: 3 } })
    expect(data.item).toBeUndefined()
  })

  it('has a shape for each trigger before any sample', () => {
    expect(placeholderTrigger(doc)).toMatchObject({ body: {}, headers: {}, method: 'POST' })
    expect(placeholderTrigger({ ...doc, trigger: { type: 'schedule' } })).toHaveProperty('fired_at')
    expect(
      placeholderTrigger({ ...doc, trigger: { type: 'form', form: { fields: [{ key: 'seats', type: 'number' }, { key: 'name' }] } } }),
    ).toMatchObject({ fields: { seats: 0, name: '' } })
  })

  it('keeps the preview request small', () => {
    const big = { trigger: { body: 'x'.repeat(300_000), headers: { a: 1 } }, steps: {} }
    expect(JSON.stringify(trimForEvaluate(big)).length).toBeLessThan(1000)
  })
})
