import { describe, expect, it } from 'vitest'
import type { ConnectorSpec, WorkflowDocument } from '../api.ts'
import { testQuestion } from './testConfirm.ts'

const slack = { id: 'slack', name: 'Slack', auth: { kind: 'token' }, actions: [{ id: 'post_message', name: 'Post a message', input: [] }] } as ConnectorSpec

describe('test confirmation', () => {
  it('names every action that will really run, nested ones too', () => {
    const doc = {
      schema: 'switchboard/v1', name: 'x', trigger: { type: 'webhook' },
      steps: [
        { id: 'msg', type: 'map', fields: {} },
        { id: 'route', type: 'paths', paths: [{ name: 'a', steps: [{ id: 'ping', type: 'action', action: 'slack.post_message' }] }] },
        { id: 'each', type: 'for_each', items: 'x', steps: [{ id: 'call', type: 'action', action: 'http.request' }] },
      ],
    } as WorkflowDocument
    const q = testQuestion(doc, [slack])!
    expect(q).toContain('• Slack: Post a message (step ping)')
    expect(q).toContain('• http.request (step call)')
    expect(q).not.toContain('msg')
  })

  it('asks nothing when no step calls a service', () => {
    expect(testQuestion({ schema: 'switchboard/v1', name: 'x', trigger: { type: 'webhook' }, steps: [{ id: 'f', type: 'filter', if: 'true' }] }, [slack])).toBeNull()
  })
})
