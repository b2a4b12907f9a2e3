import { describe, expect, it } from 'vitest'
import { HOME, parseRoute, routePath } from './route.ts'

describe('routes', () => {
  it.each([
    ['/', HOME],
    ['/unknown', HOME],
    ['/workflows', HOME],
    ['/workflows/wf1', { workflowId: 'wf1', runId: null }],
    ['/workflows/wf1/', { workflowId: 'wf1', runId: null }],
    ['/workflows/wf1/runs/r9', { workflowId: 'wf1', runId: 'r9' }],
    ['/workflows/wf%201/runs/r%2F9', { workflowId: 'wf 1', runId: 'r/9' }],
  ])('parses %s', (path, want) => {
    expect(parseRoute(path)).toEqual(want)
  })

  it('round-trips', () => {
    for (const r of [HOME, { workflowId: 'a b', runId: null }, { workflowId: 'wf', runId: 'r/1' }]) {
      expect(parseRoute(routePath(r))).toEqual(r)
    }
    expect(routePath({ workflowId: 'wf1', runId: 'r1' })).toBe('/workflows/wf1/runs/r1')
  })
})
